package otelspool_test

import (
	"math"
	"net/http"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/spoolhttp/spool"
	"github.com/spoolhttp/spool/internal/testnet"
)

// The traffic tests run real Transports over spool's in-memory network in
// a synctest bubble: fake time moves only when every goroutine waits, so a
// handler that sleeps 50ms makes a request last exactly 50ms and every
// duration below is exact.

const (
	apiSrv   = "server.address=api.test,server.port=80"
	slowTime = 50 * time.Millisecond
)

// serve starts an http.Server on n at api.test:80 whose /slow sleeps
// slowTime. h2c: it also speaks HTTP/2 with prior knowledge.
func serve(t *testing.T, n *testnet.Network) {
	t.Helper()
	l, err := n.Listen("api.test:80")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			time.Sleep(slowTime)
		}
		hello(w, r)
	})}
	srv.Protocols = new(http.Protocols)
	srv.Protocols.SetHTTP1(true)
	srv.Protocols.SetUnencryptedHTTP2(true)
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
}

type mode struct {
	name    string
	version string // network.protocol.version
	h2      bool
}

var modes = []mode{{"h1", "1.1", false}, {"h2c", "2", true}}

func (m mode) transport(n *testnet.Network) *spool.Transport {
	tr := &spool.Transport{DialContext: n.Dial, MaxConnsPerHost: 1}
	if m.h2 {
		tr.Protocols = new(http.Protocols)
		tr.Protocols.SetUnencryptedHTTP2(true)
	}
	return tr
}

// TestTrafficExact: one request, then two at once on a host limited to
// one conn, then the conn closed 10s later. On HTTP/1.1 the second of the
// pair waits for the first (time_in_queue 50ms, duration 100ms); on
// HTTP/2 both share the conn.
func TestTrafficExact(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) { trafficExact(t, m) })
		})
	}
}

func trafficExact(t *testing.T, m mode) {
	var n testnet.Network
	serve(t, &n)
	h := instrument(t, m.transport(&n))
	c := &http.Client{Transport: h.tr}

	get(t, c, "http://api.test/slow")
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() { get(t, c, "http://api.test/slow") })
	}
	wg.Wait()
	time.Sleep(10 * time.Second)
	h.tr.CloseIdleConnections()
	synctest.Wait()

	ms := h.collect(t)
	req := "http.request.method=GET,http.response.status_code=200,network.protocol.version=" + m.version + "," + apiSrv + ",url.scheme=http"
	queue := "http.request.method=GET,network.protocol.version=" + m.version + "," + apiSrv + ",url.scheme=http"
	conn := "network.protocol.version=" + m.version + "," + apiSrv + ",url.scheme=http"
	// Buckets: 0.05 is in (0.025, 0.05], 0.1 in (0.075, 0.1].
	wantReq := hist{count: 3, sum: 0.05 + 0.05 + 0.1, buckets: []uint64{0, 0, 0, 2, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0}}
	wantQueue := map[string]hist{queue: {count: 2, sum: 0.05, buckets: []uint64{1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}}}
	lifetime := 10*time.Second + 150*time.Millisecond
	if m.h2 {
		wantReq = hist{count: 3, sum: 0.15, buckets: []uint64{0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}}
		wantQueue = map[string]hist{queue: {count: 1, sum: 0, buckets: []uint64{1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}}}
		lifetime = 10*time.Second + 100*time.Millisecond
	}
	checkHistsApprox(t, "request.duration", hists(t, ms, "http.client.request.duration"), map[string]hist{req: wantReq})
	// The first request waited for the dial: 0s in fake time.
	gotQueue := hists(t, ms, "http.client.request.time_in_queue")
	if m.h2 {
		// The dial's waiter, and sometimes the second of the pair, which
		// can find the one conn reserved by the first for an instant and
		// wait for it (no fake time passes): 1 or 2 waits, all of 0s.
		if g := gotQueue[queue]; g.count == 2 && g.buckets[0] == 2 {
			wantQueue[queue] = hist{count: 2, sum: 0, buckets: []uint64{2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}}
		}
	}
	checkHistsApprox(t, "time_in_queue", gotQueue, wantQueue)
	checkHistsApprox(t, "connection.duration", hists(t, ms, "http.client.connection.duration"), map[string]hist{
		conn: {count: 1, sum: lifetime.Seconds()},
	})
	checkInts(t, "active_requests", ints(t, ms, "http.client.active_requests"), map[string]int64{
		"http.request.method=GET," + apiSrv + ",url.scheme=http": 0,
	})
	checkInts(t, "closes", ints(t, ms, "spool.client.connection.closes"), map[string]int64{
		apiSrv + ",spool.close.reason=evicted,url.scheme=http": 1,
	})
	checkInts(t, "open_connections", nonzero(ints(t, ms, "http.client.open_connections")), map[string]int64{})
}

// TestTrafficActiveRequests: requests in flight, and their conns active,
// while the handler sleeps.
func TestTrafficActiveRequests(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var n testnet.Network
				serve(t, &n)
				tr := m.transport(&n)
				tr.MaxConnsPerHost = 0
				h := instrument(t, tr)
				c := &http.Client{Transport: tr}
				get(t, c, "http://api.test/") // one conn, so HTTP/2 shares it below
				var wg sync.WaitGroup
				for range 3 {
					wg.Go(func() { get(t, c, "http://api.test/slow") })
				}
				time.Sleep(slowTime / 2)
				synctest.Wait()
				st := tr.Stats().Total
				ms := h.collect(t)
				checkInts(t, "active_requests", ints(t, ms, "http.client.active_requests"), map[string]int64{
					"http.request.method=GET," + apiSrv + ",url.scheme=http": 3,
				})
				// HTTP/1.1: a conn per request. HTTP/2: the streams share
				// conns; how many the pool opened for three requests at
				// once varies with scheduling (one, or a second dialed for
				// a request that then found room, or took it), so the
				// instrument is held to the Stats of the same instant.
				want := map[string]int64{
					"http.connection.state=active,network.protocol.version=" + m.version + "," + apiSrv + ",url.scheme=http": 3,
				}
				if m.h2 {
					if st.H2Conns != st.Active+st.Idle {
						t.Errorf("Stats: %d HTTP/2 conns of %d", st.H2Conns, st.Active+st.Idle)
					}
					want = map[string]int64{
						"http.connection.state=active,network.protocol.version=2," + apiSrv + ",url.scheme=http": int64(st.Active),
					}
					if st.Idle > 0 {
						want["http.connection.state=idle,network.protocol.version=2,"+apiSrv+",url.scheme=http"] = int64(st.Idle)
					}
				}
				checkInts(t, "open_connections", nonzero(ints(t, ms, "http.client.open_connections")), want)
				if m.h2 && st.Streams != 3 {
					t.Errorf("Stats: %d streams, want 3", st.Streams)
				}
				wg.Wait()
			})
		})
	}
}

// TestTrafficDialError: a host nobody listens on.
func TestTrafficDialError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var n testnet.Network
		h := instrument(t, &spool.Transport{DialContext: n.Dial})
		if resp, err := (&http.Client{Transport: h.tr}).Get("http://down.test/"); err == nil {
			resp.Body.Close()
			t.Fatal("no error from a host nobody listens on")
		}
		ms := h.collect(t)
		const srv = "server.address=down.test,server.port=80"
		checkInts(t, "dials", ints(t, ms, "spool.client.connection.dials"), map[string]int64{
			srv + ",spool.dial.outcome=success,url.scheme=http": 0,
			srv + ",spool.dial.outcome=error,url.scheme=http":   1,
		})
		checkHistsApprox(t, "request.duration", hists(t, ms, "http.client.request.duration"), map[string]hist{
			"error.type=connection_error,http.request.method=GET," + srv + ",url.scheme=http": {count: 1, sum: 0},
		})
		checkHistsApprox(t, "dial.duration", hists(t, ms, "spool.client.connection.dial.duration"), map[string]hist{
			srv + ",spool.dial.outcome=error,url.scheme=http": {count: 1, sum: 0},
		})
	})
}

// checkHistsApprox is checkHists with sums compared to 1e-9: the order in
// which goroutines record changes a float sum's last bits.
func checkHistsApprox(t *testing.T, name string, got, want map[string]hist) {
	t.Helper()
	for k, g := range got {
		if w, ok := want[k]; ok && math.Abs(g.sum-w.sum) < 1e-9 {
			g.sum = w.sum
			got[k] = g
		}
	}
	checkHists(t, name, got, want)
}

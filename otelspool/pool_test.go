package otelspool_test

import (
	"net/http"
	"net/http/httptest"
	"reflect"
	"runtime"
	"sync"
	"testing"

	"github.com/spoolhttp/spool"
)

func checkInts(t *testing.T, name string, got, want map[string]int64) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got %v\nwant %v", name, got, want)
	}
}

// TestPoolInstrumentsH1 checks the instruments read from Stats after
// scripted HTTP/1.1 traffic: one conn reused twice, evicted by
// CloseIdleConnections, then a conn the server ends with Connection: close.
func TestPoolInstrumentsH1(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/close" {
			w.Header().Set("Connection", "close")
		}
		hello(w, r)
	}))
	defer ts.Close()
	h := instrument(t, &spool.Transport{})
	c := &http.Client{Transport: h.tr}
	host, port := hostPort(t, ts)
	srv := "server.address=" + host + ",server.port=" + port

	for range 3 {
		get(t, c, ts.URL)
	}
	ms := h.collect(t)
	checkInts(t, "open_connections", nonzero(ints(t, ms, "http.client.open_connections")), map[string]int64{
		"http.connection.state=idle,network.protocol.version=1.1," + srv + ",url.scheme=http": 1,
	})
	checkInts(t, "dials", ints(t, ms, "spool.client.connection.dials"), map[string]int64{
		srv + ",spool.dial.outcome=success,url.scheme=http": 1,
		srv + ",spool.dial.outcome=error,url.scheme=http":   0,
	})
	checkInts(t, "reuses", ints(t, ms, "spool.client.connection.reuses"), map[string]int64{
		srv + ",url.scheme=http": 2,
	})
	checkInts(t, "closes", ints(t, ms, "spool.client.connection.closes"), map[string]int64{})

	h.tr.CloseIdleConnections()
	get(t, c, ts.URL+"/close")
	ms = h.collect(t)
	// Zeros, not vanished series, for the protocol the host spoke; none
	// for HTTP/2, which it never spoke.
	checkInts(t, "open_connections after", ints(t, ms, "http.client.open_connections"), map[string]int64{
		"http.connection.state=active,network.protocol.version=1.1," + srv + ",url.scheme=http": 0,
		"http.connection.state=idle,network.protocol.version=1.1," + srv + ",url.scheme=http":   0,
	})
	checkInts(t, "closes after", ints(t, ms, "spool.client.connection.closes"), map[string]int64{
		srv + ",spool.close.reason=evicted,url.scheme=http":      1,
		srv + ",spool.close.reason=not_reusable,url.scheme=http": 1,
	})
	checkInts(t, "dials after", nonzero(ints(t, ms, "spool.client.connection.dials")), map[string]int64{
		srv + ",spool.dial.outcome=success,url.scheme=http": 2,
	})
}

// TestPoolInstrumentsH2 checks HTTP/2: one conn for sequential and then
// three concurrent requests, reported as protocol version 2, with its
// streams in flight.
func TestPoolInstrumentsH2(t *testing.T) {
	release := make(chan struct{})
	var inHandler sync.WaitGroup
	ts, tr := h2Server(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/block" {
			inHandler.Done()
			<-release
		}
		hello(w, r)
	}))
	h := instrument(t, tr)
	c := &http.Client{Transport: tr}
	host, port := hostPort(t, ts)
	srv := "server.address=" + host + ",server.port=" + port

	get(t, c, ts.URL)
	get(t, c, ts.URL)
	ms := h.collect(t)
	checkInts(t, "open_connections", nonzero(ints(t, ms, "http.client.open_connections")), map[string]int64{
		"http.connection.state=idle,network.protocol.version=2," + srv + ",url.scheme=https": 1,
	})

	const n = 3
	inHandler.Add(n)
	var done sync.WaitGroup
	for range n {
		done.Go(func() { get(t, c, ts.URL+"/block") })
	}
	inHandler.Wait()
	waitFor(t, "3 streams in Stats", func() bool { return tr.Stats().Total.Streams == n })
	// Usually one conn carries the three streams. Now and then the pool
	// dials a second for a request that then finds room on the first (it
	// stays idle) or takes it: the instruments are held to the Stats of the
	// same instant then (nothing moves while the handlers block).
	st := tr.Stats().Total
	if st.H2Conns != st.Active+st.Idle {
		t.Fatalf("Stats: %d HTTP/2 conns of %d", st.H2Conns, st.Active+st.Idle)
	}
	wantOpen := map[string]int64{"http.connection.state=active,network.protocol.version=2," + srv + ",url.scheme=https": int64(st.Active)}
	if st.Idle > 0 {
		wantOpen["http.connection.state=idle,network.protocol.version=2,"+srv+",url.scheme=https"] = int64(st.Idle)
	}
	if st.H2Conns == 1 && st.Active != 1 {
		t.Errorf("Stats: the one conn with %d streams is not active: %+v", n, st)
	}
	ms = h.collect(t)
	checkInts(t, "open_connections busy", nonzero(ints(t, ms, "http.client.open_connections")), wantOpen)
	checkInts(t, "streams", ints(t, ms, "spool.client.http2.streams"), map[string]int64{
		srv + ",url.scheme=https": n,
	})
	g := ms["spool.client.http2.streams_per_connection"].Data
	if got := gaugeValues(t, g); !reflect.DeepEqual(got, map[string]float64{srv + ",url.scheme=https": float64(n) / float64(st.H2Conns)}) {
		t.Errorf("streams_per_connection %v, want %d/%d", got, n, st.H2Conns)
	}
	close(release)
	done.Wait()
	ms = h.collect(t)
	checkInts(t, "reuses", ints(t, ms, "spool.client.connection.reuses"), map[string]int64{
		srv + ",url.scheme=https": tr.Stats().Total.Reuses,
	})
	if st.H2Conns == 1 && tr.Stats().Total.Reuses != 1+n {
		t.Errorf("one conn, %d reuses; want %d", tr.Stats().Total.Reuses, 1+n)
	}
	// The events say HTTP/2 too (the response's version).
	reqs := hists(t, ms, "http.client.request.duration")
	key := "http.request.method=GET,http.response.status_code=200,network.protocol.version=2," + srv + ",url.scheme=https"
	if len(reqs) != 1 || reqs[key].count != 2+n {
		t.Errorf("request.duration: %v, want %d points at {%s}", reqs, 2+n, key)
	}
}

// TestLeakedBodyInstruments: a body dropped without Close is reclaimed
// after GC and shows as a leaked body and a close by reason leaked.
func TestLeakedBodyInstruments(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(hello))
	defer ts.Close()
	h := instrument(t, &spool.Transport{OnLeakedBody: func(method, url string) {}})
	host, port := hostPort(t, ts)
	srv := "server.address=" + host + ",server.port=" + port
	func() {
		resp, err := h.tr.RoundTrip(httptestRequest(t, ts.URL))
		if err != nil {
			t.Fatal(err)
		}
		_ = resp // dropped without Close
	}()
	waitFor(t, "the leaked body reclaimed", func() bool {
		runtime.GC()
		return h.tr.Stats().Total.LeakedBodies == 1
	})
	ms := h.collect(t)
	checkInts(t, "leaked_bodies", ints(t, ms, "spool.client.leaked_bodies"), map[string]int64{srv + ",url.scheme=http": 1})
	checkInts(t, "closes", ints(t, ms, "spool.client.connection.closes"), map[string]int64{
		srv + ",spool.close.reason=leaked,url.scheme=http": 1,
	})
	conns := hists(t, ms, "http.client.connection.duration")
	if c := conns["network.protocol.version=1.1,"+srv+",url.scheme=http"]; c.count != 1 || len(conns) != 1 {
		t.Errorf("connection.duration %v, want one conn", conns)
	}
}

func httptestRequest(t *testing.T, url string) *http.Request {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

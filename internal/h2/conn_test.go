package h2

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spoolhttp/spool/internal/pool"
)

var _ pool.Conn = (*Conn)(nil)

func TestOneConnServesConcurrentRequests(t *testing.T) {
	for _, mode := range []string{"h2", "h2c"} {
		t.Run(mode, func(t *testing.T) {
			var notH2 atomic.Int32
			h := func(w http.ResponseWriter, r *http.Request) {
				if r.ProtoMajor != 2 {
					notH2.Add(1)
				}
				w.Write([]byte("hello " + r.URL.Path))
			}
			var s *server
			if mode == "h2" {
				s = newTLSServer(t, h, 0)
			} else {
				s = newH2CServer(t, h)
			}
			var dc doneCounter
			c := newConn(t, Config{OnStreamDone: dc.hook}, s.dial(t))

			const n = 50
			var wg sync.WaitGroup
			errc := make(chan error, n)
			for i := 0; i < n; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if err := c.Reserve(); err != nil {
						errc <- err
						return
					}
					resp, err := c.RoundTrip(get(t, s.URL+"/x"))
					if err != nil {
						errc <- err
						return
					}
					if got := readAll(t, resp.Body); got != "hello /x" || resp.ProtoMajor != 2 {
						errc <- errors.New("bad response " + resp.Proto + " " + got)
					}
				}()
			}
			wg.Wait()
			close(errc)
			for err := range errc {
				t.Error(err)
			}
			if got := s.conns.Load(); got != 1 {
				t.Errorf("server saw %d conns, want 1", got)
			}
			if notH2.Load() != 0 {
				t.Errorf("%d requests were not HTTP/2", notH2.Load())
			}
			eventually(t, 5*time.Second, "OnStreamDone count", func() bool { return dc.n.Load() == n })
			if c.InFlight() != 0 || c.Err() != nil {
				t.Errorf("after all streams: InFlight=%d Err=%v", c.InFlight(), c.Err())
			}
			// resp.TLS is the conn's, as net/http's HTTP/2 sets it.
			if resp, err := c.RoundTrip(get(t, s.URL+"/x")); err != nil {
				t.Fatal(err)
			} else if readAll(t, resp.Body); (mode == "h2") != (resp.TLS != nil) || (resp.TLS != nil && resp.TLS.NegotiatedProtocol != "h2") {
				t.Errorf("%s: resp.TLS = %+v", mode, resp.TLS)
			}
		})
	}
}

// blockingHandler sends its head and a first chunk, then holds the stream
// open until the client resets it or the test ends.
func blockingHandler(t *testing.T) http.HandlerFunc {
	stop := make(chan struct{})
	t.Cleanup(func() { close(stop) })
	return func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("first"))
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
		case <-stop:
		}
	}
}

func TestAvailableAtServerLimit(t *testing.T) {
	s := newTLSServer(t, blockingHandler(t), 2)
	var dc doneCounter
	c := newConn(t, Config{OnStreamDone: dc.hook}, s.dial(t))
	waitSettings(t, c)
	if got := c.Available(); got != 2 {
		t.Fatalf("Available = %d, want 2", got)
	}
	var resps []*http.Response
	for i := 0; i < 2; i++ {
		if err := c.Reserve(); err != nil {
			t.Fatal(err)
		}
		resp, err := c.RoundTrip(get(t, s.URL))
		if err != nil {
			t.Fatal(err)
		}
		resps = append(resps, resp)
		if got, want := c.Available(), 1-i; got != want {
			t.Fatalf("after %d streams Available = %d, want %d", i+1, got, want)
		}
	}
	if c.InFlight() != 2 {
		t.Fatalf("InFlight = %d, want 2", c.InFlight())
	}
	if err := c.Reserve(); err == nil {
		t.Fatal("Reserve at the server's limit succeeded")
	}
	resps[0].Body.Close()
	if dc.n.Load() != 1 || c.Available() != 1 || c.InFlight() != 1 {
		t.Fatalf("after one Close: done=%d Available=%d InFlight=%d", dc.n.Load(), c.Available(), c.InFlight())
	}
	resps[1].Body.Close()
	if c.Available() != 2 || c.InFlight() != 0 {
		t.Fatalf("after both: Available=%d InFlight=%d", c.Available(), c.InFlight())
	}
	if got := dc.seen(); len(got) != 2 || got[0] != 1 || got[1] != 0 {
		t.Fatalf("InFlight seen by OnStreamDone = %v, want [1 0]", got)
	}
}

func TestReleaseGivesBackReservation(t *testing.T) {
	s := newTLSServer(t, blockingHandler(t), 2)
	c := newConn(t, Config{}, s.dial(t))
	waitSettings(t, c)
	c.Release() // no reservation: no effect
	if c.Available() != 2 {
		t.Fatalf("Release without Reserve: Available = %d", c.Available())
	}
	for i := 0; i < 2; i++ {
		if err := c.Reserve(); err != nil {
			t.Fatal(err)
		}
	}
	if c.Available() != 0 || c.Reserve() == nil {
		t.Fatal("two reservations did not fill the conn")
	}
	c.Release()
	if c.Available() != 1 || c.InFlight() != 1 {
		t.Fatalf("after Release: Available=%d InFlight=%d, want 1 1", c.Available(), c.InFlight())
	}
	c.Release()
	c.Release() // one too many: no effect
	if c.Available() != 2 || c.InFlight() != 0 {
		t.Fatalf("after both Released: Available=%d InFlight=%d, want 2 0", c.Available(), c.InFlight())
	}
	// The released slots serve new streams.
	var resps []*http.Response
	for i := 0; i < 2; i++ {
		if err := c.Reserve(); err != nil {
			t.Fatalf("Reserve after Release: %v", err)
		}
		resp, err := c.RoundTrip(get(t, s.URL))
		if err != nil {
			t.Fatal(err)
		}
		resps = append(resps, resp)
	}
	if c.Available() != 0 || c.InFlight() != 2 || c.Reserve() == nil {
		t.Fatalf("two streams: Available=%d InFlight=%d", c.Available(), c.InFlight())
	}
	for _, r := range resps {
		r.Body.Close()
	}
	if c.Available() != 2 || c.InFlight() != 0 {
		t.Fatalf("end: Available=%d InFlight=%d, want 2 0", c.Available(), c.InFlight())
	}
}

func TestErrAfterClose(t *testing.T) {
	s := newH2CServer(t, func(w http.ResponseWriter, r *http.Request) {})
	c := newConn(t, Config{}, s.dial(t))
	if err := c.Err(); err != nil {
		t.Fatalf("fresh conn: Err = %v", err)
	}
	c.Close()
	if err := c.Err(); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Err after Close = %v", err)
	}
	if c.Available() != 0 || c.Reserve() == nil {
		t.Fatal("closed conn takes requests")
	}
	if _, err := c.RoundTrip(get(t, s.URL)); err == nil {
		t.Fatal("RoundTrip on a closed conn succeeded")
	}
}

func TestErrAfterGoAway(t *testing.T) {
	s := newTLSServer(t, blockingHandler(t), 0)
	c := newConn(t, Config{}, s.dial(t))
	// A stream in flight keeps the server's graceful shutdown between its
	// GOAWAY and its close: the conn takes no new stream, but Err stays nil
	// so the pool does not close it under the stream that still runs.
	resp, err := c.RoundTrip(get(t, s.URL))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	shut := make(chan error, 1)
	go func() { shut <- s.Config.Shutdown(ctx) }()
	eventually(t, 5*time.Second, "conn still takes streams after GOAWAY", func() bool { return c.Available() == 0 })
	if err := c.Reserve(); !errors.Is(err, pool.ErrServerClosed) {
		t.Fatalf("Reserve after GOAWAY = %v, want pool.ErrServerClosed", err)
	}
	if err := c.Err(); err != nil {
		t.Fatalf("Err with a stream still open = %v, want nil", err)
	}
	resp.Body.Close()
	if err := c.Err(); !errors.Is(err, pool.ErrServerClosed) {
		t.Errorf("Err after the last stream = %v, want pool.ErrServerClosed", err)
	}
	if err := <-shut; err != nil {
		t.Fatal(err)
	}
}

func TestPingHealthCheckClosesDeadConn(t *testing.T) {
	s := newH2CServer(t, func(w http.ResponseWriter, r *http.Request) {})
	p := newStallProxy(t, s.Listener.Addr().String())
	c := newConn(t, Config{ReadIdleTimeout: 100 * time.Millisecond, PingTimeout: 200 * time.Millisecond}, p.dial(t))
	resp, err := c.RoundTrip(get(t, s.URL))
	if err != nil {
		t.Fatal(err)
	}
	readAll(t, resp.Body)
	// Idle pings are answered while the path works.
	time.Sleep(350 * time.Millisecond)
	if err := c.Err(); err != nil {
		t.Fatalf("healthy conn: Err = %v", err)
	}
	start := time.Now()
	p.stalled.Store(true)
	eventually(t, 3*time.Second, "conn to a silent peer still usable", func() bool { return c.Err() != nil })
	t.Logf("dead peer detected after %v: %v", time.Since(start), c.Err())
}

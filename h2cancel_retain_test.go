package spool_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spoolhttp/spool"
)

// TestH2CancelledStreamsFreeTheirConn: requests cancelled at random
// moments, some just as their response head arrives, leave nothing that
// keeps their HTTP/2 conn reachable: once the Transport is closed and
// dropped, every conn it dialed is collected. (A head that came after
// the caller had given up stayed in its stream, and its body's leak
// cleanup, whose argument is the stream, could then never run: the
// stream, its conn and its buffers were kept for the life of the
// process, 80 KiB a conn.)
func TestH2CancelledStreamsFreeTheirConn(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	}))
	var protos http.Protocols
	protos.SetHTTP1(true)
	protos.SetUnencryptedHTTP2(true)
	srv.Config.Protocols = &protos
	srv.Start()
	defer srv.Close()

	var dials, freed atomic.Int64
	tr := h2cTransport()
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		dials.Add(1)
		w := &struct{ net.Conn }{c} // collected with the h2 conn that holds it
		runtime.AddCleanup(w, func(int) { freed.Add(1) }, 0)
		return w, nil
	}
	load(tr, srv.URL)
	tr.Close()
	tr = nil

	deadline := time.Now().Add(hangUp)
	for freed.Load() != dials.Load() && time.Now().Before(deadline) {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
	if dials.Load() == 0 || freed.Load() != dials.Load() {
		t.Fatalf("%d conns dialed, %d collected after the Transport was closed and dropped", dials.Load(), freed.Load())
	}
}

// load runs 32 workers of 200 GETs, every third cancelled after 0-400 µs.
func load(tr *spool.Transport, url string) {
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			for i := range 200 {
				ctx, cancel := context.WithCancel(context.Background())
				if i%3 == 0 {
					time.AfterFunc(time.Duration(i%5)*100*time.Microsecond, cancel)
				}
				req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
				if resp, err := tr.RoundTrip(req); err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				cancel()
			}
		})
	}
	wg.Wait()
}

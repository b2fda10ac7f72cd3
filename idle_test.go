package spool_test

import (
	"io"
	"net/http"
	"runtime"
	"sync"
	"testing"

	"github.com/spoolhttp/spool"
	"github.com/spoolhttp/spool/internal/testutil"
)

// Idle connections cost a struct and a file descriptor: 5,000 of them add
// no goroutine (net/http keeps two per conn). The server runs in a child
// process so only the client's goroutines are counted.
func TestIdleConnsAddNoGoroutines(t *testing.T) {
	n := 5000
	if testing.Short() {
		n = 500
	}
	addr := startChildServer(t, n)
	tr := testutil.NewTransport(t, &spool.Transport{MaxIdleConnsPerHost: n, MaxIdleConns: n})
	base := runtime.NumGoroutine()
	var ms0, ms1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms0)

	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Go(func() {
			resp, err := tr.RoundTrip(testutil.NewRequest(t, "GET", "http://"+addr+"/", nil))
			if err != nil {
				errs <- err
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	runtime.GC() // twice: sync.Pool buffers survive one GC in the victim cache
	runtime.GC()
	runtime.ReadMemStats(&ms1)
	st := tr.Stats().Total
	if st.Idle != n || st.Dials != int64(n) {
		t.Fatalf("idle %d dials %d, want %d", st.Idle, st.Dials, n)
	}
	if g := runtime.NumGoroutine(); g > base {
		t.Fatalf("%d goroutines with %d idle conns, %d before", g, n, base)
	}
	t.Logf("%d idle conns: +%d goroutines, heap +%d B/conn", n, runtime.NumGoroutine()-base,
		(int64(ms1.HeapAlloc)-int64(ms0.HeapAlloc))/int64(n))
	tr.CloseIdleConnections()
	if st := tr.Stats().Total; st.Idle != 0 {
		t.Fatalf("idle %d after CloseIdleConnections", st.Idle)
	}
	_ = http.NoBody
}

package spool_test

import (
	"io"
	"net/http"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/spoolhttp/spool/internal/testutil"
)

// countingBody records how many times Close is called.
type countingBody struct {
	io.Reader
	closes atomic.Int32
}

func (b *countingBody) Close() error { b.closes.Add(1); return nil }

// runChildServer is the root tests' child server (see
// testutil.StartChildServer): a plain net/http server that answers
// "hello, world", in another process so the client's goroutines and
// allocations can be counted without the server's.
func runChildServer() {
	// SPOOL_BARRIER=N holds every request until N are in flight, so a
	// client with N concurrent requests provably opens N conns.
	n, _ := strconv.Atoi(os.Getenv("SPOOL_BARRIER"))
	var mu sync.Mutex
	arrived := 0
	open := make(chan struct{})
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n > 0 {
			mu.Lock()
			if arrived++; arrived == n {
				close(open)
			}
			mu.Unlock()
			<-open
		}
		io.WriteString(w, "hello, world")
	})}
	if os.Getenv("SPOOL_H2C") != "" { // HTTP/2 by prior knowledge too (bench_h2_test.go)
		srv.Protocols = new(http.Protocols)
		srv.Protocols.SetHTTP1(true)
		srv.Protocols.SetUnencryptedHTTP2(true)
	}
	testutil.ServeChildServer(srv)
}

// startChildServer runs runChildServer in a child process, holding
// requests until barrier are in flight (0: none held), and returns its
// address; the child exits when the test ends.
func startChildServer(t testing.TB, barrier int) string {
	t.Helper()
	return testutil.StartChildServer(t, "SPOOL_BARRIER="+strconv.Itoa(barrier))
}

package faulttest

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spoolhttp/spool"
	"github.com/spoolhttp/spool/internal/testutil"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// scale picks the number in a normal run and a smaller one under
// the race detector.
func scale(normal, race int) int {
	if testutil.RaceEnabled {
		return race
	}
	return normal
}

// readHead reads one request head (and not its body) from br.
func readHead(br *bufio.Reader) (*http.Request, error) {
	return http.ReadRequest(br)
}

// waitGoroutines polls until the goroutine count is back to base (or
// below) and fails with a dump after 5 s.
func waitGoroutines(t testing.TB, base int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		n := runtime.NumGoroutine()
		if n <= base {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Fatalf("%d goroutines, baseline %d:\n%s", n, base, buf)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// held is the number of conns the transport still holds.
func held(tr *spool.Transport) int {
	st := tr.Stats().Total
	return st.Idle + st.Active
}

// endless is an io.Reader of n bytes of 'x' (n < 0: endless) that counts
// what was read and how often Close was called.
type endless struct {
	left   atomic.Int64
	read   atomic.Int64
	closes atomic.Int32
}

func newEndless(n int64) *endless {
	e := &endless{}
	e.left.Store(n)
	return e
}

func (e *endless) Read(p []byte) (int, error) {
	l := e.left.Load()
	if l == 0 {
		return 0, io.EOF
	}
	if l > 0 && int64(len(p)) > l {
		p = p[:l]
	}
	for i := range p {
		p[i] = 'x'
	}
	if l > 0 {
		e.left.Add(-int64(len(p)))
	}
	e.read.Add(int64(len(p)))
	return len(p), nil
}

func (e *endless) Close() error { e.closes.Add(1); return nil }

// bubbleGoroutines counts the goroutines of synctest bubbles only (tests
// run one at a time, so that is the caller's bubble): goroutines other
// tests left winding down outside it must not make a leak check flaky.
func bubbleGoroutines() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	count := 0
	for _, line := range bytes.Split(buf, []byte("\n")) {
		if bytes.HasPrefix(line, []byte("goroutine ")) && bytes.Contains(line, []byte("synctest bubble")) {
			count++
		}
	}
	return count
}

package faulttest

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spoolhttp/spool"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// scale picks the number in a normal run and a smaller one under
// the race detector.
func scale(normal, race int) int {
	if raceEnabled {
		return race
	}
	return normal
}

// newTransport returns tr (or a zero Transport), closed at the end of the test.
func newTransport(t testing.TB, tr *spool.Transport) *spool.Transport {
	t.Helper()
	if tr == nil {
		tr = &spool.Transport{}
	}
	t.Cleanup(func() { tr.Close() })
	return tr
}

func mustReq(t testing.TB, method, url string, body io.Reader) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// counter is a DialContext that dials real TCP and counts dials and the
// bytes every conn it made has read, so a test can bound what the
// transport consumed from a hostile peer.
type counter struct {
	dials atomic.Int64
	read  atomic.Int64 // bytes Read by the transport, all conns
	open  atomic.Int64 // conns dialed and not yet closed
	max   atomic.Int64 // the most open at once
}

func (c *counter) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	c.dials.Add(1)
	var d net.Dialer
	nc, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	n := c.open.Add(1)
	for {
		m := c.max.Load()
		if n <= m || c.max.CompareAndSwap(m, n) {
			break
		}
	}
	return &countConn{Conn: nc, c: c}, nil
}

// countConn is a net.Conn that counts bytes read. It keeps
// syscall.Conn so spool's checkout peek still sees the socket.
type countConn struct {
	net.Conn
	c      *counter
	closed atomic.Bool
}

func (cc *countConn) Read(p []byte) (int, error) {
	n, err := cc.Conn.Read(p)
	cc.c.read.Add(int64(n))
	return n, err
}

func (cc *countConn) Close() error {
	if !cc.closed.Swap(true) {
		cc.c.open.Add(-1)
	}
	return cc.Conn.Close()
}

// rawServer is a loopback listener whose conns are handled by handle in
// their own goroutine, for exact bytes. Cleanup closes everything and
// waits for the handlers.
type rawServer struct {
	ln       net.Listener
	wg       sync.WaitGroup
	mu       sync.Mutex
	conns    map[net.Conn]bool
	accepted atomic.Int64
}

func newRawServer(t testing.TB, handle func(i int, c net.Conn)) *rawServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &rawServer{ln: ln, conns: make(map[net.Conn]bool)}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			i := int(s.accepted.Add(1) - 1)
			s.mu.Lock()
			s.conns[c] = true
			s.mu.Unlock()
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer func() {
					c.Close()
					s.mu.Lock()
					delete(s.conns, c)
					s.mu.Unlock()
				}()
				handle(i, c)
			}()
		}
	}()
	t.Cleanup(s.Close)
	return s
}

func (s *rawServer) Close() {
	s.ln.Close()
	s.mu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

func (s *rawServer) Addr() string { return s.ln.Addr().String() }
func (s *rawServer) URL() string  { return "http://" + s.Addr() }

// readHead reads one request head (and not its body) from br.
func readHead(br *bufio.Reader) (*http.Request, error) {
	return http.ReadRequest(br)
}

// waitFor polls cond for up to 5 s.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
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

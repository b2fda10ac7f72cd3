package spool_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/spoolhttp/spool"
	"github.com/spoolhttp/spool/internal/testutil"
)

// cannedConn is a server in memory that allocates nothing: every request
// written to it is answered with the same response bytes. It lets the
// allocation pin count the client only.
type cannedConn struct {
	mu      sync.Mutex
	resp    string
	pending int // bytes of resp still to read
	closed  bool
}

func (c *cannedConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(p) >= 4 && string(p[len(p)-4:]) == "\r\n\r\n" {
		c.pending = len(c.resp)
	}
	return len(p), nil
}

func (c *cannedConn) Read(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pending == 0 {
		return 0, io.EOF // never reached: the client reads only what was answered
	}
	n := copy(p, c.resp[len(c.resp)-c.pending:])
	c.pending -= n
	return n, nil
}

func (c *cannedConn) Close() error                     { c.closed = true; return nil }
func (c *cannedConn) LocalAddr() net.Addr              { return cannedAddr{} }
func (c *cannedConn) RemoteAddr() net.Addr             { return cannedAddr{} }
func (c *cannedConn) SetDeadline(time.Time) error      { return nil }
func (c *cannedConn) SetReadDeadline(time.Time) error  { return nil }
func (c *cannedConn) SetWriteDeadline(time.Time) error { return nil }

type cannedAddr struct{}

func (cannedAddr) Network() string { return "tcp" }
func (cannedAddr) String() string  { return "127.0.0.1:80" }

// TestRoundTripAllocs pins the allocations of a whole keep-alive GET
// (RoundTrip, read the body to EOF, Close) over an in-memory conn. The
// budget is the target: 8 (net/http makes about 40). A change that
// adds one fails here.
func TestRoundTripAllocs(t *testing.T) {
	if testutil.RaceEnabled {
		t.Skip("the race detector adds allocations")
	}
	conn := &cannedConn{resp: "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nDate: Sun, 22 Nov 2026 10:00:00 GMT\r\nServer: nginx\r\nContent-Length: 12\r\n\r\nhello, world"}
	tr := &spool.Transport{DialContext: func(context.Context, string, string) (net.Conn, error) { return conn, nil }}
	defer tr.Close()
	req, _ := http.NewRequest("GET", "http://example.test/", nil)
	buf := make([]byte, 64)
	roundTrip := func() {
		resp, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		for {
			n, err := resp.Body.Read(buf)
			if err == io.EOF {
				break
			}
			if err != nil || string(buf[:n]) != "hello, world" {
				t.Fatalf("read %q %v", buf[:n], err)
			}
		}
		resp.Body.Close()
	}
	roundTrip() // dial and warm the buffer pools
	allocs := testing.AllocsPerRun(1000, roundTrip)
	t.Logf("%.1f allocations per round trip", allocs)
	if allocs > 8 {
		t.Fatalf("%.1f allocations per round trip, budget 8", allocs)
	}
	// A caller's long-lived cancellable context (a worker's, a load
	// tool's) costs nothing more: the conn keeps its one registration.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req = req.WithContext(ctx)
	roundTrip()
	if allocs := testing.AllocsPerRun(1000, roundTrip); allocs > 8 {
		t.Fatalf("%.1f allocations per round trip with a cancellable context, budget 8", allocs)
	}
	if st := tr.Stats().Total; st.Dials != 1 {
		t.Fatalf("dials %d", st.Dials)
	}
}

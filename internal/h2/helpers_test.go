package h2

import (
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// server is an httptest server that counts the conns it accepted.
type server struct {
	*httptest.Server
	conns atomic.Int32
}

// newTLSServer serves h over TLS with h2 by ALPN. maxStreams > 0 sets the
// server's MAX_CONCURRENT_STREAMS.
func newTLSServer(t *testing.T, h http.HandlerFunc, maxStreams int) *server {
	s := &server{Server: httptest.NewUnstartedServer(h)}
	s.EnableHTTP2 = true
	if maxStreams > 0 {
		s.Config.HTTP2 = &http.HTTP2Config{MaxConcurrentStreams: maxStreams}
	}
	s.countConns()
	s.StartTLS()
	t.Cleanup(s.Close)
	return s
}

// newH2CServer serves h as HTTP/2 over plaintext, prior knowledge only.
func newH2CServer(t *testing.T, h http.HandlerFunc) *server {
	s := &server{Server: httptest.NewUnstartedServer(h)}
	s.Config.Protocols = new(http.Protocols)
	s.Config.Protocols.SetUnencryptedHTTP2(true)
	s.countConns()
	s.Start()
	t.Cleanup(s.Close)
	return s
}

func (s *server) countConns() {
	s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.conns.Add(1)
		}
	}
}

// dial connects to s: TLS with ALPN h2 when s is TLS, else plaintext.
func (s *server) dial(t *testing.T) net.Conn {
	t.Helper()
	if s.TLS == nil {
		nc, err := net.Dial("tcp", s.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		return nc
	}
	cfg := s.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
	cfg.NextProtos = []string{"h2"}
	tc, err := tls.Dial("tcp", s.Listener.Addr().String(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if p := tc.ConnectionState().NegotiatedProtocol; p != "h2" {
		t.Fatalf("ALPN picked %q, want h2", p)
	}
	return tc
}

// newConn wraps nc with a Factory for cfg; the conn is closed at cleanup.
func newConn(t *testing.T, cfg Config, nc net.Conn) *Conn {
	t.Helper()
	c, err := NewFactory(cfg).New(nc, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// doneCounter counts OnStreamDone calls and records InFlight at each.
type doneCounter struct {
	n        atomic.Int32
	mu       sync.Mutex
	inFlight []int
}

func (d *doneCounter) hook(c *Conn) {
	in := c.InFlight()
	d.mu.Lock()
	d.inFlight = append(d.inFlight, in)
	d.mu.Unlock()
	d.n.Add(1)
}

func (d *doneCounter) seen() []int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]int(nil), d.inFlight...)
}

// eventually polls cond until it holds or d passes. Real-time tests only:
// the conns under test run on real sockets and real timers.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", d, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitSettings waits for the server's SETTINGS, so Available reflects its
// MAX_CONCURRENT_STREAMS rather than the assumed 100.
func waitSettings(t *testing.T, c *Conn) {
	t.Helper()
	eventually(t, 5*time.Second, "no SETTINGS from server", func() bool {
		_, max := c.Streams()
		return max != 0
	})
}

// stallProxy forwards TCP between a client and target until stalled; then
// it reads and discards both ways, like a peer that vanished without a FIN.
type stallProxy struct {
	ln      net.Listener
	target  string
	stalled atomic.Bool
	wg      sync.WaitGroup
	mu      sync.Mutex
	closed  bool       // guarded by mu
	conns   []net.Conn // guarded by mu
}

func newStallProxy(t *testing.T, target string) *stallProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &stallProxy{ln: ln, target: target}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.close)
	return p
}

func (p *stallProxy) accept() {
	defer p.wg.Done()
	for {
		a, err := p.ln.Accept()
		if err != nil {
			return
		}
		b, err := net.Dial("tcp", p.target)
		if err != nil {
			a.Close()
			continue
		}
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			a.Close()
			b.Close()
			return
		}
		p.conns = append(p.conns, a, b)
		p.mu.Unlock()
		p.wg.Add(2)
		go p.pipe(a, b)
		go p.pipe(b, a)
	}
}

func (p *stallProxy) pipe(dst, src net.Conn) {
	defer p.wg.Done()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 && !p.stalled.Load() {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (p *stallProxy) close() {
	p.ln.Close()
	p.mu.Lock()
	p.closed = true
	for _, c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

func (p *stallProxy) dial(t *testing.T) net.Conn {
	nc, err := net.Dial("tcp", p.ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	return nc
}

func get(t *testing.T, url string) *http.Request {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func readAll(t *testing.T, r io.ReadCloser) string {
	t.Helper()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	return string(b)
}

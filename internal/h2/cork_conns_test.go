package h2

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"testing"
	"time"
)

// The conns a user's DialContext may return under TLS, and whether the
// reader may peek over them (peekSafe): a peek miss must never reach
// crypto/tls as an error it keeps, nor block with the queue corked.

// yamuxTimeout is shaped like hashicorp/yamux's ErrTimeout: a net.Error
// with Timeout() true and Temporary() false, which crypto/tls keeps.
type yamuxTimeout struct{}

func (yamuxTimeout) Error() string   { return "i/o deadline reached" }
func (yamuxTimeout) Timeout() bool   { return true }
func (yamuxTimeout) Temporary() bool { return false }

// timeoutRewriter turns read timeouts into another error: yamux's, or the
// timeout wrapped (as metrics and logging wrappers do).
type timeoutRewriter struct {
	net.Conn
	wrap bool
}

func (c timeoutRewriter) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		if c.wrap {
			err = fmt.Errorf("metrics conn: %w", err)
		} else {
			err = yamuxTimeout{}
		}
	}
	return n, err
}

// noopDeadlineConn accepts read deadlines and ignores them (a common
// shape for tunnels and in-memory conns).
type noopDeadlineConn struct{ net.Conn }

func (noopDeadlineConn) SetReadDeadline(time.Time) error { return nil }

// passThrough forwards everything and declares it with NetConn.
type passThrough struct{ net.Conn }

func (p passThrough) NetConn() net.Conn { return p.Conn }

func (s *server) dialWrapped(t *testing.T, wrap func(net.Conn) net.Conn) *tls.Conn {
	t.Helper()
	raw, err := net.Dial("tcp", s.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	cfg := s.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
	cfg.NextProtos = []string{"h2"}
	cfg.ServerName = "example.com"
	tc := tls.Client(wrap(raw), cfg)
	if err := tc.Handshake(); err != nil {
		t.Fatal(err)
	}
	return tc
}

func TestPeekSafe(t *testing.T) {
	s := newTLSServer(t, func(w http.ResponseWriter, r *http.Request) {}, 0)
	for _, tc := range []struct {
		name string
		wrap func(net.Conn) net.Conn
		want bool
	}{
		{"tcp", func(c net.Conn) net.Conn { return c }, true},
		{"tls over tcp", func(c net.Conn) net.Conn { return tls.Client(c, &tls.Config{}) }, true},
		{"pass-through wrapper", func(c net.Conn) net.Conn { return passThrough{c} }, true},
		{"wrapper", func(c net.Conn) net.Conn { return timeoutRewriter{Conn: c} }, false},
		{"no-op deadlines", func(c net.Conn) net.Conn { return noopDeadlineConn{c} }, false},
	} {
		raw, err := net.Dial("tcp", s.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		conn := tls.Client(tc.wrap(raw), &tls.Config{})
		if got := peekSafe(conn); got != tc.want {
			t.Errorf("%s: peekSafe %v, want %v", tc.name, got, tc.want)
		}
		raw.Close()
	}
}

// Over a conn whose read timeout crypto/tls would keep, concurrent
// streams must all succeed (a peek would have failed the conn at its
// first miss).
func TestTLSNonTemporaryTimeoutConnKeepsStreams(t *testing.T) {
	for _, wrap := range []bool{false, true} {
		s := newTLSServer(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }, 0)
		c := newConn(t, Config{}, s.dialWrapped(t, func(nc net.Conn) net.Conn { return timeoutRewriter{nc, wrap} }))
		var wg sync.WaitGroup
		errc := make(chan error, 16)
		for range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := getRepeat(t, c, s.URL+"/", 50); err != nil {
					errc <- err
				}
			}()
		}
		wg.Wait()
		close(errc)
		if err := <-errc; err != nil {
			t.Fatalf("wrapped=%v: %v (conn err %v)", wrap, err, c.Err())
		}
	}
}

// With read deadlines ignored, a peek would block on the socket with the
// queue corked from the frame before: one long poll keeps two streams
// open while the other stream's next request must still go out.
func TestTLSNoopDeadlineConnDoesNotStrandRequests(t *testing.T) {
	release := make(chan struct{})
	s := newTLSServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/poll" {
			w.WriteHeader(200)
			w.(http.Flusher).Flush()
			<-release
			return
		}
		io.WriteString(w, "ok")
	}, 0)
	defer close(release)
	c := newConn(t, Config{}, s.dialWrapped(t, func(nc net.Conn) net.Conn { return noopDeadlineConn{nc} }))
	poll, err := c.RoundTrip(get(t, s.URL+"/poll"))
	if err != nil {
		t.Fatal(err)
	}
	defer poll.Body.Close()
	done := make(chan error, 1)
	go func() { done <- getRepeat(t, c, s.URL+"/", 500) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		c.wq.mu.Lock()
		corked, pending := c.wq.corked, len(c.wq.buf)
		c.wq.mu.Unlock()
		c.Close()
		<-done
		t.Fatalf("requests stranded: corked=%v, %d bytes queued unsent", corked, pending)
	}
}

// getRepeat makes n GETs of url on c, each read to its end; the first
// error ends it.
func getRepeat(t *testing.T, c *Conn, url string, n int) error {
	for range n {
		resp, err := c.RoundTrip(get(t, url))
		if err == nil {
			_, err = io.ReadAll(resp.Body)
			resp.Body.Close()
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// Frames queued while corked go out at uncork, with nothing queued after
// them to trigger a write.
func TestUncorkFlushes(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	var q writeQueue
	q.init(a, time.Second, func(error) {}, nil)
	q.cork()
	q.mu.Lock()
	q.buf = append(q.buf, "hello"...)
	q.flushLocked(false)
	q.uncork()
	b.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 5)
	if _, err := io.ReadFull(b, buf); err != nil || string(buf) != "hello" {
		t.Fatalf("after uncork: %q, %v", buf, err)
	}
	q.waitIdle()
}

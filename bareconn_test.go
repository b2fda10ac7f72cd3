package spool_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"

	"github.com/spoolhttp/spool"
	"github.com/spoolhttp/spool/internal/testutil"
)

// bareConn implements only Read, Write and Close: every other net.Conn
// method is the nil embedded interface's and panics, as with the funcConn
// of net/http's tests. net/http never calls them on the client side, and a
// custom dialer may return such a conn (issue 11 bug 4).
type bareConn struct {
	net.Conn
	mu       sync.Mutex
	wrote    bool
	answer   *bytes.Reader
	readErr  error
	writeErr error
}

func (c *bareConn) Read(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.readErr != nil {
		return 0, c.readErr
	}
	if !c.wrote {
		return 0, errors.New("bareConn: read before write")
	}
	return c.answer.Read(p)
}

func (c *bareConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	if c.writeErr != nil {
		c.mu.Unlock()
		return 0, c.writeErr
	}
	c.wrote = true
	c.mu.Unlock()
	return len(p), nil
}

func (c *bareConn) Close() error { return nil }

func bareDialer(newConn func() *bareConn) func(context.Context, string, string) (net.Conn, error) {
	return func(context.Context, string, string) (net.Conn, error) { return newConn(), nil }
}

// A custom dialer's conn without RemoteAddr (or LocalAddr, or deadlines)
// serves requests and reports its errors, without a panic.
func TestConnWithoutRemoteAddr(t *testing.T) {
	t.Run("response", func(t *testing.T) {
		tr := testutil.NewTransport(t, &spool.Transport{DialContext: bareDialer(func() *bareConn {
			return &bareConn{answer: bytes.NewReader([]byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"))}
		})})
		for range 2 {
			resp, err := tr.RoundTrip(testutil.NewRequest(t, "GET", "http://bare.test/", nil))
			if err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil || string(b) != "ok" {
				t.Fatalf("body %q, %v", b, err)
			}
		}
	})
	t.Run("peek error", func(t *testing.T) {
		// net/http's TestTransportReturnsPeekError: the read error itself.
		errValue := errors.New("specific error value")
		tr := testutil.NewTransport(t, &spool.Transport{DialContext: bareDialer(func() *bareConn {
			return &bareConn{readErr: errValue}
		})})
		_, err := tr.RoundTrip(testutil.NewRequest(t, "GET", "http://bare.test/", nil))
		if err != errValue {
			t.Fatalf("err %#v, want %v", err, errValue)
		}
	})
	t.Run("write error", func(t *testing.T) {
		// net/http's TestConnClosedBeforeRequestIsWritten: the request fails
		// and its body is closed once, whatever its framing.
		for _, cl := range []int64{0, 5} { // unknown length (streamed), known
			tr := testutil.NewTransport(t, &spool.Transport{DialContext: bareDialer(func() *bareConn {
				return &bareConn{readErr: errors.New("read error"), writeErr: errors.New("write error")}
			})})
			body := &countingBody{Reader: bytes.NewReader([]byte("hello"))}
			req := testutil.NewRequest(t, "POST", "http://bare.test/", nil)
			req.Body, req.ContentLength = body, cl
			if _, err := tr.RoundTrip(req); err == nil {
				t.Fatal("no error from a conn that cannot write")
			}
			if n := body.closes.Load(); n != 1 {
				t.Errorf("ContentLength %d: body closed %d times, want 1", cl, n)
			}
		}
	})
	t.Run("nil RemoteAddr", func(t *testing.T) {
		tr := testutil.NewTransport(t, &spool.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			a, b := net.Pipe()
			go func() {
				buf := make([]byte, 4096)
				b.Read(buf)
				io.WriteString(b, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
				b.Close()
			}()
			return nilAddrConn{a}, nil
		}})
		resp, err := (&http.Client{Transport: tr}).Get("http://bare.test/")
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	})
}

type nilAddrConn struct{ net.Conn }

func (nilAddrConn) RemoteAddr() net.Addr { return nil }
func (nilAddrConn) LocalAddr() net.Addr  { return nil }

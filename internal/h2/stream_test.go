package h2

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"

	"github.com/spoolhttp/spool/internal/errs"
)

func TestOnStreamDoneOncePerStream(t *testing.T) {
	stop := make(chan struct{})
	defer close(stop)
	h := func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/small":
			w.Write([]byte("small"))
		case "/big": // more than the stream window, so the server is mid-body at Close
			chunk := make([]byte, 32<<10)
			for i := 0; i < 1024; i++ {
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
		case "/abort": // RST_STREAM before any header
			panic(http.ErrAbortHandler)
		case "/hang":
			select {
			case <-r.Context().Done():
			case <-stop:
			}
		}
	}
	s := newTLSServer(t, h, 0)

	cases := []struct {
		name string
		run  func(t *testing.T, c *Conn)
	}{
		{"EOF", func(t *testing.T, c *Conn) {
			resp, err := c.RoundTrip(get(t, s.URL+"/small"))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := io.ReadAll(resp.Body); err != nil {
				t.Fatal(err)
			}
			resp.Body.Close() // after EOF: must not report again
		}},
		{"early Close", func(t *testing.T, c *Conn) {
			resp, err := c.RoundTrip(get(t, s.URL+"/big"))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := io.ReadFull(resp.Body, make([]byte, 100)); err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			resp.Body.Close()
			if _, err := resp.Body.Read(make([]byte, 1)); err == nil {
				t.Fatal("Read after Close succeeded")
			}
		}},
		{"RoundTrip error", func(t *testing.T, c *Conn) {
			_, err := c.RoundTrip(get(t, s.URL+"/abort"))
			var e *errs.Error
			if !errors.As(err, &e) || e.Op != errs.OpAwaitHeaders {
				t.Fatalf("err = %v, want *errs.Error await headers", err)
			}
		}},
		{"cancel before headers", func(t *testing.T, c *Conn) {
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			defer cancel()
			_, err := c.RoundTrip(get(t, s.URL+"/hang").WithContext(ctx))
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("err = %v, want deadline", err)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var dc doneCounter
			c := newConn(t, Config{OnStreamDone: dc.hook}, s.dial(t))
			if err := c.Reserve(); err != nil {
				t.Fatal(err)
			}
			tc.run(t, c)
			eventually(t, 5*time.Second, "OnStreamDone not called", func() bool { return dc.n.Load() >= 1 })
			time.Sleep(50 * time.Millisecond) // room for a wrong second call
			if n := dc.n.Load(); n != 1 {
				t.Fatalf("OnStreamDone called %d times", n)
			}
			// The slot is free when OnStreamDone runs, whatever ended the
			// stream (no settle PING, no orphan).
			if got := dc.seen(); got[0] != 0 {
				t.Fatalf("InFlight at OnStreamDone = %d, want 0", got[0])
			}
			if c.Err() != nil || c.Available() == 0 {
				t.Fatalf("conn unusable after one stream: Err=%v Available=%d", c.Err(), c.Available())
			}
		})
	}
}

func TestCancelMidBody(t *testing.T) {
	s := newTLSServer(t, blockingHandler(t), 0)
	var dc doneCounter
	c := newConn(t, Config{OnStreamDone: dc.hook}, s.dial(t))
	cause := errors.New("caller gave up")
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	resp, err := c.RoundTrip(get(t, s.URL).WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 5)
	if _, err := io.ReadFull(resp.Body, buf); err != nil || string(buf) != "first" {
		t.Fatalf("first chunk %q, %v", buf, err)
	}
	time.AfterFunc(50*time.Millisecond, func() { cancel(cause) })
	start := time.Now()
	_, err = resp.Body.Read(buf)
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("Read returned %v after cancel", d)
	}
	var e *errs.Error
	if !errors.Is(err, cause) || !errors.As(err, &e) || e.Op != errs.OpReadBody {
		t.Fatalf("Read err = %v, want read body error with the cause", err)
	}
	resp.Body.Close()
	eventually(t, 5*time.Second, "OnStreamDone not called", func() bool { return dc.n.Load() == 1 })
	if c.Err() != nil {
		t.Fatalf("a cancelled stream broke the conn: %v", c.Err())
	}
}

func TestCancelBeforeHeadersUsesCause(t *testing.T) {
	s := newH2CServer(t, func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	var dc doneCounter
	c := newConn(t, Config{OnStreamDone: dc.hook}, s.dial(t))
	cause := errors.New("shutting down")
	ctx, cancel := context.WithCancelCause(context.Background())
	time.AfterFunc(50*time.Millisecond, func() { cancel(cause) })
	_, err := c.RoundTrip(get(t, s.URL).WithContext(ctx))
	var e *errs.Error
	if !errors.Is(err, cause) || !errors.As(err, &e) || e.Op != errs.OpAwaitHeaders || e.Addr == "" {
		t.Fatalf("err = %#v, want await headers error with the cause", err)
	}
	eventually(t, 5*time.Second, "OnStreamDone not called", func() bool { return dc.n.Load() == 1 })
}

type failingBody struct{ n int }

var errBody = errors.New("body source failed")

func (b *failingBody) Read(p []byte) (int, error) {
	if b.n > 0 {
		b.n--
		return copy(p, "data"), nil
	}
	return 0, errBody
}
func (b *failingBody) Close() error { return nil }

func TestRequestBodyErrorIsWriteOp(t *testing.T) {
	s := newH2CServer(t, func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
	})
	var dc doneCounter
	c := newConn(t, Config{OnStreamDone: dc.hook}, s.dial(t))
	req, _ := http.NewRequest("POST", s.URL, &failingBody{n: 3})
	_, err := c.RoundTrip(req)
	var e *errs.Error
	if !errors.Is(err, errBody) || !errors.As(err, &e) || e.Op != errs.OpWrite {
		t.Fatalf("err = %v, want write error wrapping the body's", err)
	}
	eventually(t, 5*time.Second, "OnStreamDone not called", func() bool { return dc.n.Load() == 1 })
	// The conn survives a failed stream.
	resp, err := c.RoundTrip(get(t, s.URL))
	if err != nil {
		t.Fatal(err)
	}
	readAll(t, resp.Body)
}

func TestRoundTripLeavesRequestAlone(t *testing.T) {
	s := newH2CServer(t, func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) })
	c := newConn(t, Config{}, s.dial(t))
	req := get(t, s.URL)
	ctx := req.Context()
	resp, err := c.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Request != req || req.Context() != ctx {
		t.Fatal("request replaced or modified")
	}
	if got := readAll(t, resp.Body); !strings.HasPrefix(got, "ok") {
		t.Fatalf("body %q", got)
	}
}

// A body read to its end and then closed (what every well-behaved caller
// does) sends nothing and leaves no wakeup behind: its wake channel went
// back to the conn's pool at EOF, and the next stream that takes it must
// not find a stale token (a spurious wakeup per request).
func TestCloseAfterEOFLeavesNoWakeup(t *testing.T) {
	c, p := newPeer(t, Config{}, http2.Setting{})
	for i := range 3 {
		req, _ := http.NewRequest("GET", "http://x/", nil)
		ch := goRoundTrip(c, req)
		id := p.headers().id
		p.respond(id, false, "200")
		p.data(id, true, "hello")
		r := wait(t, ch)
		if r.err != nil {
			t.Fatal(r.err)
		}
		if b, err := io.ReadAll(r.resp.Body); err != nil || string(b) != "hello" {
			t.Fatalf("body %q, %v", b, err)
		}
		if err := r.resp.Body.Close(); err != nil {
			t.Fatalf("Close after EOF: %v", err)
		}
		w := c.getWake()
		if len(w) != 0 {
			t.Fatalf("request %d: the pooled wake channel holds a token after Close", i)
		}
		c.wakes.Put(w)
	}
	if got := c.ctr.snapshot().Resets; got != 0 {
		t.Fatalf("%d RST_STREAM sent for bodies read to their end", got)
	}
}

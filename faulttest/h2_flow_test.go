package faulttest

import (
	"context"
	"errors"
	"io"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/spoolhttp/spool"
	"github.com/spoolhttp/spool/internal/h2test"
	"golang.org/x/net/http2"
)

// windowCase bounds: the zero-window tests end on a short timeout, and
// must end well before h2Bound.
const (
	zeroWindowCtx  = 500 * time.Millisecond
	zeroWindowRead = 300 * time.Millisecond
)

// The server's initial window is 0 and it never grants any: an upload
// cannot send a byte of its body, forever. The request's context ends it
// with a context error, the stream is reset (the server sees RST_STREAM)
// and the conn serves the next request.
func TestH2ZeroWindowUploadEndsWithContext(t *testing.T) {
	base := runtime.NumGoroutine()
	s := newSeen()
	srv := h2test.NewServer(t, func(c *h2test.Conn) {
		if c.Handshake(http2.Setting{ID: http2.SettingInitialWindowSize, Val: 0}) != nil {
			return
		}
		r, err := c.ReadRequest()
		if err != nil || r.Path != "/upload" {
			return
		}
		// Answer the next request on this conn; record the rest.
		go s.watch(c)
		<-c.Done()
	})
	tr := h2cTransport(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), zeroWindowCtx)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/upload", strings.NewReader("never sent"))
	start := time.Now()
	_, err := tr.RoundTrip(req)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the context's deadline", err)
	}
	if d := time.Since(start); d > h2Bound {
		t.Fatalf("returned after %v", d)
	}
	waitFor(t, "RST_STREAM of the stuck upload", func() bool { _, ok := s.rstCode(1); return ok })
	if st := tr.Stats().Total; st.Streams != 0 {
		t.Errorf("stats after: %+v", st)
	}
	srv.Close()
	requireClean(t, tr, base)
}

// A download whose server sends the head and then never another byte (a
// window it never fills): BodyReadTimeout fails the Read with a
// *spool.TimeoutError naming it, the stream is reset and the conn serves
// the next request.
func TestH2StalledDownloadEndsWithBodyReadTimeout(t *testing.T) {
	base := runtime.NumGoroutine()
	srv := h2test.NewServer(t, h2test.Handle(func(c *h2test.Conn, r *h2test.Request, _ []byte) {
		if r.Path != "/stall" {
			h2test.OK(c, r, nil)
			return
		}
		c.WriteHeaders(r.StreamID, false, h2test.Status(200))
		c.WriteData(r.StreamID, false, []byte("first"))
	}))
	tr := h2cTransport(t, func(tr *spool.Transport) { tr.BodyReadTimeout = zeroWindowRead })
	ctx := boundedCtx(t)
	resp, err := get(ctx, tr, srv.URL+"/stall")
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	var te *spool.TimeoutError
	if !errors.As(err, &te) || te.What != "BodyReadTimeout" {
		t.Fatalf("read %q, err = %v, want a BodyReadTimeout", b, err)
	}
	if string(b) != "first" {
		t.Errorf("read %q before the timeout, want %q", b, "first")
	}
	if got, err := getAll(ctx, tr, srv.URL+"/next"); err != nil || got != "ok" {
		t.Fatalf("next request: %q, %v", got, err)
	}
	if st := tr.Stats().Total; st.Dials != 1 {
		t.Errorf("dials = %d, want 1: the timeout resets the stream, not the conn", st.Dials)
	}
	srv.Close()
	requireClean(t, tr, base)
}

// WINDOW_UPDATEs that push a window past 2^31-1 (RFC 9113 §6.9.1): on the
// conn it is a connection error FLOW_CONTROL_ERROR (GOAWAY with the code,
// then the close); on a stream, a stream error (RST_STREAM
// FLOW_CONTROL_ERROR). The request fails typed either way.
func TestH2WindowOverflow(t *testing.T) { windowOverflow(t, true) }

func windowOverflow(t *testing.T, strictGoAway bool) {
	for _, tc := range []struct {
		name   string
		stream uint32
	}{{"conn", 0}, {"stream", 1}} {
		t.Run(tc.name, func(t *testing.T) {
			base := runtime.NumGoroutine()
			s := newSeen()
			srv := h2test.NewServer(t, func(c *h2test.Conn) {
				if c.Handshake() != nil {
					return
				}
				if _, err := c.ReadRequest(); err != nil {
					return
				}
				c.WriteWindowUpdate(tc.stream, maxWindow)
				s.watch(c)
			})
			tr := h2cTransport(t, nil)
			_, err := get(boundedCtx(t), tr, srv.URL)
			requireTyped(t, "request after the overflow", err)
			switch {
			case tc.stream == 0 && strictGoAway:
				s.requireGoAway(t, http2.ErrCodeFlowControl)
			case tc.stream == 0:
				s.requireClosed(t)
			default:
				waitFor(t, "RST_STREAM of stream 1", func() bool { _, ok := s.rstCode(1); return ok })
				if code, _ := s.rstCode(1); code != http2.ErrCodeFlowControl {
					t.Errorf("RST_STREAM code %v, want FLOW_CONTROL_ERROR", code)
				}
			}
			srv.Close()
			requireClean(t, tr, base)
		})
	}
}

// The server sends more DATA than the client's stream window allows (the
// body is not read, so the client grants nothing more): a
// FLOW_CONTROL_ERROR (RFC 9113 §6.9.1), and the body fails typed.
func TestH2DataBeyondWindow(t *testing.T) {
	base := runtime.NumGoroutine()
	s := newSeen()
	headSent := make(chan struct{})
	release := make(chan struct{})
	srv := h2test.NewServer(t, func(c *h2test.Conn) {
		if c.Handshake() != nil {
			return
		}
		r, err := c.ReadRequest()
		if err != nil {
			return
		}
		c.WriteHeaders(r.StreamID, false, h2test.Status(200))
		close(headSent)
		select {
		case <-release:
		case <-c.Done():
			return
		}
		window := c.StreamWindow()
		if g := 65535 + c.ConnGrant; g < window {
			window = g // the conn window is the smaller one
		}
		chunk := make([]byte, 16<<10)
		for left := window + 1; left > 0; {
			n := min(left, int64(len(chunk)))
			if c.WriteData(r.StreamID, false, chunk[:n]) != nil {
				break
			}
			left -= n
		}
		s.watch(c)
	})
	tr := h2cTransport(t, nil)
	resp, err := get(boundedCtx(t), tr, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	<-headSent
	close(release)
	waitFor(t, "the client's answer to the overrun", func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		_, rst := s.rst[1]
		return rst || s.goaway != nil || s.closed.Load()
	})
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	requireTyped(t, "body past the window", err)
	s.mu.Lock()
	code, rst := s.rst[1]
	if s.goaway != nil {
		code = s.goaway.ErrCode
	}
	if (!rst && s.goaway == nil) || code != http2.ErrCodeFlowControl {
		t.Errorf("client answered the overrun with RST_STREAM %v / GOAWAY %v, want FLOW_CONTROL_ERROR", rst, s.goaway)
	}
	s.mu.Unlock()
	srv.Close()
	requireClean(t, tr, base)
}

// waitFor is testutil.WaitFor with h2Bound.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(h2Bound)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", h2Bound, what)
		}
		time.Sleep(time.Millisecond)
	}
}

package faulttest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/spoolhttp/spool"
	"github.com/spoolhttp/spool/internal/h2test"
	"golang.org/x/net/http2"
)

// processed counts, per request path, how often a scripted server acted
// on it, and on which conn.
type processed struct {
	mu    sync.Mutex
	count map[string]int
	conns map[string][]int
}

func newProcessed() *processed {
	return &processed{count: map[string]int{}, conns: map[string][]int{}}
}

func (p *processed) add(path string, conn int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.count[path]++
	p.conns[path] = append(p.conns[path], conn)
}

// A GOAWAY arrives while a burst of POSTs (rewindable bodies) is in
// flight on one conn: the streams at or below its Last-Stream-ID were
// processed and answered there; those above were not (RFC 9113 §6.8) and
// are replayed on another conn whatever their method. Every request
// succeeds and the server acts on each exactly once.
func TestH2GoAwayMidBurst(t *testing.T) {
	const burst = 6
	base := runtime.NumGoroutine()
	proc := newProcessed()
	srv := h2test.NewServer(t, func(c *h2test.Conn) {
		if c.Handshake() != nil {
			return
		}
		if c.Index > 0 { // the replay conn: an ordinary server
			c.Serve(func(c *h2test.Conn, r *h2test.Request, body []byte) {
				proc.add(r.Path, c.Index)
				c.WriteResponse(r.StreamID, 200, body)
			})
			return
		}
		warm, err := c.ReadRequest()
		if err != nil {
			return
		}
		c.WriteResponse(warm.StreamID, 200, []byte("warm"))
		// The pool may open a second conn for one of the burst (it may
		// dial while this conn is checked out): take what comes within a
		// bound, GOAWAY at the middle of it.
		var reqs []*h2test.Request
		c.SetDeadline(time.Now().Add(2 * time.Second))
		for len(reqs) < burst {
			r, err := c.ReadRequest()
			if err != nil {
				break
			}
			reqs = append(reqs, r)
		}
		c.SetDeadline(time.Time{})
		if len(reqs) < 2 {
			return
		}
		last := reqs[len(reqs)/2-1].StreamID
		c.WriteGoAway(last, http2.ErrCodeNo)
		for _, r := range reqs {
			if r.StreamID <= last {
				proc.add(r.Path, c.Index)
				c.WriteResponse(r.StreamID, 200, []byte(r.Path))
			}
		}
		// Keep reading until the client closes: closing with its frames
		// unread would reset the conn and could destroy the responses.
		for {
			if _, err := c.ReadFrame(); err != nil {
				return
			}
		}
	})
	tr := h2cTransport(t, nil)
	ctx := boundedCtx(t)
	if _, err := getAll(ctx, tr, srv.URL+"/warm"); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]error, burst)
	for i := range burst {
		wg.Go(func() {
			path := fmt.Sprintf("/r%d", i)
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+path, bytes.NewReader([]byte(path)))
			resp, err := tr.RoundTrip(req)
			if err != nil {
				errs[i] = err
				return
			}
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err == nil && string(b) != path {
				err = fmt.Errorf("body %q", b)
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("request /r%d: %v", i, err)
		}
	}
	proc.mu.Lock()
	for i := range burst {
		path := fmt.Sprintf("/r%d", i)
		if proc.count[path] != 1 {
			t.Errorf("%s processed %d times (conns %v), want once", path, proc.count[path], proc.conns[path])
		}
	}
	proc.mu.Unlock()
	if n := srv.Accepted(); n < 2 {
		t.Errorf("server accepted %d conns, want 2 or more (the GOAWAY'd one and the replay's)", n)
	}
	srv.Close()
	requireClean(t, tr, base)
}

// REFUSED_STREAM says the server did not process the stream (RFC 9113
// §8.7): a GET and a POST with a rewindable body are sent again and
// succeed; the server acts on each once.
func TestH2RefusedStreamReplayed(t *testing.T) {
	base := runtime.NumGoroutine()
	proc := newProcessed()
	var mu sync.Mutex
	refused := map[string]bool{}
	srv := h2test.NewServer(t, h2test.Handle(func(c *h2test.Conn, r *h2test.Request, body []byte) {
		mu.Lock()
		first := !refused[r.Path]
		refused[r.Path] = true
		mu.Unlock()
		if first {
			c.WriteRSTStream(r.StreamID, http2.ErrCodeRefusedStream)
			return
		}
		proc.add(r.Path, c.Index)
		c.WriteResponse(r.StreamID, 200, append([]byte(r.Path), body...))
	}))
	tr := h2cTransport(t, nil)
	ctx := boundedCtx(t)
	if got, err := getAll(ctx, tr, srv.URL+"/get"); err != nil || got != "/get" {
		t.Fatalf("GET: %q, %v", got, err)
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/post", bytes.NewReader([]byte("+body")))
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatalf("POST: %v", err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || string(b) != "/post+body" {
		t.Fatalf("POST body %q, %v", b, err)
	}
	if proc.count["/get"] != 1 || proc.count["/post"] != 1 {
		t.Fatalf("processed %v, want each once", proc.count)
	}
	srv.Close()
	requireClean(t, tr, base)
}

// A RST_STREAM after part of the body: the body's Read fails with a typed
// error carrying the code, and the conn (a stream error only) serves the
// next request.
func TestH2ResetMidBody(t *testing.T) {
	base := runtime.NumGoroutine()
	srv := h2test.NewServer(t, h2test.Handle(func(c *h2test.Conn, r *h2test.Request, _ []byte) {
		if r.Path != "/reset" {
			h2test.OK(c, r, nil)
			return
		}
		c.WriteHeaders(r.StreamID, false, h2test.Status(200), h2test.Header{Name: "content-length", Value: "100000"})
		c.WriteData(r.StreamID, false, bytes.Repeat([]byte("x"), 1000))
		c.WriteRSTStream(r.StreamID, http2.ErrCodeInternal)
	}))
	tr := h2cTransport(t, nil)
	ctx := boundedCtx(t)
	resp, err := get(ctx, tr, srv.URL+"/reset")
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	requireTyped(t, "body read after RST_STREAM", err)
	// A body's Read returns the reader's error as net/http's does
	// (DESIGN decision 7): x/net's StreamError with the peer's code.
	var se http2.StreamError
	if !errors.As(err, &se) || se.Code != http2.ErrCodeInternal || se.StreamID != 1 {
		t.Errorf("err = %#v, want stream 1's INTERNAL_ERROR as an http2.StreamError", err)
	}
	if len(b) != 1000 {
		t.Errorf("read %d bytes before the error, want the 1000 sent", len(b))
	}
	if got, err := getAll(ctx, tr, srv.URL+"/next"); err != nil || got != "ok" {
		t.Fatalf("next request: %q, %v", got, err)
	}
	if st := tr.Stats().Total; st.Dials != 1 {
		t.Errorf("dials = %d, want 1: a stream reset must not cost the conn", st.Dials)
	}
	srv.Close()
	requireClean(t, tr, base)
}

// A stream above a GOAWAY's Last-Stream-ID whose body cannot be rewound
// (no GetBody) cannot be replayed: it fails with ErrNoResponse, which
// tells the caller the server never acted on it, and the server indeed
// processed nothing of it.
func TestH2GoAwayUnprocessedNotRewindable(t *testing.T) {
	base := runtime.NumGoroutine()
	proc := newProcessed()
	srv := h2test.NewServer(t, func(c *h2test.Conn) {
		if c.Handshake() != nil {
			return
		}
		if c.Index > 0 {
			c.Serve(func(c *h2test.Conn, r *h2test.Request, body []byte) {
				proc.add(r.Path, c.Index)
				c.WriteResponse(r.StreamID, 200, body)
			})
			return
		}
		warm, err := c.ReadRequest()
		if err != nil {
			return
		}
		c.WriteResponse(warm.StreamID, 200, []byte("warm"))
		if _, err := c.ReadRequest(); err != nil {
			return
		}
		c.WriteGoAway(warm.StreamID, http2.ErrCodeNo) // the POST's stream is above it
		for {
			if _, err := c.ReadFrame(); err != nil {
				return
			}
		}
	})
	tr := h2cTransport(t, nil)
	ctx := boundedCtx(t)
	if _, err := getAll(ctx, tr, srv.URL+"/warm"); err != nil {
		t.Fatal(err)
	}
	// io.MultiReader hides the body's type: http.NewRequest sets no GetBody.
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/post", io.MultiReader(bytes.NewReader([]byte("once"))))
	resp, err := tr.RoundTrip(req)
	if err == nil {
		resp.Body.Close()
		t.Fatalf("a POST without GetBody above the GOAWAY got %d", resp.StatusCode)
	}
	requireTyped(t, "POST above the GOAWAY", err)
	if !errors.Is(err, spool.ErrNoResponse) {
		t.Errorf("err = %v, want errors.Is(err, spool.ErrNoResponse): the server never acted on it", err)
	}
	if n := proc.count["/post"]; n != 0 {
		t.Errorf("the POST was processed %d times", n)
	}
	srv.Close()
	requireClean(t, tr, base)
}

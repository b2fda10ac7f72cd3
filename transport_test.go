package spool_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/spoolhttp/spool"
	"github.com/spoolhttp/spool/internal/testserver"
	"github.com/spoolhttp/spool/internal/testutil"
)

// 10,000 keep-alive GETs in a loop open exactly one connection.
func TestKeepAliveLoopOneConn(t *testing.T) {
	s := testserver.New(t, testserver.OK("hello, world"))
	tr := testutil.NewTransport(t, nil)
	c := &http.Client{Transport: tr}
	n := 10000
	if testing.Short() {
		n = 1000
	}
	for i := 0; i < n; i++ {
		if _, got := testutil.Get(t, c, s.URL()+"/"); got != "hello, world" {
			t.Fatalf("request %d: body %q", i, got)
		}
	}
	if s.ConnCount() != 1 {
		t.Fatalf("server saw %d connections, want 1", s.ConnCount())
	}
	st := tr.Stats().Total
	if st.Dials != 1 || st.Reuses != int64(n-1) || st.Requests != int64(n) || st.Idle != 1 {
		t.Fatalf("stats: %+v", st)
	}
}

// The server closing an idle conn is invisible to the caller: the
// checkout peek sees the FIN and the request goes on a new conn.
func TestServerClosedIdleConn(t *testing.T) {
	s := testserver.New(t, testserver.OK("ok"))
	tr := testutil.NewTransport(t, nil)
	c := &http.Client{Transport: tr}
	testutil.Get(t, c, s.URL())
	s.CloseIdleConns()
	testutil.WaitFor(t, "the server to see the conn closed", func() bool { return s.OpenConns() == 0 })
	time.Sleep(2 * time.Millisecond) // past peekAfterIdle: the checkout peek runs
	if _, got := testutil.Get(t, c, s.URL()); got != "ok" {
		t.Fatalf("body %q", got)
	}
	reqs := s.Requests()
	if len(reqs) != 2 || reqs[1].ConnIndex != 1 {
		t.Fatalf("requests: %+v", reqs)
	}
	if st := tr.Stats().Total; st.Closes.ServerClosed != 1 {
		t.Fatalf("closes: %+v", st.Closes)
	}
}

// A reused conn that dies before any response byte (the keep-alive race
// the peek cannot see) is retried once for GET, not for a POST whose body
// cannot be replayed.
func TestRetryOnReusedConnLost(t *testing.T) {
	for _, h := range []struct {
		name string
		h    testserver.Handler
	}{{"reset", testserver.ResetOnReuse}, {"fin", testserver.CloseOnReuse}} {
		t.Run(h.name, func(t *testing.T) {
			s := testserver.New(t, h.h)
			tr := testutil.NewTransport(t, &spool.Transport{})
			c := &http.Client{Transport: tr}
			testutil.Get(t, c, s.URL())
			if _, got := testutil.Get(t, c, s.URL()); got != "ok" {
				t.Fatalf("GET after lost conn: %q", got)
			}
			// POST without GetBody on a reused conn: not retried.
			req, _ := http.NewRequest("POST", s.URL(), io.NopCloser(strings.NewReader("data")))
			req.GetBody = nil
			resp, err := tr.RoundTrip(req)
			if err == nil {
				resp.Body.Close()
				t.Fatal("POST without GetBody succeeded on a conn the server drops")
			}
			// The conn's own error, as net/http returns it (golang/go#16465).
			if err != io.EOF && !errors.Is(err, syscall.ECONNRESET) {
				t.Fatalf("POST error %T %v, want io.EOF or a reset", err, err)
			}
			// With GetBody (http.NewRequest sets it for strings.Reader) it is replayed.
			req, _ = http.NewRequest("POST", s.URL(), strings.NewReader("data"))
			resp, err = tr.RoundTrip(req)
			if err != nil {
				t.Fatalf("POST with GetBody: %v", err)
			}
			resp.Body.Close()
		})
	}
}

func TestCloseMidBody(t *testing.T) {
	s := testserver.New(t, testserver.Script(testserver.CloseMidBody(100, "partial"), testserver.OK("ok")))
	tr := testutil.NewTransport(t, nil)
	c := &http.Client{Transport: tr}
	resp, err := c.Get(s.URL())
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err == nil || err == io.EOF {
		t.Fatalf("short body read without error: %q", b)
	}
	if err != io.ErrUnexpectedEOF { // as net/http: unwrapped
		t.Fatalf("error %T %v, want io.ErrUnexpectedEOF", err, err)
	}
	if _, got := testutil.Get(t, c, s.URL()); got != "ok" {
		t.Fatalf("next request: %q", got)
	}
	if st := tr.Stats().Total; st.Dials != 2 || st.Closes.Broken != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestResponseHeaderTimeoutRealServer(t *testing.T) {
	s := testserver.New(t, testserver.StallBeforeHeaders)
	tr := testutil.NewTransport(t, &spool.Transport{ResponseHeaderTimeout: 50 * time.Millisecond})
	_, err := tr.RoundTrip(testutil.NewRequest(t, "GET", s.URL(), nil))
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() || err.Error() != "net/http: timeout awaiting response headers" {
		t.Fatalf("err = %v, want net/http's header timeout", err)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v does not match context.DeadlineExceeded", err)
	}
	testutil.WaitFor(t, "the server to see the conn closed", func() bool { return s.OpenConns() == 0 })
}

// 1,000 requests that Close a small body before reading it reuse conns:
// the bounded drain saves the conn.
func TestEarlyCloseReuses(t *testing.T) {
	s := testserver.New(t, testserver.OK(strings.Repeat("x", 2000)))
	tr := testutil.NewTransport(t, nil)
	for i := 0; i < 1000; i++ {
		resp, err := tr.RoundTrip(testutil.NewRequest(t, "GET", s.URL(), nil))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	if s.ConnCount() != 1 {
		t.Fatalf("%d conns for 1000 early-closed bodies", s.ConnCount())
	}
}

// http.Client.Timeout reaches spool through the request context: the
// client's error is a timeout and the conn is closed.
func TestClientTimeout(t *testing.T) {
	s := testserver.New(t, testserver.StallBeforeHeaders)
	tr := testutil.NewTransport(t, nil)
	c := &http.Client{Transport: tr, Timeout: 50 * time.Millisecond}
	start := time.Now()
	_, err := c.Get(s.URL())
	var ue interface{ Timeout() bool }
	if !errors.As(err, &ue) || !ue.Timeout() || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v is not a timeout", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("took %v", d)
	}
	testutil.WaitFor(t, "the server to see the conn closed", func() bool { return s.OpenConns() == 0 })
}

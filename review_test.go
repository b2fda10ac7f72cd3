package spool_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spoolhttp/spool"
	"github.com/spoolhttp/spool/internal/testserver"
	"github.com/spoolhttp/spool/internal/testutil"
)

// ResponseHeaderTimeout bounds the wait for the head only: a body that
// streams for longer reads fine (h1 and h2).
func TestHeaderTimeoutNotAppliedToBody(t *testing.T) {
	forEachMode(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(200)
		for i := 0; i < 5; i++ {
			io.WriteString(w, "chunk")
			w.(http.Flusher).Flush()
			time.Sleep(60 * time.Millisecond)
		}
	}, func(tr *spool.Transport) { tr.ResponseHeaderTimeout = 100 * time.Millisecond }, func(t *testing.T, s *modeServer) {
		resp, err := s.tr.RoundTrip(testutil.NewRequest(t, "GET", s.URL, nil))
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || string(b) != strings.Repeat("chunk", 5) {
			t.Fatalf("body %q err %v", b, err)
		}
	})
}

// ResponseHeaderTimeout fires on HTTP/2 too, as a TimeoutError.
func TestHeaderTimeoutH2(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	forEachMode(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}, func(tr *spool.Transport) { tr.ResponseHeaderTimeout = 50 * time.Millisecond }, func(t *testing.T, s *modeServer) {
		_, err := s.tr.RoundTrip(testutil.NewRequest(t, "GET", s.URL, nil))
		var te *spool.TimeoutError
		if !errors.As(err, &te) || te.What != "ResponseHeaderTimeout" || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err %v", err)
		}
	})
}

// The default User-Agent goes out on every protocol; an empty one is none.
func TestUserAgentEveryMode(t *testing.T) {
	forEachMode(t, func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.Header.Get("User-Agent")+"|"+strings.Join(r.Header.Values("User-Agent"), ","))
	}, func(tr *spool.Transport) { tr.UserAgent = "mine/1" }, func(t *testing.T, s *modeServer) {
		for _, c := range []struct {
			set  []string
			want string
		}{{nil, "mine/1|mine/1"}, {[]string{""}, "|"}, {[]string{"theirs"}, "theirs|theirs"}} {
			req := testutil.NewRequest(t, "GET", s.URL, nil)
			if c.set != nil {
				req.Header["User-Agent"] = c.set
			}
			_, body, err := fetchAll(s.tr, req)
			if err != nil || string(body) != c.want {
				t.Fatalf("UA %v: server saw %q (%v), want %q", c.set, body, err, c.want)
			}
		}
	})
}

// A body shorter than its ContentLength, written inline, fails at once
// with the body's error instead of waiting for an answer.
func TestInlineBodyShorterThanContentLength(t *testing.T) {
	s := testserver.New(t, testserver.StallBeforeHeaders)
	tr := testutil.NewTransport(t, nil)
	req := testutil.NewRequest(t, "POST", s.URL(), bytes.NewReader([]byte("short")))
	req.ContentLength = 100
	done := make(chan error, 1)
	go func() { _, err := tr.RoundTrip(req); done <- err }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "ContentLength") {
			t.Fatalf("err %v, want the body's length error", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("RoundTrip hung on a short inline body")
	}
}

// A ContentLength-0 body that turns out empty is closed exactly once; one
// that has nothing yet (a pipe fed later) does not block RoundTrip: it is
// sent chunked.
func TestUnknownLengthBodies(t *testing.T) {
	s := testserver.New(t, func(c *testserver.Conn, r *testserver.Request) { c.Reply(200, nil, string(r.Body)) })
	tr := testutil.NewTransport(t, nil)
	empty := &countingBody{Reader: strings.NewReader("")}
	req := testutil.NewRequest(t, "POST", s.URL(), nil)
	req.Body = empty
	if _, _, err := fetchAll(tr, req); err != nil || empty.closes.Load() != 1 {
		t.Fatalf("empty body: err %v, closed %d times", err, empty.closes.Load())
	}
	pr, pw := io.Pipe()
	time.AfterFunc(300*time.Millisecond, func() { io.WriteString(pw, "late"); pw.Close() })
	req = testutil.NewRequest(t, "POST", s.URL(), pr)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, body, err := fetchAll(tr, req.WithContext(ctx))
	if err != nil || string(body) != "late" {
		t.Fatalf("late pipe body: %q %v", body, err)
	}
	if te := s.Requests()[1].Header.Get("Transfer-Encoding"); te != "chunked" {
		t.Fatalf("late body sent with Transfer-Encoding %q", te)
	}
}

// On the retry path, a failing fresh dial leaves the caller's body closed
// once and the GetBody body closed once.
func TestRetryDialFailureClosesEachBodyOnce(t *testing.T) {
	s := testserver.New(t, testserver.CloseOnReuse)
	var dials atomic.Int32
	tr := testutil.NewTransport(t, &spool.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		if dials.Add(1) > 1 {
			return nil, errors.New("refused on purpose")
		}
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}})
	testutil.Get(t, &http.Client{Transport: tr}, s.URL())
	orig := &countingBody{Reader: strings.NewReader("data")}
	var again []*countingBody
	req := testutil.NewRequest(t, "PUT", s.URL(), nil)
	req.Body, req.ContentLength = orig, 4
	req.GetBody = func() (io.ReadCloser, error) {
		b := &countingBody{Reader: strings.NewReader("data")}
		again = append(again, b)
		return b, nil
	}
	if _, err := tr.RoundTrip(req); err == nil {
		t.Fatal("no error though the retry's dial fails")
	}
	if orig.closes.Load() != 1 || len(again) != 1 || again[0].closes.Load() != 1 {
		t.Fatalf("closes: original %d, rewound %v", orig.closes.Load(), len(again))
	}
}

// Close interrupting a blocked Read makes that Read return ErrBodyClosed,
// not a timeout; the same for a gzip body, concurrently, under -race.
func TestCloseInterruptsRead(t *testing.T) {
	s := testserver.New(t, func(c *testserver.Conn, r *testserver.Request) {
		hdr := "HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n"
		if r.Target == "/gzip" {
			hdr += "Content-Encoding: gzip\r\n"
		}
		c.Write(hdr + "\r\n" + gzipped("partial")[:10])
		io.Copy(io.Discard, c) // hold until the client closes
		c.Close()
	})
	for _, path := range []string{"/plain", "/gzip"} {
		tr := testutil.NewTransport(t, &spool.Transport{BodyReadTimeout: time.Minute})
		resp, err := tr.RoundTrip(testutil.NewRequest(t, "GET", s.URL()+path, nil))
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var rerr error
		wg.Go(func() { _, rerr = io.ReadAll(resp.Body) })
		time.Sleep(50 * time.Millisecond)
		resp.Body.Close()
		wg.Wait()
		var te *spool.TimeoutError
		if errors.As(rerr, &te) || rerr == nil {
			t.Fatalf("%s: Read interrupted by Close returned %v", path, rerr)
		}
	}
}

// An HTTP/2 response with Content-Encoding: gzip and no body (304) reads
// as empty, like HTTP/1.
func TestEmptyEncodedBody(t *testing.T) {
	forEachMode(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Encoding", "gzip")
		w.WriteHeader(http.StatusNotModified)
	}, nil, func(t *testing.T, s *modeServer) {
		status, body, err := fetchAll(s.tr, testutil.NewRequest(t, "GET", s.URL, nil))
		if err != nil || status != 304 || len(body) != 0 {
			t.Fatalf("%d %q %v", status, body, err)
		}
	})
}

// HTTP/2: a stream the server resets after reading the request is not
// replayed, even with GetBody: the conn was healthy and the handler ran.
func TestH2ResetNotReplayed(t *testing.T) {
	var handled atomic.Int32
	forEachMode(t, func(w http.ResponseWriter, r *http.Request) {
		io.ReadAll(r.Body)
		if r.URL.Path == "/warm" {
			return
		}
		handled.Add(1)
		panic(http.ErrAbortHandler) // RST_STREAM on h2, a closed conn on h1
	}, nil, func(t *testing.T, s *modeServer) {
		if protoOf(t) != 2 {
			t.Skip("HTTP/2 only")
		}
		fetchAll(s.tr, testutil.NewRequest(t, "GET", s.URL+"/warm", nil))
		handled.Store(0)
		_, err := s.tr.RoundTrip(testutil.NewRequest(t, "POST", s.URL+"/act", strings.NewReader("pay")))
		if err == nil {
			t.Fatal("no error from a reset stream")
		}
		if n := handled.Load(); n != 1 {
			t.Fatalf("handler ran %d times", n)
		}
	})
}

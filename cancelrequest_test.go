package spool_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/spoolhttp/spool"
	"github.com/spoolhttp/spool/internal/testutil"
)

// Transport.CancelRequest, net/http's deprecated cancel (http.Client
// calls it on Client.Timeout; libraries assert it): it cancels a request
// in flight at every stage net/http's does (TestTransportCancelRequest*
// with TransportCancel). The error is net/http's: "net/http: request
// canceled", or "... while waiting for connection" before a conn.

// canceler is what http.Client and libraries assert.
type canceler interface{ CancelRequest(*http.Request) }

var _ canceler = (*spool.Transport)(nil)

const canceledConnText = "net/http: request canceled while waiting for connection"

func wantCanceledOrConn(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, spool.ErrRequestCanceled) && (err == nil || err.Error() != canceledConnText) {
		t.Fatalf("%s: %v, want net/http's request canceled", what, err)
	}
}

func TestCancelRequestWhileAwaitingHeaders(t *testing.T) {
	arrived, release := make(chan struct{}), make(chan struct{})
	forEachMode(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/stall" {
			arrived <- struct{}{}
			<-release
		}
	}, nil, func(t *testing.T, s *modeServer) {
		defer func() { release <- struct{}{} }()
		req := testutil.NewRequest(t, "GET", s.URL+"/stall", nil)
		ch := roundTripAsync(s.tr, req)
		<-arrived
		s.tr.CancelRequest(req)
		s.tr.CancelRequest(req) // a second call is harmless
		wantCanceled(t, "RoundTrip", waitErr(t, ch))
		// The Transport goes on: the next request works.
		resp, err := s.tr.RoundTrip(testutil.NewRequest(t, "GET", s.URL, nil))
		if err != nil {
			t.Fatalf("next request: %v", err)
		}
		resp.Body.Close()
	})
}

// TestCancelRequestWhileReadingBody: on HTTP/1 the body's Read fails with
// ErrRequestCanceled and no spurious bytes. On HTTP/2, as net/http's,
// CancelRequest does not reach a body: it reads on.
func TestCancelRequestWhileReadingBody(t *testing.T) {
	release := make(chan struct{})
	forEachMode(t, func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "Hello")
		w.(http.Flusher).Flush()
		<-release
		io.WriteString(w, " world")
	}, nil, func(t *testing.T, s *modeServer) {
		req := testutil.NewRequest(t, "POST", s.URL, strings.NewReader("withbody"))
		resp, err := s.tr.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		head := make([]byte, 5)
		if _, err := io.ReadFull(resp.Body, head); err != nil || string(head) != "Hello" {
			t.Fatalf("head of body %q, %v", head, err)
		}
		s.tr.CancelRequest(req)
		if protoOf(t) == 2 {
			release <- struct{}{}
			rest, err := io.ReadAll(resp.Body)
			if err != nil || string(rest) != " world" {
				t.Fatalf("HTTP/2 body after CancelRequest: %q, %v; want it to read on", rest, err)
			}
			return
		}
		defer func() { release <- struct{}{} }()
		tail, err := io.ReadAll(resp.Body)
		wantCanceled(t, "Body.Read", err)
		if len(tail) > 0 {
			t.Fatalf("spurious bytes after CancelRequest: %q", tail)
		}
		if st := s.tr.Stats().Total; st.Active != 0 {
			t.Fatalf("%d conns still active after the cancelled body", st.Active)
		}
	})
}

func TestCancelRequestWhileWaitingInPool(t *testing.T) {
	cancelWhileWaitingInPool(t, nil, func(tr *spool.Transport, req *http.Request) { tr.CancelRequest(req) },
		func(t *testing.T, s *modeServer, err error) {
			if err == nil || err.Error() != canceledConnText {
				t.Fatalf("RoundTrip: %v, want %q", err, canceledConnText)
			}
			if w := s.tr.Stats().Total.Waiting; w != 0 {
				t.Fatalf("%d still waiting", w)
			}
		})
}

// cancelWhileWaitingInPool runs a request that waits in the pool for the
// one conn (MaxConnsPerHost 1, held by a response whose handler blocks),
// prepared by prepare, cancels it with cancel once it waits, and hands
// its RoundTrip error to check. HTTP/2 is skipped: it multiplexes.
func cancelWhileWaitingInPool(t *testing.T, prepare func(*http.Request), cancel func(*spool.Transport, *http.Request),
	check func(*testing.T, *modeServer, error)) {
	release := make(chan struct{})
	forEachMode(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(200)
		w.(http.Flusher).Flush()
		<-release
	}, func(tr *spool.Transport) { tr.MaxConnsPerHost = 1 }, func(t *testing.T, s *modeServer) {
		if protoOf(t) == 2 {
			t.Skip("HTTP/2 multiplexes: the second request does not wait for the conn")
		}
		defer func() { release <- struct{}{} }()
		resp, err := s.tr.RoundTrip(testutil.NewRequest(t, "GET", s.URL, nil))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close() // the one conn stays busy until then
		req := testutil.NewRequest(t, "GET", s.URL, nil)
		if prepare != nil {
			prepare(req)
		}
		ch := roundTripAsync(s.tr, req)
		testutil.WaitFor(t, "the second request waiting", func() bool { return s.tr.Stats().Total.Waiting == 1 })
		cancel(s.tr, req)
		check(t, s, waitErr(t, ch))
	})
}

// TestCancelRequestInDial: RoundTrip returns while the dial is still
// blocked (net/http's TestTransportCancelRequestInDial).
func TestCancelRequestInDial(t *testing.T) {
	cancelInDial(t, nil, func(tr *spool.Transport, req *http.Request) { tr.CancelRequest(req) },
		func(t *testing.T, err error) { wantCanceledOrConn(t, "RoundTrip", err) })
}

// cancelInDial runs a request, prepared by prepare, whose dial blocks,
// cancels it with cancel while the dial is blocked, and hands its
// RoundTrip error (which must come before the dial ends) to check.
func cancelInDial(t *testing.T, prepare func(*http.Request), cancel func(*spool.Transport, *http.Request),
	check func(*testing.T, error)) {
	inDial, unblock := make(chan struct{}), make(chan struct{})
	forEachMode(t, hello, func(tr *spool.Transport) {
		tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
			inDial <- struct{}{}
			<-unblock
			return nil, errors.New("dial refused by the test")
		}
	}, func(t *testing.T, s *modeServer) {
		req := testutil.NewRequest(t, "GET", s.URL, nil)
		if prepare != nil {
			prepare(req)
		}
		ch := roundTripAsync(s.tr, req)
		<-inDial
		cancel(s.tr, req)
		err := waitErr(t, ch)
		unblock <- struct{}{}
		check(t, err)
	})
}

// TestCancelRequestNotInFlightIsNoop: before RoundTrip and after its body
// ended, CancelRequest does nothing: the request works, its conn is
// reused by the next.
func TestCancelRequestNotInFlightIsNoop(t *testing.T) {
	forEachMode(t, hello, nil, func(t *testing.T, s *modeServer) {
		for i := 0; i < 3; i++ {
			req := testutil.NewRequest(t, "GET", s.URL, nil)
			s.tr.CancelRequest(req) // not in flight yet
			resp, err := s.tr.RoundTrip(req)
			if err != nil {
				t.Fatalf("request %d: %v", i, err)
			}
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil || string(b) != "hello" {
				t.Fatalf("request %d: body %q, %v", i, b, err)
			}
			s.tr.CancelRequest(req) // over
		}
		if n := s.conns.Load(); n != 1 {
			t.Fatalf("%d conns for 3 sequential requests, want 1 (reused)", n)
		}
	})
}

// TestCancelRequestDuringReplayDial: a GET that lost the keep-alive race
// (its idle conn closed after reading it, before any response byte) is
// replayed on a fresh dial; a CancelRequest while that dial blocks ends
// the request at once with net/http's wait text. It reached the old,
// dead conn before (the flight still named it), and waited for the dial.
func TestCancelRequestDuringReplayDial(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() { // one conn: answers the first request, hangs up on the second
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		br := bufio.NewReader(c)
		for i := 0; i < 2; i++ {
			if _, err := http.ReadRequest(br); err != nil {
				return
			}
			if i == 0 {
				io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
			}
		}
	}()
	inDial, unblock := make(chan struct{}), make(chan struct{})
	defer close(unblock)
	dials := 0
	var d net.Dialer
	tr := &spool.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		if dials++; dials == 1 {
			return d.DialContext(ctx, network, addr)
		}
		inDial <- struct{}{}
		<-unblock
		return nil, errors.New("dial refused by the test")
	}}
	defer tr.Close()
	url := "http://" + ln.Addr().String() + "/"
	resp, err := tr.RoundTrip(testutil.NewRequest(t, "GET", url, nil))
	if err != nil {
		t.Fatal(err)
	}
	io.ReadAll(resp.Body)
	resp.Body.Close()
	req := testutil.NewRequest(t, "GET", url, nil)
	ch := roundTripAsync(tr, req)
	select {
	case <-inDial:
	case <-time.After(hangUp):
		t.Fatal("the replay did not dial")
	}
	tr.CancelRequest(req)
	if err := waitErr(t, ch); err == nil || err.Error() != canceledConnText {
		t.Fatalf("RoundTrip: %v, want %q", err, canceledConnText)
	}
}

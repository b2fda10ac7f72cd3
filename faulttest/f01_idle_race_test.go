package faulttest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptrace"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/spoolhttp/spool"
	"github.com/spoolhttp/spool/internal/peers"
	"github.com/spoolhttp/spool/internal/testserver"
	"github.com/spoolhttp/spool/internal/testutil"
)

// keepAliveServer behaves like nginx with keepalive_timeout idle and
// keepalive_requests maxReq: a conn idle for idle is closed without a word
// (a request that arrives after that meets a FIN or, if its bytes landed
// unread, an RST), and the maxReq-th response says "Connection: close".
// It answers every request it reads, at once, so a request the server
// processed always gets its response: a retry can never duplicate work.
// firstRequestTimeout bounds the wait for a fresh conn's first request.
const firstRequestTimeout = 10 * time.Second

type keepAliveServer struct {
	*testutil.RawServer
	served atomic.Int64
}

func newKeepAliveServer(t *testing.T, idle time.Duration, maxReq int) *keepAliveServer {
	s := &keepAliveServer{}
	s.RawServer = testutil.NewRawServer(t, func(_ int, c net.Conn) {
		br := bufio.NewReader(c)
		for n := 1; ; n++ {
			// As nginx: keepalive_timeout runs between requests; a fresh
			// conn's first request has client_header_timeout (60s). An idle
			// bound on the first request too would close a fresh conn whose
			// client was descheduled for 5ms on a loaded machine, a failure
			// no client may retry.
			wait := idle
			if n == 1 {
				wait = firstRequestTimeout
			}
			c.SetReadDeadline(time.Now().Add(wait))
			if _, err := br.Peek(1); err != nil {
				return // keep-alive timeout (or the client went away)
			}
			c.SetReadDeadline(time.Time{})
			req, err := http.ReadRequest(br)
			if err != nil {
				return
			}
			io.Copy(io.Discard, req.Body)
			s.served.Add(1)
			last := n == maxReq
			head := "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
			if last {
				head += "Connection: close\r\n"
			}
			head += "\r\n"
			if req.Method != http.MethodHead {
				head += "ok"
			}
			if _, err := io.WriteString(c, head); err != nil || last {
				return
			}
		}
	})
	return s
}

// attempts records, for one request, the conns it was given and whether a
// response byte had been seen before each: the transparent retry must be
// at most one, on a fresh conn, after a reused conn with no byte seen.
type attempts struct {
	mu     sync.Mutex
	events []string // "reused", "new", "byte"
}

func (a *attempts) add(e string) {
	a.mu.Lock()
	a.events = append(a.events, e)
	a.mu.Unlock()
}

func (a *attempts) trace() *httptrace.ClientTrace {
	return &httptrace.ClientTrace{
		GotConn: func(i httptrace.GotConnInfo) {
			if i.Reused {
				a.add("reused")
			} else if i.WasIdle {
				a.add("idle-unused")
			} else {
				a.add("new")
			}
		},
		GotFirstResponseByte: func() { a.add("byte") },
	}
}

// check returns "" if the attempts obey the retry rule, and whether a
// retry happened.
func (a *attempts) check() (problem string, retried bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	var conns []int
	for i, e := range a.events {
		if e != "byte" {
			conns = append(conns, i)
		}
	}
	switch len(conns) {
	case 0:
		return fmt.Sprintf("no conn: %v", a.events), false
	case 1:
		return "", false
	case 2:
		first, second := conns[0], conns[1]
		// A conn from the idle list qualifies whether or not it carried a
		// request before (GotConnInfo.Reused says the latter only).
		if a.events[first] != "reused" && a.events[first] != "idle-unused" {
			return fmt.Sprintf("retried after a fresh conn: %v", a.events), true
		}
		for _, e := range a.events[first:second] {
			if e == "byte" {
				return fmt.Sprintf("retried after a response byte: %v", a.events), true
			}
		}
		if a.events[second] != "new" {
			return fmt.Sprintf("retry not on a fresh conn: %v", a.events), true
		}
		return "", true
	}
	return fmt.Sprintf("%d attempts: %v", len(conns), a.events), true
}

type raceResult struct {
	ok, retried int
	fails       []failure
	problems    []string
}

type failure struct {
	kind, events string
	err          error
}

// hammer sends n requests from workers goroutines, each sleeping a gap
// drawn by gap() between its requests, cycling through kinds.
func hammer(t *testing.T, tr *spool.Transport, url string, n, workers int, gap func() time.Duration, kinds []string) raceResult {
	var mu sync.Mutex
	var res raceResult
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				time.Sleep(gap())
				kind := kinds[i%len(kinds)]
				var a attempts
				var req *http.Request
				switch kind {
				case "GET":
					req = testutil.NewRequest(t, "GET", url, nil)
				case "HEAD":
					req = testutil.NewRequest(t, "HEAD", url, nil)
				case "POST+GetBody":
					req = testutil.NewRequest(t, "POST", url, strings.NewReader("payload"))
				}
				req = req.WithContext(httptrace.WithClientTrace(req.Context(), a.trace()))
				resp, err := tr.RoundTrip(req)
				if err == nil {
					_, err = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				p, retried := a.check()
				mu.Lock()
				if err != nil {
					a.mu.Lock()
					res.fails = append(res.fails, failure{kind, fmt.Sprint(a.events), err})
					a.mu.Unlock()
				} else {
					res.ok++
				}
				if retried {
					res.retried++
				}
				if p != "" {
					res.problems = append(res.problems, kind+": "+p)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return res
}

func (r raceResult) report(t *testing.T) {
	t.Helper()
	for _, p := range r.problems {
		t.Errorf("retry rule broken: %s", p)
	}
	for _, f := range r.fails {
		t.Errorf("%s: error to the caller (conns %s): %v", f.kind, f.events, f.err)
	}
}

// TestF1_IdleCloseRacingReuse: a server closing idle conns (keep-alive
// timeout, keep-alive request limit) while the client reuses them costs
// the caller nothing for GET, HEAD and POST with GetBody; the transparent
// retry is at most one, only after a reused conn gave no response byte; a
// POST without GetBody that lost the race fails with spool.ErrNoResponse.
func TestF1_IdleCloseRacingReuse(t *testing.T) {
	t.Run("scripted", func(t *testing.T) {
		// nginx keepalive_timeout 1s scaled down to 5ms so that 2,000
		// requests with gaps around it take about a second.
		const idle = 5 * time.Millisecond
		s := newKeepAliveServer(t, idle, 3)
		tr := testutil.NewTransport(t, nil)
		n := scale(2000, 600)
		gap := func() time.Duration { return idle/2 + rand.N(idle) } // 2.5ms..7.5ms
		res := hammer(t, tr, s.URL(), n, 4, gap, []string{"GET", "HEAD", "POST+GetBody"})
		res.report(t)
		if got := s.served.Load(); got != int64(res.ok) {
			t.Errorf("server served %d requests for %d successes: a retry duplicated work", got, res.ok)
		}
		st := tr.Stats().Total
		t.Logf("%d ok, %d transparent retries; dials %d, server-closed idle conns seen at checkout %d",
			res.ok, res.retried, st.Dials, st.Closes.ServerClosed)
	})

	// The race the checkout peek cannot see: the request is written, then
	// the server's close arrives before any response byte.
	for _, h := range []struct {
		name string
		h    testserver.Handler
	}{{"reset", testserver.ResetOnReuse}, {"fin", testserver.CloseOnReuse}} {
		t.Run("lost-after-write/"+h.name, func(t *testing.T) {
			s := testserver.New(t, h.h)
			tr := testutil.NewTransport(t, nil)
			prime := func() {
				t.Helper()
				resp, err := tr.RoundTrip(testutil.NewRequest(t, "GET", s.URL(), nil))
				if err != nil {
					t.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			for _, kind := range []string{"GET", "HEAD", "POST+GetBody", "POST"} {
				prime() // leaves one conn idle whose next request the server drops
				before := len(s.Requests())
				var a attempts
				body := &endless{}
				body.left.Store(7)
				var req *http.Request
				switch kind {
				case "GET", "HEAD":
					req = testutil.NewRequest(t, kind, s.URL(), nil)
				case "POST+GetBody":
					req = testutil.NewRequest(t, "POST", s.URL(), strings.NewReader("payload"))
				case "POST":
					req = testutil.NewRequest(t, "POST", s.URL(), io.NopCloser(body))
					req.Body = body
					req.ContentLength = 7
				}
				req = req.WithContext(httptrace.WithClientTrace(req.Context(), a.trace()))
				resp, err := tr.RoundTrip(req)
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				p, retried := a.check()
				if p != "" {
					t.Errorf("%s: %s", kind, p)
				}
				switch kind {
				case "GET", "HEAD":
					if err != nil || !retried {
						t.Errorf("%s: err %v, retried %v; want a transparent retry", kind, err, retried)
					}
				case "POST+GetBody":
					// RFC 9112 §9.3.1: a written non-idempotent request is
					// not replayed automatically, GetBody or not; spool's
					// Transport doc says the same. The error must say so.
					if err != nil && !lostConn(err) {
						t.Errorf("%s: err %v, want nil or the lost conn's error", kind, err)
					}
					if err != nil {
						t.Logf("%s (written, then lost): %v", kind, err)
					}
				case "POST":
					if !lostConn(err) || retried {
						t.Errorf("POST without GetBody: err %v retried %v; want the lost conn's error and no retry", err, retried)
					}
					if c := body.closes.Load(); c != 1 {
						t.Errorf("POST body closed %d times, want 1", c)
					}
					if n := len(s.Requests()) - before; n != 1 {
						t.Errorf("POST reached the server %d times, want 1", n)
					}
				}
			}
		})
	}

	t.Run("nginx", func(t *testing.T) {
		if testing.Short() {
			t.Skip("takes ~5s of real keep-alive timeouts")
		}
		n := peers.StartNginx(t, peers.NginxOptions{KeepaliveTimeout: "1s", KeepaliveRequests: 3})
		tr := testutil.NewTransport(t, nil)
		// 2,000 requests one second apart would take half an hour: 200
		// requests from 40 workers, each 5 rounds with gaps of 1s±50ms,
		// give the same race against the real timer in ~5s.
		gap := func() time.Duration { return 950*time.Millisecond + rand.N(100*time.Millisecond) }
		res := hammer(t, tr, n.URL("/"), 200, 40, gap, []string{"GET", "HEAD", "POST+GetBody"})
		res.report(t)
		st := tr.Stats().Total
		t.Logf("%d ok, %d transparent retries; dials %d, server-closed idle conns seen at checkout %d",
			res.ok, res.retried, st.Dials, st.Closes.ServerClosed)
	})
}

// TestF1_IdleUnusedConnLost is the deterministic form of the race the
// scripted hammer hits now and then: a conn dialed for a waiter that a
// freed conn served instead parks idle without ever carrying a request;
// the server's keep-alive timeout closes it just as a GET is written on
// it. The GET must be retried like on any other idle conn.
func TestF1_IdleUnusedConnLost(t *testing.T) {
	holdA := make(chan struct{})
	s := testserver.New(t, func(c *testserver.Conn, r *testserver.Request) {
		switch {
		case c.Index() == 0 && r.N == 0:
			<-holdA
		case c.Index() == 1 && r.N == 0:
			c.Close() // idle-timed-out as the request arrived: no response byte
			return
		}
		c.Reply(200, nil, "ok")
	})
	var dials atomic.Int32
	dial2 := make(chan struct{})
	dial2Started := make(chan struct{})
	tr := testutil.NewTransport(t, &spool.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		if dials.Add(1) == 2 {
			close(dial2Started)
			<-dial2
		}
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}})
	get := func(a *attempts) error {
		req := testutil.NewRequest(t, "GET", s.URL(), nil)
		if a != nil {
			req = req.WithContext(httptrace.WithClientTrace(req.Context(), a.trace()))
		}
		resp, err := tr.RoundTrip(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		_, err = io.ReadAll(resp.Body)
		return err
	}
	errA, errB := make(chan error, 1), make(chan error, 1)
	go func() { errA <- get(nil) }()
	testutil.WaitFor(t, "A at the server", func() bool { return len(s.Requests()) == 1 })
	go func() { errB <- get(nil) }()
	<-dial2Started // B waits for a dial of its own
	close(holdA)   // A's conn is freed and goes to B
	if err := <-errA; err != nil {
		t.Fatal(err)
	}
	if err := <-errB; err != nil {
		t.Fatal(err)
	}
	close(dial2) // B's dial lands idle, unused
	testutil.WaitFor(t, "two idle conns", func() bool { return tr.Stats().Total.Idle == 2 })

	var a attempts
	err := get(&a)
	p, retried := a.check()
	t.Logf("conns: %v", a.events)
	if p != "" {
		t.Errorf("retry rule broken: %s", p)
	}
	if a.events[0] != "idle-unused" {
		t.Fatalf("setup: the GET did not get the unused idle conn: %v", a.events)
	}
	if err != nil || !retried {
		t.Errorf("GET on the unused idle conn: err %v, retried %v", err, retried)
	}
}

// lostConn: the error net/http returns for a conn lost before any response
// byte, unwrapped (golang/go#16465): io.EOF or the socket's reset.
func lostConn(err error) bool {
	_, op := err.(*net.OpError)
	return err == io.EOF || op && errors.Is(err, syscall.ECONNRESET)
}

package spool_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spoolhttp/spool"
	"github.com/spoolhttp/spool/internal/testserver"
	"github.com/spoolhttp/spool/internal/testutil"
)

// obsRecorder is an Observer that writes each event as a line. A
// request's events come on its goroutine, in order (reqs); conn events
// come from several goroutines (conns: compared as a set). It also checks
// what every event must hold (bad).
type obsRecorder struct {
	want spool.Target     // every event's; Key "" skips the check
	tr   *spool.Transport // if set, expect checks its Stats against the events

	mu    sync.Mutex
	reqs  []string
	conns []string
	bad   []string
}

func (r *obsRecorder) target(ev string, t spool.Target) {
	if r.want.Key != "" && t != r.want {
		r.bad = append(r.bad, fmt.Sprintf("%s: target %+v, want %+v", ev, t, r.want))
	}
}

func (r *obsRecorder) req(t spool.Target, format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	line := fmt.Sprintf(format, args...)
	r.target(line, t)
	r.reqs = append(r.reqs, line)
}

func (r *obsRecorder) conn(t spool.Target, format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	line := fmt.Sprintf(format, args...)
	r.target(line, t)
	r.conns = append(r.conns, line)
}

func (r *obsRecorder) fail(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.bad = append(r.bad, fmt.Sprintf(format, args...))
}

func (r *obsRecorder) Dialed(e spool.DialEvent) {
	if e.Duration <= 0 {
		r.fail("dial without a duration: %+v", e)
	}
	if e.Err != nil {
		r.conn(e.Target, "dial error")
		return
	}
	r.conn(e.Target, "dial #%d %s tls=%v resumed=%v", e.Conn, e.Proto, e.TLS, e.TLSResumed)
}

func (r *obsRecorder) ConnClosed(e spool.ConnClosedEvent) {
	if e.Lifetime <= 0 {
		r.fail("close without a lifetime: %+v", e)
	}
	r.conn(e.Target, "close #%d %s idle=%v requests=%d", e.Conn, e.Reason, e.Idle, e.Requests)
}

func (r *obsRecorder) ConnState(e spool.ConnStateEvent) {
	if e.Idle {
		r.conn(e.Target, "idle #%d", e.Conn)
	} else {
		r.conn(e.Target, "active #%d", e.Conn)
	}
}

func (r *obsRecorder) RequestStarted(e spool.RequestEvent) { r.req(e.Target, "start %s", e.Method) }

func (r *obsRecorder) GotConn(e spool.GotConnEvent) {
	if e.Queued != (e.Wait > 0) {
		r.fail("queued %v but waited %v", e.Queued, e.Wait)
	}
	how := "fresh"
	if e.Reused {
		how = "reused"
	}
	if e.WasIdle {
		how += " idle"
	}
	if e.Queued {
		how += " queued"
	}
	if e.Retry {
		how += " retry"
	}
	r.req(e.Target, "got #%d %s %s", e.Conn, e.Proto, how)
}

func (r *obsRecorder) Response(e spool.ResponseEvent) {
	if e.Duration <= 0 {
		r.fail("response without a duration: %+v", e)
	}
	if e.Err != nil {
		r.req(e.Target, "response error #%d", e.Conn)
		return
	}
	r.req(e.Target, "response %d %s #%d", e.Status, e.Proto, e.Conn)
}

func (r *obsRecorder) BodyDone(e spool.BodyEvent) {
	if e.Duration <= 0 {
		r.fail("body without a duration: %+v", e)
	}
	if (e.End == spool.BodyError) != (e.Err != nil) {
		r.fail("body ended %s with error %v", e.End, e.Err)
	}
	r.req(e.Target, "body %s %d bytes status %d #%d", e.End, e.Bytes, e.Status, e.Conn)
}

// expect waits until the recorded events are want (requests in order,
// conns as a set), fails with a diff if they never are, and starts over.
func (r *obsRecorder) expect(t *testing.T, reqs, conns []string) {
	t.Helper()
	slices.Sort(conns)
	var gotReqs, gotConns []string
	match := func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		gotReqs, gotConns = slices.Clone(r.reqs), slices.Clone(r.conns)
		slices.Sort(gotConns)
		return slices.Equal(gotReqs, reqs) && slices.Equal(gotConns, conns)
	}
	for deadline := time.Now().Add(5 * time.Second); !match() && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond) // events of other goroutines may still come
	}
	if !match() {
		t.Errorf("request events:\n  %s\nwant:\n  %s", strings.Join(gotReqs, "\n  "), strings.Join(reqs, "\n  "))
		t.Errorf("conn events (sorted):\n  %s\nwant:\n  %s", strings.Join(gotConns, "\n  "), strings.Join(conns, "\n  "))
	}
	if r.tr != nil {
		checkStatsAgree(t, r.tr, reqs, conns)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, b := range r.bad {
		t.Error(b)
	}
	r.reqs, r.conns, r.bad = nil, nil, nil
}

// checkStatsAgree: Stats counted what the events said (one source of
// truth); reqs and conns are all the events since tr was made.
func checkStatsAgree(t *testing.T, tr *spool.Transport, reqs, conns []string) {
	t.Helper()
	count := func(lines []string, sub string) (n int64) {
		for _, l := range lines {
			if strings.Contains(l, sub) {
				n++
			}
		}
		return n
	}
	st := tr.Stats().Total
	closes := map[string]int64{
		"idle_timeout": st.Closes.IdleTimeout, "evicted": st.Closes.Evicted, "server_closed": st.Closes.ServerClosed,
		"broken": st.Closes.Broken, "lifetime": st.Closes.Lifetime, "max_requests": st.Closes.MaxRequests,
		"leaked": st.Closes.Leaked, "early_close": st.Closes.EarlyClose, "not_reusable": st.Closes.NotReusable,
	}
	for reason, n := range closes {
		if got := count(conns, " "+reason+" idle="); got != n {
			t.Errorf("%d closes %s in the events, %d in Stats", got, reason, n)
		}
	}
	for _, c := range []struct {
		what  string
		stats int64
		ev    int64
	}{
		{"requests", st.Requests, count(reqs, "start ")},
		{"dials", st.Dials, count(conns, "dial ")},
		{"dial errors", st.DialErrors, count(conns, "dial error")},
		{"reuses", st.Reuses, count(reqs, " reused")},
		{"leaked bodies", st.LeakedBodies, count(reqs, "body leaked")},
	} {
		if c.stats != c.ev {
			t.Errorf("%s: %d in Stats, %d in the events", c.what, c.stats, c.ev)
		}
	}
}

// observed runs f over the modes with a recorder as the Transport's
// Observer; proto and tlsOn describe the mode's conns.
func observed(t *testing.T, h http.HandlerFunc, f func(t *testing.T, s *modeServer, rec *obsRecorder, proto string, tlsOn bool)) {
	rec := &obsRecorder{}
	forEachMode(t, h, func(tr *spool.Transport) { tr.Observer = rec }, func(t *testing.T, s *modeServer) {
		u, _ := url.Parse(s.URL)
		port, _ := strconv.Atoi(u.Port())
		rec.want = spool.Target{Key: u.Scheme + "://" + u.Host, Scheme: u.Scheme, Host: u.Hostname(), Port: port}
		rec.reqs, rec.conns, rec.bad = nil, nil, nil
		rec.tr = s.tr
		proto := spool.ProtoHTTP1
		if protoOf(t) == 2 {
			proto = spool.ProtoHTTP2
		}
		f(t, s, rec, proto, u.Scheme == "https")
	})
}

func get(t *testing.T, tr *spool.Transport, method, url string) *http.Response {
	t.Helper()
	resp, err := tr.RoundTrip(testutil.NewRequest(t, method, url, nil))
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// A fresh conn, its reuse, a response without a body, then
// CloseIdleConnections: the exact events, and Stats counts the same.
func TestObserverReuse(t *testing.T) {
	observed(t, func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hello, world")
	}, func(t *testing.T, s *modeServer, rec *obsRecorder, proto string, tlsOn bool) {
		for range 2 {
			resp := get(t, s.tr, "GET", s.URL)
			io.ReadAll(resp.Body)
			resp.Body.Close()
		}
		get(t, s.tr, "HEAD", s.URL).Body.Close()
		s.tr.CloseIdleConnections()
		rec.expect(t, []string{
			"start GET", "got #1 " + proto + " fresh queued", "response 200 " + proto + " #1", "body eof 12 bytes status 200 #1",
			"start GET", "got #1 " + proto + " reused idle", "response 200 " + proto + " #1", "body eof 12 bytes status 200 #1",
			"start HEAD", "got #1 " + proto + " reused idle", "response 200 " + proto + " #1", "body eof 0 bytes status 200 #1",
		}, []string{
			fmt.Sprintf("dial #1 %s tls=%v resumed=false", proto, tlsOn),
			"idle #1", "active #1", "idle #1", "active #1", "idle #1",
			"close #1 evicted idle=true requests=3",
		})
	})
}

// A body closed early: on HTTP/1 the drain bound closes the conn, on
// HTTP/2 only the stream is reset.
func TestObserverEarlyClose(t *testing.T) {
	big := strings.Repeat("x", 4<<20)
	observed(t, func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, big)
	}, func(t *testing.T, s *modeServer, rec *obsRecorder, proto string, tlsOn bool) {
		resp := get(t, s.tr, "GET", s.URL)
		if _, err := io.ReadFull(resp.Body, make([]byte, 10)); err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		s.tr.CloseIdleConnections()
		conns := []string{fmt.Sprintf("dial #1 %s tls=%v resumed=false", proto, tlsOn), "close #1 early_close idle=false requests=1"}
		if proto == spool.ProtoHTTP2 {
			conns = []string{conns[0], "idle #1", "close #1 evicted idle=true requests=1"}
		}
		rec.expect(t, []string{
			"start GET", "got #1 " + proto + " fresh queued", "response 200 " + proto + " #1", "body early_close 10 bytes status 200 #1",
		}, conns)
	})
}

// A body never closed: reclaimed after GC, reported as leaked, with the
// bytes read before it was dropped.
func TestObserverLeakedBody(t *testing.T) {
	observed(t, func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, strings.Repeat("y", 64<<10))
	}, func(t *testing.T, s *modeServer, rec *obsRecorder, proto string, tlsOn bool) {
		s.tr.OnLeakedBody = func(method, url string) {}
		func() {
			resp := get(t, s.tr, "GET", s.URL)
			if _, err := io.ReadFull(resp.Body, make([]byte, 5)); err != nil {
				t.Fatal(err)
			}
		}()
		testutil.WaitFor(t, "the leaked body reclaimed", func() bool {
			runtime.GC()
			return s.tr.Stats().Total.LeakedBodies == 1
		})
		conns := []string{fmt.Sprintf("dial #1 %s tls=%v resumed=false", proto, tlsOn), "close #1 leaked idle=false requests=1"}
		if proto == spool.ProtoHTTP2 {
			// The stream is reset; the conn lives on.
			testutil.WaitFor(t, "the conn idle again", func() bool { return s.tr.Stats().Total.Idle == 1 })
			s.tr.CloseIdleConnections()
			conns = []string{conns[0], "idle #1", "close #1 evicted idle=true requests=1"}
		}
		rec.expect(t, []string{
			"start GET", "got #1 " + proto + " fresh queued", "response 200 " + proto + " #1", "body leaked 5 bytes status 200 #1",
		}, conns)
	})
}

// A failed dial: the request gets no conn; Response carries the error.
func TestObserverDialError(t *testing.T) {
	errDial := errors.New("no route to the test host")
	rec := &obsRecorder{want: spool.Target{Key: "http://dial.test:80", Scheme: "http", Host: "dial.test", Port: 80}}
	tr := testutil.NewTransport(t, &spool.Transport{
		Observer:    rec,
		DialContext: func(context.Context, string, string) (net.Conn, error) { return nil, errDial },
	})
	if _, err := tr.RoundTrip(testutil.NewRequest(t, "GET", "http://dial.test/", nil)); !errors.Is(err, errDial) {
		t.Fatalf("RoundTrip: %v, want the dial's error", err)
	}
	rec.tr = tr
	rec.expect(t, []string{"start GET", "response error #0"}, []string{"dial error"})
}

// The keep-alive race: the reused conn dies before any response byte, the
// request is retried on a fresh conn (GotConn twice, the second a retry),
// and there is still one Response. Then an upgrade: the conn leaves the
// pool detached and no BodyDone comes.
func TestObserverRetryAndUpgrade(t *testing.T) {
	s := testserver.New(t, testserver.ResetOnReuse)
	rec := &obsRecorder{}
	tr := testutil.NewTransport(t, &spool.Transport{Observer: rec})
	rec.tr = tr
	for range 2 {
		resp := get(t, tr, "GET", s.URL())
		io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	tr.CloseIdleConnections()
	h1 := spool.ProtoHTTP1
	rec.expect(t, []string{
		"start GET", "got #1 " + h1 + " fresh queued", "response 200 " + h1 + " #1", "body eof 2 bytes status 200 #1",
		"start GET", "got #1 " + h1 + " reused idle", "got #2 " + h1 + " fresh queued retry", "response 200 " + h1 + " #2", "body eof 2 bytes status 200 #2",
	}, []string{
		"dial #1 " + h1 + " tls=false resumed=false", "idle #1", "active #1", "close #1 broken idle=false requests=2",
		"dial #2 " + h1 + " tls=false resumed=false", "idle #2", "close #2 evicted idle=true requests=1",
	})

	up := testserver.New(t, func(c *testserver.Conn, r *testserver.Request) {
		c.Write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n")
		c.Close()
	})
	rec2 := &obsRecorder{}
	tr2 := testutil.NewTransport(t, &spool.Transport{Observer: rec2})
	rec2.tr = tr2
	req := testutil.NewRequest(t, "GET", up.URL(), nil)
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "echo")
	resp, err := tr2.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	rec2.expect(t, []string{"start GET", "got #1 " + h1 + " fresh queued", "response 101 " + h1 + " #1"},
		[]string{"dial #1 " + h1 + " tls=false resumed=false", "close #1 detached idle=false requests=1"})
}

// A second dial after CloseIdleConnections resumes the TLS session (spool
// keeps its own session cache): Dialed says so.
func TestObserverTLSResumed(t *testing.T) {
	observed(t, func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hi")
	}, func(t *testing.T, s *modeServer, rec *obsRecorder, proto string, tlsOn bool) {
		if !tlsOn {
			t.Skip("no TLS in this mode")
		}
		for range 2 {
			resp := get(t, s.tr, "GET", s.URL)
			io.ReadAll(resp.Body)
			resp.Body.Close()
			s.tr.CloseIdleConnections()
		}
		body := func(n int) []string {
			id := strconv.Itoa(n)
			return []string{"start GET", "got #" + id + " " + proto + " fresh queued", "response 200 " + proto + " #" + id, "body eof 2 bytes status 200 #" + id}
		}
		rec.expect(t, append(body(1), body(2)...), []string{
			"dial #1 " + proto + " tls=true resumed=false", "idle #1", "close #1 evicted idle=true requests=1",
			"dial #2 " + proto + " tls=true resumed=true", "idle #2", "close #2 evicted idle=true requests=1",
		})
	})
}

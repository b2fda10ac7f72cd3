package spool

import (
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"github.com/spoolhttp/spool/internal/h1"
	"github.com/spoolhttp/spool/internal/pool"
)

// This file turns what the pool and the exchanges do into Observer
// events. Nothing here runs without an Observer: every caller checks for
// one first (st.obs != nil, or a nil *reqObs / *exchObs), so a Transport
// without one pays a nil check.

// poolEvents receives the pool's events (pool.Config.Events), which the
// pool records where it counts them in Stats.
type poolEvents struct{ obs Observer }

func (pe poolEvents) Dialed(key pool.Key, c pool.Conn, id uint64, d time.Duration, err error) {
	ev := DialEvent{Target: targetOf(key), Conn: id, Duration: d, Err: err}
	if err == nil {
		ev.Proto, ev.TLS, ev.TLSResumed = connInfo(c)
	}
	pe.obs.Dialed(ev)
}

func (pe poolEvents) Closed(key pool.Key, c pool.Conn, e pool.CloseEvent) {
	pe.obs.ConnClosed(ConnClosedEvent{
		Target: targetOf(key), Conn: e.ID, Proto: protoOf(c), Reason: publicReason(e.Reason),
		Idle: e.Idle, Lifetime: e.Lifetime, Requests: e.Uses,
	})
}

func (pe poolEvents) Idle(key pool.Key, c pool.Conn, id uint64, idle bool) {
	pe.obs.ConnState(ConnStateEvent{Target: targetOf(key), Conn: id, Proto: protoOf(c), Idle: idle})
}

// publicReason maps the pool's reasons to CloseCounts' (Stats merges the
// same three into Evicted).
func publicReason(r pool.CloseReason) CloseReason {
	switch r {
	case pool.ReasonIdleTimeout:
		return CloseIdleTimeout
	case pool.ReasonEvicted, pool.ReasonCloseIdle, pool.ReasonPoolClosed:
		return CloseEvicted
	case pool.ReasonServerClosed:
		return CloseServerClosed
	case pool.ReasonLifetime:
		return CloseLifetime
	case pool.ReasonMaxRequests:
		return CloseMaxRequests
	case pool.ReasonLeaked:
		return CloseLeaked
	case pool.ReasonEarlyClose:
		return CloseEarlyClose
	case pool.ReasonNotReusable:
		return CloseNotReusable
	case pool.ReasonDetached:
		return CloseDetached
	}
	return CloseBroken
}

// targetOf splits a pool key, "[proxy|]scheme://host:port", into a
// Target. The strings are slices of the key: nothing is allocated. The
// key is spool's own (route.go: canonicalAddr always has a port), so a
// plain scan does; it runs per event.
func targetOf(key pool.Key) Target {
	k := string(key)
	t := Target{Key: k}
	origin := k
	if i := strings.LastIndexByte(k, '|'); i >= 0 { // the origin part has no '|'
		t.Proxy, origin = k[:i], k[i+1:]
	}
	if i := strings.Index(origin, "://"); i >= 0 {
		t.Scheme, origin = origin[:i], origin[i+3:]
	}
	t.Host = origin
	if i := strings.LastIndexByte(origin, ':'); i >= 0 && !strings.HasSuffix(origin, "]") {
		t.Host = origin[:i]
		for _, d := range origin[i+1:] {
			if d < '0' || d > '9' {
				t.Port = 0
				break
			}
			t.Port = t.Port*10 + int(d-'0')
		}
	}
	if len(t.Host) > 1 && t.Host[0] == '[' && t.Host[len(t.Host)-1] == ']' {
		t.Host = t.Host[1 : len(t.Host)-1] // IPv6: server.address has no brackets
	}
	return t
}

// protoOf is a pool conn's protocol: the pool holds HTTP/1 conns and
// HTTP/2 ones, whatever type the HTTP/2 engine gives them.
func protoOf(c pool.Conn) string {
	if _, ok := c.(*h1.Conn); ok {
		return ProtoHTTP1
	}
	return ProtoHTTP2
}

// connInfo reports a fresh conn's protocol and TLS state.
func connInfo(c pool.Conn) (proto string, isTLS, resumed bool) {
	proto = protoOf(c)
	if nc, ok := c.(interface{ NetConn() net.Conn }); ok {
		if tc, ok := nc.NetConn().(*tls.Conn); ok {
			return proto, true, tc.ConnectionState().DidResume
		}
	}
	return proto, false, false
}

func methodOf(req *http.Request) string {
	if req.Method == "" {
		return http.MethodGet
	}
	return req.Method
}

// reqObs follows one RoundTrip for its events; it lives on RoundTrip's
// stack, and is nil (not made) without an Observer.
type reqObs struct {
	r        *route
	start    time.Time
	method   string
	conn     uint64 // the last attempt's conn
	proto    string // its protocol
	attempts int
	bodyless bool // the response has no body: BodyDone comes with Response
}

// started emits RequestStarted.
func (st *state) started(ro *reqObs, r *route, req *http.Request) {
	ro.r, ro.start = r, time.Now()
	ro.method = methodOf(req)
	st.obs.RequestStarted(RequestEvent{Target: r.tgt, Method: ro.method})
}

// gotConn emits GotConn.
func (st *state) gotConn(ro *reqObs, r *route, c pool.Conn, info pool.GetInfo) {
	ro.conn, ro.proto = info.Conn, protoOf(c)
	ro.attempts++
	st.obs.GotConn(GotConnEvent{
		Target: r.tgt, Method: ro.method, Conn: info.Conn, Proto: ro.proto,
		Reused: info.Reused, WasIdle: info.WasIdle, Queued: info.Queued, Wait: info.Waited,
		Retry: ro.attempts > 1,
	})
}

// responded emits Response and, for a response without a body, BodyDone.
func (st *state) responded(ro *reqObs, r *route, resp *http.Response, err error) {
	ev := ResponseEvent{Target: r.tgt, Method: ro.method, Conn: ro.conn, Proto: ro.proto, Duration: time.Since(ro.start), Err: err}
	if err != nil {
		st.obs.Response(ev)
		return
	}
	ev.Proto, ev.Status = resp.Proto, resp.StatusCode
	st.obs.Response(ev)
	if ro.bodyless {
		st.obs.BodyDone(BodyEvent{Target: r.tgt, Method: ro.method, Conn: ro.conn, Proto: ev.Proto, Status: ev.Status, Duration: time.Since(ro.start)})
	}
}

// exchObs follows a response body for BodyDone. An HTTP/1 conn keeps one
// as its Owner for its whole life (one exchange at a time), so a leaked
// body's reclaim, which only has the conn, can report it; an HTTP/2
// response gets its own. Status and bytes are atomics because the
// reclaim reads them on another goroutine.
type exchObs struct {
	r      *route
	method string
	proto  string // the conn's protocol
	start  time.Time
	conn   uint64
	status atomic.Int32
	n      atomic.Int64 // body bytes so far
	done   atomic.Bool  // BodyDone was emitted (HTTP/2: Read and Close may race)
}

// h1Obs readies the HTTP/1 conn's exchObs for this exchange, before
// the exchange starts (the conn's lock, taken by RoundTrip and Reclaim,
// orders these writes before a reclaim's reads).
func h1Obs(c *h1.Conn, ro *reqObs) *exchObs {
	ob, ok := c.Owner.(*exchObs)
	if !ok || ro == nil {
		return nil
	}
	ob.method, ob.start, ob.conn = ro.method, ro.start, ro.conn
	ob.status.Store(0)
	ob.n.Store(0)
	ob.done.Store(false)
	return ob
}

// routeOf is an HTTP/1 conn's route, whether its Owner is the route or,
// with an Observer, its exchObs.
func routeOf(c *h1.Conn) *route {
	if ob, ok := c.Owner.(*exchObs); ok {
		return ob.r
	}
	return c.Owner.(*route)
}

// bodyDone emits BodyDone once.
func (st *state) bodyDone(ob *exchObs, end BodyEnd, err error) {
	if ob.done.Swap(true) {
		return
	}
	if end != BodyError {
		err = nil // EOF, ErrBodyClosed: how it ended, not a failure
	}
	st.obs.BodyDone(BodyEvent{
		Target: ob.r.tgt, Method: ob.method, Conn: ob.conn, Proto: ob.proto, Status: int(ob.status.Load()),
		Bytes: ob.n.Load(), End: end, Duration: time.Since(ob.start), Err: err,
	})
}

// observeH2 wraps an HTTP/2 response body to report BodyDone (inside the
// decompression, so Bytes are the stream's). Made only with an Observer.
func (st *state) observeH2(ro *reqObs, resp *http.Response) {
	if resp.Body == nil || resp.Body == http.NoBody || resp.ContentLength == 0 || ro.method == http.MethodHead ||
		resp.StatusCode == http.StatusNoContent || resp.StatusCode == http.StatusNotModified {
		ro.bodyless = true // as HTTP/1 has none: a body that can only be empty
		return
	}
	ob := &exchObs{r: ro.r, method: ro.method, proto: ProtoHTTP2, start: ro.start, conn: ro.conn}
	ob.status.Store(int32(resp.StatusCode))
	b := &obsBody{rc: resp.Body, ob: ob}
	runtime.AddCleanup(b, reclaimObs, ob)
	resp.Body = b
}

// obsBody counts an HTTP/2 body's bytes and reports how it ended. The
// body it wraps has its own leak reclaim (the stream is reset); this one
// only reports.
type obsBody struct {
	rc     io.ReadCloser
	ob     *exchObs
	closed atomic.Bool
}

func (b *obsBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	b.ob.n.Add(int64(n))
	switch {
	case err == io.EOF:
		b.ob.r.st.bodyDone(b.ob, BodyEOF, nil)
	case err != nil && b.closed.Load():
		b.ob.r.st.bodyDone(b.ob, BodyEarlyClose, nil)
	case err != nil:
		b.ob.r.st.bodyDone(b.ob, BodyError, err)
	}
	return n, err
}

func (b *obsBody) Close() error {
	b.closed.Store(true)
	err := b.rc.Close()
	b.ob.r.st.bodyDone(b.ob, BodyEarlyClose, nil) // nothing if it had ended
	return err
}

// reclaimObs leaves the runtime's cleanup goroutine at once, as the
// reclaims of leak.go do.
func reclaimObs(ob *exchObs) { go ob.r.st.bodyDone(ob, BodyLeaked, nil) }

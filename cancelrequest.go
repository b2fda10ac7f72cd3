package spool

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/spoolhttp/spool/internal/errs"
	"github.com/spoolhttp/spool/internal/h1"
	"github.com/spoolhttp/spool/internal/h2"
	"github.com/spoolhttp/spool/internal/pool"
)

// CancelRequest cancels an in-flight request, as http.Transport's: while
// it waits for a conn (RoundTrip returns net/http's "request canceled
// while waiting for connection"), is written, awaits its response head,
// and, on HTTP/1, while its body is read (RoundTrip or the body's Read
// returns ErrRequestCanceled, net/http's "net/http: request canceled").
// On HTTP/2 it reaches the request until its response head, as
// net/http's (whose HTTP/2 it does not reach at all once the head is in);
// cancel the request's context to stop a body. A request not in flight is
// left alone.
//
// Deprecated: as net/http's: use a request context. It is here because
// http.Client calls it when Client.Timeout expires, and libraries assert
// interface{ CancelRequest(*http.Request) } to cancel.
func (t *Transport) CancelRequest(req *http.Request) {
	if req.Cancel != nil {
		select {
		case <-req.Cancel:
			// Its watcher (cancelchan.go) ends the request, with the
			// deadline as the cause when the channel is http.Client's
			// timer, which calls CancelRequest right after closing it.
			return
		default:
		}
	}
	st := t.state()
	sh := st.flights.shard(req)
	sh.mu.Lock()
	if f := sh.m[req]; f != nil {
		st.cancelFlight(f) // under the shard's lock: f cannot be recycled meanwhile
	}
	sh.mu.Unlock()
}

// flightShards spreads the in-flight registry over locks (a power of
// two): every request registers and unregisters once, so one lock would
// be a contention point for concurrent requests.
const flightShards = 64

// flights maps each request in flight (the caller's *http.Request) to
// where it is, for CancelRequest. A request costs two locks of its shard
// and a map insert and delete, no allocation (flights are recycled).
type flights [flightShards]flightShard

type flightShard struct {
	mu sync.Mutex
	m  map[*http.Request]*flight // guarded by mu
	_  [48]byte                  // one shard per cache line
}

func (fs *flights) shard(req *http.Request) *flightShard {
	p := uintptr(unsafe.Pointer(req)) // a number only: the map keeps req alive
	return &fs[(p>>8^p>>14)&(flightShards-1)]
}

// flight is one request's registration. req and key are set before it is
// published and never change; the conn fields say where the request is.
type flight struct {
	req      *http.Request
	key      pool.Key
	canceled atomic.Bool // CancelRequest came
	byBody   bool        // an HTTP/1 response body ends the flight (RoundTrip's goroutine only)
	// onEnd releases the request's Request.Cancel watch (cancelchan.go)
	// when the flight ends with its HTTP/1 body: that body's end is the
	// exchange's, so the watch needs no body wrapper of its own.
	onEnd context.CancelCauseFunc

	mu   sync.Mutex    // guards the conn fields against cancelFlight
	c1   *h1.Conn      // the HTTP/1 conn carrying exchange gen, or nil
	gen  uint64        //
	c2   *h2.Conn      // the HTTP/2 conn carrying sent, or nil
	sent *http.Request // what c2 was given (a replay's copy of req)
}

var flightPool = sync.Pool{New: func() any { return new(flight) }}

// WaitCanceled tells the pool that CancelRequest came before the wait.
func (f *flight) WaitCanceled() error {
	if f.canceled.Load() {
		return errs.ErrRequestCanceledConn
	}
	return nil
}

// startFlight registers req (the caller's) on key. nil: req is already in
// flight (the same Request sent twice at once); CancelRequest then
// reaches the first. A nil *flight is valid for every method below.
func (st *state) startFlight(req *http.Request, key pool.Key) *flight {
	f := flightPool.Get().(*flight)
	f.req, f.key = req, key
	sh := st.flights.shard(req)
	sh.mu.Lock()
	if _, dup := sh.m[req]; dup {
		sh.mu.Unlock()
		f.reset()
		return nil
	}
	if sh.m == nil {
		sh.m = make(map[*http.Request]*flight)
	}
	sh.m[req] = f
	sh.mu.Unlock()
	return f
}

// endFlight unregisters f; the caller drops f (it is recycled).
func (st *state) endFlight(f *flight) {
	if f == nil {
		return
	}
	sh := st.flights.shard(f.req)
	sh.mu.Lock()
	delete(sh.m, f.req)
	sh.mu.Unlock()
	f.reset()
}

func (f *flight) reset() {
	onEnd := f.onEnd
	f.req, f.key, f.c1, f.gen, f.c2, f.sent, f.byBody, f.onEnd = nil, "", nil, 0, nil, nil, false, nil
	f.canceled.Store(false)
	flightPool.Put(f)
	if onEnd != nil {
		onEnd(errRequestDone)
	}
}

// tag is f as the pool's WaitTag (a nil interface for a nil f).
func (f *flight) tag() pool.WaitTag {
	if f == nil {
		return nil
	}
	return f
}

func (f *flight) isCanceled() bool { return f != nil && f.canceled.Load() }

// toPool records that the request is back in the pool's hands (a
// replay's checkout): CancelRequest must then reach the pool's queue, not
// the conn of the attempt before.
func (f *flight) toPool() {
	if f == nil {
		return
	}
	f.mu.Lock()
	f.c1, f.gen, f.c2, f.sent = nil, 0, nil, nil
	f.mu.Unlock()
}

// onH1 records that exchange c.Gen()+1, about to start, carries the
// request; one that CancelRequest reached already is cancelled as it
// starts.
func (f *flight) onH1(c *h1.Conn) {
	if f == nil {
		return
	}
	gen := c.Gen() + 1
	f.mu.Lock()
	f.c1, f.gen, f.c2, f.sent = c, gen, nil, nil
	f.mu.Unlock()
	if f.canceled.Load() {
		c.CancelExchange(gen, ErrRequestCanceled)
	}
}

// onH2 records that c is about to carry sent; false: CancelRequest came
// first, and the stream must not start. A CancelRequest between this and
// the stream's opening finds no stream: Do sees f.canceled once the
// stream is open and cancels it (h2.Options.Canceled).
func (f *flight) onH2(c *h2.Conn, sent *http.Request) bool {
	if f == nil {
		return true
	}
	f.mu.Lock()
	f.c1, f.c2, f.sent = nil, c, sent
	f.mu.Unlock()
	return !f.canceled.Load()
}

// cancelFlight cancels f where it is, once. The caller holds f's shard.
func (st *state) cancelFlight(f *flight) {
	if f.canceled.Swap(true) {
		return
	}
	f.mu.Lock()
	c1, gen, c2, sent := f.c1, f.gen, f.c2, f.sent
	f.mu.Unlock()
	switch {
	case c1 != nil:
		c1.CancelExchange(gen, ErrRequestCanceled)
	case c2 != nil:
		c2.Cancel(sent, ErrRequestCanceled)
	default:
		// In the pool's queue, or about to be (WaitCanceled), or between
		// the pool and a conn (onH1, onH2 see canceled).
		st.pool.CancelWait(f.key, f, errs.ErrRequestCanceledConn)
	}
}

// endFlightOn unregisters the flight whose HTTP/1 exchange is on c: its
// body was dropped unclosed and is being reclaimed (leak.go), so no
// body.end will. A scan: leaks are rare.
func (st *state) endFlightOn(c *h1.Conn) {
	for i := range st.flights {
		sh := &st.flights[i]
		sh.mu.Lock()
		for req, f := range sh.m {
			f.mu.Lock()
			on := f.c1 == c
			f.mu.Unlock()
			if on {
				delete(sh.m, req)
				sh.mu.Unlock()
				f.reset()
				return
			}
		}
		sh.mu.Unlock()
	}
}

// errCanceledBeforeStream: CancelRequest came before an HTTP/2 stream
// started, or stopped a replay (publicErr returns ErrRequestCanceled).
var errCanceledBeforeStream = &errs.Error{Op: errs.OpWrite, Err: errs.ErrRequestCanceled}

// endsWith: the response's body took f over (newBody), so it is not
// RoundTrip's to end. Every other response ends its flight as RoundTrip
// returns: no body, a tunnel, HTTP/2 (whose body CancelRequest does not
// reach).
func (f *flight) endsWith() bool { return f != nil && f.byBody }

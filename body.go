package spool

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptrace"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/spoolhttp/spool/internal/h1"
	"github.com/spoolhttp/spool/internal/pool"
)

// body is a response body on an HTTP/1 conn (DESIGN decision 4):
//   - reading to EOF returns the conn to the pool at once;
//   - Close before EOF drains within DrainLimit/DrainTimeout and reuses the
//     conn, else closes it;
//   - a body dropped without Close is reclaimed after GC (leak.go).
type body struct {
	mu      sync.Mutex // serialises Read and Close; Close interrupts a blocked Read
	c       *h1.Conn   // never changes, so Close may read it without the lock
	gen     uint64     // the exchange this body belongs to
	st      *state
	r       *route
	trace   *httptrace.ClientTrace
	resp    *http.Response // gets the trailers at EOF
	done    bool           // the exchange ended; the conn is no longer ours
	closed  bool           // Close was called
	closing atomic.Bool    // Close is interrupting a Read (packed by the bools: the struct stays in its size class)
	err     error          // what Read returns once done
	cleanup runtime.Cleanup
	ob      *exchObs // for BodyDone; nil without an Observer
	fl      *flight  // the request's CancelRequest registration, ended with the body
}

func (st *state) newBody(c *h1.Conn, r *route, resp *http.Response, trace *httptrace.ClientTrace, ob *exchObs, fl *flight) *body {
	b := &body{c: c, gen: c.Gen(), st: st, r: r, trace: trace, resp: resp, ob: ob, fl: fl}
	if fl != nil {
		fl.byBody = true
	}
	if ob != nil {
		ob.status.Store(int32(resp.StatusCode))
	}
	st.track(b)
	return b
}

// Read implements io.Reader.
func (b *body) Read(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return 0, ErrBodyClosed
	}
	if b.done {
		return 0, b.err
	}
	n, err := b.c.ReadBody(p)
	if b.ob != nil {
		b.ob.n.Add(int64(n))
	}
	switch {
	case err == io.EOF:
		b.trailer()
		b.end(b.c.FinishBody(), pool.ReasonNotReusable, io.EOF)
	case err != nil:
		if b.closing.Load() {
			err = ErrBodyClosed // Close interrupted this Read: not a timeout
		} else {
			err = publicBodyErr(err)
		}
		b.c.FinishBody()
		b.end(false, pool.ReasonBroken, err)
	case b.c.BodyDone():
		// The framed end is reached: don't wait for a Read that returns
		// EOF to give the conn back.
		b.trailer()
		b.end(b.c.FinishBody(), pool.ReasonNotReusable, io.EOF)
	}
	return n, err
}

// Close implements io.Closer. Safe to call more than once and
// concurrently with Read (the Read is interrupted).
func (b *body) Close() error {
	if !b.mu.TryLock() {
		b.closing.Store(true)
		b.c.AbortExchange(b.gen)
		b.mu.Lock()
	}
	defer b.mu.Unlock()
	if b.closed {
		return nil
	}
	b.closed = true
	if b.done {
		return nil
	}
	b.c.Drain(b.st.drainLimit, b.st.drainTimeout)
	b.end(b.c.FinishBody(), pool.ReasonEarlyClose, ErrBodyClosed)
	return nil
}

// trailer publishes the trailers once the body is complete.
func (b *body) trailer() {
	if t := b.c.Trailer(); len(t) > 0 {
		b.resp.Trailer = t
	}
}

// end hands the conn back exactly once.
func (b *body) end(reusable bool, reason pool.CloseReason, err error) {
	b.done = true
	b.err = err
	b.cleanup.Stop()
	b.st.endFlight(b.fl) // before checkin: the conn's next exchange is not this request's
	b.fl = nil
	if b.ob != nil {
		// Before checkin: once the conn is back, the next exchange may
		// rewrite its exchObs (observe.go).
		b.st.bodyDone(b.ob, bodyEnd(err), err)
	}
	b.st.checkin(b.r, b.c, reusable, b.trace, reason)
}

// bodyEnd classifies how a body ended by what its Read returns from now on.
func bodyEnd(err error) BodyEnd {
	switch err {
	case io.EOF:
		return BodyEOF
	case ErrBodyClosed: // Close, or Close interrupting a Read
		return BodyEarlyClose
	}
	return BodyError
}

// ErrBodyClosed is returned by Read after Close; its text is net/http's.
var ErrBodyClosed = errors.New("http: read on closed response body")

package h1

import (
	"context"
	"net/http"
	"time"
)

// pastDeadline wakes any blocked Read or Write at once.
var pastDeadline = time.Unix(1, 0)

// watch arranges for ctx's end to abort the conn's blocked I/O for the
// whole exchange, body included; unwatch ends that. No goroutine: a
// context.AfterFunc runs only if ctx ends.
//
// A context that comes back (this exchange's Done channel is the previous
// one's: a worker's or a load tool's long-lived context) keeps its
// registration between exchanges: registering and stopping an AfterFunc
// per request costs three allocations and two locks of the parent context.
// Any other context is unregistered at unwatch, as it must be: a kept
// registration would start a goroutine when a per-request context is
// cancelled after use, and hold a custom context's watcher goroutine and
// the context's values while the conn sits idle.
func (c *Conn) watch(ctx context.Context, req *http.Request) {
	done := ctx.Done()
	c.mu.Lock()
	c.req = req
	c.cancelled = false
	c.gen++
	c.live = true
	if c.cancelGen == c.gen && c.cause != nil { // CancelExchange came first
		c.cancelled = true
		c.nc.SetDeadline(pastDeadline)
	} else {
		c.cause = nil
	}
	c.watching = done != nil
	c.repeat = done != nil && done == c.lastDone
	c.lastDone = done
	same := done != nil && done == c.watchDone
	old := c.stopWatch
	if !same {
		c.watchDone, c.stopWatch = done, nil
	}
	c.mu.Unlock()
	if !same {
		if old != nil {
			old()
		}
		if done == nil {
			return
		}
		stop := context.AfterFunc(ctx, func() { c.abortWatched(done) })
		c.mu.Lock()
		if c.watchDone == done && c.stopWatch == nil {
			c.stopWatch, stop = stop, nil
		}
		c.mu.Unlock()
		if stop != nil { // the conn closed meanwhile and dropped the watch
			stop()
		}
	}
	if ctx.Err() != nil { // already ended: abort now, not when the callback gets to run
		c.abortWatched(done)
	}
}

// abortWatched is the AfterFunc: it aborts the live exchange if that
// exchange is watching the context that ended. On an idle conn it only
// forgets the spent registration, so the ended context is not held.
func (c *Conn) abortWatched(done <-chan struct{}) {
	c.mu.Lock()
	switch {
	case c.watching && c.watchDone == done:
		c.cancelled = true
		c.nc.SetDeadline(pastDeadline)
	case !c.watching && c.watchDone == done:
		c.watchDone, c.stopWatch = nil, nil
	}
	c.mu.Unlock()
}

// dropWatch stops the registration for good (the conn closed or was
// upgraded), so the context stops holding the conn.
func (c *Conn) dropWatch() {
	c.mu.Lock()
	stop := c.stopWatch
	c.watching, c.watchDone, c.stopWatch = false, nil, nil
	c.mu.Unlock()
	if stop != nil {
		stop()
	}
}

// Gen identifies the current exchange for AbortExchange and Reclaim.
func (c *Conn) Gen() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

// AbortExchange interrupts exchange gen if it is still running (a
// Body.Close racing a blocked Read); a later exchange is never touched.
func (c *Conn) AbortExchange(gen uint64) {
	c.mu.Lock()
	if c.gen == gen && c.live {
		c.cancelled = true
		c.nc.SetDeadline(pastDeadline)
	}
	c.mu.Unlock()
}

// CancelExchange cancels exchange gen with cause, as its context ending
// would: blocked I/O wakes, and the exchange's error (RoundTrip's or the
// body's Read) is cause. gen may be the exchange about to start on a conn
// the caller holds (Gen()+1): it is then cancelled as it starts. An
// exchange already over is never touched. For Transport.CancelRequest.
func (c *Conn) CancelExchange(gen uint64, cause error) {
	c.mu.Lock()
	switch {
	case c.gen == gen && c.live:
		c.cause = cause
		c.cancelled = true
		c.nc.SetDeadline(pastDeadline)
	case gen > c.gen:
		c.cancelGen, c.cause = gen, cause
	}
	c.mu.Unlock()
}

// cancelCause is CancelExchange's cause for the current exchange, if any.
func (c *Conn) cancelCause() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cancelled {
		return c.cause
	}
	return nil
}

// Reclaim ends the current exchange if it is still running, for a
// response body dropped without Close (the exchange cannot have moved on:
// nobody else can read that body): its buffers go back and the caller
// closes the conn. It returns the exchange's request, or nil when the
// exchange already ended.
func (c *Conn) Reclaim() *http.Request {
	c.mu.Lock()
	req := c.req
	if !c.live {
		req = nil
	}
	c.mu.Unlock()
	if req != nil {
		c.finish()
	}
	return req
}

// unwatch ends the exchange's exposure to its context and to
// AbortExchange; false means a cancellation reached it and the conn's
// deadline is poisoned, so the conn must not be reused. Under the lock, so
// an abort racing it either lands before (and is seen) or finds nothing to
// abort: a Body.Close racing the Read that reached EOF must not leave a
// past deadline on a conn going back to the pool.
func (c *Conn) unwatch() bool {
	c.mu.Lock()
	c.watching = false
	c.live, c.req = false, nil
	ok := !c.cancelled
	var stop func() bool
	if !c.repeat {
		stop = c.stopWatch
		c.watchDone, c.stopWatch = nil, nil
	}
	c.mu.Unlock()
	if stop != nil {
		stop()
	}
	return ok
}

// setReadDeadline sets a timeout unless the exchange was aborted, so a
// timeout never overwrites the past deadline that a cancellation set.
func (c *Conn) setReadDeadline(d time.Duration) {
	var t time.Time
	if d > 0 {
		t = time.Now().Add(d)
	}
	c.mu.Lock()
	if !c.cancelled {
		c.nc.SetReadDeadline(t)
		c.deadline = true
	}
	c.mu.Unlock()
}

func (c *Conn) setWriteDeadlinePast() {
	c.mu.Lock()
	c.nc.SetWriteDeadline(pastDeadline)
	c.deadline = true
	c.mu.Unlock()
}

// isAborted reports whether cancellation or Abort hit this exchange.
func (c *Conn) isAborted() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cancelled
}

// armHeaderTimeout starts ResponseHeaderTimeout once the request is
// written, unless the final head is already in (a full-duplex upload that
// outlived it): the deadline must never reach the body.
func (c *Conn) armHeaderTimeout(up *upload) {
	c.mu.Lock()
	if !up.headDone && !c.cancelled {
		c.nc.SetReadDeadline(time.Now().Add(c.cfg.ResponseHeaderTimeout))
		c.deadline = true
	}
	c.mu.Unlock()
}

// headIn marks the final head read and lifts the header deadline, in one
// step against the body writer's armHeaderTimeout and abortBeforeHead.
func (c *Conn) headIn(up *upload) {
	c.mu.Lock()
	if up != nil {
		up.headDone = true
	}
	if c.deadline && !c.cancelled {
		c.nc.SetReadDeadline(time.Time{})
	}
	c.mu.Unlock()
}

// abortBeforeHead wakes a reader still waiting for the head after the body
// writer failed; once the head is in, the read side is left alone.
func (c *Conn) abortBeforeHead(up *upload) {
	c.mu.Lock()
	if !up.headDone {
		c.cancelled = true
		c.nc.SetDeadline(pastDeadline)
	}
	c.mu.Unlock()
}

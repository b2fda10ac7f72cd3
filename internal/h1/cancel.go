package h1

import (
	"context"
	"net/http"
	"time"
)

// pastDeadline wakes any blocked Read or Write at once.
var pastDeadline = time.Unix(1, 0)

// watch arranges for ctx's end to abort the conn's blocked I/O. It runs for
// the whole exchange, body included; finish stops it. No goroutine: the
// AfterFunc runs only if ctx ends.
func (c *Conn) watch(ctx context.Context, req *http.Request) {
	c.mu.Lock()
	c.req = req
	c.cancelled = false
	c.gen++
	c.live = true
	c.mu.Unlock()
	if ctx.Done() == nil {
		c.stop = nil
		return
	}
	c.stop = context.AfterFunc(ctx, c.abort)
}

// abort makes blocked and future I/O fail. Used by cancellation and by a
// Body.Close that must interrupt a concurrent Read.
func (c *Conn) abort() {
	c.mu.Lock()
	c.cancelled = true
	c.nc.SetDeadline(pastDeadline)
	c.mu.Unlock()
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

// unwatch stops the AfterFunc; false means it fired (or is firing) and the
// conn's deadline is poisoned, so the conn must not be reused.
func (c *Conn) unwatch() bool {
	ok := true
	if c.stop != nil {
		ok = c.stop()
		c.stop = nil
	}
	c.mu.Lock()
	if c.cancelled {
		ok = false
	}
	c.mu.Unlock()
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

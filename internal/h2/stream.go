package h2

import (
	"context"
	"net/http"
	"net/http/httptrace"
	"sync/atomic"
	"time"
)

// stream is one request's life on a Conn, from RoundTrip to OnStreamDone.
type stream struct {
	c      *Conn
	ctx    context.Context // the caller's request context
	reused bool            // the conn carried a stream before this one

	// Set by x/net's request-writing goroutine through httptrace, read when
	// an error is classified.
	wroteHeaders atomic.Bool
	writeFailed  atomic.Bool // the request body's write failed

	ended atomic.Bool // done ran
}

// RoundTrip sends req on a new stream, using the reservation taken by
// Reserve (or taking one now if the caller did not). The response body is
// wrapped so its EOF, a read error or Close ends the stream; a RoundTrip
// error ends it too. Errors are *errs.Error (see wrapErr).
//
// req is not modified; x/net sees a shallow copy whose context adds a trace
// that tells a write failure from a wait for headers.
func (c *Conn) RoundTrip(req *http.Request) (*http.Response, error) {
	s := &stream{c: c, ctx: req.Context()}
	c.mu.Lock()
	if c.reserved == 0 {
		if err := c.reserveLocked(); err != nil {
			c.mu.Unlock()
			return nil, s.notSent(err)
		}
	}
	c.reserved--
	c.open++
	c.mu.Unlock()
	s.reused = c.started.Add(1) > 1

	resp, err := c.cc.RoundTrip(req.WithContext(httptrace.WithClientTrace(s.ctx, s.trace())))
	if err != nil {
		s.done()
		return nil, s.wrapErr(err)
	}
	resp.Request = req
	resp.Body = &body{rc: resp.Body, s: s}
	return resp, nil
}

func (s *stream) trace() *httptrace.ClientTrace {
	return &httptrace.ClientTrace{
		WroteHeaders: func() { s.wroteHeaders.Store(true) },
		WroteRequest: func(i httptrace.WroteRequestInfo) {
			if i.Err != nil {
				s.writeFailed.Store(true)
			}
		},
	}
}

// done reports the end of the stream once: at once when x/net has freed the
// slot, otherwise after settle.
func (s *stream) done() {
	if s.ended.Swap(true) {
		return
	}
	c := s.c
	c.mu.Lock()
	c.open--
	excess := c.excessLocked()
	c.mu.Unlock()
	if excess > 0 {
		go c.settle()
		return
	}
	c.streamDone()
}

// excessLocked is how many slots x/net counts busy beyond our reservations
// and open streams; 0 once the conn is closed (nothing waits on slots then).
func (c *Conn) excessLocked() int {
	st := c.cc.State()
	if st.Closed {
		return 0
	}
	return c.usedLocked(st) - c.reserved - c.open
}

// maxSettlePings bounds settle: other streams' cancellations can keep the
// excess up; after this many round trips OnStreamDone runs anyway (the pool
// then sees the conn busier than it is until the next stream ends).
const maxSettlePings = 8

// settleRecheck is the pause between two settle PINGs.
const settleRecheck = time.Millisecond

// settle waits for x/net to free slots our own count says are free. Two
// causes, both invisible to the exported API: after a cancellation x/net's
// RoundTrip (and Body.Close) return before its request goroutine has
// forgotten the stream; and a stream cancelled before any frame came back
// keeps its slot until a PING ack shows the peer alive (x/net's
// pendingResets, cleared by any ack). Our own PING covers both: its round
// trip outlasts the cleanup, and its ack clears the reset slots. One PING is
// not always enough (it may go out before x/net's cleanup counts the reset),
// so settle re-checks after each ack. A PING unanswered for PingTimeout
// means a dead peer: the conn is closed, as x/net's health check would.
func (c *Conn) settle() {
	for i := 0; i < maxSettlePings; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), c.cfg.PingTimeout)
		err := c.cc.Ping(ctx)
		cancel()
		if err != nil {
			c.Close()
			break
		}
		c.mu.Lock()
		excess := c.excessLocked()
		c.mu.Unlock()
		if excess <= 0 {
			break
		}
		// x/net's read loop frees the slot just after the ack; give it a
		// moment before asking again.
		<-time.After(settleRecheck)
	}
	c.streamDone()
}

func (c *Conn) streamDone() {
	if f := c.cfg.OnStreamDone; f != nil {
		f(c)
	}
}

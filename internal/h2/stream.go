package h2

import (
	"context"
	"net/http"
	"net/http/httptrace"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/http2"

	"github.com/spoolhttp/spool/internal/errs"
)

// stream is one request's life on a Conn, from RoundTrip to finish.
//
// The caller's goroutine waits on wake for the head, then for body data;
// the reader fills the fields under mu and signals wake. The stream never
// points to the response or its body once the head is handed over, so a
// body dropped without Close can be collected and reclaimed (body.go).
type stream struct {
	c      *Conn
	id     uint32
	ctx    context.Context
	req    *http.Request
	trace  *httptrace.ClientTrace
	isHead bool
	reused bool // the conn carried a stream before this one

	wroteHeaders bool        // caller only: HEADERS were queued
	headEnd      uint64      // guarded by c.wq.mu: write queue position of the end of its HEADERS (see failStreams)
	bodyFailed   atomic.Bool // the request body's Read failed or lied about its length
	sendDone     atomic.Bool // END_STREAM sent (or the peer's reset made it moot)
	sent         atomic.Bool // sending is over: END_STREAM sent, or the body writer gave up
	stop         atomic.Bool // no more frames for this stream (it is reset or finished)
	finished     atomic.Bool // the slot is freed
	holdWaits    atomic.Bool // counted as waiting at the server in write holdGen's (writehold.go)
	holdGen      uint32      // set under c.wq.mu before holdWaits
	bodyClosed   atomic.Bool // req.Body was closed
	noSlot       bool        // caller only: holdSlot found none; nothing to give back
	wakeBack     bool        // caller only: wake went back to the conn's pool
	// rstMark: the reader reset the stream for a stream error; the caller
	// waits until the RST_STREAM is written before it reports the error, so
	// a program that exits on it does not take the frame with it.
	rstMark atomic.Uint64

	wake chan struct{} // cap 1: the reader changed something
	cont chan struct{} // cap 1, only with Expect: 100-continue: a 100 came

	// send side, guarded by c.mu
	sendWindow int64

	mu        sync.Mutex
	resp      *http.Response // guarded by mu: the final head, until taken
	headDone  bool           // guarded by mu: the final head arrived
	headGone  bool           // guarded by mu: awaitHead returned without a head; a late one is dropped
	recvEnded bool           // guarded by mu: END_STREAM received
	err       error          // guarded by mu: io.EOF at the end, or why the stream failed
	rstDone   bool           // guarded by mu: RST_STREAM sent or received
	buf       recvBuf        // guarded by mu: received DATA not yet read
	trailer   map[string][]string
	recvAvail int32 // guarded by mu: bytes the peer may still send (our window)
	window    int32 // guarded by mu: our window's size, for the update threshold
	unacked   int32 // guarded by mu: bytes read, credit not yet returned

	head reqHead   // the request's pseudo-headers and framing (caller, then body writer)
	strs [8]string // backing for the response's single header values

	// reader goroutine only
	remain       int64  // bytes the Content-Length still promises, -1 if none
	n1xx         int    // 1xx heads seen
	size1xx      uint32 // header list bytes of the 1xx heads no trace took
	autoFinish   bool   // the response has no content: END_STREAM finishes the stream
	gotFirstByte bool
}

// A stream's wake channel comes from its conn's pool (Conn.wakes) and goes
// back only when its stream's caller will wait on it no more (RoundTrip
// returned without a body, or a Read saw the end); a late notify from the
// reader then leaves a token in another stream's channel, a spurious
// wakeup its wait loops tolerate (each re-checks the state it waits for).
func (c *Conn) getWake() chan struct{} {
	if w, ok := c.wakes.Get().(chan struct{}); ok {
		return w
	}
	return make(chan struct{}, 1)
}

// releaseWake gives the wake channel back, once; only the goroutine that
// waits on it (the caller) calls it.
func (s *stream) releaseWake() {
	if s.wakeBack {
		return
	}
	s.wakeBack = true
	select {
	case <-s.wake:
	default:
	}
	s.c.wakes.Put(s.wake)
}

// notify wakes the stream's waiter, if any; never blocks.
func (s *stream) notify() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// fail records err as the stream's end (unless it has one) and wakes its
// waiter. rst: err was a reset either way, no RST_STREAM is due.
func (s *stream) fail(err error, rst bool) {
	s.mu.Lock()
	if s.err == nil {
		s.err = err
	}
	if rst {
		s.rstDone = true
	}
	s.mu.Unlock()
	s.stopped()
}

// stopped is what follows a stream's end being recorded: no more frames
// for it, and its caller learns of it.
func (s *stream) stopped() {
	s.stop.Store(true)
	s.notify()
	if s.c.holder.Load() == s {
		s.c.interrupt(s) // its caller waits on the socket, not on wake
	}
}

// finish frees the stream's slot once, sending RST_STREAM CANCEL first if
// the stream is still open on either side; it reports whether this call
// did it. OnStreamDone runs after the slot is free.
func (s *stream) finish() bool {
	if s.finished.Swap(true) {
		return false
	}
	c := s.c
	s.headCame()
	s.mu.Lock()
	needRST := !s.rstDone && !(s.recvEnded && s.sendDone.Load())
	s.rstDone = true
	s.mu.Unlock()
	s.stop.Store(true)
	if needRST {
		c.queueRST(s.id, http2.ErrCodeCancel, false)
	}
	c.mu.Lock()
	delete(c.streams, s.id)
	c.open.Add(-1)
	c.cond.Broadcast() // a body writer waiting for a window sees stop
	drained := c.err == nil && c.refusesLocked() && len(c.streams) == 0 && c.reserved == 0
	c.mu.Unlock()
	s.closeReqBody() // unblocks a body writer stuck in Read; once only
	if f := c.cfg.OnStreamDone; f != nil {
		f(c)
	}
	if drained {
		c.closeDrained()
	}
	return true
}

// flushReset waits for the reader's RST_STREAM of this stream, if any.
func (s *stream) flushReset() {
	if m := s.rstMark.Load(); m > 0 {
		s.c.wq.waitFor(m)
	}
}

// closeReqBody closes the request body once, whoever gets there first
// (finish, or the body writer at its end): the RoundTripper contract.
func (s *stream) closeReqBody() {
	if b := s.req.Body; b != nil && b != http.NoBody && s.bodyClosed.CompareAndSwap(false, true) {
		b.Close()
	}
}

// awaitHead waits for the final response head, the stream's failure, the
// caller's context or ResponseHeaderTimeout (which starts once the request
// is fully sent, as net/http's). While its stream is the conn's only one
// and the reader is parked, the caller reads the conn itself (handoff.go).
func (s *stream) awaitHead() (*http.Response, error) {
	var t *time.Timer
	d := s.c.cfg.ResponseHeaderTimeout
	defer func() {
		if t != nil {
			t.Stop()
		}
	}()
	for {
		s.mu.Lock()
		resp, err := s.resp, s.err
		if resp != nil {
			s.resp = nil
		} else if err != nil {
			s.headGone = true // we return the error: nobody takes a later head
		}
		s.mu.Unlock()
		if resp != nil {
			return resp, nil
		}
		if err != nil {
			s.finish()
			s.flushReset()
			return nil, s.headErr(err)
		}
		if d > 0 && t == nil && s.sent.Load() {
			// A timer that fails the stream, so it reaches a caller that
			// reads the socket as well as one that waits on wake.
			t = time.AfterFunc(d, s.headTimedOut)
		}
		if s.c.hold(s) {
			s.readForHead()
			continue
		}
		select {
		case <-s.wake:
		case <-s.ctx.Done():
			s.fail(s.ctx.Err(), false)
		}
	}
}

// headTimedOut is ResponseHeaderTimeout's timer. A head or an error that
// came first wins: the timer cannot be stopped once it fired, and failing
// the stream then would fail a body already handed to the caller (or
// send a degraded PING for a stream that ended otherwise). A head
// that comes after it is dropped (headGone), so awaitHead returns the
// timeout, not a response whose body fails.
func (s *stream) headTimedOut() {
	s.mu.Lock()
	if s.headDone || s.err != nil { // the head, or another end, came first
		s.mu.Unlock()
		return
	}
	s.err = &errs.TimeoutError{What: "ResponseHeaderTimeout"}
	s.headGone = true
	s.mu.Unlock()
	s.stopped()
	s.c.degradedPing()
}

// gotHead tells the write hold that the stream's response head came: how
// fast heads come, and the stream no longer waits at the server.
func (s *stream) gotHead() {
	waited := s.holdWaits.Load() // load first: it orders the read of holdGen, stored before it
	s.c.wq.holdHead(s.holdGen, waited)
	s.headCame()
}

// headCame ends the stream's count as a request waiting at the server
// (the write hold's): its head came, or it ended.
func (s *stream) headCame() {
	if s.holdWaits.CompareAndSwap(true, false) {
		s.c.wq.holdEnded(s.holdGen)
	}
}

package h2

import (
	"context"
	"errors"
	"io"
	"sync"
	"time"

	"github.com/spoolhttp/spool/internal/errs"
)

// preRead reads a small rewindable body on the caller's goroutine, so it
// goes out with the HEADERS (nil when the body is not such a one). The
// body must match its ContentLength.
func (s *stream) preRead(h *reqHead) (*[]byte, error) {
	r := s.req
	if !h.hasBody || r.GetBody == nil || h.contentLength <= 0 || h.contentLength > maxPreRead || h.expect {
		return nil, nil
	}
	b := bodyBufPool.Get().(*[]byte)
	n, err := io.ReadFull(r.Body, (*b)[:h.contentLength+1])
	switch {
	case err == io.ErrUnexpectedEOF && int64(n) == h.contentLength:
		return b, nil
	case err == nil:
		err = errReqBodyTooLong
	case err == io.ErrUnexpectedEOF || err == io.EOF:
		err = errReqBodyTooShort
	}
	putBodyBuf(b)
	s.bodyFailed.Store(true)
	return nil, &errs.Error{Op: errs.OpWrite, Addr: s.c.Addr, Reused: s.reused, Err: &BodyError{err}}
}

// BodyError is the request body's own failure: its Read's error, or a
// length that disagrees with its ContentLength. net/http returns it as it
// is (TestTransportBodyReadError), so the root's error boundary unwraps
// it; a conn failing under the body is not one and stays the engine's.
type BodyError struct{ Err error }

func (e *BodyError) Error() string { return e.Err.Error() }
func (e *BodyError) Unwrap() error { return e.Err }

// bodyChunk is the size of the reads from a streamed request body: a DATA
// frame whose header and payload fill one TLS record (16 KiB), so that
// crypto/tls, which makes a syscall per record, makes one per frame.
const bodyChunk = defaultMaxFrameSize - frameHeaderLen

var chunkPool = sync.Pool{New: func() any { b := make([]byte, bodyChunk); return &b }}

// writeBody streams the request body beyond what start queued, on its own
// goroutine, for as long as it takes: the caller meanwhile waits for the
// response, so a response before the body's end (full duplex, an early
// error) is seen at once. It ends at the body's EOF, a failure, or when
// the stream ends or is reset (stop).
func (s *stream) writeBody(h *reqHead, pre *[]byte, rest []byte) {
	stopCtx := context.AfterFunc(s.ctx, func() { s.c.wakeWriters(); s.closeReqBody() })
	defer stopCtx()
	err := s.sendBody(h, pre, rest)
	if err != nil && s.ctx.Err() != nil {
		err = s.ctx.Err() // closing the body to stop it made its Read fail
	}
	putBodyBuf(pre)
	s.closeReqBody()
	if err != nil && !s.stop.Load() {
		s.bodyFailed.Store(true)
		s.fail(err, false)
		s.finish() // sends RST_STREAM CANCEL: the request is incomplete
	}
	s.sent.Store(true)
	s.notify() // ResponseHeaderTimeout may start now
	if err != nil && s.stop.Load() {
		err = nil // the stream ended first: not the body's failure
	}
	traceWroteRequest(s.trace, err)
}

func (s *stream) sendBody(h *reqHead, pre *[]byte, rest []byte) error {
	if h.expect && !s.await100() {
		return nil // a final response came first: the body is not wanted
	}
	if pre != nil {
		if h.expect {
			rest = (*pre)[:h.contentLength]
		}
		if err := s.sendData(rest, len(h.trailers) == 0); err != nil {
			return err
		}
		return s.sendTrailers(h)
	}
	bp := chunkPool.Get().(*[]byte)
	defer chunkPool.Put(bp)
	var sent int64
	for {
		n, rerr := s.req.Body.Read(*bp)
		sent += int64(n)
		if h.contentLength >= 0 && sent > h.contentLength {
			return &BodyError{errReqBodyTooLong}
		}
		eof := rerr == io.EOF
		if !eof && rerr == nil && h.contentLength >= 0 && sent == h.contentLength {
			// All declared bytes are in: END_STREAM goes on this frame if
			// the body agrees it is over (x/net probes the same way).
			if err := probeEOF(s.req.Body); err != nil {
				return &BodyError{err}
			}
			eof = true
		}
		if eof && h.contentLength >= 0 && sent < h.contentLength {
			return &BodyError{errReqBodyTooShort}
		}
		if rerr != nil && !eof {
			return &BodyError{rerr}
		}
		if n > 0 || eof {
			if err := s.sendData((*bp)[:n], eof && len(h.trailers) == 0); err != nil {
				return err
			}
		}
		if eof {
			return s.sendTrailers(h)
		}
	}
}

// probeEOF reads on after the declared length: EOF is right, a byte is a
// body longer than its ContentLength.
func probeEOF(r io.Reader) error {
	var b [1]byte
	for i := 0; i < 100; i++ {
		n, err := r.Read(b[:])
		switch {
		case n > 0:
			return errReqBodyTooLong
		case err == io.EOF:
			return nil
		case err != nil:
			return err
		}
	}
	return io.ErrNoProgress
}

// errStopped: the stream ended while its body was being sent.
var errStopped = errors.New("h2: stream ended")

// sendData queues p as DATA frames as the windows allow, END_STREAM on the
// last if end; an empty p with end sends an empty END_STREAM frame.
func (s *stream) sendData(p []byte, end bool) error {
	c := s.c
	for first := true; len(p) > 0 || (end && first); first = false {
		c.mu.Lock()
		stalled := false
		for len(p) > 0 && (s.sendWindow <= 0 || c.sendWindow <= 0) && !s.stop.Load() && c.err == nil && s.ctx.Err() == nil {
			if !stalled {
				stalled = true
				c.ctr.stalls.Add(1)
			}
			c.cond.Wait()
		}
		if err := s.stoppedLocked(); err != nil {
			c.mu.Unlock()
			return err
		}
		n := min(int64(len(p)), s.sendWindow, c.sendWindow, int64(c.peerMaxFrame))
		n = max(n, 0)
		s.sendWindow -= n
		c.sendWindow -= n
		c.mu.Unlock()

		q := &c.wq
		q.mu.Lock()
		if err := q.waitRoomLocked(); err != nil {
			q.mu.Unlock()
			return err
		}
		if s.stop.Load() { // checked under wq.mu: no DATA after our RST_STREAM
			q.mu.Unlock()
			return errStopped
		}
		last := end && int(n) == len(p)
		q.buf = appendData(q.buf, s.id, last, p[:n])
		if last {
			s.sendDone.Store(true)
		}
		q.flushLocked(false)
		p = p[n:]
	}
	return nil
}

func (s *stream) stoppedLocked() error {
	switch {
	case s.c.err != nil:
		return s.c.err
	case s.ctx.Err() != nil:
		return context.Cause(s.ctx)
	case s.stop.Load():
		return errStopped
	}
	return nil
}

// sendTrailers queues the request trailers with END_STREAM, if any.
func (s *stream) sendTrailers(h *reqHead) error {
	if len(h.trailers) == 0 {
		return nil
	}
	c := s.c
	q := &c.wq
	q.mu.Lock()
	if s.stop.Load() || q.err != nil {
		q.mu.Unlock()
		return errStopped
	}
	c.mu.Lock()
	maxFrame := int(c.peerMaxFrame)
	c.mu.Unlock()
	c.hbuf.Reset()
	c.encodeTrailersLocked(s.req.Trailer)
	q.buf = appendHeaderBlock(q.buf, s.id, true, c.hbuf.Bytes(), maxFrame)
	s.sendDone.Store(true)
	q.flushLocked(false)
	return nil
}

// await100 waits, with "Expect: 100-continue", for the 100, the final
// response (false: do not send the body), or ExpectContinueTimeout.
func (s *stream) await100() bool {
	traceWait100Continue(s.trace)
	var tc <-chan time.Time
	if d := s.c.cfg.ExpectContinueTimeout; d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		tc = t.C
	}
	select {
	case <-s.cont:
		s.mu.Lock()
		final := s.headDone
		s.mu.Unlock()
		return !final && !s.stop.Load()
	case <-tc:
		return !s.stop.Load()
	case <-s.ctx.Done():
		return false
	}
}

// wakeWriters wakes body writers waiting for a window; c.mu is taken so
// none misses it between its check and its Wait.
func (c *Conn) wakeWriters() {
	c.mu.Lock()
	c.cond.Broadcast()
	c.mu.Unlock()
}

// notifyCont wakes a writer waiting for 100-continue.
func (s *stream) notifyCont() {
	if s.cont != nil {
		select {
		case s.cont <- struct{}{}:
		default:
		}
	}
}

package h2

import (
	"io"
	"net/http"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/spoolhttp/spool/internal/errs"
)

// body is a response body. Its end ends the stream: the last byte read
// before END_STREAM's EOF frees the slot at once (as HTTP/1's framed end);
// Close before that resets the stream (RST_STREAM CANCEL) and frees the
// slot, costing nothing but the one stream; a read error or timeout
// resets it too. A body dropped without Close is reclaimed after GC: a
// runtime cleanup on the body, whose argument is the stream (which never
// points back to the body), resets the stream and reports the leak.
type body struct {
	s       *stream
	resp    *http.Response // receives the trailers at EOF
	closed  atomic.Bool
	eof     atomic.Bool // Read saw the end: the stream is over, its wake channel gone back
	timer   *time.Timer // BodyReadTimeout, made on the first wait
	cleanup runtime.Cleanup
}

// respBody is a response and its body, allocated together; the body's
// cleanup runs once neither is reachable.
type respBody struct {
	resp http.Response
	body body
}

// newBody makes the body of rb's response, in rb.
func (c *Conn) newBody(s *stream, rb *respBody) *body {
	b := &rb.body
	b.s, b.resp = s, &rb.resp
	b.cleanup = runtime.AddCleanup(b, reclaim, s)
	return b
}

// Read returns buffered DATA, waiting for more as long as the peer sends,
// then the stream's end: io.EOF (again on every later Read), or its error.
func (b *body) Read(p []byte) (int, error) {
	s := b.s
	for {
		if b.closed.Load() {
			return 0, s.c.cfg.ErrBodyClosed
		}
		s.mu.Lock()
		if !s.buf.empty() {
			n := s.buf.read(p)
			drained := s.buf.empty()
			inc := s.creditLocked(n)
			end := drained && s.recvEnded && s.err == io.EOF
			s.mu.Unlock()
			if inc > 0 {
				s.c.queueWindowUpdate(s.id, inc, false)
			}
			if end {
				b.atEOF()
			}
			return n, nil
		}
		err := s.err
		s.mu.Unlock()
		if err != nil {
			return 0, b.ended(err)
		}
		if werr := b.wait(); werr != nil {
			s.fail(werr, false)
		}
	}
}

// atEOF ends a stream whose body was read to its end: trailers go to the
// response, the slot is freed, the buffer goes back.
func (b *body) atEOF() {
	s := b.s
	b.cleanup.Stop()
	s.mu.Lock()
	tr := s.trailer
	s.trailer = nil
	s.mu.Unlock()
	for k, vv := range tr {
		if b.resp.Trailer == nil {
			b.resp.Trailer = make(http.Header, len(tr))
		}
		b.resp.Trailer[k] = vv
	}
	s.finish()
	s.releaseBuf()
	s.releaseWake()
	b.eof.Store(true)
}

// ended returns what Read returns once the stream is over.
func (b *body) ended(err error) error {
	s := b.s
	if err == io.EOF {
		if !s.finished.Load() {
			b.atEOF()
		}
		return io.EOF
	}
	b.cleanup.Stop()
	s.finish()
	s.releaseBuf()
	s.releaseWake()
	s.flushReset()
	if err == io.ErrUnexpectedEOF {
		return err // a short body, as net/http reports it
	}
	return s.c.cfg.PublicBodyErr(s.readErr(err))
}

// wait blocks until the reader signals, the context ends, or
// BodyReadTimeout passes; it returns the error that ends the wait, if any.
func (b *body) wait() error {
	s := b.s
	var tc <-chan time.Time
	if d := s.c.cfg.BodyReadTimeout; d > 0 {
		if b.timer == nil {
			b.timer = time.NewTimer(d)
		} else {
			b.timer.Reset(d)
		}
		tc = b.timer.C
		defer b.timer.Stop()
	}
	select {
	case <-s.wake:
		return nil
	case <-s.ctx.Done():
		return s.ctx.Err()
	case <-tc:
		s.c.degradedPing()
		return &errs.TimeoutError{What: "BodyReadTimeout"}
	}
}

// Close ends the stream: before its end, it is reset (RST_STREAM CANCEL)
// and its unread bytes dropped; the conn lives on. A Read blocked in
// another goroutine returns ErrBodyClosed.
func (b *body) Close() error {
	if b.closed.Swap(true) {
		return nil
	}
	b.cleanup.Stop()
	if b.eof.Load() {
		// Nothing left to end, and nobody waits on the stream: a notify
		// now would only leave a token in a wake channel another stream
		// took from the pool (a spurious wakeup there).
		return nil
	}
	s := b.s
	s.fail(s.c.cfg.ErrBodyClosed, false)
	s.finish()
	s.releaseBuf()
	return nil
}

// reclaim runs on the runtime's cleanup goroutine for a body dropped
// unclosed; resetting the stream may take the write queue, so it moves to
// a goroutine of its own.
func reclaim(s *stream) { go reclaimNow(s) }

// reclaimNow counts every body it gets as leaked: the cleanup is stopped
// at EOF, at a Read's error and at Close, so this body was dropped before
// its end and never closed (Stats.LeakedBodies: "bodies never closed"),
// even if its stream ended meanwhile under it (the conn failed or closed
// after a GOAWAY). HTTP/1 counts such a body too: nothing reads its conn
// to notice. The soak saw the difference: a few forgotten HTTP/2 bodies
// per million requests were not counted when the server closed their
// conn before GC ran.
func reclaimNow(s *stream) {
	s.fail(errStreamCancelled, false)
	s.finish() // false if it had ended: then there is nothing to reset
	s.releaseBuf()
	c := s.c
	c.ctr.leaks.Add(1)
	if f := c.cfg.OnLeak; f != nil {
		f(c, s.req.Method, s.req.URL)
	}
}

// releaseBuf drops what is buffered and gives the chunks back.
func (s *stream) releaseBuf() {
	s.mu.Lock()
	s.buf.release()
	s.mu.Unlock()
}

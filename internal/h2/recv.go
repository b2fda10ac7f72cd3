package h2

import (
	"io"
	"net/http"

	"golang.org/x/net/http2"
)

// onHeaders handles a response head, a 1xx, or trailers.
func (c *Conn) onHeaders(f *headBlock) error {
	s, idle := c.lookup(f.id)
	if s == nil {
		if idle {
			// HEADERS on a stream we never opened, or server-initiated
			// with push off (§5.1.1, §8.4).
			return connError(http2.ErrCodeProtocol, "HEADERS on an idle stream")
		}
		return c.onClosedStream(f.id) // its HPACK state is decoded already
	}
	s.mu.Lock()
	ended, headDone := s.recvEnded, s.headDone
	s.mu.Unlock()
	if ended {
		return connError(http2.ErrCodeStreamClosed, errHeadersAfterEnd.Error())
	}
	if headDone {
		return c.onTrailers(s, f)
	}
	if !s.gotFirstByte {
		s.gotFirstByte = true
		traceFirstByte(s.trace)
	}
	rb, err := s.decodeHead(f)
	if err != nil {
		return c.streamError(s.id, http2.ErrCodeProtocol, err)
	}
	if rb == nil {
		return nil // 1xx
	}
	s.gotHead()
	resp := &rb.resp
	resp.TLS = c.tls
	resp.Body = http.NoBody
	switch {
	case f.endStream:
	case s.isHead || resp.StatusCode == http.StatusNoContent || resp.StatusCode == http.StatusNotModified:
		// No content (RFC 9110 §6.4.1): the caller gets NoBody at once, as
		// from net/http; the stream ends here when END_STREAM comes, so no
		// RST_STREAM interrupts a server that is about to end it.
		s.autoFinish = true
	default:
		resp.Body = c.newBody(s, rb)
	}
	s.mu.Lock()
	s.headDone = true
	if s.headGone {
		// The caller gave up before the head came (its context, a
		// timeout) and will never take resp: kept in s, the body would be
		// reachable from its own cleanup's argument (s), so neither would
		// ever be collected, nor the conn s points to.
		if b, ok := resp.Body.(*body); ok {
			b.cleanup.Stop()
		}
	} else {
		s.resp = resp
	}
	if f.endStream {
		s.endLocked()
	}
	s.mu.Unlock()
	s.notify()
	s.notifyCont() // a body waiting for 100-continue learns it is not wanted
	return nil
}

// onTrailers ends the stream with its trailers.
func (c *Conn) onTrailers(s *stream, f *headBlock) error {
	tr, err := decodeTrailers(f)
	if err != nil {
		return connError(http2.ErrCodeProtocol, err.Error())
	}
	s.mu.Lock()
	s.trailer = tr
	s.endLocked()
	s.mu.Unlock()
	s.notify()
	s.recvDone()
	return nil
}

// recvDone finishes, on the reader, a stream whose caller holds NoBody.
func (s *stream) recvDone() {
	if s.autoFinish {
		s.finish()
	}
}

// endLocked records END_STREAM: EOF after the buffered data, or a short
// body if Content-Length promised more. s.mu is held.
func (s *stream) endLocked() {
	s.c.rd.peerClosed.add(s.id) // reader goroutine: endLocked is its
	s.recvEnded = true
	if s.err == nil {
		s.err = io.EOF
		if s.remain > 0 {
			s.err = io.ErrUnexpectedEOF
		}
	}
}

// onData takes a DATA frame: flow control first (its whole length,
// padding included, §6.9.1), then the stream's buffer.
func (c *Conn) onData(f *http2.DataFrame) error {
	n := int32(f.Length)
	if n > c.rd.recvWindow {
		return connError(http2.ErrCodeFlowControl, "DATA beyond the connection window")
	}
	c.rd.recvWindow -= n
	if err := c.returnConnCredit(n); err != nil {
		return err
	}
	s, idle := c.lookup(f.StreamID)
	if s == nil {
		if idle {
			return connError(http2.ErrCodeProtocol, "DATA on an idle stream")
		}
		return c.onClosedStream(f.StreamID) // its credit is back already
	}
	data := f.Data()
	if s.autoFinish && len(data) > 0 {
		return c.streamError(s.id, http2.ErrCodeProtocol, errDataOnHead)
	}
	if s.remain >= 0 {
		if int64(len(data)) > s.remain {
			return c.streamError(s.id, http2.ErrCodeProtocol, errRespTooLong)
		}
		s.remain -= int64(len(data))
	}
	s.mu.Lock()
	switch {
	case !s.headDone:
		s.mu.Unlock()
		return c.streamError(s.id, http2.ErrCodeProtocol, errDataBeforeHeaders)
	case s.recvEnded:
		s.mu.Unlock()
		return connError(http2.ErrCodeStreamClosed, errDataAfterEnd.Error())
	case n > s.recvAvail:
		s.mu.Unlock()
		return c.streamError(s.id, http2.ErrCodeFlowControl, errStreamWindow)
	}
	s.recvAvail -= n
	s.unacked += n - int32(len(data)) // padding is consumed at once
	if len(data) > 0 && s.err == nil {
		s.buf.write(data)
	}
	if f.StreamEnded() {
		s.endLocked()
	}
	s.mu.Unlock()
	s.notify()
	if !f.StreamEnded() {
		c.sampleBDP(n)
	} else {
		s.recvDone()
	}
	return nil
}

// returnConnCredit gives back connection credit at half the conn window.
func (c *Conn) returnConnCredit(n int32) error {
	c.rd.unacked += n
	if c.rd.unacked < c.connWindow/2 {
		return nil
	}
	inc := c.rd.unacked
	c.rd.unacked = 0
	c.rd.recvWindow += inc
	return c.queueWindowUpdate(0, uint32(inc), true)
}

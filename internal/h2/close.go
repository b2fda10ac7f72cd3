package h2

import (
	"errors"
	"io"
	"net"
	"time"

	"golang.org/x/net/http2"
)

const (
	// closeFlushTimeout bounds the writes of a closing conn (its GOAWAY):
	// the close must not wait a full write timeout for a peer that stopped
	// reading.
	closeFlushTimeout = 250 * time.Millisecond
	// lingerTimeout and lingerBytes bound the graceful close after our
	// GOAWAY: we stop writing and read (discarding) until the peer closes,
	// so our close does not turn into a TCP RST that destroys the GOAWAY
	// in flight (RFC 9113 §6.8, §5.4.1).
	lingerTimeout = time.Second
	lingerBytes   = 1 << 20
	// closeGoAwayTimeout bounds Close's courtesy GOAWAY.
	closeGoAwayTimeout = 10 * time.Millisecond
)

// Close closes the conn at once; streams in flight fail. A GOAWAY
// (NO_ERROR) goes out first if nothing else is being written and the
// socket takes it at once. Safe to call more than once and concurrently.
func (c *Conn) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	first := c.err == nil
	if first {
		c.err = net.ErrClosed
	}
	c.mu.Unlock()
	q := &c.wq
	q.mu.Lock()
	// No write in progress: the socket is ours. And the conn was not
	// ending already: the reader's teardown of a connection error sends
	// the GOAWAY with its code (a pool that saw Err() close the conn
	// meanwhile, and its NO_ERROR went first: TestH2HeadersOnClosedStream
	// under a loaded CI run).
	ours := first && q.err == nil && !q.flushing
	var out []byte
	queued := 0 // of out, the queue's bytes (before the GOAWAY)
	if ours {
		q.flushing = true // the queue stops below
		// What the reader's cork holds (an RST_STREAM, a PING ack) goes
		// out before the GOAWAY. out may share q.buf's array, so the
		// queue lets go of it: a later append must not write over it.
		// Requests the write hold kept back, when nothing else is queued,
		// stay unsent: they fail below, and a server should not run what
		// its callers were told failed.
		if q.hold.heldOnly(len(q.buf)) {
			q.buf = q.buf[:0]
		}
		queued = len(q.buf)
		out = appendGoAway(q.buf, http2.ErrCodeNo, "")
		q.buf = nil
	}
	q.mu.Unlock()
	if ours {
		// Close may run on any goroutine, a conn's reader included (the
		// pool closes an evicted conn from OnStreamDone): a GOAWAY that
		// the socket does not take at once is dropped.
		c.nc.SetWriteDeadline(time.Now().Add(closeGoAwayTimeout))
		n, _ := c.nc.Write(out)
		// What went out counts as written, so failStreams tells the
		// streams whose HEADERS left from those that never did.
		q.mu.Lock()
		q.written += uint64(min(n, queued))
		q.mu.Unlock()
	}
	q.stop(net.ErrClosed)
	err := c.closeSocket()
	c.failStreams(net.ErrClosed)
	return err
}

// closeDrained closes a conn that refuses new streams (GOAWAY received,
// degraded) once its last stream ended.
func (c *Conn) closeDrained() {
	c.mu.Lock()
	if c.err != nil || len(c.streams) > 0 || c.reserved > 0 {
		c.mu.Unlock()
		return
	}
	c.err = c.refusalLocked()
	if c.goAway {
		c.err = errClosedAfterGoAway
	}
	c.mu.Unlock()
	c.wq.stop(c.err)
	c.closeSocket()
}

// writeFailed is the write queue's report of a failed write: the peer
// stopped reading (deadline) or the socket broke. The conn fails; closing
// the socket ends the reader, which tears down the rest.
func (c *Conn) writeFailed(err error) {
	c.setErr(&lostError{err})
	c.closeSocket()
}

// setErr records the conn's failure, the first one only; it reports
// whether this call set it.
func (c *Conn) setErr(err error) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return false
	}
	c.err = err
	return true
}

// teardown runs on the reader when it stops: the conn fails with the
// cause, every open stream with it; a connection error we detected sends
// GOAWAY with its code, flushed, then the graceful close.
func (c *Conn) teardown(readErr error) {
	c.health.stop()
	defer c.dropWatch() // after the last holder: the reader is the last to read
	var ce *connErr
	isConnErr := errors.As(readErr, &ce)
	var xce http2.ConnectionError
	if !isConnErr && errors.As(readErr, &xce) { // the Framer's
		ce, isConnErr = &connErr{code: http2.ErrCode(xce), reason: "frame error"}, true
	}
	cause := readErr
	if readErr == io.EOF {
		cause = io.ErrUnexpectedEOF // the peer hung up under open streams
	}
	c.mu.Lock()
	if c.goAway && !isConnErr && c.err == nil {
		c.err = errClosedAfterGoAway
	}
	mine := c.err == nil
	if mine {
		c.err = &lostError{cause}
	}
	err := c.err
	if err == errClosedAfterGoAway {
		// The conn's own error keeps pool.ErrServerClosed (a server close
		// for Stats); its streams get x/net's GoAwayError, typed with the
		// frame's code, as x/net and net/http give them.
		err = http2.GoAwayError{LastStreamID: c.goAwayID, ErrCode: c.goAwayCode}
	}
	c.mu.Unlock()
	if mine && isConnErr {
		// The GOAWAY goes out before the streams learn of the failure: a
		// program that exits on their error must not take it with it.
		q := &c.wq
		q.closing.Store(true)
		// A write in progress gets the short bound too: a peer that does
		// not read must not hold the streams' failure for a write timeout.
		c.nc.SetWriteDeadline(time.Now().Add(closeFlushTimeout))
		q.mu.Lock()
		if q.err == nil {
			q.buf = appendGoAway(q.buf, ce.code, ce.reason)
		}
		q.mu.Unlock()
		q.waitIdle()
	}
	c.failStreams(err)
	if mine && isConnErr {
		c.linger()
	}
	c.wq.stop(err)
	c.nc.Close()
}

// linger stops writing and reads until the peer closes, within bounds.
func (c *Conn) linger() {
	if cw, ok := c.nc.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
	}
	c.nc.SetReadDeadline(time.Now().Add(lingerTimeout))
	io.CopyN(io.Discard, c.br, lingerBytes)
}

// failStreams ends every open stream with err (a lost or closed conn). A
// stream whose HEADERS never left the write queue (queued behind a write
// that failed, not yet written, or held back and dropped by Close) fails
// as not processed,
// so the root replays it on another conn whatever its method (DESIGN
// decision 3): the server cannot have seen it. Its HEADERS end past what
// the socket took, or may have taken, when the conn failed.
func (c *Conn) failStreams(err error) {
	c.mu.Lock()
	ss := make([]*stream, 0, len(c.streams))
	for _, s := range c.streams {
		ss = append(ss, s)
	}
	c.reserved = 0
	c.cond.Broadcast()
	c.mu.Unlock()
	var unsent []bool
	if len(ss) > 0 {
		// Every stream in ss has its headEnd: openLocked registered it and
		// start set headEnd under one hold of wq.mu.
		unsent = make([]bool, len(ss))
		q := &c.wq
		q.mu.Lock()
		sent := q.mayHaveSentLocked()
		for i, s := range ss {
			unsent[i] = s.headEnd > sent
		}
		// Nothing more goes out: a flusher at work would otherwise write
		// the HEADERS of streams just judged unsent (the socket may still
		// take writes, after a peer's half-close), and a replayed POST
		// would reach two servers.
		if q.err == nil {
			q.err = err
		}
		q.buf = nil
		q.drained.Broadcast()
		q.mu.Unlock()
	}
	for i, s := range ss {
		if unsent != nil && unsent[i] {
			c.ctr.replays.Add(1)
			s.fail(s.notProcessed(err), true)
		} else {
			s.fail(err, true)
		}
		s.finish()
	}
}

package h2

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"os"
	"time"
)

// The reader's write cork (design-notes 25): while the reader has whole
// frames at hand it holds the write queue, so the requests of the streams
// it answers go out together.

// corkWhileReady corks the write queue while the next frame can be read
// without waiting on the socket and other streams are open (the frames
// wake their goroutines, which queue their next requests), and uncorks it
// before a read that may wait. One stream alone is never corked: its next
// request goes out at once.
//
// The reader never yields here. It did once (a Gosched before uncorking,
// so the goroutines it woke would join the write: 0.17 instead of 0.20
// writes per request against nginx at 16 streams), but on a loaded
// machine each yield sent the reader behind every runnable goroutine: it
// fell more than a second behind the socket, net/http's server closed
// the conn one second after its last stream (goAwayTimeout) with our
// frames unread, and the TCP reset destroyed responses we had not read
// yet (the soak, 4 parallel runs on 2 cores: 4 of 4 failed with the
// yield, 0 of 4 without). The flusher that uncork starts yields instead
// (writeQueue.flush), which costs the reader nothing.
func (c *Conn) corkWhileReady() {
	ready := c.open.Load() > 1 && (c.nextFrameBuffered() || c.peekFrame())
	if !ready && c.rd.peeking {
		c.rd.peeking = false
		c.nc.SetReadDeadline(time.Time{})
	}
	switch {
	case ready && !c.rd.corked:
		c.rd.corked = true
		c.wq.cork()
	case !ready && c.rd.corked:
		c.rd.corked = false
		c.wq.uncork()
	}
}

// nextFrameBuffered: the read buffer holds the whole next frame.
func (c *Conn) nextFrameBuffered() bool {
	n := c.br.Buffered()
	if n < frameHeaderLen {
		return false
	}
	h, _ := c.br.Peek(frameHeaderLen)
	return n >= frameHeaderLen+frameLen(h)
}

func frameLen(h []byte) int { return int(h[0])<<16 | int(h[1])<<8 | int(h[2]) }

// peekFrame reports, over TLS, whether the next frame is in what crypto/tls
// has read already. tls.Conn returns one record per Read, so the read
// buffer holds one record even when one socket read brought several (a
// server answering a batch of streams writes them at once; nginx puts each
// response in a record of its own). With the read deadline in the past,
// Peek decrypts the records TLS holds and fails at once where it would
// wait: crypto/tls keeps a partial record and treats the timeout as
// temporary, and bufio hands the error out once. The deadline stays until
// corkWhileReady finds no ready frame, and every frame read meanwhile is
// whole in the buffer, so no read of a frame sees it.
func (c *Conn) peekFrame() bool {
	if !c.rd.canPeek {
		return false // plain TCP: bufio has what the socket had
	}
	if !c.rd.peeking {
		if c.nc.SetReadDeadline(pastDeadline) != nil {
			c.rd.canPeek = false
			return false
		}
		c.rd.peeking = true
	}
	h, err := c.br.Peek(frameHeaderLen)
	if err != nil {
		return false
	}
	n := frameHeaderLen + frameLen(h)
	if n > c.br.Size() {
		return false
	}
	_, err = c.br.Peek(n)
	return err == nil
}

// pastDeadline makes a read fail at once instead of waiting.
var pastDeadline = time.Unix(1, 0)

// readSource is what the read buffer reads from: nc, or over crypto/tls
// (whose deadlines peekFrame relies on) a peekReader.
func (c *Conn) readSource() io.Reader {
	tc, ok := c.nc.(*tls.Conn)
	if !ok || !peekSafe(tc) {
		return c.nc
	}
	c.rd.canPeek = true
	return peekReader{c}
}

// peekSafe: the conn under tc is a socket of the net package (or TLS over
// one, as through an HTTPS proxy), whose read deadline fails a read at once
// with an error crypto/tls forgets (a Temporary net.Error). Over other
// conns a user's DialContext returns, peeking is off: crypto/tls keeps any
// other error for good (a wrapped timeout, yamux's non-Temporary one),
// which would kill the conn at the first miss, and a conn that ignores
// read deadlines would block the peek with the queue corked. A wrapper
// that passes deadlines and Read errors through unchanged says so by
// exposing its socket as tls.Conn does, with NetConn (the bench's
// counting conn does).
func peekSafe(tc *tls.Conn) bool {
	return peekSafeConn(tc.NetConn(), maxPeekUnwrap)
}

// maxPeekUnwrap bounds the NetConn chain peekSafeConn follows.
const maxPeekUnwrap = 4

func peekSafeConn(nc net.Conn, depth int) bool {
	switch nc := nc.(type) {
	case *net.TCPConn, *net.UnixConn:
		return true
	case interface{ NetConn() net.Conn }: // *tls.Conn, or a declared pass-through wrapper
		return depth > 0 && peekSafeConn(nc.NetConn(), depth-1)
	}
	return false
}

// peekReader reads nc, dropping the timeout of a read that returned bytes
// (tls.Conn does so when an alert record it looks at after the data is
// incomplete and the read deadline is past, for a peek or a caller's
// interrupted read: handoff.go): bufio would keep that error and hand it
// to a later read, which must not see it. The deadline is still past, so
// the next Read returns the timeout itself; a timeout with no bytes is
// the miss, and bufio returns it to that Peek alone.
type peekReader struct{ c *Conn }

func (r peekReader) Read(p []byte) (int, error) {
	n, err := r.c.nc.Read(p)
	if n > 0 && err != nil && errors.Is(err, os.ErrDeadlineExceeded) {
		err = nil // the deadline is still past: the next Read returns it
	}
	return n, err
}

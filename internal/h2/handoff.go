package h2

import (
	"errors"
	"net"
	"os"
	"time"
)

// The read hand-off (design-notes 28): one goroutine at a time reads the
// conn's frames, the holder of its reads. Usually that is the reader
// goroutine. When nothing needs reading (no stream waits for frames, no
// PING or SETTINGS of ours unanswered), the reader parks on a channel
// instead of the socket, and the next request whose stream is the conn's
// only one reads its response itself: one goroutine wake-up per request
// instead of two (netpoll wakes the caller, not the reader which then
// wakes the caller), and no EAGAIN read of a reader going back to the
// socket. At 1 stream against nginx this is most of what separated
// spool's CPU per request from its target (docs/h2-cpu-1-stream-2026-12-01.md).
//
// A caller's read must be interruptible without losing bytes: its
// context, ResponseHeaderTimeout and CancelRequest put the read deadline
// in the past (stream.fail), and it reads only whole frames (Peek, then
// the Framer from the buffer). So the hand-off is on only over sockets
// whose deadlines fail a read at once and forget it: TCP, Unix, and TLS
// over those (the peek's rule, peekSafe). Anything else keeps the reader
// on the socket.
//
// The reader parks for parkLinger at most: then it reads the socket
// again, so an idle conn sees a server's GOAWAY, close or bad frame as
// promptly as net/http's (a request in that instant races it as it would
// race the reader). A PING of ours, Close and a stream that waits for
// frames resume it at once. Any error a caller's read meets goes to the
// reader goroutine, which tears the conn down as always.

// Who holds the conn's reads (Conn.owner, written under mu).
const (
	ownReader = iota // the reader goroutine reads the socket
	ownNone          // the reader is parked; nobody reads
	ownCaller        // a caller reads (Conn.holder: its stream)
)

// parkLinger is how long the reader stays parked: long enough for the
// next request of a caller that loops on the conn, short enough that an
// idle conn is read as if the reader never stopped (HTTP/1's checkout
// peek skips conns idle for less: a close in that instant is the race a
// replay covers).
const parkLinger = time.Millisecond

// Unacked PINGs of ours (Conn.pingsOut, guarded by mu): the reader does
// not park while one is out, or its ack would go unread.
const (
	pingOutHealth = 1 << iota
	pingOutDegraded
)

// errHolderPanicked fails a conn whose reads a caller held when code it
// ran (a trace hook, a pool callback) panicked: the frame at hand may be
// half handled, and nobody would read the conn again.
var errHolderPanicked = errors.New("h2: a hook panicked while its caller read the conn")

// canHandOff: nc's read deadlines interrupt a read without breaking it:
// the peek's rule (peekSafeConn): a socket of the net package, TLS over
// one, or a wrapper that declares itself a pass-through with NetConn.
func canHandOff(nc net.Conn) bool { return peekSafeConn(nc, maxPeekUnwrap) }

// park stops the reader until someone needs it, if nothing needs reading;
// it returns the error a caller's read handed over, if any.
func (c *Conn) park() error {
	if !c.quietReader() {
		return nil
	}
	c.mu.Lock()
	if c.wantRead || !c.parkableLocked() {
		c.wantRead = false
		c.mu.Unlock()
		return nil
	}
	c.parkLocked()
	c.mu.Unlock()
	<-c.resume
	err := c.rd.handErr
	c.rd.handErr = nil
	return err
}

// quietReader: the read state lets the reader park (cheap checks, done
// by the holder without a lock).
func (c *Conn) quietReader() bool {
	return c.handOff && c.open.Load() <= 1 && c.rd.gotSettings && c.rd.wantAcks == 0 &&
		!c.rd.bdp.pinging && !c.rd.peeking && c.br.Buffered() == 0
}

// parkableLocked: no stream waits for frames (each open one has its whole
// response and sent its whole request) and no PING of ours is out. mu is
// held; the caller checked quietReader.
func (c *Conn) parkableLocked() bool {
	if c.err != nil || c.pingsOut != 0 || len(c.streams) > 1 {
		return false
	}
	for _, s := range c.streams {
		if !s.sendDone.Load() {
			return false
		}
		s.mu.Lock()
		ended := s.recvEnded
		s.mu.Unlock()
		if !ended {
			return false
		}
	}
	return true
}

// parkLocked leaves the reads to nobody for parkLinger at most.
func (c *Conn) parkLocked() {
	c.owner.Store(ownNone)
	c.parkT.Reset(c.cfg.parkLinger)
}

// needReader makes sure the conn's frames are read: a parked reader
// resumes; a running one, or a caller holding the reads, is told not to
// park (the caller hands the reads back when it is done).
func (c *Conn) needReader() {
	c.mu.Lock()
	c.needReaderLocked()
	c.mu.Unlock()
}

func (c *Conn) needReaderLocked() {
	if c.owner.Load() == ownNone {
		c.owner.Store(ownReader)
		c.resume <- struct{}{} // cap 1, one resume per park: never blocks
		return
	}
	c.wantRead = true
}

// closeSocket closes nc and wakes a parked reader, which then sees the
// close and tears the conn down.
func (c *Conn) closeSocket() error {
	err := c.nc.Close()
	if c.handOff {
		c.needReader()
	}
	return err
}

// hold gives s the conn's reads if the reader is parked and s, fully
// sent, is the conn's only stream; a parked reader that s may not replace
// resumes, since s waits for frames.
func (c *Conn) hold(s *stream) bool {
	if !c.handOff || c.owner.Load() != ownNone { // the common case at many streams: no lock
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.owner.Load() != ownNone {
		return false
	}
	if len(c.streams) != 1 || c.streams[s.id] != s || !s.sent.Load() {
		c.needReaderLocked()
		return false
	}
	c.owner.Store(ownCaller)
	c.holds.Add(1)
	c.holder.Store(s)
	c.parkT.Stop() // a late one only sends the reads to the reader at unhold
	return true
}

// readForHead reads the conn's frames on s's caller until s has its head
// or its error and no whole frame is left buffered, then hands the reads
// on.
func (s *stream) readForHead() {
	c := s.c
	c.watchHolder(s)
	handed := false
	defer func() {
		if !handed { // a hook of the caller's (a trace, OnStreamDone) panicked
			c.unhold(errHolderPanicked)
		}
	}()
	var err error
	// After the head, the frames already buffered are read too (the
	// body's DATA, usually): left there, they would send the reads to
	// the reader goroutine.
	for !s.headOrErr() || c.nextFrameBuffered() {
		if err = c.readWhole(); err != nil {
			break
		}
		c.wq.holdRecheck() // another stream's head may end a hold
	}
	c.unwatchHolder(s)
	handed = true
	c.unhold(err)
}

// headOrErr: the caller has something to return.
func (s *stream) headOrErr() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.resp != nil || s.err != nil
}

// readWhole reads and handles one frame, waiting on the socket only until
// the whole frame is buffered: an interrupted wait leaves the buffer as
// it was, for the next holder.
func (c *Conn) readWhole() error {
	h, err := c.br.Peek(frameHeaderLen)
	if err == nil {
		if n := frameHeaderLen + frameLen(h); n <= c.br.Size() {
			_, err = c.br.Peek(n)
		} // else the Framer rejects its size without reading on
	}
	if err != nil {
		return err
	}
	return c.readOne()
}

// interrupt ends the wait of s's caller on the socket, if it holds the
// reads: the read deadline goes to the past until unhold.
func (c *Conn) interrupt(s *stream) {
	c.mu.Lock()
	if c.owner.Load() == ownCaller && c.holder.Load() == s && !c.interrupted {
		c.interrupted = true
		c.nc.SetReadDeadline(pastDeadline)
	}
	c.mu.Unlock()
}

// unhold hands the reads on after a caller's read: back to the parked
// state if nothing needs reading, else to the reader goroutine, with err
// if the read failed (the interrupt's timeout is no failure).
func (c *Conn) unhold(err error) {
	c.mu.Lock()
	if c.interrupted {
		c.interrupted = false
		c.nc.SetReadDeadline(time.Time{})
		if errors.Is(err, os.ErrDeadlineExceeded) {
			err = nil
		}
	}
	c.holder.Store(nil)
	if err == nil && !c.wantRead && c.quietReader() && c.parkableLocked() {
		c.parkLocked()
		c.mu.Unlock()
		return
	}
	c.rd.handErr = err
	c.wantRead = false
	c.owner.Store(ownReader)
	c.mu.Unlock()
	c.resume <- struct{}{}
}

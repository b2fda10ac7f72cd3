package testnet

import (
	"io"
	"sync"
)

// pipe is one direction of a Conn: an unbounded byte buffer from the
// writing end to the reading end. Writes never block, so a test written as
// one goroutine can write a whole request and then read the response.
//
// Waiting is done on channels, never on the mutex: inside a synctest bubble
// a goroutine blocked on a bubble channel is durably blocked (fake time may
// advance), one blocked on a mutex is not. The mutex is only ever held for
// a few instructions.
type pipe struct {
	mu         sync.Mutex
	buf        []byte        // guarded by mu; written and not yet read
	eof        bool          // guarded by mu; writer sent FIN: reader gets io.EOF once buf drains
	reset      bool          // guarded by mu; either end reset: both ends fail at once, buf is lost (as with a TCP RST)
	readerGone bool          // guarded by mu; reader closed: writes succeed and are dropped, as a kernel accepts bytes for a peer that already sent FIN
	changed    chan struct{} // guarded by mu; closed and replaced on every state change (a broadcast readers wait on)
}

func newPipe() *pipe { return &pipe{changed: make(chan struct{})} }

// broadcastLocked wakes every waiting reader. A fresh channel per change
// means no wake-up is ever lost, whatever the number of readers.
func (p *pipe) broadcastLocked() {
	close(p.changed)
	p.changed = make(chan struct{})
}

// read copies buffered bytes into b. When there is nothing to return yet
// it returns the channel to wait on instead.
func (p *pipe) read(b []byte) (n int, err error, wait <-chan struct{}) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case p.reset:
		return 0, errReset, nil
	case len(p.buf) > 0:
		n = copy(b, p.buf)
		p.buf = p.buf[n:]
		if len(p.buf) == 0 {
			p.buf = nil // let the backing array go
		}
		return n, nil, nil
	case p.eof:
		return 0, io.EOF, nil
	}
	return 0, nil, p.changed
}

// write appends b for the reader. It reports errReset after a reset.
func (p *pipe) write(b []byte) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.reset {
		return errReset
	}
	if p.readerGone {
		return nil
	}
	p.buf = append(p.buf, b...)
	p.broadcastLocked()
	return nil
}

// closeWrite is the writer's FIN.
func (p *pipe) closeWrite() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.eof = true
	p.broadcastLocked()
}

// closeRead is the reader going away: unread bytes are dropped.
func (p *pipe) closeRead() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.readerGone = true
	p.buf = nil
}

// resetPipe is an RST: both ends fail from now on, buffered bytes are lost.
func (p *pipe) resetPipe() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.reset = true
	p.buf = nil
	p.broadcastLocked()
}

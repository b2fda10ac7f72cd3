package testnet

import (
	"net"
	"sync"
)

// Listener is a net.Listener on a Network. Dials queue up without limit
// (an infinite backlog) until Accept takes them.
type Listener struct {
	nw   *Network
	key  string // the address string Dial must match
	addr net.Addr

	mu       sync.Mutex
	pending  []*Conn       // guarded by mu; server ends dialed, not yet accepted
	closed   bool          // guarded by mu
	accepted int           // guarded by mu
	changed  chan struct{} // guarded by mu; closed and replaced when pending or closed changes
}

// Accept waits for a dialed connection and returns its server end, a *Conn.
func (l *Listener) Accept() (net.Conn, error) {
	for {
		l.mu.Lock()
		if l.closed {
			l.mu.Unlock()
			return nil, &net.OpError{Op: "accept", Net: "tcp", Addr: l.addr, Err: net.ErrClosed}
		}
		if len(l.pending) > 0 {
			c := l.pending[0]
			l.pending = l.pending[1:]
			l.accepted++
			l.mu.Unlock()
			return c, nil
		}
		wait := l.changed
		l.mu.Unlock()
		<-wait
	}
}

// Close stops accepting; connections dialed but not accepted are reset,
// as a kernel does with its backlog.
func (l *Listener) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return &net.OpError{Op: "close", Net: "tcp", Addr: l.addr, Err: net.ErrClosed}
	}
	l.closed = true
	pending := l.pending
	l.pending = nil
	l.broadcastLocked()
	l.mu.Unlock()

	l.nw.removeListener(l.key, l)
	for _, c := range pending {
		c.Reset()
	}
	return nil
}

func (l *Listener) Addr() net.Addr { return l.addr }

// Accepted is the number of connections Accept has returned.
func (l *Listener) Accepted() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.accepted
}

// enqueue hands a server end to Accept; false if the listener is closed.
func (l *Listener) enqueue(c *Conn) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return false
	}
	l.pending = append(l.pending, c)
	l.broadcastLocked()
	return true
}

func (l *Listener) broadcastLocked() {
	close(l.changed)
	l.changed = make(chan struct{})
}

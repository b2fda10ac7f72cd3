package h2

import (
	"sync"
	"sync/atomic"
	"time"
)

// PING payloads start with what they are for.
const (
	pingHealth   = 'h'
	pingDegraded = 'd'
	pingBDP      = 'b'
)

// degradedPingTimeout: after a stream's timeout the conn is pinged; no ack
// within this long and it takes no new streams (OkHttp's degraded PING): a
// timeout on a conn whose peer is gone should not send the next request
// into the same hole.
const degradedPingTimeout = time.Second

// health is the PING health check: one timer per conn, no goroutine. Each
// tick (every ReadIdleTimeout) looks whether a frame was read since the
// last; if none, it PINGs and the next tick, PingTimeout later, fails the
// conn unless the ack came.
type health struct {
	c       *Conn
	seen    atomic.Bool // a frame was read since the last tick
	mu      sync.Mutex
	t       *time.Timer // guarded by mu
	waiting bool        // guarded by mu: a health PING is unanswered
	degT    *time.Timer // guarded by mu
	degOut  bool        // guarded by mu: a degraded PING is unanswered
	stopped bool        // guarded by mu
}

func (c *Conn) startHealth() {
	h := &c.health
	h.c = c
	if d := c.cfg.ReadIdleTimeout; d > 0 {
		h.mu.Lock()
		h.t = time.AfterFunc(d, h.tick)
		h.mu.Unlock()
	}
}

func (h *health) tick() {
	c := h.c
	h.mu.Lock()
	if h.stopped {
		h.mu.Unlock()
		return
	}
	if h.waiting {
		h.mu.Unlock()
		c.ctr.pingsFailed.Add(1)
		if c.setErr(&lostError{errPingTimeout}) {
			c.closeSocket() // the reader fails the streams
		}
		return
	}
	if h.seen.Swap(false) {
		h.t.Reset(c.cfg.ReadIdleTimeout)
		h.mu.Unlock()
		return
	}
	h.waiting = true
	h.t.Reset(c.cfg.PingTimeout)
	h.mu.Unlock()
	c.pingOut(pingOutHealth)
	c.queuePing(false, [8]byte{pingHealth}, true)
}

func (h *health) onAck(data [8]byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case h.stopped:
	case data[0] == pingHealth && h.waiting:
		h.waiting = false
		h.t.Reset(h.c.cfg.ReadIdleTimeout)
	case data[0] == pingDegraded && h.degOut:
		h.degOut = false
		h.degT.Stop()
	}
}

func (h *health) stop() {
	h.mu.Lock()
	h.stopped = true
	if h.t != nil {
		h.t.Stop()
	}
	if h.degT != nil {
		h.degT.Stop()
	}
	h.mu.Unlock()
}

// degradedPing pings after a stream's timeout, unless a degraded PING is
// already out. The caller (a timed-out request) does not wait for it.
func (c *Conn) degradedPing() {
	h := &c.health
	h.mu.Lock()
	if h.degOut || h.stopped {
		h.mu.Unlock()
		return
	}
	h.degOut = true
	if h.degT == nil {
		h.degT = time.AfterFunc(degradedPingTimeout, h.degradedExpired)
	} else {
		h.degT.Reset(degradedPingTimeout)
	}
	h.mu.Unlock()
	c.pingOut(pingOutDegraded)
	c.queuePing(false, [8]byte{pingDegraded}, true)
}

func (h *health) degradedExpired() {
	h.mu.Lock()
	out := h.degOut && !h.stopped
	h.degOut = false
	h.mu.Unlock()
	if !out {
		return
	}
	c := h.c
	c.mu.Lock()
	c.degraded = true
	c.pingsOut &^= pingOutDegraded // no ack: nothing to read it for
	c.mu.Unlock()
	c.closeDrained()
}

// pingOut marks a PING of ours as out before it is queued: the reads go
// on (a parked reader resumes) until its ack clears the mark (ackedPing).
func (c *Conn) pingOut(bit int) {
	c.mu.Lock()
	c.pingsOut |= bit
	if c.handOff {
		c.needReaderLocked()
	}
	c.mu.Unlock()
}

func (c *Conn) ackedPing(bit int) {
	c.mu.Lock()
	c.pingsOut &^= bit
	c.mu.Unlock()
}

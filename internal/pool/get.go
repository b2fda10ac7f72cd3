package pool

import (
	"context"
	"time"
)

// GetInfo describes how Get found its conn.
type GetInfo struct {
	Reused   bool          // the conn had been checked out before
	WasIdle  bool          // it came off the idle list
	IdleTime time.Duration // how long it was idle (WasIdle only)
	Waited   time.Duration // time spent in the wait queue (0 when a conn was at hand)
	Queued   bool          // it waited in the queue (for a dial or a conn put back)
	Conn     uint64        // the conn's ID: 1, 2, … in the order the pool tracked them
}

// Get returns a conn for key with one slot reserved (Reserve already called).
//
// In order it tries: a multiplexed conn in use with spare capacity; the most
// recently idled conn (LIFO), checked with CheckIdle (or Err) outside the lock,
// or, for a multiplexed conn that is no IdleChecker, with Err under it (a failed
// conn is closed, counted ReasonServerClosed or ReasonBroken, and the next one
// tried); else it queues (FIFO per key) and a dial starts when
// MaxConnsPerHost allows. The dial runs in its own goroutine with
// context.WithoutCancel(ctx), cancelled only by Close; a conn put back in the
// meantime goes to the front waiter and the dial, when done, serves the next
// waiter or lands idle. A fresh conn serves every waiter it has room for.
// When no idle conns are kept, an HTTP/1 conn serves only the Get it was
// dialed for (see placeLocked).
//
// Errors: a dial error goes to the waiter whose dial it was, as returned by
// dial. ctx ending while queued, ErrWaitQueueFull and ErrPoolClosed come as
// *errs.Error{Op: errs.OpPoolWait}.
//
// forceNew skips conns already used and waits for a fresh dial (the one
// transparent retry after a reused conn failed); at the MaxConnsPerHost limit
// it closes the least recently used idle conn of key to make room.
//
// Get counts a request in Stats.Requests.
func (p *Pool[C]) Get(ctx context.Context, key Key, dial DialFunc[C], forceNew bool) (C, GetInfo, error) {
	return p.get(ctx, key, dial, forceNew, true, nil)
}

// GetTagged is Get for a caller whose wait may be cancelled from elsewhere
// by CancelWait(key, tag, err). A replay (of a request a Get already
// counted) is not counted again, so that Stats.Requests is the requests
// callers made; forceNew is the owner's call: HTTP/1's keep-alive race
// wants a fresh conn, while an HTTP/2 stream the server did not process
// may go to any conn.
func (p *Pool[C]) GetTagged(ctx context.Context, key Key, dial DialFunc[C], forceNew, replay bool, tag WaitTag) (C, GetInfo, error) {
	return p.get(ctx, key, dial, forceNew, !replay, tag)
}

func (p *Pool[C]) get(ctx context.Context, key Key, dial DialFunc[C], forceNew, count bool, tag WaitTag) (C, GetInfo, error) {
	for {
		c, info, err, done := p.getOnce(ctx, key, dial, forceNew, count, tag)
		if done {
			return c, info, err
		}
		count = false
	}
}

// getOnce makes one attempt; done=false means an idle conn failed its check
// and Get should look again.
func (p *Pool[C]) getOnce(ctx context.Context, key Key, dial DialFunc[C], forceNew, count bool, tag WaitTag) (c C, info GetInfo, err error, done bool) {
	b := p.batch()
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return c, info, waitErr(ErrPoolClosed), true
	}
	h := p.hostLocked(key)
	if count {
		h.rec.s.Requests++ // here, under the lock Get takes anyway
	}
	var clk clock // read when needed: an idle conn's expiry, a wait's start
	if !forceNew {
		e, reserved := p.takeLocked(h, &clk, &b)
		if e != nil {
			info = p.checkoutLocked(e, &clk, !reserved)
			if !reserved && e.lockedCheck {
				ok := p.reserveIdleLocked(e, info, &clk, &b)
				p.mu.Unlock()
				b.close()
				return e.c, info, nil, ok
			}
			p.mu.Unlock()
			b.close()
			if !reserved && !p.checkIdle(e, info) {
				return c, info, nil, false
			}
			return e.c, info, nil, true
		}
	}
	w, err := p.enqueueLocked(ctx, h, dial, forceNew, clk.now(), &b, tag)
	p.mu.Unlock()
	b.close()
	if err != nil {
		return c, info, err, true
	}
	c, info, err = p.wait(ctx, w)
	return c, info, err, true
}

// takeLocked finds a usable conn of h. A multiplexed conn comes back already
// reserved (reserved=true); an idle conn comes back off the idle lists and not
// yet reserved: the caller checks it, with reserveIdleLocked under the lock
// (entry.lockedCheck) or with checkIdle outside it.
// Expired idle conns met on the way are removed and added to b.
func (p *Pool[C]) takeLocked(h *host[C], clk *clock, b *closeBatch[C]) (e *entry[C], reserved bool) {
	for e = h.shared.front; e != nil; e = h.shared.front {
		// Multiplexed conns' Err is cheap (the conn's own small mutex for
		// HTTP/2), fine under the lock.
		if err := e.c.Err(); err != nil {
			p.removeLocked(e, reasonFor(err), b)
			continue
		}
		if p.lifetimeOverLocked(e, clk) {
			p.retireLocked(e, ReasonLifetime)
			continue
		}
		if e.c.Reserve() != nil { // full after all
			p.unshareLocked(e)
			continue
		}
		if e.c.Available() == 0 {
			p.unshareLocked(e)
		}
		return e, true
	}
	for e = h.idle.front; e != nil; e = h.idle.front {
		if why, over := p.expiredLocked(e, clk); over {
			p.removeLocked(e, why, b) // closed while idle
			continue
		}
		p.unidleLocked(e)
		p.idleLocked(e, false, b)
		return e, false
	}
	return nil, false
}

// checkIdle runs the checkout health check on an idle conn taken by
// takeLocked, outside the lock, and reserves it. On failure the conn is
// closed and forgotten and checkIdle reports false.
func (p *Pool[C]) checkIdle(e *entry[C], info GetInfo) bool {
	var err error
	if ic, ok := any(e.c).(IdleChecker); ok {
		err = ic.CheckIdle(info.IdleTime)
	} else {
		err = e.c.Err()
	}
	if err == nil {
		err = e.c.Reserve()
	}
	if err == nil {
		if e.mux && e.c.Available() > 0 { // multiplexed: let others share it
			b := p.batch()
			p.mu.Lock()
			var clk clock
			p.placeLocked(e, &clk, &b, false)
			p.settleLocked(e.h, &b)
			p.mu.Unlock()
			b.close()
		}
		return true
	}
	b := p.batch()
	p.mu.Lock()
	p.uncheckoutLocked(e, info)
	p.removeLocked(e, reasonFor(err), &b)
	p.settleLocked(e.h, &b)
	p.mu.Unlock()
	b.close()
	return false
}

// reserveIdleLocked is checkIdle for a conn whose checks are cheap
// (entry.lockedCheck: multiplexed, no IdleChecker), run under the lock
// getOnce holds: Err is cheap there, as for the shared conns takeLocked
// checks. It saves HTTP/2's every checkout of a conn that went
// idle (the single-stream case) a second lock and a second clock reading:
// clk is getOnce's, which no waiter's start can be later than. On failure
// the conn is added to b and forgotten, as checkIdle does, and getOnce
// looks again.
func (p *Pool[C]) reserveIdleLocked(e *entry[C], info GetInfo, clk *clock, b *closeBatch[C]) bool {
	err := e.c.Err()
	if err == nil {
		err = e.c.Reserve()
	}
	if err != nil {
		p.uncheckoutLocked(e, info)
		p.removeLocked(e, reasonFor(err), b)
		p.settleLocked(e.h, b)
		return false
	}
	if e.c.Available() > 0 { // let others share it
		p.placeLocked(e, clk, b, false)
		p.settleLocked(e.h, b)
	}
	return true
}

// checkoutLocked books one checkout of e, whose slot is (or is about to be)
// reserved. It reads clk only for a conn that was idle.
func (p *Pool[C]) checkoutLocked(e *entry[C], clk *clock, wasIdle bool) GetInfo {
	info := GetInfo{Reused: e.uses > 0, Conn: e.id}
	if wasIdle {
		info.WasIdle = true
		info.IdleTime = clk.now().Sub(e.idleAt)
	}
	if info.Reused {
		e.h.rec.s.Reuses++
	}
	e.uses++
	e.out++
	if max := p.cfg.MaxRequestsPerConn; max > 0 && e.uses >= max {
		p.retireLocked(e, ReasonMaxRequests)
	}
	if p.cfg.SingleUse {
		p.retireLocked(e, ReasonNotReusable) // no waiter may share it
	}
	return info
}

// uncheckoutLocked undoes checkoutLocked for a checkout that did not happen
// (failed health check, or the waiter had gone).
func (p *Pool[C]) uncheckoutLocked(e *entry[C], info GetInfo) {
	e.uses--
	e.out--
	if info.Reused {
		e.h.rec.s.Reuses--
	}
	if e.retired && e.why == ReasonMaxRequests && e.uses < p.cfg.MaxRequestsPerConn ||
		e.retired && e.why == ReasonNotReusable && p.cfg.SingleUse && e.uses == 0 {
		e.retired = false
	}
}

// expiredLocked reports whether idle conn e is past its idle timeout or
// lifetime at clk's reading, and which.
func (p *Pool[C]) expiredLocked(e *entry[C], clk *clock) (CloseReason, bool) {
	if t := p.cfg.IdleTimeout; t > 0 && !clk.now().Before(e.idleAt.Add(t)) {
		return ReasonIdleTimeout, true
	}
	if p.lifetimeOverLocked(e, clk) {
		return ReasonLifetime, true
	}
	return 0, false
}

// lifetimeOverLocked reads clk only when there is a MaxLifetime.
func (p *Pool[C]) lifetimeOverLocked(e *entry[C], clk *clock) bool {
	t := p.cfg.MaxLifetime
	return t > 0 && !clk.now().Before(e.created.Add(t))
}

package pool

import (
	"time"
)

// Put hands back a conn after an exchange finished: its reservation was
// consumed by a request and the request is done. For HTTP/2, Put is called
// once per finished stream.
//
// reusable=false or c.Err()!=nil closes and forgets c (counted under reason,
// or ReasonServerClosed/ReasonBroken for an Err). Otherwise c serves waiting
// callers of key while it has room, and when nothing is in flight it goes
// idle (LIFO per key, global LRU) within MaxIdlePerHost and MaxIdle (the
// least recently used idle conn of the host, or of the pool, is closed,
// ReasonEvicted). A conn past MaxLifetime or MaxRequestsPerConn is closed
// once nothing is in flight on it.
//
// In Put, Remove and Detach, key is the one c was got for; the pool finds c
// by identity and does not need it.
func (p *Pool[C]) Put(key Key, c C, reusable bool, reason CloseReason) {
	if reusable {
		if err := c.Err(); err != nil {
			reusable, reason = false, reasonFor(err)
		}
	}
	b := p.batch()
	p.mu.Lock()
	e := p.conns[Conn(c)]
	if e != nil && e.state != stateIdle && e.out > 0 {
		e.out--
	}
	switch {
	case e == nil:
		// Not ours any more (a multiplexed conn another stream removed, or a
		// caller bug): closing is the only way not to leak it. Its close was
		// counted when it was removed.
		b.add(c)
	case e.state == stateIdle:
		// Put twice: it is already back; nothing to do.
	case !reusable:
		p.removeLocked(e, reason, &b)
		p.settleLocked(e.h, &b)
	default:
		var clk clock // read only if e goes idle or serves a waiter, or for MaxLifetime
		p.placeLocked(e, &clk, &b, false)
		p.settleLocked(e.h, &b)
	}
	p.mu.Unlock()
	b.close()
}

// Remove closes c and forgets it (the owner knows it is dead), counted under
// reason. Its MaxConnsPerHost slot goes to a waiter, who may then dial.
func (p *Pool[C]) Remove(key Key, c C, reason CloseReason) {
	b := p.batch()
	p.mu.Lock()
	if e := p.conns[Conn(c)]; e != nil {
		p.removeLocked(e, reason, &b)
		p.settleLocked(e.h, &b)
	} else {
		b.add(c) // already forgotten and counted
	}
	p.mu.Unlock()
	b.close()
}

// Detach forgets c without closing it (101 Switching Protocols, CONNECT
// tunnels): it no longer counts toward any limit and the caller owns it.
func (p *Pool[C]) Detach(key Key, c C) {
	b := p.batch()
	p.mu.Lock()
	if e := p.conns[Conn(c)]; e != nil {
		wasIdle := e.state == stateIdle
		p.forgetLocked(e)
		p.closedLocked(e, ReasonDetached, wasIdle, &b)
		p.settleLocked(e.h, &b)
	}
	p.mu.Unlock()
	b.close()
}

// placeLocked decides what becomes of e, which has just had a request finish
// (Put), been freshly dialed (fresh=true) or been found multiplexed at
// checkout: serve waiters while it has room, then idle, shared or closed.
// Waiters that asked for a fresh conn (forceNew) are served only when fresh.
func (p *Pool[C]) placeLocked(e *entry[C], clk *clock, b *closeBatch[C], fresh bool) {
	if p.closed {
		p.retireLocked(e, ReasonPoolClosed)
	}
	if !e.retired && p.lifetimeOverLocked(e, clk) {
		p.retireLocked(e, ReasonLifetime)
	}
	// With no idle conns kept (DisableKeepAlives, a negative per-host
	// limit) an HTTP/1 conn serves only the request it was dialed for, as
	// in net/http: one left over from a caller who gave up, or put back
	// reusable, is closed rather than handed to a waiter, who dials its own.
	solo := !e.mux && !p.cfg.keepsIdle()
	for !e.retired && !solo {
		// The queue first: room asks the conn (its lock, for HTTP/2),
		// and most Puts find no waiter.
		w := e.h.q.next(fresh)
		if w == nil || !e.room() || e.c.Reserve() != nil {
			break
		}
		p.deliverLocked(w, e, p.checkoutLocked(e, clk, false), clk.now())
	}
	switch {
	case e.retired && e.out == 0:
		p.removeLocked(e, e.why, b)
	case e.retired:
		p.unshareLocked(e) // other requests still run on it; no new ones
	case e.out == 0:
		// The pool's count, not InFlight(): an exchange that ended before
		// its Put reached us is not idle until that Put.
		p.pushIdleLocked(e, clk.now(), b)
	case e.mux && e.c.Available() > 0:
		p.shareLocked(e)
	default:
		p.unshareLocked(e)
	}
}

// pushIdleLocked makes e idle, then enforces MaxIdlePerHost and MaxIdle by
// closing least recently used idle conns, and arms the expiry timer.
func (p *Pool[C]) pushIdleLocked(e *entry[C], now time.Time, b *closeBatch[C]) {
	if !p.cfg.keepsIdle() {
		p.removeLocked(e, ReasonEvicted, b)
		return
	}
	p.unshareLocked(e)
	h := e.h
	e.state, e.idleAt = stateIdle, now
	h.idle.pushFront(e)
	p.lru.pushFront(e)
	p.idleLocked(e, true, b)
	if h.idle.n > p.cfg.MaxIdlePerHost {
		p.evictOneLocked(h.idle.back, b)
	}
	if p.lru.n > p.cfg.MaxIdle {
		p.evictOneLocked(p.lru.back, b)
	}
	var at time.Time
	if t := p.cfg.IdleTimeout; t > 0 {
		at = now.Add(t)
	}
	if t := p.cfg.MaxLifetime; t > 0 {
		life := e.created.Add(t)
		if p.lifeMin.IsZero() || life.Before(p.lifeMin) {
			p.lifeMin = life
		}
		if at.IsZero() || life.Before(at) {
			at = life
		}
	}
	p.armLocked(at, now)
}

// evictOneLocked closes idle conn e to honour an idle limit.
func (p *Pool[C]) evictOneLocked(e *entry[C], b *closeBatch[C]) {
	p.removeLocked(e, ReasonEvicted, b)
	p.dropIfQuietLocked(e.h)
}

// retireLocked stops e from taking new requests; it is closed, counted why,
// once nothing is in flight on it.
func (p *Pool[C]) retireLocked(e *entry[C], why CloseReason) {
	if !e.retired {
		e.retired, e.why = true, why
	}
	p.unshareLocked(e)
}

func (p *Pool[C]) shareLocked(e *entry[C]) {
	if e.state == stateActive {
		e.state = stateShared
		e.h.shared.pushFront(e)
	}
}

func (p *Pool[C]) unshareLocked(e *entry[C]) {
	if e.state == stateShared {
		e.h.shared.remove(e)
		e.state = stateActive
	}
}

// unidleLocked takes idle e off the idle lists; it is then active.
func (p *Pool[C]) unidleLocked(e *entry[C]) {
	e.h.idle.remove(e)
	p.lru.remove(e)
	e.state = stateActive
}

// trackLocked starts owning a freshly dialed conn of h.
func (p *Pool[C]) trackLocked(h *host[C], c C, id uint64, now time.Time) *entry[C] {
	// Only a conn that can carry more than one request when fresh is ever
	// shared; an HTTP/1 conn's Available() changes outside the lock when its
	// exchange ends, before its Put, and must not look like room.
	e := &entry[C]{c: c, h: h, created: now, id: id, mux: c.Available() > 1}
	_, checker := any(c).(IdleChecker)
	e.lockedCheck = e.mux && !checker
	p.conns[Conn(c)] = e
	h.nconns++
	return e
}

// forgetLocked stops owning e, freeing its MaxConnsPerHost slot. The caller
// settles e.h afterwards.
func (p *Pool[C]) forgetLocked(e *entry[C]) {
	switch e.state {
	case stateGone:
		return
	case stateIdle:
		p.unidleLocked(e)
	case stateShared:
		p.unshareLocked(e)
	}
	e.state = stateGone
	delete(p.conns, Conn(e.c))
	e.h.nconns--
}

// removeLocked forgets e, counts its close under why and adds it to b to
// be closed outside the lock.
func (p *Pool[C]) removeLocked(e *entry[C], why CloseReason, b *closeBatch[C]) {
	b.add(e.c)
	if e.state == stateGone {
		return
	}
	wasIdle := e.state == stateIdle
	p.forgetLocked(e)
	p.closedLocked(e, why, wasIdle, b)
}

// room reports whether e can take one more request now: a multiplexed conn
// asks the conn; a one-request conn has room only when the pool has no
// checkout of it outstanding (its own Available() may already say 1 while
// the finished exchange's Put is on its way).
func (e *entry[C]) room() bool {
	if e.mux {
		return e.c.Available() > 0
	}
	return e.out == 0 && e.c.Available() > 0
}

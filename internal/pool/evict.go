package pool

import "time"

// evictLocked removes the idle conns that are due at now (past IdleTimeout
// since idled, or past MaxLifetime since dialed) into b, to be closed
// outside the lock, and returns the time the next idle conn falls due (zero
// if none). It depends only on the pool's state and now: tests call it
// directly.
func (p *Pool[C]) evictLocked(now time.Time, b *closeBatch[C]) (next time.Time) {
	// The LRU is in idle order, so idle-timeout victims are at its back.
	if t := p.cfg.IdleTimeout; t > 0 {
		for e := p.lru.back; e != nil && !now.Before(e.idleAt.Add(t)); e = p.lru.back {
			p.evictForLocked(e, ReasonIdleTimeout, b)
		}
	}
	// Lifetimes are not in LRU order: walk all idle conns, but only when the
	// earliest lifetime is due.
	if t := p.cfg.MaxLifetime; t > 0 && !p.lifeMin.IsZero() && !now.Before(p.lifeMin) {
		p.lifeMin = time.Time{}
		for e := p.lru.back; e != nil; {
			prev := p.lru.prev(e)
			if life := e.created.Add(t); !now.Before(life) {
				p.evictForLocked(e, ReasonLifetime, b)
			} else if p.lifeMin.IsZero() || life.Before(p.lifeMin) {
				p.lifeMin = life
			}
			e = prev
		}
	}
	next = p.lifeMin
	if t, e := p.cfg.IdleTimeout, p.lru.back; t > 0 && e != nil {
		if at := e.idleAt.Add(t); next.IsZero() || at.Before(next) {
			next = at
		}
	}
	return next
}

func (p *Pool[C]) evictForLocked(e *entry[C], why CloseReason, b *closeBatch[C]) {
	p.removeLocked(e, why, b)
	p.dropIfQuietLocked(e.h)
}

// armLocked makes the pool's one timer fire no later than at (zero: no need).
func (p *Pool[C]) armLocked(at, now time.Time) {
	if at.IsZero() || p.closed || (!p.timerAt.IsZero() && !at.Before(p.timerAt)) {
		return
	}
	p.timerAt = at
	if p.timer == nil {
		p.timer = time.AfterFunc(at.Sub(now), p.onTimer)
		return
	}
	p.timer.Reset(at.Sub(now))
}

// onTimer runs on the timer's goroutine: evict what is due, re-arm for the
// next deadline, close outside the lock.
func (p *Pool[C]) onTimer() {
	b := p.batch()
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	now := time.Now()
	p.timerAt = time.Time{}
	next := p.evictLocked(now, &b)
	p.armLocked(next, now)
	p.mu.Unlock()
	b.close()
}

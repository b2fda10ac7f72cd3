package pool

import (
	"context"
	"time"
)

// waiter is one Get blocked for a conn of a key.
type waiter[C Conn] struct {
	h      *host[C]
	ch     chan result[C] // capacity 1: delivery never blocks under Pool.mu
	ctx    context.Context
	dialFn DialFunc[C]
	force  bool      // forceNew: only a freshly dialed conn will do
	tag    WaitTag   // GetTagged's, for CancelWait; nil from Get
	start  time.Time // when it queued

	// Guarded by Pool.mu.
	done bool        // served, failed or gone
	dial *dialing[C] // the dial in progress it owns, if any
}

type result[C Conn] struct {
	c    C
	info GetInfo
	err  error
}

// minCompact is the dead-prefix length below which the wait queue is not
// compacted: copying a short slice often costs more than the slack.
const minCompact = 32

// waitQueue is a FIFO of waiters. Served and cancelled waiters are skipped
// lazily. Guarded by Pool.mu.
type waitQueue[C Conn] struct {
	ws   []*waiter[C]
	head int // ws[:head] are done
	scan int // every waiter in ws[head:scan] is done or owns a dial
}

func (q *waitQueue[C]) push(w *waiter[C]) {
	if q.head > minCompact && q.head > len(q.ws)/2 {
		n := copy(q.ws, q.ws[q.head:])
		clear(q.ws[n:])
		q.ws = q.ws[:n]
		q.scan = max(q.scan-q.head, 0)
		q.head = 0
	}
	q.ws = append(q.ws, w)
}

// next returns the first live waiter, skipping ones that want a fresh conn
// unless fresh is set.
func (q *waitQueue[C]) next(fresh bool) *waiter[C] {
	for q.head < len(q.ws) && q.ws[q.head].done {
		q.ws[q.head] = nil
		q.head++
	}
	for _, w := range q.ws[q.head:] {
		if !w.done && (fresh || !w.force) {
			return w
		}
	}
	return nil
}

// firstUnowned returns the first live waiter without a dial of its own.
// Live waiters only go from unowned to owned, so scan only moves forward
// (rewind resets it for the rare exception).
func (q *waitQueue[C]) firstUnowned() *waiter[C] {
	q.scan = max(q.scan, q.head)
	for ; q.scan < len(q.ws); q.scan++ {
		if w := q.ws[q.scan]; !w.done && w.dial == nil {
			return w
		}
	}
	return nil
}

func (q *waitQueue[C]) rewind() { q.scan = q.head }

func (q *waitQueue[C]) reset() {
	clear(q.ws)
	q.ws, q.head, q.scan = q.ws[:0], 0, 0
}

// enqueueLocked queues a caller for h and starts the dials the queue needs.
func (p *Pool[C]) enqueueLocked(ctx context.Context, h *host[C], dial DialFunc[C], force bool, now time.Time, b *closeBatch[C], tag WaitTag) (*waiter[C], error) {
	if ctx.Err() != nil {
		p.dropIfQuietLocked(h)
		return nil, waitErr(context.Cause(ctx))
	}
	if tag != nil {
		if err := tag.WaitCanceled(); err != nil { // CancelWait came before the wait
			p.dropIfQuietLocked(h)
			return nil, waitErr(err)
		}
	}
	if max := p.cfg.MaxWaitPerHost; max > 0 && !p.canDialLocked(h) && h.nwaiting-h.nowned >= max {
		return nil, waitErr(ErrWaitQueueFull)
	}
	w := &waiter[C]{h: h, ch: make(chan result[C], 1), ctx: ctx, dialFn: dial, force: force, start: now, tag: tag}
	h.q.push(w)
	h.nwaiting++
	p.kickLocked(h, b)
	return w, nil
}

// kickLocked starts dials for h's waiters: one per waiter that owns no dial,
// within MaxConnsPerHost, but only one at a time for a multiplexed key (its
// fresh conn will likely serve them all). A dial left over from a caller
// who gave up covers nobody: a new caller starts its own, and whichever
// finishes first serves it while the other lands idle (net/http's
// TestTransportPoolCancelRequestReusesConn); at MaxConnsPerHost the
// leftover holds the slot and serves the waiter when done. At the limit
// with idle conns left (the waiters want fresh conns), it closes the least
// recently used idle conn to make room.
func (p *Pool[C]) kickLocked(h *host[C], b *closeBatch[C]) {
	for !p.closed && h.nwaiting > h.nowned {
		if h.multiplexed && h.ndialing > 0 {
			return
		}
		if !p.canDialLocked(h) {
			e := h.idle.back
			if e == nil {
				return
			}
			p.removeLocked(e, ReasonEvicted, b)
			continue
		}
		w := h.q.firstUnowned()
		if w == nil {
			return
		}
		p.startDialLocked(h, w)
	}
}

// wait blocks until w is served or ctx ends.
func (p *Pool[C]) wait(ctx context.Context, w *waiter[C]) (C, GetInfo, error) {
	select {
	case r := <-w.ch:
		return r.c, r.info, r.err
	case <-ctx.Done():
	}
	var zero C
	b := p.batch()
	p.mu.Lock()
	if !w.done {
		p.finishLocked(w, time.Now())
		p.settleLocked(w.h, &b)
		p.mu.Unlock()
		b.close()
		return zero, GetInfo{}, waitErr(context.Cause(ctx))
	}
	p.mu.Unlock()
	// Served as ctx ended: hand the conn back, unused.
	if r := <-w.ch; r.err == nil {
		r.c.Release()
		p.mu.Lock()
		if e := p.conns[Conn(r.c)]; e != nil {
			p.uncheckoutLocked(e, r.info)
			var clk clock
			p.placeLocked(e, &clk, &b, false)
			p.settleLocked(e.h, &b)
		}
		p.mu.Unlock()
		b.close()
	}
	return zero, GetInfo{}, waitErr(context.Cause(ctx))
}

// finishLocked takes w out of the queue's accounting and counts its wait.
func (p *Pool[C]) finishLocked(w *waiter[C], now time.Time) time.Duration {
	h := w.h
	w.done = true
	h.nwaiting--
	if w.dial != nil { // its dial goes on, for whoever is next
		w.dial.owner, w.dial = nil, nil
		h.nowned--
	}
	d := now.Sub(w.start)
	h.rec.s.WaitCount++
	h.rec.s.WaitDuration += d
	return d
}

// deliverLocked hands w conn e, already reserved and checked out.
func (p *Pool[C]) deliverLocked(w *waiter[C], e *entry[C], info GetInfo, now time.Time) {
	info.Waited, info.Queued = p.finishLocked(w, now), true
	w.ch <- result[C]{c: e.c, info: info}
}

func (p *Pool[C]) failLocked(w *waiter[C], err error, now time.Time) {
	p.finishLocked(w, now)
	w.ch <- result[C]{err: err}
}

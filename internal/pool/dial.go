package pool

import (
	"context"
	"errors"
	"slices"
	"time"
)

// dialing is one dial in progress.
type dialing[C Conn] struct {
	owner  *waiter[C] // guarded by Pool.mu; the waiter it was started for, nil once that one is done
	cancel context.CancelCauseFunc
	start  time.Time // when it started; only with Config.Events (for the Dialed event)
}

// ErrDialAbandoned cancels a dial nobody waits for any more when
// CloseIdle runs (as net/http's CloseIdleConnections does).
var ErrDialAbandoned = errors.New("pool: dial abandoned: no caller waits for it")

// startDialLocked starts a dial for h on behalf of w, in its own goroutine
// (the only goroutine the pool ever starts). The dial's context keeps w's
// values but not its cancellation, so a caller giving up does not waste a
// conn the next caller may use; Close cancels it.
func (p *Pool[C]) startDialLocked(h *host[C], w *waiter[C]) {
	d := &dialing[C]{owner: w}
	if p.cfg.Events != nil {
		d.start = time.Now()
	}
	w.dial = d
	h.nowned++
	h.ndialing++
	h.rec.s.Dials++
	ctx, cancel := context.WithCancelCause(context.WithoutCancel(w.ctx))
	d.cancel = cancel
	h.dials = append(h.dials, d)
	stop := context.AfterFunc(p.dialCtx, func() { cancel(context.Cause(p.dialCtx)) })
	dial := w.dialFn
	go func() {
		c, err := dial(ctx)
		stop()
		cancel(nil)
		p.dialDone(h, d, c, err)
	}()
}

// dialDone books a finished dial. An error goes to the waiter that owned the
// dial, if it still waits; a conn serves its owner first, then every other
// waiter it has room for, then lands idle.
func (p *Pool[C]) dialDone(h *host[C], d *dialing[C], c C, err error) {
	var id uint64
	if err == nil {
		id = p.lastID.Add(1)
	}
	if ev := p.cfg.Events; ev != nil {
		// Before the conn is tracked, so its Dialed comes before any other
		// event of it (and a failed dial's before its waiter's error).
		ev.Dialed(h.key, c, id, time.Since(d.start), err)
	}
	b := p.batch()
	p.mu.Lock()
	now := time.Now()
	h.ndialing--
	h.dials = slices.DeleteFunc(h.dials, func(x *dialing[C]) bool { return x == d })
	w := d.owner
	if w != nil {
		w.dial, d.owner = nil, nil
		h.nowned--
	}
	switch {
	case err != nil:
		h.rec.s.DialErrors++
		if w != nil {
			p.failLocked(w, err, now)
		}
	case p.closed:
		p.removeLocked(p.trackLocked(h, c, id, now), ReasonPoolClosed, &b)
	default:
		e := p.trackLocked(h, c, id, now)
		h.multiplexed = c.Available() > 1
		h.rec.mux, h.rec.known = h.multiplexed, true
		clk := clockAt(now)
		if w != nil && !w.done && c.Reserve() == nil {
			p.deliverLocked(w, e, p.checkoutLocked(e, &clk, false), now)
		} else if w != nil {
			h.q.rewind() // w is live again without a dial
		}
		p.placeLocked(e, &clk, &b, true)
	}
	p.settleLocked(h, &b)
	p.mu.Unlock()
	b.close()
}

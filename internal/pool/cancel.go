package pool

import "time"

// WaitTag identifies a GetTagged caller to CancelWait. WaitCanceled
// reports the error of a cancellation that came before the caller queued
// (nil if none): CancelWait finds nothing to fail then, so the queueing
// itself must see it. It is called under the pool's lock and must not
// block or call into the pool.
type WaitTag interface {
	WaitCanceled() error
}

// CancelWait fails the wait of the GetTagged caller with tag on key, if it
// is queued, with err as a pool-wait error (net/http's
// errRequestCanceledConn for Transport.CancelRequest). A dial it started
// goes on for whoever comes next, as when a waiter's context ends. It
// reports whether a waiter was failed. It scans key's queue: it serves a
// deprecated, rare call, so waiters carry no index for it.
func (p *Pool[C]) CancelWait(key Key, tag WaitTag, err error) bool {
	b := p.batch()
	p.mu.Lock()
	h := p.hosts[key]
	var found *waiter[C]
	if h != nil {
		for _, w := range h.q.ws[h.q.head:] {
			if !w.done && w.tag == tag {
				found = w
				break
			}
		}
	}
	if found != nil {
		p.failLocked(found, waitErr(err), time.Now())
		p.settleLocked(h, &b)
	}
	p.mu.Unlock()
	b.close()
	return found != nil
}

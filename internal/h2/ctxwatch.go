package h2

import "context"

// A caller that reads the conn (handoff.go) is interrupted when its
// context ends by a context.AfterFunc. Registering one costs four
// allocations and two locks of the parent context, so, as HTTP/1's watch
// (internal/h1/cancel.go), a context whose Done channel comes back (a
// worker's or a load tool's long-lived context) keeps its registration
// from one request to the next; any other is unregistered when its
// caller hands the reads on, so a per-request context cancelled after
// use starts no goroutine and the conn does not hold it. The callback is
// the conn's (holderCtxEnded): it acts on whoever holds the reads then.

// watchHolder makes sure the end of s's context interrupts its caller's
// read; the caller calls unwatchHolder when it hands the reads on.
func (c *Conn) watchHolder(s *stream) {
	done := s.ctx.Done()
	if done == nil {
		return
	}
	c.mu.Lock()
	if c.watchDone == done {
		c.mu.Unlock()
		return // still registered, from this context's last request
	}
	old := c.stopWatch
	c.watchDone, c.stopWatch = done, nil
	c.mu.Unlock()
	if old != nil {
		old()
	}
	stop := context.AfterFunc(s.ctx, c.holderCtxFn)
	c.mu.Lock()
	if c.watchDone == done && c.stopWatch == nil && c.err == nil {
		c.stopWatch, stop = stop, nil
	}
	c.mu.Unlock()
	if stop != nil { // replaced or dropped meanwhile
		stop()
	}
}

// unwatchHolder keeps the registration of a context seen twice in a row,
// and drops any other.
func (c *Conn) unwatchHolder(s *stream) {
	done := s.ctx.Done()
	if done == nil {
		return
	}
	c.mu.Lock()
	repeat := done == c.lastDone
	c.lastDone = done
	var stop func() bool
	if !repeat && c.watchDone == done {
		stop = c.stopWatch
		c.watchDone, c.stopWatch = nil, nil
	}
	c.mu.Unlock()
	if stop != nil {
		stop()
	}
}

// dropWatch stops the registration for good (the conn ends), so a
// long-lived context does not hold the conn.
func (c *Conn) dropWatch() {
	c.mu.Lock()
	stop := c.stopWatch
	c.watchDone, c.stopWatch, c.lastDone = nil, nil, nil
	c.mu.Unlock()
	if stop != nil {
		stop()
	}
}

// holderCtxEnded is the registration's callback (bound once in
// holderCtxFn, so a registration allocates no closure): it fails the
// holder if its context ended. Called for a context that is no holder's
// now, it finds a live context or no holder; then it only forgets the
// spent registration, so the ended context is not held.
func (c *Conn) holderCtxEnded() {
	if s := c.holder.Load(); s != nil {
		if err := s.ctx.Err(); err != nil {
			s.fail(err, false)
		}
	}
	c.mu.Lock()
	if c.watchDone != nil {
		select {
		case <-c.watchDone:
			c.watchDone, c.stopWatch = nil, nil
		default:
		}
	}
	c.mu.Unlock()
}

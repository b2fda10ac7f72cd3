package h2

import "context"

// A caller that reads the conn (handoff.go) is interrupted when its
// context ends by a context.AfterFunc. Registering one costs four
// allocations and two locks of the parent context, so a context that
// comes back (the same context value: a worker's or a load tool's
// request, reused) keeps its registration from one request to the next,
// as HTTP/1's watch does (internal/h1/cancel.go); any other is
// unregistered when its caller hands the reads on, so a per-request
// context cancelled after use starts no goroutine, and a context is kept
// only while its own caller keeps using it (keyed on the Done channel, a
// per-request value context over a worker's would keep the first one's
// values for the conn's life). The callback is the conn's
// (holderCtxEnded); it fails the holder only if the holder's own context
// ended.

// watchHolder makes sure the end of s's context interrupts its caller's
// read; the caller calls unwatchHolder when it hands the reads on. s is
// the holder already, so a context that ends from here on is caught by
// the registration; one that ended before is caught here.
func (c *Conn) watchHolder(s *stream) {
	if s.ctx.Done() == nil {
		return
	}
	c.mu.Lock()
	kept := c.watchCtx == s.ctx
	var old func() bool
	if !kept {
		old = c.stopWatch
		c.watchCtx, c.stopWatch = s.ctx, nil
	}
	c.mu.Unlock()
	if !kept {
		if old != nil {
			old()
		}
		stop := context.AfterFunc(s.ctx, c.holderCtxFn)
		c.mu.Lock()
		if c.watchCtx == s.ctx && c.stopWatch == nil && c.err == nil {
			c.stopWatch, stop = stop, nil
		}
		c.mu.Unlock()
		if stop != nil { // replaced or dropped meanwhile
			stop()
		}
	}
	// A kept registration may have fired already (its context ended
	// between two requests): its callback found no holder then.
	if err := s.ctx.Err(); err != nil {
		s.fail(err, false)
	}
}

// unwatchHolder keeps the registration of a context seen twice in a row,
// and drops any other.
func (c *Conn) unwatchHolder(s *stream) {
	if s.ctx.Done() == nil {
		return
	}
	c.mu.Lock()
	repeat := s.ctx == c.lastCtx
	c.lastCtx = s.ctx
	var stop func() bool
	if !repeat && c.watchCtx == s.ctx {
		stop = c.stopWatch
		c.watchCtx, c.stopWatch = nil, nil
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
	c.watchCtx, c.stopWatch, c.lastCtx = nil, nil, nil
	c.mu.Unlock()
	if stop != nil {
		stop()
	}
}

// holderCtxEnded is the registration's callback (bound once in
// holderCtxFn, so a registration allocates no closure): it fails the
// holder if its context ended. Called for a context that is no holder's
// now, it finds a live context or no holder; then it only forgets the
// spent registration, so the ended context is not held (a holder that
// comes with that context after this sees it ended in watchHolder).
func (c *Conn) holderCtxEnded() {
	if s := c.holder.Load(); s != nil {
		if err := s.ctx.Err(); err != nil {
			s.fail(err, false)
		}
	}
	c.mu.Lock()
	if c.watchCtx != nil && c.watchCtx.Err() != nil {
		c.watchCtx, c.stopWatch = nil, nil
	}
	c.mu.Unlock()
}

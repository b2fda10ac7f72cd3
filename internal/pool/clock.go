package pool

import "time"

// clock is one reading of time.Now, taken at its first use and shared by
// everything one critical section decides, so that all of it sees the same
// instant. A section that needs no time reads none: the checkout of a shared
// multiplexed conn, or the Put of one that still carries other streams,
// with no MaxLifetime and no waiter to serve (HTTP/2 at 16+ streams), costs
// no clock reading at all. Read it only under Pool.mu: a waiter's start is
// then never later than a reading that serves it.
type clock struct{ t time.Time } // zero until read

// clockAt is a clock already read at now.
func clockAt(now time.Time) clock { return clock{t: now} }

func (c *clock) now() time.Time {
	if c.t.IsZero() {
		c.t = time.Now()
	}
	return c.t
}

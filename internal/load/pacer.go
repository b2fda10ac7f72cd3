package load

import (
	"math"
	"time"
)

// Pacer schedules an open-loop run: request i (from 0) is meant to start
// at At(i) = i/Rate after the run's start, whatever happened to the ones
// before it. Both methods are pure functions, so a schedule can be checked
// without a clock.
type Pacer struct {
	Rate float64 // requests per second; > 0
}

// Due reports how many requests should have been started once elapsed has
// passed: the number of slots i with At(i) ≤ elapsed.
func (p Pacer) Due(elapsed time.Duration) int64 {
	if elapsed < 0 || p.Rate <= 0 {
		return 0
	}
	// At rounds up to the nanosecond, so count the slots whose exact start
	// i/Rate is ≤ elapsed and fix the float rounding against At itself.
	n := int64(math.Floor(elapsed.Seconds()*p.Rate)) + 1
	for n > 0 && p.At(n-1) > elapsed {
		n--
	}
	for p.At(n) <= elapsed {
		n++
	}
	return n
}

// At is slot i's intended start, measured from the run's start. Latency is
// measured from here, not from when a worker got to it: a stalled server
// then shows as latency instead of as fewer requests (coordinated omission).
func (p Pacer) At(i int64) time.Duration {
	return time.Duration(math.Ceil(float64(i) * float64(time.Second) / p.Rate))
}

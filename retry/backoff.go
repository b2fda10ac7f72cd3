package retry

import (
	"math"
	"math/rand/v2"
	"time"
)

// Backoff gives the pause after the given failed attempt (1-based) when the
// server did not say how long to wait (Retry-After). Implementations must
// be safe for concurrent use. Compose the constructors below:
//
//	retry.Jittered(retry.Capped(retry.Exponential(100*time.Millisecond, 2), 5*time.Second))
type Backoff interface {
	Next(attempt int) time.Duration
}

// BackoffFunc adapts a function to Backoff.
type BackoffFunc func(attempt int) time.Duration

// Next calls f.
func (f BackoffFunc) Next(attempt int) time.Duration { return f(attempt) }

// Defaults of DefaultBackoff: the first pause is short because most blips
// (a reset connection, a restarting instance) clear in well under a second;
// the cap keeps a caller from waiting longer than a user would.
const (
	defaultBackoffBase = 100 * time.Millisecond
	defaultBackoffMax  = 5 * time.Second
)

// DefaultBackoff is Jittered(Capped(Exponential(100ms, 2), 5s)): full jitter
// over 100ms, 200ms, 400ms, … up to 5s.
func DefaultBackoff() Backoff {
	return Jittered(Capped(Exponential(defaultBackoffBase, 2), defaultBackoffMax))
}

// Constant always waits d.
func Constant(d time.Duration) Backoff {
	return BackoffFunc(func(int) time.Duration { return d })
}

// Exponential waits base·factor^(attempt−1). A factor below 1 is taken as
// 1; the result saturates at the largest Duration instead of overflowing.
func Exponential(base time.Duration, factor float64) Backoff {
	if factor < 1 {
		factor = 1
	}
	return BackoffFunc(func(attempt int) time.Duration {
		if attempt < 1 {
			attempt = 1
		}
		return saturate(float64(base) * math.Pow(factor, float64(attempt-1)))
	})
}

// Capped limits b's pauses to max.
func Capped(b Backoff, max time.Duration) Backoff {
	return BackoffFunc(func(attempt int) time.Duration {
		return min(b.Next(attempt), max)
	})
}

// Jittered draws each pause uniformly from [0, b.Next(attempt)] ("full
// jitter"): callers that failed together spread out instead of retrying in
// lockstep, which is what overloads a recovering server.
func Jittered(b Backoff) Backoff {
	return BackoffFunc(func(attempt int) time.Duration {
		d := b.Next(attempt)
		if d <= 0 {
			return 0
		}
		if d == math.MaxInt64 {
			return time.Duration(rand.Int64N(int64(d)))
		}
		return time.Duration(rand.Int64N(int64(d) + 1))
	})
}

// saturate converts f to a Duration, clamping instead of overflowing
// (converting an out-of-range float to an integer is undefined in Go).
func saturate(f float64) time.Duration {
	switch {
	case f >= math.MaxInt64 || math.IsNaN(f):
		return math.MaxInt64
	case f <= 0:
		return 0
	}
	return time.Duration(f)
}

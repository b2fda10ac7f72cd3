package retry

import "sync/atomic"

// Stats counts what a Transport did since it was created.
type Stats struct {
	Requests int64 // RoundTrip calls
	Attempts int64 // calls to Next: Requests plus retries actually sent
	Retries  int64 // retries scheduled: one per Event (a wait cut short by the context still counts)
	// BudgetExhausted counts retries the policy wanted that the budget refused.
	BudgetExhausted int64
	// GaveUp counts requests ended by a limit while the policy still wanted
	// a retry: MaxAttempts, MaxRetryAfter, an unrewindable body, or the
	// budget (so GaveUp includes BudgetExhausted).
	GaveUp int64
}

// counters backs Stats; atomics because RoundTrip runs concurrently.
type counters struct {
	requests, attempts, retries, budgetExhausted, gaveUp atomic.Int64
}

// Stats returns a snapshot of the counters. Each field is read atomically;
// the snapshot as a whole is not, so under load fields may be off by the
// requests in flight.
func (t *Transport) Stats() Stats {
	return Stats{
		Requests:        t.stats.requests.Load(),
		Attempts:        t.stats.attempts.Load(),
		Retries:         t.stats.retries.Load(),
		BudgetExhausted: t.stats.budgetExhausted.Load(),
		GaveUp:          t.stats.gaveUp.Load(),
	}
}

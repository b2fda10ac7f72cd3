// Package retry is HTTP client middleware that sends a request again when
// an attempt fails in a way that is safe and likely to pass on retry.
//
//	client := &http.Client{Transport: &retry.Transport{Next: &spool.Transport{}}}
//
// It wraps any http.RoundTripper, below http.Client, so redirects,
// cookies and Client.Timeout stay the client's job (Client.Timeout bounds
// all attempts and waits together). What is retried is the Policy's call
// (DefaultPolicy: idempotent requests, connection failures, 429/502/503/504);
// how much is the Transport's: MaxAttempts, a per-host retry Budget, a
// Backoff or the server's Retry-After, and a rewindable body.
package retry

import (
	"context"
	"io"
	"net/http"
	"sync"
	"time"
)

const (
	// DefaultMaxAttempts: three attempts ride out one blip (a restarted
	// instance, a reset connection) without tripling load for long.
	DefaultMaxAttempts = 3
	// DefaultMaxRetryAfter: a server asking for a longer pause is better
	// answered by returning its response than by holding the caller.
	DefaultMaxRetryAfter = 30 * time.Second
)

// Transport is an http.RoundTripper that retries Next's failed round trips.
// Its zero value retries through http.DefaultTransport with the defaults
// below. A Transport must not be copied after first use, and its fields
// must not change after first use.
//
// The RoundTripper contract holds: the caller's request is not modified
// (each attempt sends req.Clone with its own body: the original for the
// first, req.GetBody's for the others), req.Body is closed once (by Next,
// on the first attempt), and a response of any status is returned with a
// nil error. The response's Request is the attempt's clone.
type Transport struct {
	// Next sends each attempt. nil means http.DefaultTransport.
	Next http.RoundTripper
	// Policy decides which outcomes are retried. nil means DefaultPolicy.
	Policy Policy
	// Backoff gives the pause between attempts when the server sent no
	// usable Retry-After. nil means DefaultBackoff().
	Backoff Backoff
	// MaxAttempts bounds the attempts per request, the first included.
	// Values below 1 mean DefaultMaxAttempts; 1 disables retries.
	MaxAttempts int
	// MaxRetryAfter bounds how long a 429 or 503's Retry-After may ask us
	// to wait; asking for longer returns that response instead. 0 means
	// DefaultMaxRetryAfter.
	MaxRetryAfter time.Duration
	// Budget limits retries per host. nil means a Budget of this
	// Transport's own with the defaults (20% of requests plus 3, per 10s).
	Budget *Budget
	// OnRetry, if set, is called before each retry's wait, on the caller's
	// goroutine. The request context's Trace (WithTrace) is called too.
	OnRetry func(Event)

	once   sync.Once
	budget *Budget  // Budget or the default; set by once
	stats  counters // atomics, shared by concurrent RoundTrips
}

func (t *Transport) init() {
	t.budget = t.Budget
	if t.budget == nil {
		t.budget = defaultBudget()
	}
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	t.once.Do(t.init)
	t.stats.requests.Add(1)
	ctx := req.Context()
	host := ""
	if req.URL != nil {
		host = req.URL.Host
	}
	t.budget.recordRequest(host, time.Now())

	var hist []error // each attempt's outcome, for the final *Error
	body := req.Body // attempt 1 sends the caller's body, retries GetBody's
	for attempt := 1; ; attempt++ {
		ar := req.Clone(ctx)
		ar.Body = body
		t.stats.attempts.Add(1)
		resp, err := t.next().RoundTrip(ar)
		if err != nil && resp != nil {
			// A broken RoundTripper; like http.Client, trust the error,
			// but do not leak the response's connection.
			resp.Body.Close()
			resp = nil
		}
		hist = append(hist, outcome(resp, err))
		d := t.policy()(req, resp, err, attempt)
		if !d.Retry {
			return finish(resp, err, hist, nil)
		}
		v := t.admit(req, resp, attempt, host)
		if !v.retry {
			return finish(resp, err, hist, v.stop)
		}
		discard(resp)
		e := Event{Request: req, Attempt: attempt, Err: err, Wait: v.wait, Reason: d.Reason}
		if resp != nil {
			e.StatusCode = resp.StatusCode
		}
		t.emit(e)
		if werr := sleep(ctx, v.wait); werr != nil {
			closeBody(v.body)
			return finish(nil, nil, hist, werr)
		}
		body = v.body
	}
}

// verdict is the Transport's answer to a Decision to retry.
type verdict struct {
	retry bool
	wait  time.Duration
	body  io.ReadCloser // the next attempt's body
	stop  error         // why not, when the final error should say it
}

// admit applies the Transport's limits to a retry the policy wants, in the
// order that spends the budget last, only on a retry that will happen.
func (t *Transport) admit(req *http.Request, resp *http.Response, attempt int, host string) verdict {
	ctx := req.Context()
	switch {
	case attempt >= t.maxAttempts():
		t.stats.gaveUp.Add(1)
		return verdict{}
	case ctx.Err() != nil:
		// A user Policy may not check; waiting would end at once anyway.
		return verdict{stop: ctx.Err()}
	case !rewindable(req):
		t.stats.gaveUp.Add(1)
		return verdict{stop: ErrBodyNotRewindable}
	}
	now := time.Now()
	wait, ok := t.wait(resp, attempt, now)
	if !ok {
		t.stats.gaveUp.Add(1)
		return verdict{}
	}
	if !t.budget.allowRetry(host, now) {
		t.stats.budgetExhausted.Add(1)
		t.stats.gaveUp.Add(1)
		return verdict{stop: ErrBudgetExhausted}
	}
	body, err := rewind(req)
	if err != nil {
		return verdict{stop: err}
	}
	return verdict{retry: true, wait: wait, body: body}
}

// wait is the pause before the next attempt: the server's Retry-After on a
// 429 or 503 (RFC 9110 §10.2.3), exactly, or the Backoff. ok is false when
// Retry-After asks for more than MaxRetryAfter: the caller is better served
// by the response now than by a long hold.
func (t *Transport) wait(resp *http.Response, attempt int, now time.Time) (d time.Duration, ok bool) {
	if resp != nil && honorsRetryAfter(resp.StatusCode) {
		if d, ok := parseRetryAfter(resp.Header.Get("Retry-After"), now); ok {
			return d, d <= t.maxRetryAfter()
		}
	}
	return max(t.backoff().Next(attempt), 0), true
}

// finish builds RoundTrip's result. A response wins, with a nil error (the
// RoundTripper contract); a lone attempt's error that nothing stopped from
// retrying is returned as it is, since nothing was retried.
func finish(resp *http.Response, err error, hist []error, stop error) (*http.Response, error) {
	if resp != nil {
		return resp, nil
	}
	if len(hist) == 1 && stop == nil {
		return nil, err
	}
	return nil, &Error{Attempts: len(hist), Errs: hist, Stop: stop}
}

// sleep waits d or until ctx ends, whichever is first (a timer and a
// select, so a cancelled caller is released at once).
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-tm.C:
		return nil
	}
}

// CloseIdleConnections forwards to Next when it has the method, so
// http.Client.CloseIdleConnections reaches the pool under the retries.
func (t *Transport) CloseIdleConnections() {
	if c, ok := t.next().(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

func (t *Transport) next() http.RoundTripper {
	if t.Next == nil {
		return http.DefaultTransport
	}
	return t.Next
}

func (t *Transport) policy() Policy {
	if t.Policy == nil {
		return DefaultPolicy
	}
	return t.Policy
}

func (t *Transport) backoff() Backoff {
	if t.Backoff == nil {
		return defaultBackoff
	}
	return t.Backoff
}

// defaultBackoff is shared: the composed functions hold no state.
var defaultBackoff = DefaultBackoff()

func (t *Transport) maxAttempts() int {
	if t.MaxAttempts < 1 {
		return DefaultMaxAttempts
	}
	return t.MaxAttempts
}

func (t *Transport) maxRetryAfter() time.Duration {
	if t.MaxRetryAfter == 0 {
		return DefaultMaxRetryAfter
	}
	return t.MaxRetryAfter
}

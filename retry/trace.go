package retry

import (
	"context"
	"net/http"
	"time"
)

// Event describes a retry about to happen: attempt Attempt failed and,
// after Wait, attempt Attempt+1 will be sent.
type Event struct {
	Request    *http.Request // the caller's request
	Attempt    int           // the attempt that failed, 1-based
	Err        error         // its error, or nil when it returned a response
	StatusCode int           // its response status, or 0 when it failed with Err
	Wait       time.Duration // the pause before the next attempt
	Reason     string        // the policy's Decision.Reason
}

// Trace holds per-request hooks, carried by the request context like
// net/http/httptrace.ClientTrace. Hooks run on the caller's goroutine,
// synchronously, before the wait; they must not block.
type Trace struct {
	OnRetry func(Event)
}

type traceKey struct{}

// WithTrace returns a context carrying t. When ctx already carries a
// Trace, both are called, t's hooks first, as httptrace composes.
func WithTrace(ctx context.Context, t *Trace) context.Context {
	if old := ContextTrace(ctx); old != nil {
		t = &Trace{OnRetry: chain(t.OnRetry, old.OnRetry)}
	}
	return context.WithValue(ctx, traceKey{}, t)
}

// ContextTrace returns the Trace carried by ctx, or nil.
func ContextTrace(ctx context.Context) *Trace {
	t, _ := ctx.Value(traceKey{}).(*Trace)
	return t
}

func chain(a, b func(Event)) func(Event) {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	}
	return func(e Event) { a(e); b(e) }
}

// emit reports a scheduled retry to the Transport's hook and the request's
// Trace.
func (t *Transport) emit(e Event) {
	t.stats.retries.Add(1)
	if t.OnRetry != nil {
		t.OnRetry(e)
	}
	if tr := ContextTrace(e.Request.Context()); tr != nil && tr.OnRetry != nil {
		tr.OnRetry(e)
	}
}

package load

import (
	"context"
	"fmt"
	"net/http"
	"time"
)

// errRequestTimeout is the cause of a request cut by Config.Timeout; it
// matches context.DeadlineExceeded, so it is tallied as a timeout.
var errRequestTimeout = fmt.Errorf("request exceeded the -timeout: %w", context.DeadlineExceeded)

// watchdog gives every request of one worker its timeout without a
// context and a request copy per request (three allocations and a timer
// each, which a load tool should not spend): one timer per worker cancels
// the worker's request context when a request overruns, and the next
// request gets a fresh context.
type watchdog struct {
	parent  context.Context
	timeout time.Duration

	ctx    context.Context
	cancel context.CancelCauseFunc
	timer  *time.Timer
	req    *http.Request
}

// request returns the worker's request, with the timer armed.
func (w *watchdog) request(tmpl *http.Request) *http.Request {
	if w.req == nil || w.ctx.Err() != nil {
		w.stop()
		ctx, cancel := context.WithCancelCause(w.parent)
		w.ctx, w.cancel = ctx, cancel
		w.req = tmpl.WithContext(ctx)
		if w.timeout > 0 {
			w.timer = time.AfterFunc(w.timeout, func() { cancel(errRequestTimeout) })
			return w.req
		}
	}
	if w.timer != nil {
		w.timer.Reset(w.timeout)
	}
	return w.req
}

// done disarms the timer once the request and its body are finished.
func (w *watchdog) done() {
	if w.timer != nil {
		w.timer.Stop()
	}
}

func (w *watchdog) stop() {
	if w.timer != nil {
		w.timer.Stop()
	}
	if w.cancel != nil {
		w.cancel(nil)
	}
}

package retry

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
)

// ErrBudgetExhausted is the Stop cause when the per-host retry budget
// refused a retry the policy wanted: the backend is failing for many
// callers, and multiplying its load would turn a blip into an outage.
var ErrBudgetExhausted = errors.New("retry: retry budget exhausted")

// ErrBodyNotRewindable is the Stop cause when a request with a body and no
// GetBody failed in a way the policy would retry: its body has been
// consumed and cannot be sent again.
var ErrBodyNotRewindable = errors.New("retry: request body cannot be rewound (no GetBody)")

// errNoResponse stands for an attempt whose RoundTripper broke its
// contract by returning neither a response nor an error.
var errNoResponse = errors.New("retry: RoundTripper returned no response and no error")

// Error is returned when the round trip failed with an error after more
// than one attempt, or when a retry was stopped by something other than
// the policy (Stop). A single attempt whose error the policy did not retry
// is returned unchanged.
//
// errors.Is and errors.As see every attempt's error and Stop.
type Error struct {
	// Attempts is how many times the request was sent.
	Attempts int
	// Errs has one entry per attempt, in order: the attempt's error, or a
	// *StatusError for an attempt that returned a response that was retried.
	Errs []error
	// Stop is why retrying ended before the policy or MaxAttempts ended it:
	// ErrBudgetExhausted, ErrBodyNotRewindable, the request context's error
	// (it ended during a wait), or GetBody's error. nil otherwise.
	Stop error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("retry: ")
	b.WriteString(strconv.Itoa(e.Attempts))
	if e.Attempts == 1 {
		b.WriteString(" attempt")
	} else {
		b.WriteString(" attempts")
	}
	if e.Stop != nil {
		b.WriteString(", stopped: ")
		b.WriteString(strings.TrimPrefix(e.Stop.Error(), "retry: ")) // display only
	}
	for i, err := range e.Errs {
		b.WriteString("; attempt ")
		b.WriteString(strconv.Itoa(i + 1))
		b.WriteString(": ")
		b.WriteString(err.Error())
	}
	return b.String()
}

// Unwrap returns every attempt's error followed by Stop, so errors.Is and
// errors.As reach all of them.
func (e *Error) Unwrap() []error {
	out := make([]error, 0, len(e.Errs)+1)
	out = append(out, e.Errs...)
	if e.Stop != nil {
		out = append(out, e.Stop)
	}
	return out
}

// Timeout reports whether the outcome was a deadline: the request
// context's, when it ended the retries, or else the last attempt's error.
// url.Error (http.Client) asks its Err this directly, not through Unwrap.
func (e *Error) Timeout() bool {
	if errors.Is(e.Stop, context.Canceled) || errors.Is(e.Stop, context.DeadlineExceeded) {
		return errors.Is(e.Stop, context.DeadlineExceeded)
	}
	if len(e.Errs) == 0 {
		return false
	}
	last := e.Errs[len(e.Errs)-1]
	if errors.Is(last, context.DeadlineExceeded) {
		return true
	}
	var t interface{ Timeout() bool }
	return errors.As(last, &t) && t.Timeout()
}

// StatusError stands in Error.Errs for an attempt that returned a response
// the policy retried (a 503, say), so Errs has one entry per attempt.
type StatusError struct {
	StatusCode int
	Status     string // e.g. "503 Service Unavailable"; may be empty
}

func (e *StatusError) Error() string {
	if e.Status != "" {
		return "response " + e.Status
	}
	return "response " + strconv.Itoa(e.StatusCode) + " " + http.StatusText(e.StatusCode)
}

// outcome is one attempt's entry in Error.Errs.
func outcome(resp *http.Response, err error) error {
	if err != nil {
		return err
	}
	if resp == nil {
		return errNoResponse
	}
	return &StatusError{StatusCode: resp.StatusCode, Status: resp.Status}
}

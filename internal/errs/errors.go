// Package errs holds spool's one error type so every internal package can
// build it; the root package re-exports it as spool.Error.
package errs

import (
	"context"
	"errors"
	"os"
)

// Op names the phase of a request that failed.
const (
	OpPoolWait     = "pool wait"
	OpDial         = "dial"
	OpProxy        = "proxy"
	OpTLS          = "tls"
	OpWrite        = "write"
	OpAwaitHeaders = "await headers"
	OpReadBody     = "read body"
	OpDecode       = "decode"
	OpValidate     = "validate"
)

// Error is the error spool returns for a failed request. Op names the
// phase, Addr the remote address when known, Reused whether the
// connection had served a request before, Err the cause.
type Error struct {
	Op     string
	Addr   string
	Reused bool
	Err    error
}

func (e *Error) Error() string {
	s := "spool: " + e.Op
	if e.Addr != "" {
		s += " " + e.Addr
	}
	if e.Reused {
		s += " (reused conn)"
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// Temporary mirrors Timeout, as net/http's own errors do, so *Error is a
// net.Error.
func (e *Error) Temporary() bool { return e.Timeout() }

// Timeout reports whether the failure was a deadline: a context deadline,
// one of spool's own timeouts, or a net.Error that says so.
func (e *Error) Timeout() bool {
	if errors.Is(e.Err, context.DeadlineExceeded) || errors.Is(e.Err, os.ErrDeadlineExceeded) {
		return true
	}
	var t interface{ Timeout() bool }
	return errors.As(e.Err, &t) && t.Timeout()
}

// TimeoutError is one of spool's own timeouts firing (ResponseHeaderTimeout,
// the body read timeout, TLSHandshakeTimeout, ...). It matches
// context.DeadlineExceeded and os.ErrDeadlineExceeded with errors.Is so
// callers test every deadline the same way. It is a net.Error whose
// Timeout and Temporary are true, as net/http's timeout errors are.
type TimeoutError struct {
	What string // the setting that fired, e.g. "ResponseHeaderTimeout"
}

// Settings whose timeouts net/http has too, with net/http's texts for them
// (DESIGN decision 7: callers and libraries match these texts).
const (
	ResponseHeaderTimeout = "ResponseHeaderTimeout"
	TLSHandshakeTimeout   = "TLSHandshakeTimeout"
)

// StdText reports net/http's text for the same timeout, or "" when
// net/http has no such timeout (BodyReadTimeout, DrainTimeout).
func (e *TimeoutError) StdText() string {
	switch e.What {
	case ResponseHeaderTimeout:
		return "net/http: timeout awaiting response headers"
	case TLSHandshakeTimeout:
		return "net/http: TLS handshake timeout"
	}
	return ""
}

func (e *TimeoutError) Error() string {
	if s := e.StdText(); s != "" {
		return s
	}
	return e.What + " exceeded"
}
func (e *TimeoutError) Timeout() bool   { return true }
func (e *TimeoutError) Temporary() bool { return true }
func (e *TimeoutError) Is(target error) bool {
	return target == context.DeadlineExceeded || target == os.ErrDeadlineExceeded
}

// Wrap returns err as an *Error with op and addr, leaving an existing *Error
// untouched so the innermost phase wins.
func Wrap(op, addr string, reused bool, err error) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	return &Error{Op: op, Addr: addr, Reused: reused, Err: err}
}

// net/http's errors for a request ended through Request.Cancel (deprecated,
// still used, and what http.Client closes for RoundTrippers other than its
// own): RoundTrip returns them unwrapped wherever they are in the chain.
var (
	ErrRequestCanceled     = errors.New("net/http: request canceled")
	ErrRequestCanceledConn = errors.New("net/http: request canceled while waiting for connection")
)

// ErrNoResponse means the connection failed before any byte of a response
// arrived: typically the server closed a kept-alive connection just as we
// reused it. The request may or may not have reached the server.
var ErrNoResponse = errors.New("connection closed before any response byte")

// NoResponseError carries ErrNoResponse with the I/O error behind it.
// Wrote says whether any byte of the request was written.
type NoResponseError struct {
	Err   error
	Wrote bool
}

func (e *NoResponseError) Error() string {
	return ErrNoResponse.Error() + ": " + e.Err.Error()
}
func (e *NoResponseError) Unwrap() []error { return []error{ErrNoResponse, e.Err} }

package spool

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"

	"github.com/spoolhttp/spool/internal/errs"
	"github.com/spoolhttp/spool/internal/h1"
	"github.com/spoolhttp/spool/internal/h2"
	"github.com/spoolhttp/spool/internal/wire"
)

// The boundary of DESIGN decision 7. Inside spool every failure is an
// *errs.Error whose Op and typed cause decide what happens (retry on a
// fresh conn, close, count); those decisions are all taken before an
// error leaves RoundTrip or a body's Read. Here it becomes what net/http
// returns for the same fault, because libraries classify net/http's errors
// by dynamic type and by text (go-retryablehttp asserts
// *tls.CertificateVerificationError and matches "invalid header"):
//
//   - a public type or sentinel of the standard library (*net.OpError,
//     *net.DNSError inside one, TLS and x509 errors, context errors, io
//     errors, the request body's own error) is returned unwrapped;
//   - net/http's own errors get a type of spool's with net/http's text and
//     Timeout/Temporary (InvalidRequestError, TimeoutError, ProxyError,
//     ProtocolError, HeaderLimitError, the connection-broken wrapper);
//   - what net/http has no error for stays an *Error with its Op.

// connBrokenPrefix is net/http's text for a response head that failed
// after the request went out (persistConn.mapRoundTripError).
const connBrokenPrefix = "net/http: HTTP/1.x transport connection broken: "

// connBrokenError is net/http's wrapper of a conn that broke while its
// request waited for the head: a malformed head, one past
// MaxResponseHeaderBytes, a reset or EOF after the first byte.
type connBrokenError struct{ err error }

func (e *connBrokenError) Error() string { return connBrokenPrefix + e.err.Error() }
func (e *connBrokenError) Unwrap() error { return e.err }

// publicErr is what RoundTrip returns for err, a failed attempt at req.
func publicErr(req *http.Request, err error, h2 bool) error {
	if err == nil {
		return nil
	}
	if cause, ok := cancelCause(req.Context(), err); ok {
		return cause
	}
	for _, s := range [...]error{errs.ErrRequestCanceledConn, errs.ErrRequestCanceled} {
		if errors.Is(err, s) {
			return s // Request.Cancel: net/http's sentinels, unwrapped
		}
	}
	var e *errs.Error
	if !errors.As(err, &e) {
		return err
	}
	switch e.Op {
	case OpValidate, OpDial, OpProxy, OpTLS:
		// Built in net/http's shape by validate and internal/dial.
		return e.Err
	case OpWrite, OpAwaitHeaders:
		return exchangeErr(e, h2)
	case OpReadBody, OpDecode:
		return bodyErr(e)
	}
	return err // pool wait, transport closed: net/http has no such error
}

// cancelCause: the caller's context ended and err is that, however deep:
// net/http returns context.Cause unwrapped.
func cancelCause(ctx context.Context, err error) (error, bool) {
	cerr := ctx.Err()
	if cerr == nil {
		return nil, false
	}
	cause := context.Cause(ctx)
	if errors.Is(err, cerr) || errors.Is(err, cause) {
		return cause, true
	}
	return nil, false
}

// exchangeErr maps a failure between the first byte written and the final
// head read.
func exchangeErr(e *errs.Error, onH2 bool) error {
	var t *errs.TimeoutError
	if errors.As(e.Err, &t) && t.StdText() != "" {
		return t
	}
	var nr *errs.NoResponseError
	if errors.As(e.Err, &nr) && (!onH2 || stdConnErr(nr.Err)) {
		// Nothing came back: net/http returns the conn's own error, io.EOF
		// included (golang/go#16465).
		return unwrapWrite(nr.Err)
	}
	if onH2 {
		var be *h2.BodyError
		if errors.As(e.Err, &be) {
			return be.Err // the request body's own failure: net/http returns it as it is
		}
		// The HTTP/2 engine's own errors: x/net's exported types inside an
		// *Error; a stream the server never processed (GOAWAY, refused)
		// stays a NoResponseError, so errors.Is(err, ErrNoResponse) says
		// the server did not act on it.
		return e
	}
	var ir *wire.InvalidRequestError
	if errors.As(e.Err, &ir) {
		return ir
	}
	var we *h1.WriteError
	if errors.As(e.Err, &we) {
		return &connBrokenError{we.Err}
	}
	if e.Op == OpWrite {
		return e.Err // the request body's Read failed: net/http returns its error
	}
	var pe *wire.ProtocolError
	if errors.As(e.Err, &pe) && !pe.Std() {
		return e // a fault net/http does not detect (internal/wire/doc.go)
	}
	if t != nil {
		return e // BodyReadTimeout, DrainTimeout: spool's own settings
	}
	return &connBrokenError{e.Err}
}

// bodyErr maps a failed Read of a response body: net/http returns the
// reader's error as it is.
func bodyErr(e *errs.Error) error {
	var t *errs.TimeoutError
	var pe *wire.ProtocolError
	var hl *wire.HeaderLimitError
	switch {
	case errors.As(e.Err, &t):
		if t.StdText() != "" {
			return t
		}
		return e
	case errors.As(e.Err, &pe) && !pe.Std(), errors.As(e.Err, &hl), errors.Is(e.Err, ErrDecompressedTooLarge):
		return e
	}
	return unwrapWrite(e.Err)
}

// publicBodyErr is what a response body's Read returns for err.
func publicBodyErr(err error) error {
	var e *errs.Error
	if err == io.EOF || !errors.As(err, &e) {
		return err
	}
	return bodyErr(e)
}

func unwrapWrite(err error) error {
	if we, ok := err.(*h1.WriteError); ok {
		return we.Err
	}
	return err
}

// stdConnErr: err is the socket's own (EOF, an *net.OpError), which net/http
// returns as it is, rather than a cause the HTTP/2 engine made up.
func stdConnErr(err error) bool {
	var oe *net.OpError
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.As(err, &oe)
}

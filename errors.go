package spool

import (
	"errors"
	"strconv"

	"github.com/spoolhttp/spool/internal/dial"
	"github.com/spoolhttp/spool/internal/errs"
	"github.com/spoolhttp/spool/internal/pool"
	"github.com/spoolhttp/spool/internal/wire"
)

// Error is every failed request's error: Op names the phase (OpDial,
// OpProxy, OpTLS, OpPoolWait, OpWrite, OpAwaitHeaders, OpReadBody, ...),
// Addr the remote address, Reused whether the conn had served before.
// Timeout() reports deadlines; errors.Is(err, context.DeadlineExceeded)
// holds for every deadline, spool's own included.
type Error = errs.Error

// Phases, for Error.Op.
const (
	OpValidate     = errs.OpValidate
	OpPoolWait     = errs.OpPoolWait
	OpDial         = errs.OpDial
	OpProxy        = errs.OpProxy
	OpTLS          = errs.OpTLS
	OpWrite        = errs.OpWrite
	OpAwaitHeaders = errs.OpAwaitHeaders
	OpReadBody     = errs.OpReadBody
	OpDecode       = errs.OpDecode
)

type (
	// TimeoutError is one of spool's own timeouts (ResponseHeaderTimeout,
	// BodyReadTimeout, TLSHandshakeTimeout, ...); What names it.
	TimeoutError = errs.TimeoutError
	// ProtocolError: the server's bytes broke HTTP/1.1 syntax or framing.
	// The conn is closed and the request is never retried.
	ProtocolError = wire.ProtocolError
	// HeaderLimitError: the response head passed MaxResponseHeaderBytes.
	HeaderLimitError = wire.HeaderLimitError
	// InvalidRequestError: the request cannot be sent as it is (returned
	// before anything is dialed or written).
	InvalidRequestError = wire.InvalidRequestError
	// ProxyError: the proxy refused the CONNECT; StatusCode is its answer.
	ProxyError = dial.ProxyError
	// NoResponseError: the conn died before any response byte.
	NoResponseError = errs.NoResponseError
)

var (
	// ErrNoResponse matches (errors.Is) a request whose conn died before
	// any response byte and that could not be retried transparently, such
	// as a POST without GetBody on a conn the server had just closed.
	ErrNoResponse = errs.ErrNoResponse
	// ErrWaitQueueFull: MaxConnWaiters callers already wait for the host.
	ErrWaitQueueFull = pool.ErrWaitQueueFull
	// ErrTransportClosed: the Transport was closed.
	ErrTransportClosed = pool.ErrPoolClosed

	errNotReusable = errors.New("spool: connection not reusable")
)

// quoteShort quotes s for an error message, bounded so an attacker's bytes
// can neither flood a log nor inject into it (CVE-2026-42507).
func quoteShort(s string) string {
	const max = 64
	if len(s) > max {
		return strconv.Quote(s[:max]) + "..."
	}
	return strconv.Quote(s)
}

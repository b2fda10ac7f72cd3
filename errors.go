package spool

import (
	"errors"
	"strconv"

	"github.com/spoolhttp/spool/internal/dial"
	"github.com/spoolhttp/spool/internal/errs"
	"github.com/spoolhttp/spool/internal/pool"
	"github.com/spoolhttp/spool/internal/wire"
)

// Errors read like net/http's (DESIGN decision 7, neterr.go): where
// net/http returns a public type or sentinel (*net.OpError, *net.DNSError
// inside one, TLS and x509 errors, context.Canceled and DeadlineExceeded,
// io.EOF and io.ErrUnexpectedEOF, the request body's own error), spool
// returns the same, unwrapped; where net/http returns its own error, spool's
// has the same text and the same Timeout and Temporary (InvalidRequestError,
// TimeoutError, ProxyError, ProtocolError, HeaderLimitError).

// Error is spool's error for what net/http has no error for: waiting for
// a conn (ErrWaitQueueFull, ErrTransportClosed), BodyReadTimeout and
// DrainTimeout, MaxDecompressedBytes, zstd and br decoding, and protocol
// violations net/http accepts. Op names the phase (OpPoolWait, OpReadBody,
// OpDecode, OpAwaitHeaders, ...), Addr the remote address, Reused whether
// the conn had served before. It is a net.Error: Timeout() reports
// deadlines and errors.Is(err, context.DeadlineExceeded) holds for them.
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
	// TimeoutError is one of spool's timeouts (ResponseHeaderTimeout,
	// BodyReadTimeout, TLSHandshakeTimeout, ...); What names it. Those
	// net/http has too are returned unwrapped with net/http's text
	// ("net/http: timeout awaiting response headers", "net/http: TLS
	// handshake timeout"); spool's own inside an *Error.
	TimeoutError = errs.TimeoutError
	// ProtocolError: the server's bytes broke HTTP/1.1 syntax or framing.
	// The conn is closed and the request is never retried. Where net/http
	// fails on the same bytes the text is net/http's, inside its
	// "net/http: HTTP/1.x transport connection broken: " while the head is
	// read; where only spool refuses (internal/wire/doc.go) it comes in an
	// *Error.
	ProtocolError = wire.ProtocolError
	// HeaderLimitError: the response head passed MaxResponseHeaderBytes
	// (net/http's text, inside its "connection broken" wrapper).
	HeaderLimitError = wire.HeaderLimitError
	// InvalidRequestError: the request cannot be sent as it is (returned
	// before anything is dialed or written).
	InvalidRequestError = wire.InvalidRequestError
	// ProxyError: the proxy refused the CONNECT; StatusCode is its answer.
	// Its text is net/http's: the reason phrase ("Forbidden"), or "unknown
	// status code".
	ProxyError = dial.ProxyError
	// NoResponseError: the conn died before any response byte (internal:
	// RoundTrip returns its cause, as net/http does).
	NoResponseError = errs.NoResponseError
)

var (
	// ErrNoResponse is what NoResponseError matches inside spool.
	//
	// Deprecated: RoundTrip returns net/http's error for a conn lost
	// before any response byte, the conn's own (io.EOF, a *net.OpError
	// reset), so errors.Is(err, ErrNoResponse) no longer holds for it.
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

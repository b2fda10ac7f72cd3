package retry

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"syscall"

	"github.com/spoolhttp/spool/internal/errs"
)

// Policy decides whether the outcome of an attempt is worth another one.
// req is the caller's request; exactly one of resp and err is set; attempt
// is 1-based. The Transport enforces its limits (MaxAttempts, the budget,
// body rewinding, MaxRetryAfter, the request context) after a Policy says
// Retry, so a Policy only judges the outcome.
//
// To extend the default, call DefaultPolicy (or Rules.Decide) from yours:
//
//	func(req *http.Request, resp *http.Response, err error, attempt int) retry.Decision {
//		if resp != nil && resp.StatusCode == http.StatusInternalServerError && retry.IsIdempotent(req) {
//			return retry.Decision{Retry: true, Reason: "status 500"}
//		}
//		return retry.DefaultPolicy(req, resp, err, attempt)
//	}
type Policy func(req *http.Request, resp *http.Response, err error, attempt int) Decision

// Decision is a Policy's verdict. Reason is reported in Event.Reason.
type Decision struct {
	Retry  bool
	Reason string
}

// DefaultPolicy is Rules{}.Decide: the policy of a Transport whose Policy is nil.
func DefaultPolicy(req *http.Request, resp *http.Response, err error, attempt int) Decision {
	return Rules{}.Decide(req, resp, err, attempt)
}

// Rules is the default policy with its one hook; Rules{}.Decide is
// DefaultPolicy. It retries only what is safe to repeat:
//
//   - a response 429, 502, 503 or 504 to an idempotent request;
//   - a connection-level error from an idempotent request (refused, reset,
//     closed before the response, a network timeout, a failed dial or pool
//     wait);
//   - such an error from any request when it proves the request was never
//     sent (dial, proxy, TLS handshake or pool wait failed, or the
//     connection was refused): RFC 9110 §9.2.2 allows retrying a
//     non-idempotent request "if it can detect that the original request
//     was never applied".
//
// It never retries after the caller's context ended, a cancellation, a TLS
// certificate verification failure, an unknown host, an error it does not
// recognise, or a permanent error: one for which IsPermanent returns true,
// or that has (anywhere in its chain) a method Permanent() bool returning
// true — the way a protocol violation from the server marks itself, since
// sending the same bytes again would meet the same violation.
// Decisions use error types (errors.Is/As), never error strings.
type Rules struct {
	// IsPermanent, if set, marks more errors as never retryable.
	IsPermanent func(error) bool
}

// Decide implements Policy.
func (r Rules) Decide(req *http.Request, resp *http.Response, err error, attempt int) Decision {
	if err != nil {
		return r.decideErr(req, err)
	}
	if resp == nil {
		return Decision{Reason: "no response"}
	}
	reason := "status " + strconv.Itoa(resp.StatusCode)
	if !retryableStatus(resp.StatusCode) {
		return Decision{Reason: reason}
	}
	if !IsIdempotent(req) {
		// The server may have acted on the request before failing
		// (a 502 or 504 from a proxy says nothing about the origin).
		return Decision{Reason: reason + ", " + req.Method + " is not idempotent"}
	}
	return Decision{Retry: true, Reason: reason}
}

// retryableStatus: 429 Too Many Requests (RFC 6585 §4), 502 Bad Gateway
// (RFC 9110 §15.6.3), 503 Service Unavailable (§15.6.4, "temporary
// overload"), 504 Gateway Timeout (§15.6.5) say the failure is transient.
// A 500 may be a bug that fails every time, so it is left to user policies.
func retryableStatus(code int) bool {
	switch code {
	case http.StatusTooManyRequests, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

func (r Rules) decideErr(req *http.Request, err error) Decision {
	switch {
	case req.Context().Err() != nil:
		// The caller gave up; its deadline or cancellation is final.
		return Decision{Reason: "request context done"}
	case errors.Is(err, context.Canceled):
		// Someone cancelled on purpose.
		return Decision{Reason: "canceled"}
	case r.permanent(err):
		return Decision{Reason: "permanent error"}
	case isTLSVerification(err):
		// The certificate will not verify any better the next time.
		return Decision{Reason: "TLS verification failed"}
	case isHostNotFound(err):
		return Decision{Reason: "host not found"}
	}
	cause := transientCause(err)
	switch {
	case cause == "":
		return Decision{Reason: "error not known to be transient"}
	case notSent(err):
		return Decision{Retry: true, Reason: cause + ", request not sent"}
	case !IsIdempotent(req):
		// §9.2.2: the server may have applied it before the connection broke.
		return Decision{Reason: cause + ", " + req.Method + " is not idempotent"}
	}
	return Decision{Retry: true, Reason: cause}
}

// IsIdempotent reports whether req may be sent twice with the effect of
// once: PUT, DELETE and the safe methods GET, HEAD, OPTIONS and TRACE (RFC
// 9110 §9.2.2, §9.2.1), or any request carrying an Idempotency-Key or
// X-Idempotency-Key header, by which the client promises the server
// deduplicates (the same rule as net/http's Transport). An empty method
// means GET.
func IsIdempotent(req *http.Request) bool {
	switch req.Method {
	case "", http.MethodGet, http.MethodHead, http.MethodOptions,
		http.MethodTrace, http.MethodPut, http.MethodDelete:
		return true
	}
	// Presence, even with an empty value, as net/http checks it.
	if _, ok := req.Header["Idempotency-Key"]; ok {
		return true
	}
	_, ok := req.Header["X-Idempotency-Key"]
	return ok
}

func (r Rules) permanent(err error) bool {
	if r.IsPermanent != nil && r.IsPermanent(err) {
		return true
	}
	return anyInTree(err, func(e error) bool {
		p, ok := e.(interface{ Permanent() bool })
		return ok && p.Permanent()
	})
}

func isTLSVerification(err error) bool {
	var (
		unknownAuthority x509.UnknownAuthorityError
		hostname         x509.HostnameError
		invalid          x509.CertificateInvalidError
		systemRoots      x509.SystemRootsError
		verification     *tls.CertificateVerificationError
	)
	return errors.As(err, &unknownAuthority) || errors.As(err, &hostname) ||
		errors.As(err, &invalid) || errors.As(err, &systemRoots) ||
		errors.As(err, &verification)
}

// isHostNotFound: NXDOMAIN is an answer, not a failure; asking again gets
// the same answer (a temporary DNS failure is a timeout or a
// *net.DNSError without IsNotFound, and is retried).
func isHostNotFound(err error) bool {
	var dns *net.DNSError
	return errors.As(err, &dns) && dns.IsNotFound
}

// notSent reports errors that prove no byte of the request reached the
// server: it failed before or while the connection was being set up. A
// spool.Transport returns these as net/http does (a *net.OpError "dial" or
// "proxyconnect", the TLS handshake timeout) or, for what net/http has no
// error for, as a *spool.Error naming the phase (a pool wait).
func notSent(err error) bool {
	var e *errs.Error
	if errors.As(err, &e) {
		switch e.Op {
		case errs.OpDial, errs.OpProxy, errs.OpTLS, errs.OpPoolWait:
			return true
		}
	}
	var op *net.OpError
	if errors.As(err, &op) && (op.Op == "dial" || op.Op == "proxyconnect") {
		return true
	}
	var te *errs.TimeoutError
	if errors.As(err, &te) && te.What == errs.TLSHandshakeTimeout {
		return true
	}
	return errors.Is(err, syscall.ECONNREFUSED)
}

// transientCause names err when it is a connection-level failure that a new
// attempt may not meet, or returns "" when err is not known to be one.
func transientCause(err error) string {
	var e *errs.Error
	if errors.As(err, &e) {
		// A failed dial or pool wait (with the caller's context alive,
		// checked before) is the backend being briefly unreachable or busy.
		switch e.Op {
		case errs.OpDial:
			return "dial failed"
		case errs.OpPoolWait:
			return "pool wait failed"
		}
	}
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	case errors.Is(err, syscall.ECONNABORTED), errors.Is(err, syscall.EPIPE):
		return "connection aborted"
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return "connection closed before the response"
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return "timeout"
	}
	var op *net.OpError
	if errors.As(err, &op) {
		// Only socket operations: crypto/tls reports an alert from the
		// peer as a *net.OpError with Op "remote error", and a refused
		// handshake is not transient.
		switch op.Op {
		case "dial", "proxyconnect", "read", "write":
			return "network error"
		}
	}
	return ""
}

// anyInTree walks err's whole Unwrap tree (errors.As stops at the first
// match of a type; a Permanent() false deeper in the chain must not hide a
// true one, nor the reverse).
func anyInTree(err error, f func(error) bool) bool {
	for err != nil {
		if f(err) {
			return true
		}
		switch u := err.(type) {
		case interface{ Unwrap() error }:
			err = u.Unwrap()
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				if anyInTree(e, f) {
					return true
				}
			}
			return false
		default:
			return false
		}
	}
	return false
}

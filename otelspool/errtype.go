package otelspool

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"

	"github.com/spoolhttp/spool"
)

// errorType is error.type for a finished round trip: the status code for a
// 4xx or 5xx response, a low-cardinality name for an error (in the manner
// of .NET's HttpRequestError values), "" for success. Errors are told
// apart by type and sentinel, never by text.
func errorType(err error, status int) string {
	if err == nil {
		return statusErrorType(status)
	}
	var (
		dnsErr   *net.DNSError
		verr     *tls.CertificateVerificationError
		uaErr    x509.UnknownAuthorityError
		hostErr  x509.HostnameError
		certErr  x509.CertificateInvalidError
		alertErr tls.AlertError
		recErr   tls.RecordHeaderError
		proxyErr *spool.ProxyError
		protoErr *spool.ProtocolError
		limitErr *spool.HeaderLimitError
		reqErr   *spool.InvalidRequestError
		timeout  interface{ Timeout() bool }
		sErr     *spool.Error
		opErr    *net.OpError
	)
	switch {
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &timeout) && timeout.Timeout():
		return "timeout"
	case errors.Is(err, spool.ErrTransportClosed):
		return "transport_closed"
	case errors.Is(err, spool.ErrWaitQueueFull):
		return "wait_queue_full"
	case errors.As(err, &dnsErr):
		return "name_resolution_error"
	case errors.As(err, &verr), errors.As(err, &uaErr), errors.As(err, &hostErr),
		errors.As(err, &certErr), errors.As(err, &alertErr), errors.As(err, &recErr):
		return "secure_connection_error"
	case errors.As(err, &proxyErr):
		return "proxy_tunnel_error"
	case errors.As(err, &protoErr):
		return "http_protocol_error"
	case errors.As(err, &limitErr):
		return "configuration_limit_exceeded"
	case errors.As(err, &reqErr):
		return "invalid_request"
	case errors.Is(err, spool.ErrNoResponse):
		return "response_ended"
	}
	if errors.As(err, &sErr) {
		switch sErr.Op {
		case spool.OpDial:
			return "connection_error"
		case spool.OpTLS:
			return "secure_connection_error"
		case spool.OpProxy:
			return "proxy_tunnel_error"
		}
	}
	if errors.As(err, &opErr) {
		return "connection_error"
	}
	return "_OTHER"
}

package dial

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http/httptrace"
	"slices"
	"strings"

	"github.com/spoolhttp/spool/internal/errs"
)

// proxyNextProtos is offered to an https proxy: spool speaks HTTP/1.1 to
// proxies (CONNECT and absolute-form requests), so h2 must not be chosen.
var proxyNextProtos = []string{"http/1.1"}

// clientTLS runs a TLS handshake over conn to addr ("host:port") and returns
// the TLS conn. On the proxy leg ServerName is the proxy's host even if the
// caller's config names the origin, and ALPN offers only HTTP/1.1. conn is
// closed on failure.
func (d *Dialer) clientTLS(ctx context.Context, conn net.Conn, addr string, l leg) (Result, error) {
	tc := tls.Client(conn, d.tlsConfig(tlsHost(addr), l))
	cs, err := d.handshake(ctx, tc, addr)
	if err != nil {
		return Result{}, err
	}
	return Result{Conn: tc, Proto: cs.NegotiatedProtocol, TLS: &cs}, nil
}

// dialCustomTLS uses Config.DialTLSContext for a proxy-less https origin.
func (d *Dialer) dialCustomTLS(ctx context.Context, addr string) (Result, error) {
	conn, err := d.cfg.DialTLSContext(ctx, "tcp", addr)
	if err == nil && conn == nil {
		err = errors.New("DialTLSContext returned neither a conn nor an error")
	}
	if err != nil {
		return Result{}, errs.Wrap(customTLSOp(err), addr, false, err)
	}
	tc, ok := conn.(*tls.Conn)
	if !ok {
		// Another TLS stack: its ALPN result is unknowable here, so the
		// conn is plain HTTP/1.1 to the caller.
		return Result{Conn: conn}, nil
	}
	cs := tc.ConnectionState()
	if !cs.HandshakeComplete {
		if cs, err = d.handshake(ctx, tc, addr); err != nil {
			return Result{}, err
		}
	}
	return Result{Conn: tc, Proto: cs.NegotiatedProtocol, TLS: &cs}, nil
}

// handshake completes tc's handshake within ctx and TLSHandshakeTimeout,
// firing the TLS trace hooks. tc is closed on failure.
func (d *Dialer) handshake(ctx context.Context, tc *tls.Conn, addr string) (tls.ConnectionState, error) {
	trace := httptrace.ContextClientTrace(ctx)
	if trace != nil && trace.TLSHandshakeStart != nil {
		trace.TLSHandshakeStart()
	}
	hctx := ctx
	if d.cfg.TLSHandshakeTimeout > 0 {
		var cancel context.CancelFunc
		hctx, cancel = context.WithTimeout(ctx, d.cfg.TLSHandshakeTimeout)
		defer cancel()
	}
	// HandshakeContext closes the conn itself when hctx ends mid-handshake.
	err := tc.HandshakeContext(hctx)
	if err != nil && ctx.Err() == nil && hctx.Err() != nil {
		// Our timeout fired, not the caller's context: say which setting.
		err = &errs.TimeoutError{What: errs.TLSHandshakeTimeout}
	}
	if err != nil {
		tc.Close()
		if trace != nil && trace.TLSHandshakeDone != nil {
			trace.TLSHandshakeDone(tls.ConnectionState{}, err)
		}
		return tls.ConnectionState{}, &errs.Error{Op: errs.OpTLS, Addr: addr, Err: err}
	}
	cs := tc.ConnectionState()
	if trace != nil && trace.TLSHandshakeDone != nil {
		trace.TLSHandshakeDone(cs, nil)
	}
	return cs, nil
}

// tlsConfig clones the caller's config and fills what spool owns: the server
// name, ALPN and the shared session cache.
func (d *Dialer) tlsConfig(host string, l leg) *tls.Config {
	var cfg *tls.Config
	if d.cfg.TLSClientConfig != nil {
		cfg = d.cfg.TLSClientConfig.Clone()
	} else {
		cfg = &tls.Config{}
	}
	switch l {
	case proxyLeg:
		cfg.ServerName = host
		cfg.NextProtos = proxyNextProtos
	default:
		if cfg.ServerName == "" {
			cfg.ServerName = host
		}
		// The whole offer, the caller's protocols included (Config.NextProtos).
		cfg.NextProtos = slices.Clone(d.cfg.NextProtos)
		if l == originH1Leg {
			cfg.NextProtos = nil
		}
	}
	if cfg.ClientSessionCache == nil {
		cfg.ClientSessionCache = d.sessions
	}
	return cfg
}

// tlsHost is the name to verify for addr: the host without port, brackets
// or IPv6 zone (a zone is local routing, not part of any certificate).
func tlsHost(addr string) string {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	if i := strings.IndexByte(host, '%'); i >= 0 && strings.Contains(host, ":") {
		host = host[:i]
	}
	return host
}

// customTLSOp names the phase of a DialTLSContext failure: the custom dialer
// does both legs, so its error's type tells whether TLS was the one failing.
func customTLSOp(err error) string {
	var (
		verr   *tls.CertificateVerificationError
		rerr   tls.RecordHeaderError
		aerr   tls.AlertError
		echErr *tls.ECHRejectionError
	)
	if errors.As(err, &verr) || errors.As(err, &rerr) || errors.As(err, &aerr) || errors.As(err, &echErr) {
		return errs.OpTLS
	}
	return errs.OpDial
}

// Package dial turns a route (origin scheme and address, optional proxy)
// into a ready net.Conn and the protocol negotiated on it: TCP, HTTP CONNECT
// and SOCKS5 tunnels, TLS with ALPN and client session resumption.
//
// Dial order for each route:
//
//	http  origin, no proxy          TCP
//	https origin, no proxy          TCP + TLS (or Config.DialTLSContext)
//	http  origin, http(s) proxy     TCP (+ TLS to the proxy); requests go in absolute form
//	https origin, http(s) proxy     TCP (+ TLS to the proxy) + CONNECT + TLS to the origin
//	any   origin, socks5(h) proxy   TCP + SOCKS5 handshake (+ TLS to the origin for https)
//
// Every error is an *errs.Error whose Op says which leg failed: dial (TCP or
// DNS), proxy (CONNECT or SOCKS5 negotiation) or tls (a handshake).
package dial

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/spoolhttp/spool/internal/errs"
)

// Config says how to reach servers. The zero value dials with spool's own
// resolver-then-connect loop, verifies certificates and offers no ALPN.
type Config struct {
	// DialContext opens the TCP (or any stream) connection to addr. nil uses
	// spool's own: a Resolver lookup followed by sequential connect attempts
	// over the returned addresses, bounded by DefaultDialTimeout overall.
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)

	// DialTLSContext, when set, opens https connections that use no proxy.
	// Its conn is used as is; a *tls.Conn is handshaken if it is not yet and
	// its ALPN result is read.
	DialTLSContext func(ctx context.Context, network, addr string) (net.Conn, error)

	// TLSClientConfig is cloned for every handshake. ServerName defaults to
	// the origin host, NextProtos to the NextProtos field below, and
	// ClientSessionCache to the Dialer's shared cache.
	TLSClientConfig *tls.Config

	// TLSHandshakeTimeout bounds each TLS handshake; 0 means no bound beyond
	// the context.
	TLSHandshakeTimeout time.Duration

	// NextProtos is the whole ALPN list offered to origins, e.g. {"h2",
	// "http/1.1"}; it replaces TLSClientConfig.NextProtos (the caller
	// merges them). nil offers no ALPN.
	NextProtos []string

	// ProxyConnectHeader is sent with CONNECT requests unless
	// GetProxyConnectHeader is set.
	ProxyConnectHeader http.Header

	// GetProxyConnectHeader returns the headers for a CONNECT to target
	// ("host:port") through proxyURL. An error aborts the dial.
	GetProxyConnectHeader func(ctx context.Context, proxyURL *url.URL, target string) (http.Header, error)

	// OnProxyConnectResponse sees the proxy's reply to CONNECT, whatever its
	// status; an error fails the dial with it, as net/http's.
	OnProxyConnectResponse func(ctx context.Context, proxyURL *url.URL, connectReq *http.Request, connectRes *http.Response) error

	// Resolver looks up host names for the default dialer and for socks5
	// (local resolution) proxies. nil means net.DefaultResolver.
	Resolver *net.Resolver
}

// Dialer dials routes according to its Config. It is safe for concurrent
// use; the Config must not be changed after New.
type Dialer struct {
	cfg Config // immutable after New

	// sessions resumes TLS sessions across all dials of this Dialer when the
	// caller's tls.Config brings no cache of its own (see session_cache.go).
	sessions tls.ClientSessionCache
}

// New returns a Dialer for cfg.
func New(cfg Config) *Dialer {
	if cfg.Resolver == nil {
		cfg.Resolver = net.DefaultResolver
	}
	return &Dialer{cfg: cfg, sessions: newSessionCache()}
}

// Target is one route: the origin and how to reach it.
type Target struct {
	Scheme string   // "http" or "https"
	Addr   string   // "host:port" of the origin; the port is always present
	Proxy  *url.URL // nil, or a URL with scheme http, https, socks5 or socks5h
	// OnlyH1: the requests need HTTP/1.1 (a WebSocket upgrade), so the
	// origin's TLS offers no ALPN, as net/http does for them.
	OnlyH1 bool
}

// leg is which TLS handshake of a route: the origin's, or the proxy's.
type leg int

const (
	originLeg   leg = iota // ALPN: Config.NextProtos
	originH1Leg            // ALPN: none (Target.OnlyH1)
	proxyLeg               // ALPN: http/1.1; ServerName: the proxy's
)

func (t Target) originLeg() leg {
	if t.OnlyH1 {
		return originH1Leg
	}
	return originLeg
}

// Result is a connection ready for HTTP.
type Result struct {
	Conn net.Conn

	// Proto is the ALPN protocol of Conn's TLS layer: "h2", "http/1.1", or ""
	// when there is no TLS or the server chose no protocol (treat as
	// HTTP/1.1). With AbsoluteForm through an https proxy it is the proxy's.
	Proto string

	// TLS is the state of Conn's TLS layer, nil for plaintext. Like net/http,
	// for AbsoluteForm through an https proxy it describes the proxy's TLS.
	TLS *tls.ConnectionState

	// AbsoluteForm is true when Conn leads to an HTTP proxy without a tunnel:
	// requests must use the absolute URI form and carry ProxyAuth
	// (RFC 9112 §3.2.2).
	AbsoluteForm bool

	// ProxyAuth is the Proxy-Authorization value ("Basic ...") built from the
	// proxy URL's userinfo, set only with AbsoluteForm. Tunnels send it in the
	// CONNECT request and never to the origin.
	ProxyAuth string
}

// Dial connects to t and returns the ready connection. ctx bounds the whole
// dial (DNS, connect, proxy negotiation, TLS); the returned conn carries no
// deadline and is not tied to ctx afterwards.
func (d *Dialer) Dial(ctx context.Context, t Target) (Result, error) {
	res, err := d.route(ctx, t)
	if err != nil {
		return Result{}, withContextErr(ctx, err)
	}
	return res, nil
}

func (d *Dialer) route(ctx context.Context, t Target) (Result, error) {
	if err := t.validate(); err != nil {
		return Result{}, err
	}
	if t.Proxy == nil {
		return d.direct(ctx, t)
	}
	switch t.Proxy.Scheme {
	case "http", "https":
		return d.viaHTTPProxy(ctx, t)
	case "socks5", "socks5h":
		return d.viaSOCKS(ctx, t)
	}
	return Result{}, &errs.Error{Op: errs.OpProxy, Addr: t.Proxy.Host,
		Err: fmt.Errorf("unsupported proxy scheme %q", t.Proxy.Scheme)}
}

// direct reaches the origin without a proxy.
func (d *Dialer) direct(ctx context.Context, t Target) (Result, error) {
	if t.Scheme == "https" && d.cfg.DialTLSContext != nil {
		return d.dialCustomTLS(ctx, t.Addr)
	}
	conn, err := d.dialTCP(ctx, t.Addr)
	if err != nil {
		return Result{}, err
	}
	if t.Scheme == "http" {
		return Result{Conn: conn}, nil
	}
	return d.clientTLS(ctx, conn, t.Addr, t.originLeg())
}

func (t Target) validate() error {
	if t.Scheme != "http" && t.Scheme != "https" {
		return &errs.Error{Op: errs.OpDial, Addr: t.Addr, Err: fmt.Errorf("unsupported scheme %q", t.Scheme)}
	}
	host, port, err := net.SplitHostPort(t.Addr)
	if err == nil && (host == "" || port == "") {
		err = errors.New("target address needs both host and port")
	}
	if err != nil {
		return &errs.Error{Op: errs.OpDial, Addr: t.Addr, Err: err}
	}
	return nil
}

// withContextErr makes a failure that happened because ctx ended match
// ctx.Err() with errors.Is, whatever shape the lower layer gave it (a DNS
// error, an i/o timeout from a deadline set by context.AfterFunc, ...).
func withContextErr(ctx context.Context, err error) error {
	cerr := ctx.Err()
	if cerr == nil || errors.Is(err, cerr) {
		return err
	}
	var e *errs.Error
	if !errors.As(err, &e) {
		return err
	}
	return &errs.Error{Op: e.Op, Addr: e.Addr, Reused: e.Reused, Err: fmt.Errorf("%w (%w)", e.Err, cerr)}
}

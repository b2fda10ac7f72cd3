// Package spool is an HTTP client transport: a drop-in http.RoundTripper
// with pooled keep-alive connections, no goroutine per idle connection, no
// leak when a response body is never closed, and a pool you can inspect.
//
//	client := &http.Client{Transport: &spool.Transport{}}
package spool

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// Version is spool's version, sent in the default User-Agent.
const Version = "0.1.0"

// DefaultUserAgent is sent when a request has no User-Agent header.
const DefaultUserAgent = "spool/" + Version

// Transport is an http.RoundTripper. Its zero value is ready to use; fields
// that share a name with http.Transport's mean the same thing. A Transport
// must not be copied after first use (use Clone) and its fields must not
// change after first use.
//
// Retry rule: a request that fails on a connection taken from the idle list
// before any byte of the response arrived is retried once on a freshly
// dialed connection when its body is empty or can be rewound with GetBody,
// and nothing of it was written, or it is idempotent (GET, HEAD, OPTIONS,
// TRACE, PUT, DELETE, or Idempotency-Key / X-Idempotency-Key), or it has
// GetBody. The server may have closed the idle connection at the moment we
// reused it; that race is not the caller's failure. Unlike net/http, a
// written POST with GetBody is replayed too: leave GetBody nil to forbid it.
// On HTTP/2, a stream the server did not process (REFUSED_STREAM, or above
// a GOAWAY's Last-Stream-ID: RFC 9113 §8.7) is replayed whatever its
// method, when its body is empty or has GetBody, up to 6 times (as
// net/http's HTTP/2), on any conn. Nothing else is retried here (see
// package retry).
//
// HTTP/2 rule, net/http's: "h2" is offered by ALPN when ForceAttemptHTTP2
// is set, or when TLSClientConfig, DialContext and DialTLSContext are all
// nil (a custom TLS config or dialer opts out, golang/go#14275), or when
// Protocols includes HTTP2; never when Protocols excludes it or GODEBUG has
// http2client=0. With Protocols.UnencryptedHTTP2 set (and HTTP1 not), plain http://
// origins without a proxy speak h2c with prior knowledge. ALPN offers what
// net/http offers: with HTTP/2, "h2", TLSClientConfig.NextProtos, then
// "http/1.1"; without, TLSClientConfig.NextProtos as it is (none: no ALPN).
type Transport struct {
	// Proxy returns the proxy for a request, or nil for none
	// (http.ProxyFromEnvironment works). nil means no proxy.
	Proxy func(*http.Request) (*url.URL, error)
	// OnProxyConnectResponse, as http.Transport's, is called with the
	// proxy's response to CONNECT, whatever its status; a non-nil error
	// fails the request with it.
	OnProxyConnectResponse func(ctx context.Context, proxyURL *url.URL, connectReq *http.Request, connectRes *http.Response) error

	// DialContext dials plain TCP connections (also the first hop to a proxy).
	// nil uses spool's dialer, which resolves DNS itself so httptrace sees it.
	// A unix-socket dialer here reaches a server on a unix socket.
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)
	// DialTLSContext, if set, dials https origins without a proxy.
	DialTLSContext func(ctx context.Context, network, addr string) (net.Conn, error)
	// TLSClientConfig is cloned per connection. When it has no
	// ClientSessionCache, spool uses its own, so resumption is on by default.
	TLSClientConfig     *tls.Config
	TLSHandshakeTimeout time.Duration // 0: no limit beyond the request context

	DisableKeepAlives  bool
	DisableCompression bool

	MaxIdleConns        int           // all hosts; 0 → 1024
	MaxIdleConnsPerHost int           // 0 → 256 (net/http's 2 churns under load, golang/go#13801)
	MaxConnsPerHost     int           // dialing + active + idle; 0 → no limit
	IdleConnTimeout     time.Duration // 0 → 90s; negative → never

	ResponseHeaderTimeout time.Duration // after the request is written; 0 → none
	ExpectContinueTimeout time.Duration // 0: send the body at once, as net/http does

	ProxyConnectHeader    http.Header
	GetProxyConnectHeader func(ctx context.Context, proxyURL *url.URL, target string) (http.Header, error)

	MaxResponseHeaderBytes int64 // 0 → 1 MiB
	ReadBufferSize         int   // 0 → 4 KiB
	WriteBufferSize        int   // 0 → 4 KiB
	ForceAttemptHTTP2      bool
	// Protocols, as in net/http: which of HTTP/1, HTTP/2 over TLS and
	// unencrypted HTTP/2 (h2c, prior knowledge) to use. nil: HTTP/1, plus
	// HTTP/2 under the rule stated in the Transport doc.
	Protocols *http.Protocols

	// MaxConnWaiters bounds the callers queued for a host at MaxConnsPerHost;
	// one more fails at once with ErrWaitQueueFull. 0 → no bound.
	MaxConnWaiters int
	// MaxConnLifetime retires a connection this long after it was dialed. 0 → none.
	MaxConnLifetime time.Duration
	// MaxRequestsPerConn retires a connection after this many requests. 0 → none.
	MaxRequestsPerConn int
	// BodyReadTimeout bounds how long one Read of a response body may wait
	// for data (golang/go#26941), so a stalled body fails with a
	// *TimeoutError naming it while a slow but moving one goes on. 0 → none.
	// On HTTP/2 the stream is reset and the conn lives on.
	BodyReadTimeout time.Duration
	// HTTP2WriteHold is the longest a whole HTTP/2 request may wait for
	// others on its conn to share its write, while many wait at a busy
	// server that answers fast (README: deliberate differences). 0 →
	// 100 µs; negative → never, each request is written at once, as by
	// net/http.
	HTTP2WriteHold time.Duration
	// DrainLimit and DrainTimeout bound the drain done by an early
	// Body.Close so the connection can be reused; past either, the
	// connection is closed instead. 0 → 256 KiB and 100ms; negative → never drain.
	DrainLimit   int64
	DrainTimeout time.Duration
	// ExtraEncodings adds zstd and br to the transparent decompression
	// (gzip only by default, like net/http).
	ExtraEncodings bool
	// MaxDecompressedBytes bounds a transparently decompressed body; past it
	// Read fails with ErrDecompressedTooLarge. 0 → 1 GiB; negative → none.
	MaxDecompressedBytes int64
	// OnLeakedBody is called when a response body that was never closed is
	// collected; its connection has been closed. nil logs a log/slog warning.
	OnLeakedBody func(method, url string)
	// UserAgent replaces DefaultUserAgent. A request's own header wins.
	UserAgent string
	// Observer receives the pool's and the exchanges' events (see
	// Observer); JoinObservers combines several. nil: none, at no cost.
	Observer Observer

	once sync.Once
	st   *state // built on first use from the fields above
}

// CloseIdleConnections closes every idle connection. Connections carrying
// a request are left alone.
func (t *Transport) CloseIdleConnections() { t.state().pool.CloseIdle() }

// Close closes idle connections, cancels dials in progress and makes later
// requests fail with ErrTransportClosed. Requests in flight finish.
func (t *Transport) Close() error {
	t.state().pool.Close()
	return nil
}

// Clone returns a new Transport with the same configuration and its own
// pool.
func (t *Transport) Clone() *Transport {
	t2 := &Transport{}
	t2.copyConfig(t)
	if t.TLSClientConfig != nil {
		t2.TLSClientConfig = t.TLSClientConfig.Clone()
	}
	t2.ProxyConnectHeader = t.ProxyConnectHeader.Clone()
	return t2
}

// copyConfig copies every exported field (not the pool).
func (t *Transport) copyConfig(from *Transport) {
	t.Proxy = from.Proxy
	t.DialContext = from.DialContext
	t.DialTLSContext = from.DialTLSContext
	t.TLSClientConfig = from.TLSClientConfig
	t.TLSHandshakeTimeout = from.TLSHandshakeTimeout
	t.DisableKeepAlives = from.DisableKeepAlives
	t.DisableCompression = from.DisableCompression
	t.MaxIdleConns = from.MaxIdleConns
	t.MaxIdleConnsPerHost = from.MaxIdleConnsPerHost
	t.MaxConnsPerHost = from.MaxConnsPerHost
	t.IdleConnTimeout = from.IdleConnTimeout
	t.ResponseHeaderTimeout = from.ResponseHeaderTimeout
	t.ExpectContinueTimeout = from.ExpectContinueTimeout
	t.ProxyConnectHeader = from.ProxyConnectHeader
	t.GetProxyConnectHeader = from.GetProxyConnectHeader
	t.OnProxyConnectResponse = from.OnProxyConnectResponse
	t.MaxResponseHeaderBytes = from.MaxResponseHeaderBytes
	t.ReadBufferSize = from.ReadBufferSize
	t.WriteBufferSize = from.WriteBufferSize
	t.ForceAttemptHTTP2 = from.ForceAttemptHTTP2
	t.MaxConnWaiters = from.MaxConnWaiters
	t.MaxConnLifetime = from.MaxConnLifetime
	t.MaxRequestsPerConn = from.MaxRequestsPerConn
	t.BodyReadTimeout = from.BodyReadTimeout
	t.HTTP2WriteHold = from.HTTP2WriteHold
	t.DrainLimit = from.DrainLimit
	t.DrainTimeout = from.DrainTimeout
	t.ExtraEncodings = from.ExtraEncodings
	t.MaxDecompressedBytes = from.MaxDecompressedBytes
	t.OnLeakedBody = from.OnLeakedBody
	t.UserAgent = from.UserAgent
	t.Observer = from.Observer
	t.Protocols = from.Protocols
}

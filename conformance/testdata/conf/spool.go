//go:build conf_spool

package conf

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/spoolhttp/spool"
)

// TransportName names the transport under test in the table.
const TransportName = "spool"

// DefaultUserAgent is the User-Agent spool sends by default.
const DefaultUserAgent = spool.DefaultUserAgent

const matchByText = true

// ConfTransport has http.Transport's fields, same names and types, so the
// tests' composite literals and field writes compile unchanged; the first
// request builds a spool.Transport from them. Fields spool has no
// counterpart for are mapped where a public meaning exists (Dial, DialTLS,
// an empty TLSNextProto) and otherwise ignored, so a test relying on them
// fails on spool: that is a difference to see, not to hide.
type ConfTransport struct {
	Proxy                  func(*http.Request) (*url.URL, error)
	OnProxyConnectResponse func(ctx context.Context, proxyURL *url.URL, connectReq *http.Request, connectRes *http.Response) error
	DialContext            func(ctx context.Context, network, addr string) (net.Conn, error)
	Dial                   func(network, addr string) (net.Conn, error)
	DialTLSContext         func(ctx context.Context, network, addr string) (net.Conn, error)
	DialTLS                func(network, addr string) (net.Conn, error)
	TLSClientConfig        *tls.Config
	TLSHandshakeTimeout    time.Duration
	DisableKeepAlives      bool
	DisableCompression     bool
	MaxIdleConns           int
	MaxIdleConnsPerHost    int
	MaxConnsPerHost        int
	IdleConnTimeout        time.Duration
	ResponseHeaderTimeout  time.Duration
	ExpectContinueTimeout  time.Duration
	TLSNextProto           map[string]func(authority string, c *tls.Conn) http.RoundTripper
	ProxyConnectHeader     http.Header
	GetProxyConnectHeader  func(ctx context.Context, proxyURL *url.URL, target string) (http.Header, error)
	MaxResponseHeaderBytes int64
	WriteBufferSize        int
	ReadBufferSize         int
	ForceAttemptHTTP2      bool
	HTTP2                  *http.HTTP2Config
	Protocols              *http.Protocols

	mu  sync.Mutex
	sp  *spool.Transport             // built on first use; guarded by mu
	alt map[string]http.RoundTripper // RegisterProtocol; guarded by mu
}

// net/http's DefaultTransport, field for field (spool's own dialer stands
// in for the net.Dialer: its DialContext field stays nil).
func init() {
	http.DefaultTransport = &ConfTransport{
		Proxy:                 http.ProxyFromEnvironment,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: 1 * time.Second,
	}
}

// fromHTTPTransport swaps httptest.Server's client transport. httptest
// sets TLSClientConfig, ForceAttemptHTTP2 and a DialContext that calls the
// transport's Dial when a test sets one (else it routes example.com to the
// server); the wrapper's DialContext does the same with its own Dial.
func fromHTTPTransport(tr *http.Transport) http.RoundTripper {
	w := &ConfTransport{
		TLSClientConfig:   tr.TLSClientConfig,
		ForceAttemptHTTP2: tr.ForceAttemptHTTP2,
		Proxy:             tr.Proxy,
	}
	inner := tr.DialContext
	w.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if w.Dial != nil {
			return w.Dial(network, addr)
		}
		return inner(ctx, network, addr)
	}
	return w
}

// spool returns the spool.Transport, building it on first use.
func (t *ConfTransport) spool() *spool.Transport {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.sp == nil {
		t.sp = t.build()
	}
	return t.sp
}

// build maps the fields; defaults that differ are translated to
// net/http's meaning.
func (t *ConfTransport) build() *spool.Transport {
	s := &spool.Transport{
		Proxy:                  t.Proxy,
		DialContext:            t.DialContext,
		DialTLSContext:         t.DialTLSContext,
		TLSClientConfig:        t.TLSClientConfig,
		TLSHandshakeTimeout:    t.TLSHandshakeTimeout,
		DisableKeepAlives:      t.DisableKeepAlives,
		DisableCompression:     t.DisableCompression,
		MaxIdleConns:           t.MaxIdleConns,
		MaxIdleConnsPerHost:    t.MaxIdleConnsPerHost,
		MaxConnsPerHost:        t.MaxConnsPerHost,
		IdleConnTimeout:        t.IdleConnTimeout,
		ResponseHeaderTimeout:  t.ResponseHeaderTimeout,
		ExpectContinueTimeout:  t.ExpectContinueTimeout,
		ProxyConnectHeader:     t.ProxyConnectHeader,
		GetProxyConnectHeader:  t.GetProxyConnectHeader,
		OnProxyConnectResponse: t.OnProxyConnectResponse,
		MaxResponseHeaderBytes: t.MaxResponseHeaderBytes,
		WriteBufferSize:        t.WriteBufferSize,
		ReadBufferSize:         t.ReadBufferSize,
		ForceAttemptHTTP2:      t.ForceAttemptHTTP2,
		Protocols:              t.Protocols,
	}
	if s.DialContext == nil && t.Dial != nil {
		dial := t.Dial
		s.DialContext = func(_ context.Context, network, addr string) (net.Conn, error) {
			return dial(network, addr)
		}
	}
	if s.DialTLSContext == nil && t.DialTLS != nil {
		dial := t.DialTLS
		s.DialTLSContext = func(_ context.Context, network, addr string) (net.Conn, error) {
			return dial(network, addr)
		}
	}
	// net/http: a non-nil, empty TLSNextProto disables HTTP/2.
	if t.TLSNextProto != nil && len(t.TLSNextProto) == 0 && s.Protocols == nil {
		p := new(http.Protocols)
		p.SetHTTP1(true)
		s.Protocols = p
	}
	// net/http: IdleConnTimeout 0 is no limit (spool: 90s; negative: none).
	if s.IdleConnTimeout == 0 {
		s.IdleConnTimeout = -1
	}
	// net/http: MaxIdleConnsPerHost 0 is DefaultMaxIdleConnsPerHost (spool: 256).
	if s.MaxIdleConnsPerHost == 0 {
		s.MaxIdleConnsPerHost = http.DefaultMaxIdleConnsPerHost
	}
	return s
}

// RoundTrip sends req through spool, or through a RegisterProtocol'd
// RoundTripper for its scheme.
func (t *ConfTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	var alt http.RoundTripper
	if req.URL != nil {
		t.mu.Lock()
		alt = t.alt[req.URL.Scheme]
		t.mu.Unlock()
	}
	if alt != nil {
		// net/http: ErrSkipAltProtocol hands the request back to the transport.
		if res, err := alt.RoundTrip(req); err != http.ErrSkipAltProtocol {
			return res, err
		}
		// As net/http, rewind the body the alternate may have read.
		if req.Body != nil && req.Body != http.NoBody && req.GetBody != nil {
			body, err := req.GetBody()
			if err != nil {
				return nil, err
			}
			req = req.Clone(req.Context())
			req.Body = body
		}
	}
	return t.spool().RoundTrip(req)
}

// CloseIdleConnections closes spool's idle conns (none before first use).
func (t *ConfTransport) CloseIdleConnections() {
	t.mu.Lock()
	sp := t.sp
	t.mu.Unlock()
	if sp != nil {
		sp.CloseIdleConnections()
	}
}

// RegisterProtocol, as net/http's: requests of that scheme go to rt.
func (t *ConfTransport) RegisterProtocol(scheme string, rt http.RoundTripper) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.alt == nil {
		t.alt = make(map[string]http.RoundTripper)
	}
	if _, dup := t.alt[scheme]; dup {
		panic("protocol " + scheme + " already registered")
	}
	t.alt[scheme] = rt
}

// CancelRequest is spool's (http.Client calls it on a timeout, the tests
// on their own).
func (t *ConfTransport) CancelRequest(req *http.Request) { t.spool().CancelRequest(req) }

// errNoClientConn: spool has no counterpart of Transport.NewClientConn.
var errNoClientConn = errors.New("conformance: spool has no NewClientConn")

// NewClientConn is not offered by spool.
func (t *ConfTransport) NewClientConn(ctx context.Context, scheme, address string) (*http.ClientConn, error) {
	return nil, errNoClientConn
}

// Clone copies the configuration, not the pool.
func (t *ConfTransport) Clone() *ConfTransport {
	c := &ConfTransport{
		Proxy: t.Proxy, OnProxyConnectResponse: t.OnProxyConnectResponse,
		DialContext: t.DialContext, Dial: t.Dial,
		DialTLSContext: t.DialTLSContext, DialTLS: t.DialTLS,
		TLSHandshakeTimeout: t.TLSHandshakeTimeout,
		DisableKeepAlives:   t.DisableKeepAlives, DisableCompression: t.DisableCompression,
		MaxIdleConns: t.MaxIdleConns, MaxIdleConnsPerHost: t.MaxIdleConnsPerHost,
		MaxConnsPerHost: t.MaxConnsPerHost, IdleConnTimeout: t.IdleConnTimeout,
		ResponseHeaderTimeout: t.ResponseHeaderTimeout, ExpectContinueTimeout: t.ExpectContinueTimeout,
		ProxyConnectHeader: t.ProxyConnectHeader.Clone(), GetProxyConnectHeader: t.GetProxyConnectHeader,
		MaxResponseHeaderBytes: t.MaxResponseHeaderBytes,
		WriteBufferSize:        t.WriteBufferSize, ReadBufferSize: t.ReadBufferSize,
		ForceAttemptHTTP2: t.ForceAttemptHTTP2, HTTP2: t.HTTP2, Protocols: t.Protocols,
	}
	if t.TLSClientConfig != nil {
		c.TLSClientConfig = t.TLSClientConfig.Clone()
	}
	if t.TLSNextProto != nil {
		c.TLSNextProto = make(map[string]func(string, *tls.Conn) http.RoundTripper, len(t.TLSNextProto))
		for k, v := range t.TLSNextProto {
			c.TLSNextProto[k] = v
		}
	}
	return c
}

// MaxWriteWaitBeforeConnReuse: spool has no such wait (it never reuses a
// conn whose request body is still being written), so the knob is inert.
var MaxWriteWaitBeforeConnReuse = new(time.Duration)

// SetEnterRoundTripHook: the one test using it only adds a 1ms delay at
// RoundTrip's start to favour one interleaving; spool runs without it.
func SetEnterRoundTripHook(f func()) {}

// The pool introspection hooks of export_test.go, answered from
// spool.Transport.Stats with the same meaning. net/http keys a pool as
// "proxy|scheme|addr"; spool as "scheme://addr" (or "proxy|scheme://addr").

func netHTTPKey(spoolKey string) string {
	proxy, target, ok := strings.Cut(spoolKey, "|")
	if !ok {
		proxy, target = "", spoolKey
	}
	scheme, addr, _ := strings.Cut(target, "://")
	return proxy + "|" + scheme + "|" + addr
}

func (t *ConfTransport) hosts() map[string]spool.HostStats {
	t.mu.Lock()
	sp := t.sp
	t.mu.Unlock()
	if sp == nil {
		return nil
	}
	return sp.Stats().Hosts
}

// ConfIdleConnKeys is export_test.go's IdleConnKeysForTesting: the pool
// keys holding idle conns.
func ConfIdleConnKeys(t *ConfTransport) []string {
	keys := []string{}
	for k, h := range t.hosts() {
		if h.Idle > 0 {
			keys = append(keys, netHTTPKey(k))
		}
	}
	slices.Sort(keys)
	return keys
}

// ConfIdleConnKeyCount is export_test.go's IdleConnKeyCountForTesting.
func ConfIdleConnKeyCount(t *ConfTransport) int { return len(ConfIdleConnKeys(t)) }

// ConfIdleConnCount is export_test.go's IdleConnCountForTesting.
func ConfIdleConnCount(t *ConfTransport, scheme, addr string) int {
	return t.hosts()[scheme+"://"+addr].Idle
}

// ConfNumPendingRequests is export_test.go's NumPendingRequestsForTesting:
// requests the transport still tracks (carrying a conn, or queued for one).
func ConfNumPendingRequests(t *ConfTransport) int {
	n := 0
	for _, h := range t.hosts() {
		n += h.Active + h.Waiting + h.Streams
	}
	return n
}

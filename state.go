package spool

import (
	"crypto/rand"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spoolhttp/spool/internal/dial"
	"github.com/spoolhttp/spool/internal/h1"
	"github.com/spoolhttp/spool/internal/h2"
	"github.com/spoolhttp/spool/internal/pool"
)

// Defaults for the body lifecycle (DESIGN decision 4).
const (
	defaultDrainLimit      = 256 << 10 // an early Close reads at most this much to save the conn
	defaultDrainTimeout    = 100 * time.Millisecond
	defaultMaxDecompressed = 1 << 30
)

// state is what a Transport builds from its fields on first use.
type state struct {
	t       *Transport
	pool    *pool.Pool[pool.Conn]
	dialer  *dial.Dialer
	h1      h1.Config
	h2      *h2.Factory
	h2c     bool // plain http:// without a proxy speaks h2 by prior knowledge
	offerH2 bool // ALPN offers h2 to TLS origins

	acceptEncoding string // what the decompression bridge asks for
	drainLimit     int64
	drainTimeout   time.Duration
	maxDecoded     int64

	secret [32]byte // keys the MAC of proxy passwords in pool keys

	obs   Observer                // Transport.Observer; nil: no events are made
	waits atomic.Pointer[waitLog] // the debug page's recent waits; nil until DebugHandler

	flights flights // requests in flight, for CancelRequest

	routesMu sync.RWMutex
	routes   map[routeID]*route // guarded by routesMu
}

func (t *Transport) state() *state {
	t.once.Do(func() { t.st = newState(t) })
	return t.st
}

func newState(t *Transport) *state {
	st := &state{t: t, routes: make(map[routeID]*route), obs: t.Observer}
	rand.Read(st.secret[:])
	protos := nextProtos(t)
	st.offerH2 = slices.Contains(protos, "h2")
	st.h2c = t.Protocols != nil && t.Protocols.UnencryptedHTTP2() && !t.Protocols.HTTP1() && !http2ClientOff()
	pc := pool.Config{
		MaxIdle:            t.MaxIdleConns,
		MaxIdlePerHost:     t.MaxIdleConnsPerHost,
		MaxConnsPerHost:    t.MaxConnsPerHost,
		MaxWaitPerHost:     t.MaxConnWaiters,
		IdleTimeout:        t.IdleConnTimeout,
		MaxLifetime:        t.MaxConnLifetime,
		MaxRequestsPerConn: t.MaxRequestsPerConn,
		MultiplexHint:      st.h2Likely,
	}
	if st.obs != nil {
		pc.Events = poolEvents{st.obs}
	}
	if t.DisableKeepAlives {
		pc.MaxIdle = -1 // nothing is kept; limits and the wait queue still apply
		// Nor shared: an HTTP/2 conn carries one request too, so a caller
		// waiting at MaxConnsPerHost dials its own (issue 11 bug 13).
		pc.SingleUse = true
		pc.MultiplexHint = nil
	}
	st.pool = pool.New[pool.Conn](pc)
	st.dialer = dial.New(dial.Config{
		DialContext:            t.DialContext,
		DialTLSContext:         t.DialTLSContext,
		TLSClientConfig:        t.TLSClientConfig,
		TLSHandshakeTimeout:    t.TLSHandshakeTimeout,
		NextProtos:             protos,
		ProxyConnectHeader:     t.ProxyConnectHeader,
		GetProxyConnectHeader:  t.GetProxyConnectHeader,
		OnProxyConnectResponse: t.OnProxyConnectResponse,
	})
	ua := t.UserAgent
	if ua == "" {
		ua = DefaultUserAgent
	}
	st.h1 = h1.Config{
		MaxHeaderBytes:        int(t.MaxResponseHeaderBytes),
		ExpectContinueTimeout: t.ExpectContinueTimeout,
		ResponseHeaderTimeout: t.ResponseHeaderTimeout,
		BodyReadTimeout:       t.BodyReadTimeout,
		ReadBufferSize:        t.ReadBufferSize,
		WriteBufferSize:       t.WriteBufferSize,
		UserAgent:             ua,
		DisableKeepAlives:     t.DisableKeepAlives,
		MaxRequests:           t.MaxRequestsPerConn,
	}
	st.h2 = h2.NewFactory(st.h2Config(ua))
	st.acceptEncoding = "gzip"
	if t.ExtraEncodings {
		st.acceptEncoding = "gzip, zstd, br"
	}
	st.drainLimit = orDefault(t.DrainLimit, defaultDrainLimit)
	st.drainTimeout = orDefault(t.DrainTimeout, defaultDrainTimeout)
	st.maxDecoded = orDefault(t.MaxDecompressedBytes, defaultMaxDecompressed)
	return st
}

// h2Likely tells the pool which keys will probably multiplex, so that a
// first burst of requests to an HTTP/2 origin collapses into one dial.
func (st *state) h2Likely(k pool.Key) bool {
	origin := string(k)
	if strings.HasSuffix(origin, onlyH1Suffix) {
		return false
	}
	if i := strings.LastIndexByte(origin, '|'); i >= 0 {
		origin = origin[i+1:] // after the proxy
	} else if st.h2c && strings.HasPrefix(origin, "http://") {
		return true
	}
	return st.offerH2 && strings.HasPrefix(origin, "https://")
}

// nextProtos is the ALPN offer to origins, built as net/http builds it
// (issue 11 bug 9). Without HTTP/2 (the rule of the Transport doc) it is
// TLSClientConfig.NextProtos as it is, nil meaning no ALPN at all, so a
// server that speaks neither h2 nor http/1.1 in ALPN still accepts us.
// With HTTP/2 it is "h2", then the caller's protocols, then "http/1.1"
// unless listed, less whatever Protocols excludes.
func nextProtos(t *Transport) []string {
	var user []string
	if t.TLSClientConfig != nil {
		user = t.TLSClientConfig.NextProtos
	}
	h1, h2 := true, t.ForceAttemptHTTP2 || (t.TLSClientConfig == nil && t.DialTLSContext == nil && t.DialContext == nil)
	if t.Protocols != nil {
		h1, h2 = t.Protocols.HTTP1(), t.Protocols.HTTP2()
	}
	if !h2 || http2ClientOff() {
		return user
	}
	protos := make([]string, 0, len(user)+2)
	protos = append(protos, "h2")
	for _, p := range user {
		if p != "h2" && (p != "http/1.1" || h1) {
			protos = append(protos, p)
		}
	}
	if h1 && !slices.Contains(protos, "http/1.1") {
		protos = append(protos, "http/1.1")
	}
	return protos
}

func orDefault[T int64 | time.Duration](v, d T) T {
	if v == 0 {
		return d
	}
	return v
}

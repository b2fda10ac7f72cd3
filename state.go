package spool

import (
	"sync"
	"time"

	"github.com/spoolhttp/spool/internal/dial"
	"github.com/spoolhttp/spool/internal/h1"
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
	t      *Transport
	pool   *pool.Pool[pool.Conn]
	dialer *dial.Dialer
	h1     h1.Config

	acceptEncoding string // what the decompression bridge asks for
	drainLimit     int64
	drainTimeout   time.Duration
	maxDecoded     int64

	routesMu sync.RWMutex
	routes   map[routeID]*route // guarded by routesMu
}

func (t *Transport) state() *state {
	t.once.Do(func() { t.st = newState(t) })
	return t.st
}

func newState(t *Transport) *state {
	st := &state{t: t, routes: make(map[routeID]*route)}
	st.pool = pool.New[pool.Conn](pool.Config{
		MaxIdle:            t.MaxIdleConns,
		MaxIdlePerHost:     t.MaxIdleConnsPerHost,
		MaxConnsPerHost:    t.MaxConnsPerHost,
		MaxWaitPerHost:     t.MaxConnWaiters,
		IdleTimeout:        t.IdleConnTimeout,
		MaxLifetime:        t.MaxConnLifetime,
		MaxRequestsPerConn: t.MaxRequestsPerConn,
	})
	if t.DisableKeepAlives {
		st.pool = pool.New[pool.Conn](pool.Config{MaxIdle: -1, MaxConnsPerHost: t.MaxConnsPerHost, MaxWaitPerHost: t.MaxConnWaiters})
	}
	st.dialer = dial.New(dial.Config{
		DialContext:           t.DialContext,
		DialTLSContext:        t.DialTLSContext,
		TLSClientConfig:       t.TLSClientConfig,
		TLSHandshakeTimeout:   t.TLSHandshakeTimeout,
		NextProtos:            []string{"http/1.1"},
		ProxyConnectHeader:    t.ProxyConnectHeader,
		GetProxyConnectHeader: t.GetProxyConnectHeader,
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
	st.acceptEncoding = "gzip"
	if t.ExtraEncodings {
		st.acceptEncoding = "gzip, zstd, br"
	}
	st.drainLimit = orDefault(t.DrainLimit, defaultDrainLimit)
	st.drainTimeout = orDefault(t.DrainTimeout, defaultDrainTimeout)
	st.maxDecoded = orDefault(t.MaxDecompressedBytes, defaultMaxDecompressed)
	return st
}

func orDefault[T int64 | time.Duration](v, d T) T {
	if v == 0 {
		return d
	}
	return v
}

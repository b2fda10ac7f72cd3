// Package h2 adapts golang.org/x/net/http2's ClientConn to the pool's Conn
// interface (DESIGN decision 6).
//
// Only exported ClientConn methods are used (ReserveNewRequest, RoundTrip,
// State, CanTakeNewRequest, Ping, Close): that API survives x/net's move
// into the standard library (with go1.27 x/net wraps net/http's HTTP/2
// behind the same methods).
//
// Life of a stream: Reserve (pool checkout) → RoundTrip → response body read
// to EOF, closed, or a RoundTrip error → OnStreamDone (pool.Put). x/net owns
// one reader goroutine per conn for the conn's life; this package adds none
// except a short settle goroutine after a cancelled stream (see settle).
package h2

import (
	"net"
	"time"

	"golang.org/x/net/http2"

	"github.com/spoolhttp/spool/internal/errs"
)

// Defaults for zero Config fields.
const (
	// DefaultReadIdleTimeout turns on x/net's PING health check: a conn that
	// read no frame for this long is pinged, and closed if the ack does not
	// come within PingTimeout. net/http leaves it off (golang/go#36026), so a
	// silently dead peer (NAT drop, pulled cable) hangs requests until the
	// kernel gives up on TCP, minutes later. An idle conn is pinged once per
	// period; the cost is one frame each way.
	DefaultReadIdleTimeout = 15 * time.Second
	// DefaultPingTimeout is how long a PING may go unanswered, for the health
	// check and for settle.
	DefaultPingTimeout = 5 * time.Second
)

// Config is shared by every conn of a Factory; it must not change.
//
// There is no DisableCompression knob: spool's bridge does decompression
// above the conn, so x/net's is always off and gzip is never handled twice.
type Config struct {
	// ReadIdleTimeout: PING when no frame was read for this long.
	// 0 → DefaultReadIdleTimeout; <0 → no health check.
	ReadIdleTimeout time.Duration
	// PingTimeout: 0 → DefaultPingTimeout.
	PingTimeout time.Duration
	// MaxHeaderListSize bounds response headers (from MaxResponseHeaderBytes);
	// 0 → x/net's default (10 MB).
	MaxHeaderListSize uint32
	// OnStreamDone is called once per finished stream: response body at EOF,
	// a read error or Close, or a RoundTrip error. It runs after x/net has
	// freed the stream's slot (InFlight reflects it), on the goroutine that
	// ended the stream, or on a settle goroutine after a cancellation; for a
	// RoundTrip error it may run before or after RoundTrip returns. Nil is
	// allowed.
	OnStreamDone func(c *Conn)
}

// Factory makes Conns over established connections. One x/net Transport per
// Factory holds the settings; it never dials (we hand it conns) and keeps no
// pool of its own (NewClientConn conns are not in x/net's pool).
type Factory struct {
	t   *http2.Transport
	cfg Config
}

// NewFactory returns a Factory for cfg (zero fields take the defaults).
func NewFactory(cfg Config) *Factory {
	if cfg.ReadIdleTimeout == 0 {
		cfg.ReadIdleTimeout = DefaultReadIdleTimeout
	}
	if cfg.PingTimeout <= 0 {
		cfg.PingTimeout = DefaultPingTimeout
	}
	t := &http2.Transport{
		// Decompression is the bridge's job; x/net adding Accept-Encoding
		// and gunzipping would hide the encoding from it.
		DisableCompression: true,
		// h2c prior knowledge: requests on a plaintext conn carry the "http"
		// scheme. ClientConn.RoundTrip does not check it in x/net v0.62, but
		// the flag documents intent and covers versions that do.
		AllowHTTP:         true,
		MaxHeaderListSize: cfg.MaxHeaderListSize,
		PingTimeout:       cfg.PingTimeout,
		// IdleConnTimeout stays 0: the pool expires idle conns.
		// StrictMaxConcurrentStreams stays false: ReserveNewRequest then fails
		// at the server's limit instead of queueing, so the pool dials or waits.
	}
	if cfg.ReadIdleTimeout > 0 {
		t.ReadIdleTimeout = cfg.ReadIdleTimeout
	}
	return &Factory{t: t, cfg: cfg}
}

// New speaks HTTP/2 over nc, which is already connected (and, for h2, TLS
// with ALPN "h2" done; for h2c, plaintext by prior knowledge). It writes the
// client preface and SETTINGS and returns without waiting for the server's
// SETTINGS. On error nc is closed.
//
// x/net marks Transport.NewClientConn deprecated in favour of
// net/http.Transport.NewClientConn, but net/http's dials by itself and
// cannot take our pre-dialed conn (proxy tunnels, our dialer, our TLS).
func (f *Factory) New(nc net.Conn, now time.Time) (*Conn, error) {
	//lint:ignore SA1019 see above: net/http's replacement cannot take a net.Conn.
	cc, err := f.t.NewClientConn(nc)
	if err != nil {
		nc.Close() // x/net closes it too on a preface write error; twice is harmless
		return nil, errs.Wrap(errs.OpDial, remoteAddr(nc), false, err)
	}
	return &Conn{
		cc:      cc,
		nc:      nc,
		cfg:     &f.cfg,
		Addr:    remoteAddr(nc),
		Created: now,
	}, nil
}

func remoteAddr(nc net.Conn) string {
	if a := nc.RemoteAddr(); a != nil {
		return a.String()
	}
	return ""
}

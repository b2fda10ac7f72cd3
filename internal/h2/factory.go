// Package h2 is spool's HTTP/2 client connection (DESIGN decision 6). From
// golang.org/x/net/http2 it uses only the codec: the Framer to read frames
// (with ReadMetaHeaders' header-list and CONTINUATION limits,
// CVE-2023-45288) and hpack. The rest is here:
//
//   - conn.go: the pool's Conn interface (Available, InFlight, Reserve,
//     Release, Err, Close) over the conn's own small mutex;
//   - writeq.go, frames.go: one write queue per conn, frames of concurrent
//     streams coalesced into one write, every write under a deadline;
//   - reader.go, recv.go, control.go: the one reader goroutine per conn;
//   - handoff.go: while a stream is a quiet conn's only one, its caller
//     reads the response itself and the reader stays parked;
//   - stream.go, headers.go, reqbody.go: a request on the caller's
//     goroutine (a body streams from its own goroutine only while the
//     windows hold it back);
//   - body.go, validate.go: the response and its body;
//   - flow.go, bdp.go: flow control and the adaptive receive window;
//   - health.go, close.go: PING health check, degraded PING, GOAWAY and
//     the graceful close.
//
// Life of a stream: Reserve (pool checkout) → RoundTrip → response body read
// to EOF, closed, reset, or a RoundTrip error → OnStreamDone (pool.Put),
// once, after the slot is free.
package h2

import (
	"bufio"
	"cmp"
	"crypto/tls"
	"net"
	"net/url"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/spoolhttp/spool/internal/errs"
)

// Defaults for zero Config fields.
const (
	// DefaultReadIdleTimeout turns on the PING health check: a conn that
	// read no frame for this long is pinged, and closed if the ack does not
	// come within PingTimeout. net/http leaves it off (golang/go#36026), so a
	// silently dead peer (NAT drop, pulled cable) hangs requests until the
	// kernel gives up on TCP, minutes later.
	DefaultReadIdleTimeout = 15 * time.Second
	// DefaultPingTimeout is how long a health PING may go unanswered.
	DefaultPingTimeout = 5 * time.Second
	// DefaultWriteTimeout bounds every socket write: a peer that stops
	// reading fails its conn after this long, whatever is queued.
	DefaultWriteTimeout = 10 * time.Second
	// defaultMaxHeaderList is the response header list we accept (x/net's
	// default, 10 MB), advertised in SETTINGS_MAX_HEADER_LIST_SIZE.
	defaultMaxHeaderList = 10 << 20
)

// Config is shared by every conn of a Factory; it must not change.
//
// There is no compression knob: spool's bridge decompresses above the conn.
type Config struct {
	// ReadIdleTimeout: PING when no frame was read for this long.
	// 0 → DefaultReadIdleTimeout; <0 → no health check.
	ReadIdleTimeout time.Duration
	// PingTimeout: 0 → DefaultPingTimeout.
	PingTimeout time.Duration
	// WriteTimeout bounds each socket write: 0 → DefaultWriteTimeout.
	WriteTimeout time.Duration
	// MaxHeaderListSize bounds response headers (from MaxResponseHeaderBytes);
	// 0 → 10 MB.
	MaxHeaderListSize uint32
	// ResponseHeaderTimeout bounds the wait for the response head after the
	// request is written; BodyReadTimeout each body Read. On expiry the
	// stream is reset and the conn kept. 0 → none.
	ResponseHeaderTimeout time.Duration
	BodyReadTimeout       time.Duration
	// ExpectContinueTimeout: with "Expect: 100-continue", how long to wait
	// for the 100 before sending the body anyway. 0 → send at once.
	ExpectContinueTimeout time.Duration
	// UserAgent is sent when the request has no User-Agent header ("" →
	// none).
	UserAgent string
	// WriteHold is the longest a whole request may wait for others to
	// share its write (writehold.go): 0 → holdMax (100 µs); <0 → never,
	// each request is written at once.
	WriteHold time.Duration
	// DisableAdaptiveWindow keeps the receive windows at their initial size
	// instead of growing them from BDP estimates.
	DisableAdaptiveWindow bool
	// ErrBodyClosed is what a body Read returns after Close (the root's
	// sentinel); nil → errBodyClosed.
	ErrBodyClosed error
	// PublicBodyErr turns a failed body Read's *errs.Error into what the
	// caller gets (the root's neterr.go: net/http's shapes); nil → as is.
	PublicBodyErr func(error) error
	// OnStreamDone is called once per finished stream, after its slot is
	// free (InFlight reflects it), on the goroutine that ended it: the
	// caller's, the reader's for a reset or a conn failure, or, while a
	// caller reads the conn for its own response (handoff.go), that
	// caller's for another stream. It must not block on the conn. Nil is
	// allowed.
	OnStreamDone func(c *Conn)
	// OnLeak is called when a response body that was never closed became
	// unreachable and was reclaimed (its stream reset, its slot freed), on
	// a goroutine of its own. Nil is allowed.
	OnLeak func(c *Conn, method string, u *url.URL)
	// parkLinger: how long the reader stays parked (0 → parkLinger;
	// tests make it long, to find the reader parked).
	parkLinger time.Duration
	// holdGap: 0 → holdGap (tests make it long, so a scripted server's
	// slow heads still allow a write hold).
	holdGap time.Duration
}

// Factory makes Conns over established connections and keeps counters over
// all of them.
type Factory struct {
	cfg Config
	ctr Counters
}

// NewFactory returns a Factory for cfg (zero fields take the defaults).
func NewFactory(cfg Config) *Factory {
	if cfg.ReadIdleTimeout == 0 {
		cfg.ReadIdleTimeout = DefaultReadIdleTimeout
	}
	if cfg.PingTimeout <= 0 {
		cfg.PingTimeout = DefaultPingTimeout
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = DefaultWriteTimeout
	}
	if cfg.MaxHeaderListSize == 0 {
		cfg.MaxHeaderListSize = defaultMaxHeaderList
	}
	if cfg.parkLinger <= 0 {
		cfg.parkLinger = parkLinger
	}
	if cfg.ErrBodyClosed == nil {
		cfg.ErrBodyClosed = errBodyClosed
	}
	if cfg.PublicBodyErr == nil {
		cfg.PublicBodyErr = func(err error) error { return err }
	}
	return &Factory{cfg: cfg}
}

// Counters returns the Factory's counters (all its conns, since it was made).
func (f *Factory) Counters() CounterSnapshot { return f.ctr.snapshot() }

// readBufferSize is the reader's bufio size: a few frames per read syscall.
const readBufferSize = 32 << 10

// New speaks HTTP/2 over nc, which is already connected (and, for h2, TLS
// with ALPN "h2" done; for h2c, plaintext by prior knowledge). It queues the
// client preface, SETTINGS and the conn's WINDOW_UPDATE, writes them, and
// starts the reader; it does not wait for the server's SETTINGS (streams
// start under the assumed limits, RFC 9113 §3.4). On error nc is closed.
func (f *Factory) New(nc net.Conn, now time.Time) (*Conn, error) {
	c := &Conn{nc: nc, cfg: &f.cfg, ctr: &f.ctr, Addr: remoteAddr(nc), Created: now}
	if tc, ok := nc.(interface{ ConnectionState() tls.ConnectionState }); ok {
		st := tc.ConnectionState()
		c.tls = &st
	}
	c.initState()
	if c.handOff = canHandOff(nc); c.handOff {
		c.parkT = time.AfterFunc(time.Hour, c.needReader)
		c.parkT.Stop()
		c.holderCtxFn = c.holderCtxEnded
	}
	c.wq.init(nc, f.cfg.WriteTimeout, c.writeFailed, func() bool { return c.open.Load() > 1 })
	c.wq.hold.max = cmp.Or(f.cfg.WriteHold, holdMax)
	c.wq.hold.gap = cmp.Or(f.cfg.holdGap, holdGap)
	c.wq.hold.gapAvg.Store(int64(c.wq.hold.max)) // no head yet: as after a pause
	c.henc = hpack.NewEncoder(&c.hbuf)

	c.br = bufio.NewReaderSize(c.readSource(), readBufferSize)
	c.fr = http2.NewFramer(nil, c.br)
	c.fr.SetReuseFrames()
	c.fr.SetMaxReadFrameSize(defaultMaxFrameSize) // what we advertise (the default, §6.5.2)
	c.initDecoder()

	q := &c.wq
	q.mu.Lock()
	q.buf = append(q.buf, http2.ClientPreface...)
	q.buf = appendSettings(q.buf,
		http2.Setting{ID: http2.SettingEnablePush, Val: 0},
		http2.Setting{ID: http2.SettingInitialWindowSize, Val: uint32(c.streamWindow)},
		http2.Setting{ID: http2.SettingMaxHeaderListSize, Val: f.cfg.MaxHeaderListSize},
	)
	q.buf = appendWindowUpdate(q.buf, 0, uint32(c.connWindow-initialWindow))
	q.flushing = true
	q.mu.Unlock()
	q.flush()
	if err := q.failed(); err != nil {
		nc.Close()
		return nil, errs.Wrap(errs.OpDial, c.Addr, false, err)
	}
	f.ctr.conns.Add(1)
	c.startHealth()
	go c.readLoop()
	return c, nil
}

func remoteAddr(nc net.Conn) string {
	if a := nc.RemoteAddr(); a != nil {
		return a.String()
	}
	return ""
}

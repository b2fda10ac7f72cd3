// Package h1 runs HTTP/1.1 exchanges over one connection.
//
// Life of an exchange (all on the caller's goroutine unless noted):
//
//	Reserve (pool checkout) → RoundTrip: write head [→ body writer goroutine
//	only while a body streams] → read 1xx* and the final head → ReadBody*
//	→ finish: keep-alive decision, buffers back to their pools, conn idle.
//
// An idle Conn owns no goroutine and no buffer: a struct and a socket.
// Cancellation is a context.AfterFunc that sets a past deadline.
package h1

import (
	"bufio"
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"net/http/httptrace"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/spoolhttp/spool/internal/wire"
)

// peekAfterIdle: idle conns younger than this are not peeked at checkout.
// Servers close idle conns after seconds, not microseconds; stray bytes
// right behind a response are caught by the Buffered()==0 check at release.
const peekAfterIdle = time.Millisecond

// Config is shared by every conn of a Transport; it must not change.
type Config struct {
	MaxHeaderBytes        int
	ExpectContinueTimeout time.Duration
	ResponseHeaderTimeout time.Duration
	BodyReadTimeout       time.Duration
	ReadBufferSize        int
	WriteBufferSize       int
	UserAgent             string
	DisableKeepAlives     bool
	MaxRequests           int // 0: no limit; the last allowed request says Connection: close
}

// Options are per-request facts decided above the conn.
type Options struct {
	AbsoluteForm   bool   // via an HTTP proxy without a tunnel
	ProxyAuth      string // Proxy-Authorization for AbsoluteForm
	AcceptEncoding string // added by the transport's decompression bridge
	Trace          *httptrace.ClientTrace
	// Reused: the conn came from the idle list (served a request or sat
	// idle), so a lost-before-response failure is the keep-alive race.
	Reused bool
	// H2: the attempt ran on an HTTP/2 conn (set by the transport; the
	// HTTP/1 conn ignores it).
	H2 bool
}

// Conn is one HTTP/1.1 connection. It implements the pool's Conn interface.
type Conn struct {
	nc   net.Conn
	raw  syscall.RawConn // for the checkout peek; nil if the conn has no fd
	cfg  *Config
	Addr string // remote address, for errors
	// TLS is the conn's TLS state, nil for plaintext; every response on
	// the conn carries it as Response.TLS (set by the caller, with Addr).
	TLS *tls.ConnectionState

	Created time.Time

	// Owner is set once by whoever dialed the conn, before first use; a GC
	// cleanup holding only the conn finds its way back through it.
	Owner any

	inFlight atomic.Int32 // 1 from Reserve until the exchange finishes
	closed   atomic.Bool
	reused   bool // owned by the exchange: served a request before this one

	// Exchange state, owned by the goroutine running the exchange (and the
	// body's reader after RoundTrip returns).
	br        *bufio.Reader
	body      wire.BodyReader
	sink      *http.Response // receives a chunked body's trailers
	framing   wire.Framing
	keepAlive bool // both sides allow reuse after this exchange
	requests  int  // exchanges started on this conn
	deadline  bool // a read/write deadline may be set and must be cleared before idling
	upgraded  bool // 101 or CONNECT: the body owns the socket

	ctx         context.Context // the current request's
	up          *upload         // this exchange's request body state
	cw          countWriter
	written     atomic.Int64 // bytes of this exchange accepted by the socket
	timeoutName string       // the setting behind a read deadline, for errors

	// mu guards cancelled and the conn's deadlines against the AfterFunc.
	mu        sync.Mutex
	cancelled bool
	gen       uint64          // exchanges started; identifies the live one
	live      bool            // exchange gen has not finished
	req       *http.Request   // the live exchange's request, for Reclaim's report
	watching  bool            // the live exchange may be aborted by its context
	repeat    bool            // the live exchange's Done channel is the previous exchange's
	lastDone  <-chan struct{} // the previous exchange's Done channel
	watchDone <-chan struct{} // the Done channel the registration is for
	stopWatch func() bool     // stops the registration; nil when there is none
	cancelGen uint64          // CancelExchange's exchange, live or about to start
	cause     error           // why exchange cancelGen was cancelled (Transport.CancelRequest)

	peekN   int
	peekErr error
	peekFn  func(fd uintptr) bool // allocated once so the peek costs no allocation
}

// New wraps an established connection. The caller sets Addr, the peer's
// name in errors: New does not call nc.RemoteAddr(), which a custom
// dialer's conn may not implement (net/http never calls it; issue 11 bug 4).
func New(nc net.Conn, cfg *Config, now time.Time) *Conn {
	c := &Conn{nc: nc, cfg: cfg, Created: now}
	c.raw = rawConn(nc)
	c.cw.c = c
	return c
}

// Available reports whether a request may start: 1 when idle and open.
func (c *Conn) Available() int {
	if c.closed.Load() || c.inFlight.Load() != 0 {
		return 0
	}
	return 1
}

// InFlight is 1 while reserved or carrying a request.
func (c *Conn) InFlight() int { return int(c.inFlight.Load()) }

// Reserve takes the conn's one slot.
func (c *Conn) Reserve() error {
	if c.closed.Load() {
		return net.ErrClosed
	}
	if !c.inFlight.CompareAndSwap(0, 1) {
		return errBusy
	}
	return nil
}

// Release gives back a reservation that was not used.
func (c *Conn) Release() { c.inFlight.CompareAndSwap(1, 0) }

// Err reports whether the conn can still be used; cheap, no I/O.
func (c *Conn) Err() error {
	if c.closed.Load() {
		return net.ErrClosed
	}
	return nil
}

// CheckIdle is the checkout health check of an idle conn, called by the
// pool once per checkout (never concurrently: the conn is off the idle
// list): a non-blocking peek that finds a server's FIN or stray bytes
// without a reader goroutine (DESIGN decision 3). A conn back for less
// than peekAfterIdle skips it: in a hot loop the peek is a syscall per
// request that finds nothing, and a close in that instant is the
// keep-alive race the one retry covers.
func (c *Conn) CheckIdle(idle time.Duration) error {
	if err := c.Err(); err != nil || c.raw == nil || idle < peekAfterIdle {
		return err
	}
	return c.peek()
}

// Close closes the socket. Safe to call more than once and concurrently.
func (c *Conn) Close() error {
	if c.closed.Swap(true) {
		return nil
	}
	c.dropWatch() // the context no longer needs to reach this conn
	return c.nc.Close()
}

// Requests is how many exchanges the conn has started.
func (c *Conn) Requests() int { return c.requests }

// NetConn is the underlying connection (101 Switching Protocols hands it over).
func (c *Conn) NetConn() net.Conn { return c.nc }

// countWriter counts bytes the socket accepted, so a failed write can tell
// "nothing sent" (safe to retry) from "partly sent".
type countWriter struct{ c *Conn }

func (w *countWriter) Write(p []byte) (int, error) {
	n, err := w.c.nc.Write(p)
	w.c.written.Add(int64(n))
	if err != nil {
		err = &WriteError{Err: err}
	}
	return n, err
}

// WriteError is the socket refusing a write of the request. It tells a
// broken conn apart from a failing request body (whose error net/http
// returns as it is): both reach RoundTrip through the same copy.
type WriteError struct{ Err error }

func (e *WriteError) Error() string { return e.Err.Error() }
func (e *WriteError) Unwrap() error { return e.Err }

func (cfg *Config) maxHeader() int {
	if cfg.MaxHeaderBytes > 0 {
		return cfg.MaxHeaderBytes
	}
	return wire.DefaultMaxHeaderBytes
}

package h2

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// assumedMaxStreams is the stream limit before the server's SETTINGS
// arrive (x/net and net/http assume the same; RFC 9113 §6.5.2 recommends
// servers allow at least 100).
const assumedMaxStreams = 100

// maxStreamID is the last client stream ID (RFC 9113 §5.1.1: 31 bits);
// a conn that used it takes no new stream.
const maxStreamID = 1<<31 - 1

// Conn is one HTTP/2 connection. It implements the pool's Conn interface.
//
// Locks, in the order they may nest: wq.mu (the write queue; also the
// hpack encoder and stream ID assignment, so HEADERS reach the wire in
// encoding and ID order), then mu (stream table, accounting, send windows),
// then a stream's mu. No lock is held during a socket read or write, so
// what the pool calls under its own lock (Available, InFlight, Reserve,
// Err) takes only mu, briefly.
type Conn struct {
	nc   net.Conn
	cfg  *Config   // the Factory's; read-only
	ctr  *Counters // the Factory's
	Addr string    // remote address, for errors

	Created time.Time
	tls     *tls.ConnectionState // nil on h2c; every response's TLS, as x/net's
	// Owner is set once by whoever dialed the conn, before first use (the
	// root's route, to count a leaked body under its host).
	Owner any

	// wakes recycles the streams' wake channels within this conn only: a
	// channel made inside a testing/synctest bubble belongs to it, and one
	// handed to another bubble's conn through a global pool crashes the
	// program ("select on synctest channel from outside bubble").
	wakes sync.Pool

	wq   writeQueue
	henc *hpack.Encoder // guarded by wq.mu
	hbuf bytes.Buffer   // guarded by wq.mu: the encoder's output
	// hcache: the last request block, replayed for the same fields
	// (hpack_encache.go); guarded by wq.mu.
	hcache encCache

	br *bufio.Reader // the reads' holder only (handoff.go)
	fr *http2.Framer // the reads' holder only (reads; frames are written by frames.go)

	started atomic.Int64 // streams started, for errs.Error.Reused
	open    atomic.Int32 // streams open (len(streams), readable without mu)
	rd      readerState  // the reads' holder only
	health  health

	mu   sync.Mutex
	cond sync.Cond // on mu: a send window grew, or a stream or the conn ended

	streams  map[uint32]*stream // guarded by mu: open streams by ID
	nextID   uint32             // guarded by mu (assigned under wq.mu too)
	reserved int                // guarded by mu: reservations not yet used by RoundTrip
	// guarded by mu: the peer's settings and our send window.
	maxStreams   uint32
	peerWindow   int32 // its SETTINGS_INITIAL_WINDOW_SIZE: new streams' send window
	peerMaxFrame uint32
	peerMaxList  uint64 // its SETTINGS_MAX_HEADER_LIST_SIZE, 0 = unlimited
	sendWindow   int64  // conn-level send window
	gotSettings  bool
	// guarded by mu: what stops new streams.
	goAway     bool   // a GOAWAY arrived
	goAwayID   uint32 // its Last-Stream-ID
	goAwayCode http2.ErrCode
	degraded   bool  // a degraded PING went unanswered
	doNotReuse bool  // a request asked to close the conn after it (Connection: close)
	err        error // the conn failed or was closed: nothing more works
	closed     bool  // Close was called

	// Who reads the socket (handoff.go), guarded by mu.
	handOff     bool                   // set once by New: a caller may read its own response
	owner       atomic.Int32           // ownReader, ownNone (the reader is parked) or ownCaller; written under mu
	holder      atomic.Pointer[stream] // with ownCaller: the stream whose caller reads
	interrupted bool                   // the holder's read deadline is in the past
	wantRead    bool                   // someone needs the frames read: do not park
	parkT       *time.Timer            // resumes a reader parked for parkLinger (needReader)
	pingsOut    int                    // pingOut* bits: PINGs of ours not yet acked
	resume      chan struct{}          // cap 1: wakes the parked reader
	holds       atomic.Int64           // requests whose caller read their response (tests)
	holderCtxFn func()                 // c.holderCtxEnded, bound once
	// The holder's context registration (ctxwatch.go), guarded by mu.
	watchCtx  context.Context // the context registered
	stopWatch func() bool     // its AfterFunc's stop
	lastCtx   context.Context // the last holder's context

	// Receive windows: advertised sizes, read by streams under mu.
	streamWindow int32 // guarded by mu: our SETTINGS_INITIAL_WINDOW_SIZE
	connWindow   int32 // reader only: the conn window we grant
}

func (c *Conn) initState() {
	c.cond.L = &c.mu
	c.streams = make(map[uint32]*stream)
	c.resume = make(chan struct{}, 1)
	c.nextID = 1
	c.maxStreams = assumedMaxStreams
	c.peerWindow = initialWindow
	c.peerMaxFrame = defaultMaxFrameSize
	c.sendWindow = initialWindow
	c.streamWindow = defaultStreamWindow
	c.connWindow = defaultConnWindow
	c.rd.recvWindow = defaultConnWindow
}

// Available is how many more streams the server allows now: its
// MAX_CONCURRENT_STREAMS minus open and reserved streams; 0 when the conn
// takes no new stream.
func (c *Conn) Available() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.availableLocked()
}

func (c *Conn) availableLocked() int {
	if c.refusesLocked() {
		return 0
	}
	n := int64(c.maxStreams) - int64(len(c.streams)) - int64(c.reserved)
	if left := int64(maxStreamID-c.nextID)/2 + 1; n > left {
		n = left
	}
	return int(max(0, n))
}

// refusesLocked: no new stream may start (failed, closed, GOAWAY, degraded
// or out of stream IDs).
func (c *Conn) refusesLocked() bool {
	return c.err != nil || c.goAway || c.degraded || c.doNotReuse || c.nextID > maxStreamID
}

// InFlight is streams open or reserved.
func (c *Conn) InFlight() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.streams) + c.reserved
}

// Reserve takes a stream slot for the next RoundTrip.
func (c *Conn) Reserve() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.reserveLocked()
}

func (c *Conn) reserveLocked() error {
	if err := c.refusalLocked(); err != nil {
		return err
	}
	if c.availableLocked() == 0 {
		return errFull
	}
	c.reserved++
	return nil
}

// Release gives back a reservation that was not used. Without a
// reservation it does nothing, as net/http's ClientConn.Release.
func (c *Conn) Release() {
	c.mu.Lock()
	if c.reserved > 0 {
		c.reserved--
	}
	c.mu.Unlock()
}

// Err is non-nil when the conn is of no more use: closed, failed, or
// refusing new streams with none left open. A conn that refuses new
// streams (GOAWAY, degraded) but still serves some reports nil, so the pool
// does not close it under them: Available and Reserve keep new requests
// off it, and it closes itself once its last stream ends.
func (c *Conn) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return c.err
	}
	if len(c.streams) > 0 || c.reserved > 0 {
		return nil
	}
	return c.refusalLocked()
}

// refusalLocked is why no new stream may start, or nil.
func (c *Conn) refusalLocked() error {
	switch {
	case c.err != nil:
		return c.err
	case c.goAway:
		return errGoAway
	case c.degraded:
		return errDegraded
	case c.doNotReuse:
		return errDoNotReuse
	case c.nextID > maxStreamID:
		return errIDsExhausted
	}
	return nil
}

// Streams reports open streams and the server's limit (0 until its
// SETTINGS arrive), for Stats.
func (c *Conn) Streams() (active int, max uint32) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.gotSettings {
		return len(c.streams), 0
	}
	return len(c.streams), c.maxStreams
}

// NetConn is the underlying connection.
func (c *Conn) NetConn() net.Conn { return c.nc }

// Writes is the number of socket writes the conn made (for benchmarks).
func (c *Conn) Writes() uint64 { return c.wq.writes.Load() }

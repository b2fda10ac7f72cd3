package h2

import (
	"net"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/http2"
)

// assumedMaxStreams is the stream limit before the server's SETTINGS arrive.
// State() reports 0 until then, but x/net already lets 100 streams start
// (its initialMaxConcurrentStreams), so Available says the same rather than
// calling a fresh conn full.
const assumedMaxStreams = 100

// Conn is one HTTP/2 connection. It implements the pool's Conn interface.
//
// Reservations and x/net. ReserveNewRequest increments x/net's
// streamsReserved; the next RoundTrip on the conn decrements it (in the
// request's own goroutine, atomically with registering the stream), whoever
// reserved. x/net's exported API has no un-reserve. So Release does not give
// the slot back to x/net: it turns the reservation into an orphan, a slot
// x/net still counts as reserved and we do not. The next Reserve adopts an
// orphan instead of asking x/net, so x/net's count is always ours + orphans
// and Available/InFlight subtract the orphans. The price: while orphans
// exist x/net will not close the conn by itself when it goes idle after a
// GOAWAY; Err reports the GOAWAY and the pool closes it.
//
// Locking: State() takes x/net's write mutex (cc.wmu) to read the peer's
// settings; a write blocked on a stalled socket holds it. Such a write is
// bounded by the PING health check (a dead peer closes the conn within
// ReadIdleTimeout+PingTimeout), so Available, InFlight, Reserve and Err stay
// cheap enough to call under Pool.mu in practice.
type Conn struct {
	cc   *http2.ClientConn
	nc   net.Conn
	cfg  *Config // the Factory's; read-only
	Addr string  // remote address, for errors

	Created time.Time

	closed  atomic.Bool  // Close was called
	started atomic.Int64 // streams started, for errs.Error.Reused

	mu       sync.Mutex
	reserved int // guarded by mu; reservations taken and not yet consumed by RoundTrip
	open     int // guarded by mu; streams started whose end has not been reported
	orphans  int // guarded by mu; released reservations x/net still counts
}

// Available is how many more streams the server allows now: its
// MAX_CONCURRENT_STREAMS minus active, reserved and pending streams; 0 when
// the conn is closing, closed or full.
func (c *Conn) Available() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.availableLocked(c.cc.State())
}

func (c *Conn) availableLocked(st http2.ClientConnState) int {
	if c.closed.Load() || st.Closed || st.Closing {
		return 0
	}
	// Without orphans x/net's own verdict also covers what State does not
	// show (stream IDs exhausted). With orphans x/net counts the conn fuller
	// than it is, so only our arithmetic applies.
	if c.orphans == 0 && !c.cc.CanTakeNewRequest() {
		return 0
	}
	limit := int64(st.MaxConcurrentStreams)
	if limit == 0 {
		limit = assumedMaxStreams
	}
	return int(max(0, limit-int64(c.usedLocked(st))))
}

// usedLocked is x/net's count of busy slots less our orphans. It includes
// streams x/net has not finished cleaning up and reset streams awaiting a
// PING ack (x/net keeps their slot until the peer proves alive).
func (c *Conn) usedLocked(st http2.ClientConnState) int {
	return max(0, st.StreamsActive+st.StreamsReserved+st.StreamsPending-c.orphans)
}

// InFlight is streams active, reserved or pending, as x/net counts them.
func (c *Conn) InFlight() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.usedLocked(c.cc.State())
}

// Reserve takes a stream slot for the next RoundTrip.
func (c *Conn) Reserve() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.reserveLocked()
}

func (c *Conn) reserveLocked() error {
	if err := c.Err(); err != nil {
		return err
	}
	if c.orphans > 0 {
		if c.availableLocked(c.cc.State()) == 0 {
			return errFull
		}
		c.orphans--
		c.reserved++
		return nil
	}
	if !c.cc.ReserveNewRequest() {
		if err := c.Err(); err != nil {
			return err
		}
		return errFull
	}
	c.reserved++
	return nil
}

// Release gives back a reservation that was not used (see Conn on orphans).
// Without a reservation it does nothing, as net/http's ClientConn.Release.
func (c *Conn) Release() {
	c.mu.Lock()
	if c.reserved > 0 {
		c.reserved--
		c.orphans++
	}
	c.mu.Unlock()
}

// Err is non-nil when the conn will never take a new request: closed by us,
// closed by x/net (peer hung up, PING unanswered, I/O or protocol error), or
// closing (GOAWAY received, or a request said Connection: close). State
// cannot say why x/net closed a conn; one that was closing first is counted
// a server close (the usual graceful GOAWAY then FIN), otherwise lost.
func (c *Conn) Err() error {
	if c.closed.Load() {
		return net.ErrClosed
	}
	st := c.cc.State()
	switch {
	case st.Closed && st.Closing:
		return errClosedAfterGoAway
	case st.Closed:
		return errLost
	case st.Closing:
		return errGoAway
	}
	return nil
}

// Close closes the conn at once; streams in flight fail. Safe to call more
// than once and concurrently.
func (c *Conn) Close() error {
	if c.closed.Swap(true) {
		return nil
	}
	return c.cc.Close()
}

// Streams reports active streams and the server's limit (0 until its
// SETTINGS arrive), for Stats.
func (c *Conn) Streams() (active int, max uint32) {
	st := c.cc.State()
	return st.StreamsActive, st.MaxConcurrentStreams
}

// NetConn is the underlying connection.
func (c *Conn) NetConn() net.Conn { return c.nc }

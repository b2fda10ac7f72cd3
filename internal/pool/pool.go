// Package pool is spool's keyed connection cache. It is generic over a Conn
// interface (Go 1.26 http.ClientConn's shape) so HTTP/1 and HTTP/2 conns share
// it and tests drive it with fakes, without sockets.
//
// Per key it keeps a LIFO stack of idle conns and a list of multiplexed conns
// with spare capacity; over all keys a global LRU of idle conns. Callers that
// find nothing wait in a FIFO queue per key while dials run, one goroutine per
// dial in progress and no other goroutine: idle expiry is one timer for the
// whole pool, driven by evictLocked(now).
//
// Locking: one mutex, Pool.mu, guards all pool state. Conn methods that may
// block or make a syscall (Err on an idle HTTP/1 conn, Close) run outside it.
package pool

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// Conn is one connection the pool manages. HTTP/1 conns carry one request at
// a time; HTTP/2 conns carry many. Mirrors Go 1.26 http.ClientConn.
//
// The pool uses conns as map keys, so the dynamic type behind C must be
// comparable (a pointer, in practice).
type Conn interface {
	Available() int // requests it can take now without blocking; 0 when busy (h1) or closed
	InFlight() int  // requests in flight including reservations
	Reserve() error // take a slot; error if closed or full
	Release()       // give back an unused reservation
	// Err is non-nil when the conn can no longer be used. For an idle HTTP/1
	// conn it performs the checkout health check (a non-blocking peek), so the
	// pool calls it once per checkout of an idle conn, never in loops, and
	// never under Pool.mu. A multiplexed conn's Err (and its Reserve and
	// Available) must be cheap: the pool calls them under Pool.mu; an
	// IdleChecker's CheckIdle, at the checkout of an idle conn, runs
	// outside it.
	Err() error
	Close() error
}

// Key names a connection cache bucket. The caller builds it
// (proxy|scheme|host:port); the pool only compares keys.
type Key string

// IdleChecker is a Conn with a health check worth running only when an
// idle conn is checked out (HTTP/1's peek costs a syscall); the pool
// calls it there instead of Err, at most once per checkout, with how long
// the conn sat idle.
type IdleChecker interface {
	CheckIdle(idle time.Duration) error
}

// DialFunc makes a new conn for a key. Its ctx is not the caller's: it keeps
// the caller's values but not its cancellation, and is cancelled by Close.
type DialFunc[C Conn] func(ctx context.Context) (C, error)

// Defaults for zero Config fields.
const (
	// DefaultMaxIdle bounds idle conns over all hosts. An idle conn costs a
	// struct and a file descriptor (no goroutine), so this is about descriptors.
	DefaultMaxIdle = 1024
	// DefaultMaxIdlePerHost is large because net/http's 2 makes a busy client
	// close and redial conns it needs a moment later (golang/go#13801).
	DefaultMaxIdlePerHost = 256
	// DefaultIdleTimeout matches net/http's DefaultTransport. It need not
	// undercut server keep-alive limits (the checkout health check catches a
	// server's close); it only keeps unused descriptors from living forever.
	DefaultIdleTimeout = 90 * time.Second
)

// Config holds the pool's limits. The zero value is usable.
type Config struct {
	MaxIdle            int           // all hosts; 0 → DefaultMaxIdle; <0 → no idle conns kept (and an HTTP/1 conn serves only the Get it was dialed for)
	MaxIdlePerHost     int           // 0 → DefaultMaxIdlePerHost; <0 → no idle conns kept
	MaxConnsPerHost    int           // 0 → unlimited; counts dialing + active + idle conns of a key
	MaxWaitPerHost     int           // 0 → unlimited; callers waiting for a free slot of a key beyond this fail fast with ErrWaitQueueFull
	IdleTimeout        time.Duration // 0 → DefaultIdleTimeout; <0 → never
	MaxLifetime        time.Duration // 0 → unlimited; an older conn is not reused (closed at checkin, checkout or eviction)
	MaxRequestsPerConn int           // 0 → unlimited; after this many checkouts a conn is retired
	// SingleUse: every conn serves one checkout and is closed after it
	// (ReasonNotReusable), multiplexed or not; the Transport's
	// DisableKeepAlives, which x/net applies to HTTP/2 as single-use conns.
	SingleUse bool
	// MultiplexHint says a key's conns will likely be multiplexed (HTTP/2
	// offered by ALPN), so a burst of Gets on a key never dialed starts one
	// dial and waits for it instead of dialing once per caller. Once a dial
	// has told, the key's last conn decides.
	MultiplexHint func(Key) bool
	// Events, if set, receives the pool's events (see Events).
	Events Events
}

func (c Config) normalized() Config {
	if c.MaxIdle == 0 {
		c.MaxIdle = DefaultMaxIdle
	}
	if c.MaxIdlePerHost == 0 {
		c.MaxIdlePerHost = DefaultMaxIdlePerHost
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = DefaultIdleTimeout
	}
	return c
}

// keepsIdle reports whether idle conns are kept at all.
func (c Config) keepsIdle() bool { return c.MaxIdle > 0 && c.MaxIdlePerHost > 0 }

// Pool is a keyed connection cache. Create it with New.
type Pool[C Conn] struct {
	cfg         Config                  // normalized; read-only after New
	dialCtx     context.Context         // parent of every dial's cancellation; cancelled by Close
	cancelDials context.CancelCauseFunc // cancels dialCtx

	mu      sync.Mutex
	closed  bool               // guarded by mu
	hosts   map[Key]*host[C]   // guarded by mu; keys with conns, dials or waiters
	recs    map[Key]*record[C] // guarded by mu; live keys and the maxQuietKeys most recently quiet ones
	quiet   quietList[C]       // guarded by mu; records without a host, front = most recently quiet
	retired HostStats          // guarded by mu; cumulative counters of records dropped from recs
	conns   map[Conn]*entry[C] // guarded by mu; every conn the pool owns, idle or not
	lru     list[C]            // guarded by mu; all idle conns, front = most recently idled
	timer   *time.Timer        // guarded by mu; the one idle-expiry timer, nil until first armed
	timerAt time.Time          // guarded by mu; when timer fires; zero when not armed
	lifeMin time.Time          // guarded by mu; earliest created+MaxLifetime among idle conns (may be early, never late); zero if none
	lastID  atomic.Uint64      // the last conn ID given out (at the end of its dial, before the lock)
}

// host is the live state of one key. It is dropped when it has no conns, no
// dials and no waiters; its record (counters) stays.
type host[C Conn] struct {
	key Key
	rec *record[C]

	// All guarded by Pool.mu.
	idle        list[C]       // idle conns, front = most recently idled (LIFO checkout)
	shared      list[C]       // conns in use that can take more requests (multiplexed)
	q           waitQueue[C]  // callers waiting for a conn, FIFO
	nconns      int           // conns owned: active + idle (dials not included)
	ndialing    int           // dials in progress
	nwaiting    int           // live waiters in q
	nowned      int           // live waiters that own a dial in progress
	dials       []*dialing[C] // dials in progress
	multiplexed bool          // the last conn dialed for this key could take more than one request
}

// record is a key's cumulative counters; it survives its host, until
// maxQuietKeys more recently quiet keys push it out (its counters then
// go to Pool.retired, so totals stay exact).
type record[C Conn] struct {
	key   Key
	s     HostStats // guarded by Pool.mu; only the cumulative fields are kept here
	h     *host[C]  // guarded by Pool.mu; live state, nil while the key is quiet
	mux   bool      // guarded by Pool.mu; the last conn dialed was multiplexed
	known bool      // guarded by Pool.mu; mux comes from a dial, not the hint

	prev, next *record[C] // guarded by Pool.mu; links in Pool.quiet while h == nil
}

// connState says which list, if any, an entry is on.
type connState uint8

const (
	stateActive connState = iota // checked out; on no list
	stateShared                  // checked out and can take more requests; on host.shared
	stateIdle                    // out==0; on host.idle and Pool.lru
	stateGone                    // forgotten: closed, removed or detached
)

// entry is the pool's record of one conn.
type entry[C Conn] struct {
	c       C
	h       *host[C]
	created time.Time
	id      uint64 // 1, 2, … in the order the pool tracked its conns
	mux     bool   // can carry more than one request (HTTP/2): may be shared
	// lockedCheck: mux and not an IdleChecker, so the checkout of this
	// conn when idle checks it under Pool.mu (reserveIdleLocked), not
	// outside it (checkIdle).
	lockedCheck bool

	// All guarded by Pool.mu.
	idleAt  time.Time // when it last became idle
	uses    int       // checkouts so far
	state   connState // list membership
	retired bool      // takes no new requests; closed once out==0
	out     int       // checkouts not yet put back: the pool's own count, so a conn
	// whose exchange ended (InFlight()==0) before its Put is not taken for idle
	why   CloseReason // why it was retired
	links [numSlots]link[C]
}

// New returns a pool with cfg's limits (zero fields take the defaults).
func New[C Conn](cfg Config) *Pool[C] {
	p := &Pool[C]{
		cfg:   cfg.normalized(),
		hosts: make(map[Key]*host[C]),
		recs:  make(map[Key]*record[C]),
		conns: make(map[Conn]*entry[C]),
	}
	p.lru.slot = lruSlot
	p.dialCtx, p.cancelDials = context.WithCancelCause(context.Background())
	return p
}

// hostLocked returns key's live state, creating it (and its record) if needed.
func (p *Pool[C]) hostLocked(key Key) *host[C] {
	if h := p.hosts[key]; h != nil {
		return h
	}
	r := p.recordLocked(key)
	h := &host[C]{key: key, rec: r, multiplexed: r.mux}
	if !r.known && p.cfg.MultiplexHint != nil {
		h.multiplexed = p.cfg.MultiplexHint(key)
	}
	h.idle.slot, h.shared.slot = hostSlot, hostSlot
	p.quiet.remove(r)
	r.h = h
	p.hosts[key] = h
	return h
}

// recordLocked returns key's record, creating a quiet one if needed.
func (p *Pool[C]) recordLocked(key Key) *record[C] {
	r := p.recs[key]
	if r == nil {
		r = &record[C]{key: key}
		p.recs[key] = r
		p.quietLocked(r)
	}
	return r
}

// quietLocked puts a record without live state at the front of the quiet
// list and retires the oldest beyond maxQuietKeys: a crawler meets
// millions of hosts, and a record per host ever seen would grow without end.
func (p *Pool[C]) quietLocked(r *record[C]) {
	p.quiet.pushFront(r)
	for p.quiet.n > maxQuietKeys {
		old := p.quiet.back
		p.quiet.remove(old)
		p.retired.add(&old.s)
		delete(p.recs, old.key)
	}
}

// dropIfQuietLocked forgets h's live state when nothing refers to it.
func (p *Pool[C]) dropIfQuietLocked(h *host[C]) {
	if h.nconns > 0 || h.ndialing > 0 || h.nwaiting > 0 {
		return
	}
	if p.hosts[h.key] == h {
		delete(p.hosts, h.key)
	}
	if h.rec.h == h {
		h.rec.h = nil
		p.quietLocked(h.rec)
	}
	h.q.reset()
}

// settleLocked runs after any change to h: it starts the dials h's waiters
// need and drops h if it has become quiet.
func (p *Pool[C]) settleLocked(h *host[C], b *closeBatch[C]) {
	p.kickLocked(h, b)
	p.dropIfQuietLocked(h)
}

// canDialLocked reports whether MaxConnsPerHost allows one more conn for h.
func (p *Pool[C]) canDialLocked(h *host[C]) bool {
	max := p.cfg.MaxConnsPerHost
	return max <= 0 || h.nconns+h.ndialing < max
}

// CloseIdle closes every idle conn (counted ReasonCloseIdle). Conns in use
// stay; they go idle again when put back.
//
// It also cancels dials whose callers all gave up: they would only land
// idle, and a stalled one would hold a socket and a goroutine until Close.
func (p *Pool[C]) CloseIdle() {
	b := p.batch()
	p.mu.Lock()
	p.closeIdleLocked(ReasonCloseIdle, &b)
	for _, h := range p.hosts {
		if h.nwaiting > 0 {
			continue
		}
		for _, d := range h.dials {
			if d.owner == nil {
				d.cancel(ErrDialAbandoned)
			}
		}
	}
	p.mu.Unlock()
	b.close()
}

func (p *Pool[C]) closeIdleLocked(why CloseReason, b *closeBatch[C]) {
	for e := p.lru.back; e != nil; e = p.lru.back {
		p.removeLocked(e, why, b)
		p.settleLocked(e.h, b)
	}
	p.lifeMin = time.Time{}
}

// Close closes idle conns, cancels dials in progress, fails waiters with
// ErrPoolClosed and makes later Gets fail. Conns in use are closed when put
// back. Close does not wait for dial goroutines; they end when dial returns.
func (p *Pool[C]) Close() {
	b := p.batch()
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	p.closeIdleLocked(ReasonPoolClosed, &b)
	now := time.Now()
	for _, h := range p.hosts {
		for w := h.q.next(true); w != nil; w = h.q.next(true) {
			p.failLocked(w, waitErr(ErrPoolClosed), now)
		}
		for e := h.shared.front; e != nil; e = h.shared.front {
			p.retireLocked(e, ReasonPoolClosed)
		}
		p.dropIfQuietLocked(h)
	}
	if p.timer != nil {
		p.timer.Stop()
		p.timerAt = time.Time{}
	}
	p.mu.Unlock()
	p.cancelDials(ErrPoolClosed)
	b.close()
}

package pool

import "time"

// CloseReason says why the pool (or its owner) closed a conn.
type CloseReason uint8

const (
	ReasonIdleTimeout  CloseReason = iota // idle longer than IdleTimeout
	ReasonEvicted                         // over MaxIdlePerHost or MaxIdle, or made room for a fresh dial
	ReasonServerClosed                    // the server closed it (Err wraps ErrServerClosed)
	ReasonBroken                          // failed its health check or an exchange
	ReasonLifetime                        // older than MaxLifetime
	ReasonMaxRequests                     // served MaxRequestsPerConn requests
	ReasonLeaked                          // its response body was never closed
	ReasonEarlyClose                      // a body closed early could not be drained
	ReasonNotReusable                     // the exchange forbade reuse (Connection: close etc.)
	ReasonPoolClosed                      // Pool.Close
	ReasonCloseIdle                       // Pool.CloseIdle
	NumReasons                            // number of reasons, for arrays indexed by CloseReason

	// ReasonDetached is not a close: Detach handed the conn to its
	// caller. Events report it; HostStats do not count it.
	ReasonDetached = NumReasons
)

var reasonNames = [NumReasons]string{
	ReasonIdleTimeout:  "idle timeout",
	ReasonEvicted:      "evicted",
	ReasonServerClosed: "server closed",
	ReasonBroken:       "broken",
	ReasonLifetime:     "lifetime",
	ReasonMaxRequests:  "max requests",
	ReasonLeaked:       "leaked",
	ReasonEarlyClose:   "early close",
	ReasonNotReusable:  "not reusable",
	ReasonPoolClosed:   "pool closed",
	ReasonCloseIdle:    "close idle",
}

func (r CloseReason) String() string {
	if r < NumReasons {
		return reasonNames[r]
	}
	if r == ReasonDetached {
		return "detached"
	}
	return "unknown"
}

// HostStats are one key's numbers. The first four are the state now; the
// rest count since the pool was created.
type HostStats struct {
	Active  int // conns checked out (at least one request in flight or reserved)
	Idle    int // idle conns
	Dialing int // dials in progress
	Waiting int // callers blocked in Get (some of them own a dial in progress)

	// Multiplexed conns (HTTP/2) now, and the streams in flight on them;
	// filled from conns that report Streams() (active int, max uint32).
	Multiplexed int
	Streams     int

	Requests     int64             // Gets (replays through GetTagged are not counted)
	Dials        int64             // dials started
	DialErrors   int64             // dials that failed
	Reuses       int64             // checkouts of a conn used before
	LeakedBodies int64             // bumped by the owner through Count
	WaitCount    int64             // Gets that blocked: no usable conn at hand, so they waited for a dial or a conn put back (however they ended)
	WaitDuration time.Duration     // total time those Gets blocked, dial time included
	Closes       [NumReasons]int64 // conns closed, by reason
}

func (s *HostStats) add(o *HostStats) {
	s.Active += o.Active
	s.Idle += o.Idle
	s.Dialing += o.Dialing
	s.Waiting += o.Waiting
	s.Multiplexed += o.Multiplexed
	s.Streams += o.Streams
	s.Requests += o.Requests
	s.Dials += o.Dials
	s.DialErrors += o.DialErrors
	s.Reuses += o.Reuses
	s.LeakedBodies += o.LeakedBodies
	s.WaitCount += o.WaitCount
	s.WaitDuration += o.WaitDuration
	for i := range s.Closes {
		s.Closes[i] += o.Closes[i]
	}
}

// Stats is a snapshot of the pool: per live key and recent quiet key, and
// summed over every key ever seen.
type Stats struct {
	Total HostStats
	Hosts map[Key]HostStats
}

type keyStats struct {
	k Key
	s HostStats
}

// streamer is a multiplexed conn that can say how busy it is.
type streamer interface {
	Streams() (active int, max uint32)
}

type muxConn struct {
	k Key
	c streamer
}

// Stats returns a snapshot. Under the lock it only copies one record per
// live key and per recent quiet key (at most maxQuietKeys); the map is built
// after, so calling it every second with 10,000 keys does not stall Gets.
// Total also counts the keys whose records were retired.
func (p *Pool[C]) Stats() Stats {
	p.mu.Lock()
	retired := p.retired
	rows := make([]keyStats, 0, len(p.recs))
	for k, r := range p.recs {
		s := r.s
		s.Active, s.Idle, s.Dialing, s.Waiting = 0, 0, 0, 0
		if h := r.h; h != nil {
			s.Active = h.nconns - h.idle.n
			s.Idle = h.idle.n
			s.Dialing = h.ndialing
			s.Waiting = h.nwaiting
		}
		rows = append(rows, keyStats{k, s})
	}
	var mux []muxConn
	for c, e := range p.conns {
		if m, ok := any(c).(streamer); ok {
			mux = append(mux, muxConn{e.h.key, m})
		}
	}
	p.mu.Unlock()
	st := Stats{Hosts: make(map[Key]HostStats, len(rows))}
	for i := range rows {
		st.Hosts[rows[i].k] = rows[i].s
	}
	// Asked outside the lock: a conn's own lock may be held by code that
	// is calling into the pool.
	for _, m := range mux {
		active, _ := m.c.Streams()
		h := st.Hosts[m.k]
		h.Multiplexed++
		h.Streams += active
		st.Hosts[m.k] = h
	}
	st.Total = retired
	for _, h := range st.Hosts {
		st.Total.add(&h)
	}
	return st
}

// Count lets the owner bump counters it knows about (Requests, LeakedBodies,
// Closes of conns it closed itself) under the pool lock. f must only change
// cumulative fields; the state-now fields are computed by Stats.
func (p *Pool[C]) Count(key Key, f func(*HostStats)) {
	p.mu.Lock()
	f(&p.recordLocked(key).s)
	p.mu.Unlock()
}

package spool

import (
	"time"

	"github.com/spoolhttp/spool/internal/pool"
)

// HostStats describes the connections of one pool key (proxy, scheme and
// host:port) or, in Stats.Total, of all of them.
type HostStats struct {
	// Now.
	Active  int // connections carrying a request
	Idle    int // connections parked for reuse
	Dialing int // dials in progress
	Waiting int // callers queued at MaxConnsPerHost
	H2Conns int // HTTP/2 conns (also counted in Active or Idle)
	Streams int // HTTP/2 streams in flight on them

	// Since the Transport was created.
	Requests     int64 // round trips started
	Dials        int64
	DialErrors   int64
	Reuses       int64 // requests served by an existing connection
	LeakedBodies int64 // bodies never closed, reclaimed after GC
	WaitCount    int64 // requests that found no idle conn and waited (for a dial or a freed conn)
	WaitDuration time.Duration

	Closes CloseCounts
}

// CloseCounts counts closed connections by reason.
type CloseCounts struct {
	IdleTimeout  int64 // idle past IdleConnTimeout
	Evicted      int64 // idle limits (LRU), CloseIdleConnections or Close
	ServerClosed int64 // the server closed an idle connection
	Broken       int64 // I/O error, protocol error, cancellation
	Lifetime     int64 // MaxConnLifetime
	MaxRequests  int64 // MaxRequestsPerConn
	Leaked       int64 // body never closed
	EarlyClose   int64 // Body.Close before EOF and the drain bound was hit
	NotReusable  int64 // Connection: close, HTTP/1.0, close-delimited body, DisableKeepAlives
}

// Stats is a snapshot of a Transport's pool. Hosts is keyed by the pool key,
// e.g. "http://example.com:80" or "http://proxy:3128|https://example.com:443".
// It holds every key with connections, dials or waiters, and the 1,024 keys
// that most recently went without any; an older quiet key's counters are
// dropped from Hosts (a crawler's millions of hosts would otherwise grow it
// without end) but stay in Total, which counts everything since creation.
type Stats struct {
	Total HostStats
	Hosts map[string]HostStats
	H2    H2Stats // HTTP/2 protocol events over all conns (roundtrip_h2.go)
}

// Stats returns a snapshot of the pool; cheap enough to call every second.
func (t *Transport) Stats() Stats {
	ps := t.state().pool.Stats()
	s := Stats{Total: hostStats(ps.Total), Hosts: make(map[string]HostStats, len(ps.Hosts)), H2: t.state().h2Stats()}
	for k, h := range ps.Hosts {
		s.Hosts[string(k)] = hostStats(h)
	}
	return s
}

func hostStats(h pool.HostStats) HostStats {
	c := &h.Closes
	return HostStats{
		Active: h.Active, Idle: h.Idle, Dialing: h.Dialing, Waiting: h.Waiting,
		H2Conns: h.Multiplexed, Streams: h.Streams,
		Requests: h.Requests, Dials: h.Dials, DialErrors: h.DialErrors, Reuses: h.Reuses,
		LeakedBodies: h.LeakedBodies, WaitCount: h.WaitCount, WaitDuration: h.WaitDuration,
		Closes: CloseCounts{
			IdleTimeout:  c[pool.ReasonIdleTimeout],
			Evicted:      c[pool.ReasonEvicted] + c[pool.ReasonCloseIdle] + c[pool.ReasonPoolClosed],
			ServerClosed: c[pool.ReasonServerClosed],
			Broken:       c[pool.ReasonBroken],
			Lifetime:     c[pool.ReasonLifetime],
			MaxRequests:  c[pool.ReasonMaxRequests],
			Leaked:       c[pool.ReasonLeaked],
			EarlyClose:   c[pool.ReasonEarlyClose],
			NotReusable:  c[pool.ReasonNotReusable],
		},
	}
}

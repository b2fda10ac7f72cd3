package spool

import (
	"time"

	"github.com/spoolhttp/spool/internal/pool"
)

// HostStats describes the connections of one pool key (proxy, scheme and
// host:port) or, in Stats.Total, of all of them. The JSON names (Stats is
// what DebugHandler's ?format=json serves) are part of the API and stay.
type HostStats struct {
	// Now.
	Active  int `json:"active"`   // connections carrying a request
	Idle    int `json:"idle"`     // connections parked for reuse
	Dialing int `json:"dialing"`  // dials in progress
	Waiting int `json:"waiting"`  // callers queued at MaxConnsPerHost
	H2Conns int `json:"h2_conns"` // HTTP/2 conns (also counted in Active or Idle)
	Streams int `json:"streams"`  // HTTP/2 streams in flight on them

	// Since the Transport was created.
	Requests     int64         `json:"requests"` // round trips started
	Dials        int64         `json:"dials"`
	DialErrors   int64         `json:"dial_errors"`
	Reuses       int64         `json:"reuses"`        // requests served by an existing connection
	LeakedBodies int64         `json:"leaked_bodies"` // bodies never closed, reclaimed after GC
	WaitCount    int64         `json:"wait_count"`    // requests that found no idle conn and waited (for a dial or a freed conn)
	WaitDuration time.Duration `json:"wait_ns"`       // their total wait, in nanoseconds in JSON

	Closes CloseCounts `json:"closes"`
}

// CloseCounts counts closed connections by reason. The JSON names are
// CloseReason's names.
type CloseCounts struct {
	IdleTimeout  int64 `json:"idle_timeout"`  // idle past IdleConnTimeout
	Evicted      int64 `json:"evicted"`       // idle limits (LRU), CloseIdleConnections or Close
	ServerClosed int64 `json:"server_closed"` // the server closed an idle connection
	Broken       int64 `json:"broken"`        // I/O error, protocol error, cancellation
	Lifetime     int64 `json:"lifetime"`      // MaxConnLifetime
	MaxRequests  int64 `json:"max_requests"`  // MaxRequestsPerConn
	Leaked       int64 `json:"leaked"`        // body never closed
	EarlyClose   int64 `json:"early_close"`   // Body.Close before EOF and the drain bound was hit
	NotReusable  int64 `json:"not_reusable"`  // Connection: close, HTTP/1.0, close-delimited body, DisableKeepAlives
}

// Stats is a snapshot of a Transport's pool. Hosts is keyed by the pool key,
// e.g. "http://example.com:80" or "http://proxy:3128|https://example.com:443".
// It holds every key with connections, dials or waiters, and the 1,024 keys
// that most recently went without any; an older quiet key's counters are
// dropped from Hosts (a crawler's millions of hosts would otherwise grow it
// without end) but stay in Total, which counts everything since creation.
//
// As JSON: {"total": {...}, "hosts": {"key": {...}, ...}}, each a
// HostStats with the names of its json tags.
type Stats struct {
	Total HostStats            `json:"total"`
	Hosts map[string]HostStats `json:"hosts"`
}

// Stats returns a snapshot of the pool; cheap enough to call every second.
func (t *Transport) Stats() Stats {
	ps := t.state().pool.Stats()
	s := Stats{Total: hostStats(ps.Total), Hosts: make(map[string]HostStats, len(ps.Hosts))}
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

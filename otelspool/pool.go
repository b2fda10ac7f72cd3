package otelspool

import (
	"context"
	"errors"
	"sync"

	"github.com/spoolhttp/spool"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// poolInstruments are read from Transport.Stats at each collection: the
// pool's own counts are the one source of truth, so the numbers here and
// those of Stats (and of the debug page) never disagree.
type poolInstruments struct {
	open    metric.Int64ObservableUpDownCounter // http.client.open_connections
	dialing metric.Int64ObservableUpDownCounter
	pending metric.Int64ObservableUpDownCounter
	streams metric.Int64ObservableUpDownCounter
	perConn metric.Float64ObservableGauge
	closes  metric.Int64ObservableCounter
	dials   metric.Int64ObservableCounter
	reuses  metric.Int64ObservableCounter
	leaked  metric.Int64ObservableCounter

	mu   sync.Mutex
	seen map[string]protoSeen // guarded by mu; per pool key in Stats
}

// protoSeen records which protocols a pool key has had conns of, so
// http.client.open_connections reports 0 for them when the conns are gone
// (not a vanished series), and nothing for a protocol the key never spoke.
type protoSeen struct{ h1, h2 bool }

func newPoolInstruments(m metric.Meter) (*poolInstruments, error) {
	var p poolInstruments
	var errs [9]error
	p.open, errs[0] = m.Int64ObservableUpDownCounter("http.client.open_connections",
		metric.WithUnit("{connection}"),
		metric.WithDescription("Number of outbound HTTP connections that are currently active or idle on the client."))
	p.dialing, errs[1] = m.Int64ObservableUpDownCounter("spool.client.connection.dialing",
		metric.WithUnit("{connection}"),
		metric.WithDescription("Connections being dialed (TCP, proxy tunnel, TLS handshake)."))
	p.pending, errs[2] = m.Int64ObservableUpDownCounter("spool.client.connection.pending_requests",
		metric.WithUnit("{request}"),
		metric.WithDescription("Requests queued for a connection at MaxConnsPerHost."))
	p.streams, errs[3] = m.Int64ObservableUpDownCounter("spool.client.http2.streams",
		metric.WithUnit("{stream}"),
		metric.WithDescription("HTTP/2 streams in flight."))
	p.perConn, errs[4] = m.Float64ObservableGauge("spool.client.http2.streams_per_connection",
		metric.WithUnit("{stream}"),
		metric.WithDescription("HTTP/2 streams in flight per open HTTP/2 connection."))
	p.closes, errs[5] = m.Int64ObservableCounter("spool.client.connection.closes",
		metric.WithUnit("{connection}"),
		metric.WithDescription("Connections closed, by spool.close.reason."))
	p.dials, errs[6] = m.Int64ObservableCounter("spool.client.connection.dials",
		metric.WithUnit("{dial}"),
		metric.WithDescription("Dials finished, by spool.dial.outcome (success or error)."))
	p.reuses, errs[7] = m.Int64ObservableCounter("spool.client.connection.reuses",
		metric.WithUnit("{request}"),
		metric.WithDescription("Requests served by a connection that had served one before."))
	p.leaked, errs[8] = m.Int64ObservableCounter("spool.client.leaked_bodies",
		metric.WithUnit("{body}"),
		metric.WithDescription("Response bodies never closed, reclaimed after garbage collection."))
	if err := errors.Join(errs[:]...); err != nil {
		return nil, err
	}
	return &p, nil
}

func (p *poolInstruments) all() []metric.Observable {
	return []metric.Observable{p.open, p.dialing, p.pending, p.streams, p.perConn,
		p.closes, p.dials, p.reuses, p.leaked}
}

// observe reports one Stats snapshot. Pool keys that differ only in what
// the attributes leave out (a proxy's user) share attributes, so values are
// summed per attribute set before they are observed: an observer must see
// each set once per collection.
func (p *poolInstruments) observe(_ context.Context, o metric.Observer, st spool.Stats) {
	p.mu.Lock() // collections by several readers may overlap
	defer p.mu.Unlock()
	for key := range p.seen {
		if _, ok := st.Hosts[key]; !ok {
			delete(p.seen, key)
		}
	}
	var open, dialing, pending, streams, h2, closes, dials, reuses, leaked sums
	for key, h := range st.Hosts {
		org := parseKey(key)
		h1Active, h1Idle, h2Active, h2Idle := splitByProtocol(h)
		seen := p.sawLocked(key, h1Active+h1Idle > 0, h2Active+h2Idle > 0)
		if seen.h1 {
			open.add(org.attrs(attrConnState.String("active"), attrProtocolVersion.String("1.1")), int64(h1Active))
			open.add(org.attrs(attrConnState.String("idle"), attrProtocolVersion.String("1.1")), int64(h1Idle))
		}
		if seen.h2 {
			open.add(org.attrs(attrConnState.String("active"), attrProtocolVersion.String("2")), int64(h2Active))
			open.add(org.attrs(attrConnState.String("idle"), attrProtocolVersion.String("2")), int64(h2Idle))
		}
		base := org.attrs()
		dialing.add(base, int64(h.Dialing))
		pending.add(base, int64(h.Waiting))
		streams.add(base, int64(h.Streams))
		h2.add(base, int64(h.H2Conns))
		reuses.add(base, h.Reuses)
		leaked.add(base, h.LeakedBodies)
		ok := h.Dials - h.DialErrors - int64(h.Dialing)
		dials.add(org.attrs(attrDialOutcome.String("success")), ok)
		dials.add(org.attrs(attrDialOutcome.String("error")), h.DialErrors)
		for _, r := range closeReasons(h.Closes) {
			closes.add(org.attrs(attrCloseReason.String(r.name)), r.n)
		}
	}
	open.observe(o, p.open)
	dialing.observe(o, p.dialing)
	pending.observe(o, p.pending)
	streams.observe(o, p.streams)
	closes.observe(o, p.closes)
	dials.observe(o, p.dials)
	reuses.observe(o, p.reuses)
	leaked.observe(o, p.leaked)
	for d, c := range h2 {
		if c.n > 0 {
			o.ObserveFloat64(p.perConn, float64(streams[d].n)/float64(c.n), metric.WithAttributeSet(c.set))
		}
	}
}

// sawLocked adds what a key has now to what it had.
func (p *poolInstruments) sawLocked(key string, h1, h2 bool) protoSeen {
	if p.seen == nil {
		p.seen = make(map[string]protoSeen)
	}
	s := p.seen[key]
	s.h1 = s.h1 || h1
	s.h2 = s.h2 || h2
	p.seen[key] = s
	return s
}

// splitByProtocol splits a key's active and idle conns into HTTP/1.1 and
// HTTP/2. Stats counts HTTP/2 conns (H2Conns) within Active+Idle but not
// which of them are active. A key normally speaks one protocol (ALPN
// answers the same for one origin), and then the split is exact; for a key
// with both, HTTP/2 conns carrying streams are counted active first.
func splitByProtocol(h spool.HostStats) (h1Active, h1Idle, h2Active, h2Idle int) {
	n2 := min(h.H2Conns, h.Active+h.Idle)
	switch {
	case n2 == 0:
		return h.Active, h.Idle, 0, 0
	case n2 == h.Active+h.Idle:
		return 0, 0, h.Active, h.Idle
	}
	// At most one active HTTP/2 conn per stream, within what Active and
	// Idle allow.
	h2Active = min(max(h.Streams, 0), n2, h.Active)
	h2Active = max(h2Active, n2-h.Idle)
	h2Idle = n2 - h2Active
	return h.Active - h2Active, h.Idle - h2Idle, h2Active, h2Idle
}

type closeReason struct {
	name string
	n    int64
}

// closeReasons lists the nonzero close counts under their spool.close.reason
// values; a reason never seen is not reported, so a host has as many
// series as it has had kinds of closes.
func closeReasons(c spool.CloseCounts) []closeReason {
	all := [...]closeReason{
		{spool.CloseIdleTimeout.String(), c.IdleTimeout}, {spool.CloseEvicted.String(), c.Evicted},
		{spool.CloseServerClosed.String(), c.ServerClosed}, {spool.CloseBroken.String(), c.Broken},
		{spool.CloseLifetime.String(), c.Lifetime}, {spool.CloseMaxRequests.String(), c.MaxRequests},
		{spool.CloseLeaked.String(), c.Leaked}, {spool.CloseEarlyClose.String(), c.EarlyClose},
		{spool.CloseNotReusable.String(), c.NotReusable},
	}
	out := make([]closeReason, 0, len(all))
	for _, r := range all {
		if r.n != 0 {
			out = append(out, r)
		}
	}
	return out
}

// sums adds values per attribute set.
type sums map[attribute.Distinct]*sum

type sum struct {
	set attribute.Set
	n   int64
}

func (s *sums) add(kv []attribute.KeyValue, n int64) {
	if *s == nil {
		*s = make(sums)
	}
	set := attribute.NewSet(kv...)
	d := set.Equivalent()
	if e := (*s)[d]; e != nil {
		e.n += n
		return
	}
	(*s)[d] = &sum{set: set, n: n}
}

func (s sums) observe(o metric.Observer, inst metric.Int64Observable) {
	for _, e := range s {
		o.ObserveInt64(inst, e.n, metric.WithAttributeSet(e.set))
	}
}

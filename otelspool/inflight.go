package otelspool

import (
	"sync"
	"sync/atomic"

	"github.com/spoolhttp/spool"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// maxInflightSets bounds the attribute sets of http.client.active_requests
// (host × method). Past it, new ones share one set marked
// otel.metric.overflow=true, as the SDK does past its cardinality limit.
const maxInflightSets = 2048

// inflight counts requests in flight per attribute set with atomics, read
// by the collection callback: an atomic add per event instead of the SDK's
// synchronous Add, which costs more than everything else otelspool does
// for a request. Entries are never removed, so a request's +1 and its -1
// always land on the same counter.
type inflight struct {
	mu       sync.RWMutex
	m        map[inflightKey]*inflightEntry // guarded by mu
	overflow inflightEntry
}

type inflightKey struct{ key, method string }

type inflightEntry struct {
	set attribute.Set
	n   atomic.Int64
}

func (f *inflight) add(t *spool.Target, method string, n int64) {
	k := inflightKey{t.Key, knownMethod(method)}
	f.mu.RLock()
	e := f.m[k]
	f.mu.RUnlock()
	if e == nil {
		e = f.insert(k, t)
	}
	e.n.Add(n)
}

func (f *inflight) insert(k inflightKey, t *spool.Target) *inflightEntry {
	f.mu.Lock()
	defer f.mu.Unlock()
	if e := f.m[k]; e != nil {
		return e
	}
	if len(f.m) >= maxInflightSets {
		return &f.overflow
	}
	if f.m == nil {
		f.m = make(map[inflightKey]*inflightEntry)
	}
	sk := setKey{kind: kindActive, method: k.method}
	e := &inflightEntry{set: attribute.NewSet(sk.attrs(t)...)}
	f.m[k] = e
	return e
}

func (f *inflight) observe(o metric.Observer, inst metric.Int64Observable) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	for _, e := range f.m {
		o.ObserveInt64(inst, e.n.Load(), metric.WithAttributeSet(e.set))
	}
	if len(f.m) >= maxInflightSets {
		o.ObserveInt64(inst, f.overflow.n.Load(),
			metric.WithAttributes(attribute.Bool("otel.metric.overflow", true)))
	}
}

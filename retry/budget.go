package retry

import (
	"math"
	"sync"
	"time"
)

// Defaults of the budget a Transport uses when Budget is nil. 20% extra
// load at worst is what a healthy backend absorbs; the minimum lets a
// host that sees few requests still ride out a blip; 10s is long enough to
// see a pattern and short enough to recover quickly once the backend does
// (the numbers follow Finagle's and gRPC's retry budgets).
const (
	DefaultBudgetRatio      = 0.2
	DefaultBudgetMinRetries = 3
	DefaultBudgetWindow     = 10 * time.Second
)

// budgetBuckets splits the window so it slides in steps of a tenth of its
// length instead of emptying all at once.
const budgetBuckets = 10

// Budget limits retries per host (req.URL.Host): over a sliding window,
// retries may be at most MinRetries plus Ratio times the requests that
// started in it. A backend that fails every request thus sees at most
// 1+Ratio times its normal load from a Transport, not MaxAttempts times.
// A Budget may be shared by several Transports; it is safe for concurrent
// use.
type Budget struct {
	ratio      float64
	minRetries float64
	bucket     time.Duration // window / budgetBuckets

	mu        sync.Mutex
	hosts     map[string]*hostWindow // guarded by mu
	nextSweep int64                  // bucket index of the next sweep of idle hosts; guarded by mu
}

// NewBudget returns a Budget allowing minRetries plus ratio × requests
// retries per host in any window. A ratio of math.Inf(1) disables the
// limit. A window ≤ 0 means DefaultBudgetWindow; a negative ratio or
// minRetries counts as 0.
func NewBudget(ratio float64, minRetries int, window time.Duration) *Budget {
	if window <= 0 {
		window = DefaultBudgetWindow
	}
	return &Budget{
		ratio:      max(ratio, 0),
		minRetries: float64(max(minRetries, 0)),
		bucket:     max(window/budgetBuckets, 1),
		hosts:      make(map[string]*hostWindow),
	}
}

func defaultBudget() *Budget {
	return NewBudget(DefaultBudgetRatio, DefaultBudgetMinRetries, DefaultBudgetWindow)
}

// hostWindow is one host's ring of buckets; a bucket whose epoch is not
// within the window is stale and counts as empty.
type hostWindow struct {
	buckets [budgetBuckets]budgetCounts
}

type budgetCounts struct {
	epoch             int64 // bucket index: now / bucket length
	requests, retries int64
}

// recordRequest counts a request (its first attempt) to host at now.
func (b *Budget) recordRequest(host string, now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	e := b.epoch(now)
	b.sweepLocked(e)
	b.slotLocked(host, e).requests++
}

// allowRetry reports whether host may have one more retry at now, and if
// so counts it.
func (b *Budget) allowRetry(host string, now time.Time) bool {
	if math.IsInf(b.ratio, 1) {
		return true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	e := b.epoch(now)
	b.sweepLocked(e)
	h := b.hosts[host]
	var requests, retries int64
	if h != nil {
		requests, retries = h.sum(e)
	}
	if float64(retries+1) > b.minRetries+b.ratio*float64(requests) {
		return false
	}
	b.slotLocked(host, e).retries++
	return true
}

// epoch is now's bucket index, floored so times before 1970 work too.
func (b *Budget) epoch(now time.Time) int64 {
	n, d := now.UnixNano(), int64(b.bucket)
	e := n / d
	if n%d < 0 {
		e--
	}
	return e
}

func (b *Budget) slotLocked(host string, e int64) *budgetCounts {
	h := b.hosts[host]
	if h == nil {
		h = new(hostWindow)
		b.hosts[host] = h
	}
	c := &h.buckets[mod(e, budgetBuckets)]
	if c.epoch != e {
		*c = budgetCounts{epoch: e}
	}
	return c
}

// sum adds the buckets within the window ending at epoch e.
func (h *hostWindow) sum(e int64) (requests, retries int64) {
	for _, c := range h.buckets {
		if c.epoch > e-budgetBuckets && c.epoch <= e {
			requests += c.requests
			retries += c.retries
		}
	}
	return requests, retries
}

// sweepLocked forgets hosts with nothing in the window, at most once per
// window, so the map does not grow with every host ever contacted.
func (b *Budget) sweepLocked(e int64) {
	if e < b.nextSweep {
		return
	}
	b.nextSweep = e + budgetBuckets
	for host, h := range b.hosts {
		if r, t := h.sum(e); r == 0 && t == 0 {
			delete(b.hosts, host)
		}
	}
}

func mod(a, n int64) int64 {
	m := a % n
	if m < 0 {
		m += n
	}
	return m
}

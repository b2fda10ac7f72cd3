package otelspool

import (
	"context"
	"errors"
	"sync/atomic"

	"github.com/spoolhttp/spool"
	"go.opentelemetry.io/otel/metric"
)

// Bucket boundaries advised by the semantic conventions (seconds).
var (
	requestBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10}
	connBuckets    = []float64{0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60, 120, 300}
)

// recorder is the spool.Observer that records the event-driven
// instruments. Per request it does two atomic adds (active requests) and
// one SDK Record (two when the request waited), with attribute sets and
// option slices taken from a cache, so the hot path allocates nothing of
// its own.
type recorder struct {
	spool.NopObserver // events this recorder ignores (and future ones)

	active   metric.Int64ObservableUpDownCounter // http.client.active_requests, from inflight
	duration metric.Float64Histogram             // http.client.request.duration
	queue    metric.Float64Histogram             // http.client.request.time_in_queue
	connDur  metric.Float64Histogram             // http.client.connection.duration
	dialDur  metric.Float64Histogram             // spool.client.connection.dial.duration

	inflight inflight
	sets     setCache
	stopped  atomic.Bool
}

func newRecorder(m metric.Meter) (*recorder, error) {
	r := &recorder{}
	var errs [5]error
	r.active, errs[0] = m.Int64ObservableUpDownCounter("http.client.active_requests",
		metric.WithUnit("{request}"),
		metric.WithDescription("Number of active HTTP requests."))
	r.duration, errs[1] = m.Float64Histogram("http.client.request.duration",
		metric.WithUnit("s"),
		metric.WithDescription("Duration of HTTP client requests."),
		metric.WithExplicitBucketBoundaries(requestBuckets...))
	r.queue, errs[2] = m.Float64Histogram("http.client.request.time_in_queue",
		metric.WithUnit("s"),
		metric.WithDescription("The amount of time requests spent on a queue waiting for an available connection."),
		metric.WithExplicitBucketBoundaries(requestBuckets...))
	r.connDur, errs[3] = m.Float64Histogram("http.client.connection.duration",
		metric.WithUnit("s"),
		metric.WithDescription("The duration of the successfully established outbound HTTP connections."),
		metric.WithExplicitBucketBoundaries(connBuckets...))
	r.dialDur, errs[4] = m.Float64Histogram("spool.client.connection.dial.duration",
		metric.WithUnit("s"),
		metric.WithDescription("Duration of dials (DNS, connect, proxy, TLS), by spool.dial.outcome."),
		metric.WithExplicitBucketBoundaries(requestBuckets...))
	if err := errors.Join(errs[:]...); err != nil {
		return nil, err
	}
	return r, nil
}

// Events carry no context; the measurements have no parent span, so no
// exemplars.
var bg = context.Background()

func (r *recorder) RequestStarted(e spool.RequestEvent) {
	if r.stopped.Load() {
		return
	}
	r.inflight.add(&e.Target, e.Method, 1)
}

func (r *recorder) GotConn(e spool.GotConnEvent) {
	if !e.Queued || r.stopped.Load() {
		return
	}
	k := setKey{kind: kindQueue, key: e.Key, method: e.Method, proto: e.Proto}
	r.queue.Record(bg, e.Wait.Seconds(), r.sets.get(k, &e.Target)...)
}

func (r *recorder) Response(e spool.ResponseEvent) {
	if r.stopped.Load() {
		return
	}
	r.inflight.add(&e.Target, e.Method, -1)
	k := setKey{kind: kindRequest, key: e.Key, method: e.Method, proto: e.Proto,
		status: e.Status, errType: errorType(e.Err, e.Status)}
	r.duration.Record(bg, e.Duration.Seconds(), r.sets.get(k, &e.Target)...)
}

func (r *recorder) Dialed(e spool.DialEvent) {
	if r.stopped.Load() {
		return
	}
	k := setKey{kind: kindDial, key: e.Key, errType: "success"}
	if e.Err != nil {
		k.errType = "error"
	}
	r.dialDur.Record(bg, e.Duration.Seconds(), r.sets.get(k, &e.Target)...)
}

func (r *recorder) ConnClosed(e spool.ConnClosedEvent) {
	if r.stopped.Load() {
		return
	}
	k := setKey{kind: kindConn, key: e.Key, proto: e.Proto}
	r.connDur.Record(bg, e.Lifetime.Seconds(), r.sets.get(k, &e.Target)...)
}

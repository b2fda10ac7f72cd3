package promspool

import (
	"strconv"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spoolhttp/spool"
)

// Bucket boundaries in seconds: those OpenTelemetry advises for HTTP
// request durations (also used for waits), and for connection lifetimes.
var (
	requestBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10}
	connBuckets    = []float64{0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60, 120, 300}
)

// events is the spool.Observer feeding the histograms. The Observer child
// of each series is cached so an event costs one map lookup under a read
// lock and one Observe.
type events struct {
	spool.NopObserver // events not used here (and future ones)

	wait, request, conn *prometheus.HistogramVec

	mu     sync.RWMutex
	series map[seriesKey]prometheus.Observer // guarded by mu
}

type seriesKey struct {
	vec    uint8 // which histogram
	host   string
	method string
	code   string
}

const (
	vecWait uint8 = iota
	vecRequest
	vecConn
)

func newEvents(constLabels prometheus.Labels) *events {
	h := func(name, help string, buckets []float64, labels ...string) *prometheus.HistogramVec {
		return prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "spool", Name: name, Help: help, Buckets: buckets, ConstLabels: constLabels,
		}, append([]string{"host"}, labels...))
	}
	return &events{
		wait: h("pool_wait_duration_seconds",
			"Time a request waited for a connection (a dial or a freed one), for requests that waited.", requestBuckets),
		request: h("request_duration_seconds",
			"Time from the request entering the pool to the response head, or to the error (code=\"error\").",
			requestBuckets, "method", "code"),
		conn: h("connection_duration_seconds",
			"Lifetime of closed connections, from the end of the dial.", connBuckets),
		series: make(map[seriesKey]prometheus.Observer),
	}
}

func (e *events) describe(ch chan<- *prometheus.Desc) {
	e.wait.Describe(ch)
	e.request.Describe(ch)
	e.conn.Describe(ch)
}

func (e *events) collect(ch chan<- prometheus.Metric) {
	e.wait.Collect(ch)
	e.request.Collect(ch)
	e.conn.Collect(ch)
}

func (e *events) GotConn(ev spool.GotConnEvent) {
	if ev.Queued {
		e.observer(seriesKey{vec: vecWait, host: ev.Key}).Observe(ev.Wait.Seconds())
	}
}

func (e *events) Response(ev spool.ResponseEvent) {
	k := seriesKey{vec: vecRequest, host: ev.Key, method: knownMethod(ev.Method), code: "error"}
	if ev.Err == nil {
		k.code = statusText(ev.Status)
	}
	e.observer(k).Observe(ev.Duration.Seconds())
}

func (e *events) ConnClosed(ev spool.ConnClosedEvent) {
	e.observer(seriesKey{vec: vecConn, host: ev.Key}).Observe(ev.Lifetime.Seconds())
}

func (e *events) observer(k seriesKey) prometheus.Observer {
	e.mu.RLock()
	o := e.series[k]
	e.mu.RUnlock()
	if o != nil {
		return o
	}
	switch k.vec {
	case vecWait:
		o = e.wait.WithLabelValues(k.host)
	case vecRequest:
		o = e.request.WithLabelValues(k.host, k.method, k.code)
	default:
		o = e.conn.WithLabelValues(k.host)
	}
	e.mu.Lock()
	e.series[k] = o
	e.mu.Unlock()
	return o
}

// prune deletes the series of hosts that Stats no longer holds (a quiet
// host past the 1,024 Stats keeps), so the histograms stay as bounded as
// the gauges and counters.
func (e *events) prune(live map[string]spool.HostStats) {
	var gone []string
	e.mu.Lock()
	for k := range e.series {
		if _, ok := live[k.host]; !ok {
			delete(e.series, k)
			gone = append(gone, k.host)
		}
	}
	e.mu.Unlock()
	for _, host := range gone {
		l := prometheus.Labels{"host": host}
		e.wait.DeletePartialMatch(l)
		e.request.DeletePartialMatch(l)
		e.conn.DeletePartialMatch(l)
	}
}

// knownMethod folds methods outside RFC 9110 and PATCH into "_OTHER", so
// arbitrary methods cannot grow the number of series.
func knownMethod(m string) string {
	switch m {
	case "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH":
		return m
	case "":
		return "GET"
	}
	return "_OTHER"
}

// statusText avoids strconv's allocation for the common codes.
func statusText(code int) string {
	switch code {
	case 200:
		return "200"
	case 204:
		return "204"
	case 304:
		return "304"
	case 404:
		return "404"
	}
	return strconv.Itoa(code)
}

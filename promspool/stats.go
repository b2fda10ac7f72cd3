package promspool

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/spoolhttp/spool"
)

// descs are the metrics read from Stats.
type descs struct {
	conns, dialing, waiting, h2Conns, streams *prometheus.Desc // gauges
	requests, dials, dialErrors, reuses       *prometheus.Desc // counters
	leaked, waits, waitSeconds, closes        *prometheus.Desc
}

func newDescs(constLabels prometheus.Labels) descs {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("spool_"+name, help, append([]string{"host"}, labels...), constLabels)
	}
	return descs{
		conns:       d("connections", "Open connections by state: active (carrying a request) or idle.", "state"),
		dialing:     d("dials_in_progress", "Dials in progress (TCP, proxy tunnel, TLS handshake)."),
		waiting:     d("requests_waiting", "Requests queued for a connection at MaxConnsPerHost."),
		h2Conns:     d("http2_connections", "Open HTTP/2 connections (also counted in spool_connections)."),
		streams:     d("http2_streams", "HTTP/2 streams in flight."),
		requests:    d("requests_total", "Round trips started."),
		dials:       d("dials_total", "Dials started."),
		dialErrors:  d("dial_errors_total", "Dials that failed."),
		reuses:      d("connection_reuses_total", "Requests served by a connection that had served one before."),
		leaked:      d("leaked_bodies_total", "Response bodies never closed, reclaimed after garbage collection."),
		waits:       d("pool_waits_total", "Requests that found no idle connection and waited for a dial or a freed one."),
		waitSeconds: d("pool_wait_seconds_total", "Time requests spent waiting for a connection."),
		closes:      d("connection_closes_total", "Connections closed, by reason.", "reason"),
	}
}

func (d *descs) describe(ch chan<- *prometheus.Desc) {
	for _, x := range []*prometheus.Desc{d.conns, d.dialing, d.waiting, d.h2Conns, d.streams,
		d.requests, d.dials, d.dialErrors, d.reuses, d.leaked, d.waits, d.waitSeconds, d.closes} {
		ch <- x
	}
}

func (d *descs) collect(ch chan<- prometheus.Metric, host string, h *spool.HostStats) {
	gauge := func(desc *prometheus.Desc, v int, labels ...string) {
		ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, float64(v), append([]string{host}, labels...)...)
	}
	counter := func(desc *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(desc, prometheus.CounterValue, v, append([]string{host}, labels...)...)
	}
	gauge(d.conns, h.Active, "active")
	gauge(d.conns, h.Idle, "idle")
	gauge(d.dialing, h.Dialing)
	gauge(d.waiting, h.Waiting)
	gauge(d.h2Conns, h.H2Conns)
	gauge(d.streams, h.Streams)
	counter(d.requests, float64(h.Requests))
	counter(d.dials, float64(h.Dials))
	counter(d.dialErrors, float64(h.DialErrors))
	counter(d.reuses, float64(h.Reuses))
	counter(d.leaked, float64(h.LeakedBodies))
	counter(d.waits, float64(h.WaitCount))
	counter(d.waitSeconds, h.WaitDuration.Seconds())
	for _, r := range closeReasons(&h.Closes) {
		counter(d.closes, float64(r.n), r.name)
	}
}

type closeReason struct {
	name string
	n    int64
}

// closeReasons lists every reason, zeros included: a counter series that
// exists from the host's first scrape makes rate() and increase() see its
// first close.
func closeReasons(c *spool.CloseCounts) [9]closeReason {
	return [...]closeReason{
		{spool.CloseIdleTimeout.String(), c.IdleTimeout},
		{spool.CloseEvicted.String(), c.Evicted},
		{spool.CloseServerClosed.String(), c.ServerClosed},
		{spool.CloseBroken.String(), c.Broken},
		{spool.CloseLifetime.String(), c.Lifetime},
		{spool.CloseMaxRequests.String(), c.MaxRequests},
		{spool.CloseLeaked.String(), c.Leaked},
		{spool.CloseEarlyClose.String(), c.EarlyClose},
		{spool.CloseNotReusable.String(), c.NotReusable},
	}
}

// Package promspool exports a spool.Transport's pool as Prometheus
// metrics: a prometheus.Collector that reads Transport.Stats at each
// scrape (counters as counters, gauges as gauges) and keeps histograms of
// pool waits, request durations and connection lifetimes from the
// Transport's events.
//
//	prometheus.MustRegister(promspool.NewCollector(tr))
//
// is the whole setup. See the README section "Prometheus" for the metrics.
package promspool

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/spoolhttp/spool"
)

// Collector is a prometheus.Collector over one Transport. Every series has
// the label host, the pool key as in spool.Stats.Hosts
// ("https://example.com:443", or "http://proxy:3128|https://example.com:443"
// through a proxy); the hosts are those Stats holds, so their number is
// bounded as Stats' is.
type Collector struct {
	tr   *spool.Transport
	desc descs
	ev   *events
}

// Option configures a Collector.
type Option func(*config)

type config struct {
	constLabels prometheus.Labels
}

// WithConstLabels adds labels to every metric, e.g. {"transport": "api"}
// to register collectors of several Transports in one registry.
func WithConstLabels(l prometheus.Labels) Option {
	return func(c *config) { c.constLabels = l }
}

// NewCollector returns a Collector for tr and sets tr.Observer (joined
// with any observer already there) to feed its histograms. Call it before
// tr's first request.
func NewCollector(tr *spool.Transport, opts ...Option) *Collector {
	var cfg config
	for _, o := range opts {
		o(&cfg)
	}
	c := &Collector{tr: tr, desc: newDescs(cfg.constLabels), ev: newEvents(cfg.constLabels)}
	tr.Observer = spool.JoinObservers(tr.Observer, c.ev)
	return c
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	c.desc.describe(ch)
	c.ev.describe(ch)
}

// Collect implements prometheus.Collector: one Stats snapshot, then the
// histograms, pruned of hosts Stats no longer holds.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	st := c.tr.Stats()
	for host, h := range st.Hosts {
		c.desc.collect(ch, host, &h)
	}
	c.ev.prune(st.Hosts)
	c.ev.collect(ch)
}

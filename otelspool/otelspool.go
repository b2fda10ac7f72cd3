// Package otelspool reports a spool.Transport's pool and requests as
// OpenTelemetry metrics, named and attributed per the OpenTelemetry HTTP
// client semantic conventions (as .NET's HttpClient emits them from its
// pool), plus spool's own spool.client.* instruments.
//
//	stop, err := otelspool.Instrument(tr, otel.GetMeterProvider())
//
// is the whole setup. See the README section "OpenTelemetry" for the list
// of instruments and attributes.
package otelspool

import (
	"context"
	"errors"
	"sync/atomic"

	"github.com/spoolhttp/spool"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
)

// ScopeName is the instrumentation scope (meter name) of every instrument.
const ScopeName = "github.com/spoolhttp/spool/otelspool"

// Instrument makes tr report to mp (nil: the global MeterProvider). Call it
// before tr's first request: it sets tr.Observer, joined with any observer
// already there. Pool gauges and counters are read from tr.Stats at each
// collection; request and connection durations are recorded from tr's
// events. stop unregisters the collection callback and drops later events;
// tr keeps working.
func Instrument(tr *spool.Transport, mp metric.MeterProvider) (stop func() error, err error) {
	if tr == nil {
		return nil, errors.New("otelspool: nil Transport")
	}
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	m := mp.Meter(ScopeName, metric.WithInstrumentationVersion(spool.Version))
	pool, err := newPoolInstruments(m)
	if err != nil {
		return nil, err
	}
	rec, err := newRecorder(m)
	if err != nil {
		return nil, err
	}
	reg, err := m.RegisterCallback(func(ctx context.Context, o metric.Observer) error {
		pool.observe(ctx, o, tr.Stats())
		rec.inflight.observe(o, rec.active)
		return nil
	}, append(pool.all(), rec.active)...)
	if err != nil {
		return nil, err
	}
	tr.Observer = spool.JoinObservers(tr.Observer, rec)
	var once atomic.Bool
	return func() error {
		if once.Swap(true) {
			return nil
		}
		rec.stopped.Store(true)
		return reg.Unregister()
	}, nil
}

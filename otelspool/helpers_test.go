package otelspool_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/spoolhttp/spool"
	"github.com/spoolhttp/spool/otelspool"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// harness is a Transport instrumented into its own MeterProvider, read
// with the SDK's ManualReader.
type harness struct {
	tr     *spool.Transport
	reader *sdkmetric.ManualReader
}

func instrument(t *testing.T, tr *spool.Transport) *harness {
	t.Helper()
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	stop, err := otelspool.Instrument(tr, mp)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stop()
		tr.Close()
		mp.Shutdown(context.Background())
	})
	return &harness{tr: tr, reader: reader}
}

// collect returns the metrics of otelspool's scope by name.
func (h *harness) collect(t *testing.T) map[string]metricdata.Metrics {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := h.reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	out := make(map[string]metricdata.Metrics)
	for _, sm := range rm.ScopeMetrics {
		if sm.Scope.Name != otelspool.ScopeName {
			t.Errorf("scope %q", sm.Scope.Name)
		}
		for _, m := range sm.Metrics {
			out[m.Name] = m
		}
	}
	return out
}

// enc writes an attribute set as "k=v,k=v" (sorted), the keys of the
// point maps below.
func enc(s attribute.Set) string { return s.Encoded(attribute.DefaultEncoder()) }

// ints returns the points of an int64 sum: attributes → value (none when
// the metric had no points, so it is not exported). It fails the test if
// the metric is of another kind.
func ints(t *testing.T, ms map[string]metricdata.Metrics, name string) map[string]int64 {
	t.Helper()
	m, ok := ms[name]
	if !ok {
		return map[string]int64{}
	}
	s, ok := m.Data.(metricdata.Sum[int64])
	if !ok {
		t.Fatalf("%s is a %T, want an int64 sum", name, m.Data)
	}
	out := make(map[string]int64)
	for _, p := range s.DataPoints {
		out[enc(p.Attributes)] = p.Value
	}
	return out
}

type hist struct {
	count   uint64
	sum     float64
	buckets []uint64
}

// hists returns the points of a float64 histogram: attributes → count, sum
// and bucket counts.
func hists(t *testing.T, ms map[string]metricdata.Metrics, name string) map[string]hist {
	t.Helper()
	m, ok := ms[name]
	if !ok {
		return nil // a histogram without measurements is not exported
	}
	h, ok := m.Data.(metricdata.Histogram[float64])
	if !ok {
		t.Fatalf("%s is a %T, want a float64 histogram", name, m.Data)
	}
	out := make(map[string]hist)
	for _, p := range h.DataPoints {
		out[enc(p.Attributes)] = hist{p.Count, p.Sum, p.BucketCounts}
	}
	return out
}

// nonzero drops zero points: an observable counter reports 0 for states
// with no conns, which the tests do not spell out.
func nonzero(m map[string]int64) map[string]int64 {
	for k, v := range m {
		if v == 0 {
			delete(m, k)
		}
	}
	return m
}

// get does one GET and reads the body to EOF.
func get(t *testing.T, c *http.Client, url string) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
}

// h2Server is an httptest TLS server speaking HTTP/2, and a Transport
// that trusts it and offers h2.
func h2Server(t *testing.T, h http.Handler) (*httptest.Server, *spool.Transport) {
	t.Helper()
	ts := httptest.NewUnstartedServer(h)
	ts.EnableHTTP2 = true
	ts.StartTLS()
	t.Cleanup(ts.Close)
	cfg := ts.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
	return ts, &spool.Transport{TLSClientConfig: cfg, ForceAttemptHTTP2: true}
}

func hello(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello") }

// hostPort returns a test server's host and port as attribute text.
func hostPort(t *testing.T, ts *httptest.Server) (host, port string) {
	t.Helper()
	u, err := url.Parse(ts.URL)
	if err != nil {
		t.Fatal(err)
	}
	return u.Hostname(), u.Port()
}

// waitFor polls cond until it holds; the bound only catches a hang.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(hangBound)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: still waiting for %s", hangBound, what)
		}
		time.Sleep(time.Millisecond)
	}
}

// hangBound is how long a test waits for something that takes
// microseconds, on a machine loaded by other test binaries.
const hangBound = 20 * time.Second

// gaugeValues returns the points of a float64 gauge.
func gaugeValues(t *testing.T, data metricdata.Aggregation) map[string]float64 {
	t.Helper()
	g, ok := data.(metricdata.Gauge[float64])
	if !ok {
		t.Fatalf("%T, want a float64 gauge", data)
	}
	out := make(map[string]float64)
	for _, p := range g.DataPoints {
		out[enc(p.Attributes)] = p.Value
	}
	return out
}

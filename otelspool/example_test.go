package otelspool_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"

	"github.com/spoolhttp/spool"
	"github.com/spoolhttp/spool/otelspool"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// Instrument a Transport, send three requests, and read what an exporter
// would see. A service passes its own MeterProvider (or nil for the global
// one, otel.GetMeterProvider) and an exporter instead of the ManualReader.
func ExampleInstrument() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hello")
	}))
	defer srv.Close()

	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer mp.Shutdown(context.Background())

	tr := &spool.Transport{}
	defer tr.Close()
	stop, err := otelspool.Instrument(tr, mp) // the whole setup
	if err != nil {
		panic(err)
	}
	defer stop()

	client := &http.Client{Transport: tr}
	for range 3 {
		resp, err := client.Get(srv.URL)
		if err != nil {
			panic(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		panic(err)
	}
	for _, line := range summary(rm) {
		fmt.Println(line)
	}
	// Output:
	// http.client.open_connections{idle 1.1} 1
	// http.client.request.duration{1.1 GET 200} count 3
	// http.client.request.time_in_queue{1.1 GET} count 1
	// spool.client.connection.dial.duration{success} count 1
	// spool.client.connection.dials{success} 1
	// spool.client.connection.reuses 2
}

// summary prints one line per nonzero point of the sums and one per
// histogram point (its count), with the attribute that tells the points of
// one instrument apart; server.port, the test server's random port, is
// left out.
func summary(rm metricdata.ResourceMetrics) []string {
	var out []string
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, p := range d.DataPoints {
					if p.Value != 0 {
						out = append(out, fmt.Sprintf("%s%s %d", m.Name, tag(p.Attributes), p.Value))
					}
				}
			case metricdata.Histogram[float64]:
				for _, p := range d.DataPoints {
					out = append(out, fmt.Sprintf("%s%s count %d", m.Name, tag(p.Attributes), p.Count))
				}
			}
		}
	}
	sort.Strings(out)
	return out
}

func tag(s attribute.Set) string {
	var vals []string
	for _, k := range []attribute.Key{"http.connection.state", "network.protocol.version",
		"spool.dial.outcome", "http.request.method", "http.response.status_code"} {
		if v, ok := s.Value(k); ok {
			vals = append(vals, v.Emit())
		}
	}
	if len(vals) == 0 {
		return ""
	}
	return "{" + strings.Join(vals, " ") + "}"
}

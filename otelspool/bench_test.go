package otelspool_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/spoolhttp/spool"
	"github.com/spoolhttp/spool/otelspool"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
)

// The cost of otelspool per request, side by side: the same in-process
// server, a Transport without an observer and one with Instrument into the
// OpenTelemetry SDK (a ManualReader, never collected during the loop, as
// an exporter collecting every few seconds would be). Run
//
//	go test -run '^$' -bench 'RoundTrip|Events' -benchmem -count 5 ./otelspool
//
// and compare ns/op and allocs/op of the pairs.

func BenchmarkRoundTrip(b *testing.B) {
	ts := httptest.NewServer(http.HandlerFunc(hello))
	defer ts.Close()
	for _, mode := range []string{"none", "otelspool"} {
		b.Run("observer="+mode, func(b *testing.B) {
			c := &http.Client{Transport: benchTransport(b, mode)}
			b.ReportAllocs()
			for b.Loop() {
				benchGet(b, c, ts.URL)
			}
		})
	}
}

func BenchmarkRoundTripParallel(b *testing.B) {
	ts := httptest.NewServer(http.HandlerFunc(hello))
	defer ts.Close()
	for _, mode := range []string{"none", "otelspool"} {
		b.Run("observer="+mode, func(b *testing.B) {
			c := &http.Client{Transport: benchTransport(b, mode)}
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					benchGet(b, c, ts.URL)
				}
			})
		})
	}
}

// BenchmarkEvents is the observer's own work for one request on a reused
// conn, without the network: the events the Transport sends (RequestStarted,
// GotConn, Response, BodyDone, and ConnState twice) into Instrument's
// observer. Its ns/op and allocs/op are what otelspool adds to a request.
func BenchmarkEvents(b *testing.B) {
	tr := benchTransport(b, "otelspool")
	o := tr.Observer
	tg := spool.Target{Key: "http://127.0.0.1:8080", Scheme: "http", Host: "127.0.0.1", Port: 8080}
	b.ReportAllocs()
	for b.Loop() {
		o.RequestStarted(spool.RequestEvent{Target: tg, Method: "GET"})
		o.ConnState(spool.ConnStateEvent{Target: tg, Conn: 1, Proto: spool.ProtoHTTP1})
		o.GotConn(spool.GotConnEvent{Target: tg, Method: "GET", Conn: 1, Proto: spool.ProtoHTTP1, Reused: true, WasIdle: true})
		o.Response(spool.ResponseEvent{Target: tg, Method: "GET", Conn: 1, Proto: spool.ProtoHTTP1, Status: 200, Duration: 40 * time.Microsecond})
		o.BodyDone(spool.BodyEvent{Target: tg, Method: "GET", Conn: 1, Proto: spool.ProtoHTTP1, Status: 200, Bytes: 5})
		o.ConnState(spool.ConnStateEvent{Target: tg, Conn: 1, Proto: spool.ProtoHTTP1, Idle: true})
	}
}

func benchTransport(b *testing.B, mode string) *spool.Transport {
	tr := &spool.Transport{}
	b.Cleanup(func() { tr.Close() })
	if mode == "otelspool" {
		mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
		b.Cleanup(func() { mp.Shutdown(context.Background()) })
		stop, err := otelspool.Instrument(tr, mp)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { stop() })
	}
	return tr
}

func benchGet(b *testing.B, c *http.Client, url string) {
	resp, err := c.Get(url)
	if err != nil {
		b.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
}

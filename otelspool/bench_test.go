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
//	go test -run '^$' -bench . -benchmem -count 5 ./otelspool
//
// and compare allocs/op of the pairs (BenchmarkRoundTrip), the paired
// times per request (BenchmarkRoundTripInterleaved) and the observer's own
// cost (BenchmarkEvents).

func BenchmarkRoundTrip(b *testing.B) {
	for _, proto := range []string{"h1", "h2"} {
		url, mk := benchServer(b, proto)
		for _, mode := range []string{"none", "nop", "otelspool"} {
			b.Run(proto+"/observer="+mode, func(b *testing.B) {
				c := &http.Client{Transport: mk(b, mode)}
				b.ReportAllocs()
				for b.Loop() {
					benchGet(b, c, url)
				}
			})
		}
	}
}

// BenchmarkRoundTripInterleaved sends one request on each of three
// Transports in turn (no observer; spool.NopObserver, the core's own cost
// of having an observer; otelspool), rotating the order, so drift in the
// load of a shared machine hits all alike. It reports each one's mean
// time per request and otelspool's addition over none.
func BenchmarkRoundTripInterleaved(b *testing.B) {
	for _, proto := range []string{"h1", "h2"} {
		url, mk := benchServer(b, proto)
		b.Run(proto, func(b *testing.B) {
			modes := []string{"none", "nop", "otelspool"}
			clients := make([]*http.Client, len(modes))
			for i, m := range modes {
				clients[i] = &http.Client{Transport: mk(b, m)}
			}
			d := make([]time.Duration, len(modes))
			n := 0
			for b.Loop() {
				for k := range modes {
					i := (n + k) % len(modes)
					t0 := time.Now()
					benchGet(b, clients[i], url)
					d[i] += time.Since(t0)
				}
				n++
			}
			for i, m := range modes {
				b.ReportMetric(float64(d[i].Nanoseconds())/float64(n), "ns/req-"+m)
			}
			b.ReportMetric(float64((d[2]-d[0]).Nanoseconds())/float64(n), "ns/req-added")
		})
	}
}

func BenchmarkRoundTripParallel(b *testing.B) {
	url, mk := benchServer(b, "h1")
	for _, mode := range []string{"none", "otelspool"} {
		b.Run("observer="+mode, func(b *testing.B) {
			c := &http.Client{Transport: mk(b, mode)}
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					benchGet(b, c, url)
				}
			})
		})
	}
}

// benchServer starts an in-process server (h1: plain HTTP/1.1; h2:
// HTTP/2 over TLS) and returns its URL and a maker of Transports for it.
func benchServer(b *testing.B, proto string) (string, func(*testing.B, string) *spool.Transport) {
	ts := httptest.NewUnstartedServer(http.HandlerFunc(hello))
	if proto == "h2" {
		ts.EnableHTTP2 = true
		ts.StartTLS()
	} else {
		ts.Start()
	}
	b.Cleanup(ts.Close)
	return ts.URL, func(b *testing.B, mode string) *spool.Transport {
		tr := benchTransport(b, mode)
		if proto == "h2" {
			tr.TLSClientConfig = ts.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
			tr.ForceAttemptHTTP2 = true
		}
		return tr
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
	if mode == "nop" {
		tr.Observer = spool.NopObserver{}
	}
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

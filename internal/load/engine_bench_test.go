package load

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
)

// instantRT answers every request at once with a 12-byte body, so
// BenchmarkEngineOverhead counts the engine alone: slot, timeout watchdog,
// body copy, histogram and tallies.
type instantRT struct{}

type stringBody struct{ strings.Reader }

func (*stringBody) Close() error { return nil }

func (instantRT) RoundTrip(*http.Request) (*http.Response, error) {
	b := &stringBody{}
	b.Reset("hello, world")
	return &http.Response{StatusCode: 200, Body: b}, nil
}

// BenchmarkEngineOverhead is what `spool bench` adds to each request, with
// and without the per-request timeout. The two allocations are instantRT's.
//
//	go test -run '^$' -bench EngineOverhead -benchmem ./internal/load
func BenchmarkEngineOverhead(b *testing.B) {
	for _, timeout := range []time.Duration{0, 10 * time.Second} {
		b.Run("timeout="+timeout.String(), func(b *testing.B) {
			b.ReportAllocs()
			res, err := Run(context.Background(), instantRT{}, Config{URL: "http://x.test/", Concurrency: 1, Requests: b.N, Timeout: timeout}, nil)
			if err != nil || res.Requests != int64(b.N) || res.Status[200] != int64(b.N) {
				b.Fatalf("%v: %+v", err, res)
			}
		})
	}
}

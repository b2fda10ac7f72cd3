package spool_test

import (
	"io"
	"net/http"
	"testing"

	"github.com/spoolhttp/spool"
)

// BenchmarkRoundTrip compares spool with net/http side by side on the same
// keep-alive GET against a server in a child process, so -benchmem counts
// only the client's allocations.
//
//	go test -run '^$' -bench RoundTrip -benchmem .
func BenchmarkRoundTrip(b *testing.B) {
	addr := startChildServer(b, 0)
	url := "http://" + addr + "/"
	for _, c := range []struct {
		name string
		rt   http.RoundTripper
	}{
		{"spool", &spool.Transport{}},
		{"net-http", &http.Transport{}},
	} {
		b.Run(c.name, func(b *testing.B) {
			req, _ := http.NewRequest("GET", url, nil)
			buf := make([]byte, 512)
			b.ReportAllocs()
			for b.Loop() {
				resp, err := c.rt.RoundTrip(req)
				if err != nil {
					b.Fatal(err)
				}
				for {
					if _, err := resp.Body.Read(buf); err != nil {
						if err != io.EOF {
							b.Fatal(err)
						}
						break
					}
				}
				resp.Body.Close()
			}
			c.rt.(interface{ CloseIdleConnections() }).CloseIdleConnections()
		})
	}
}

func BenchmarkRoundTripParallel(b *testing.B) {
	addr := startChildServer(b, 0)
	url := "http://" + addr + "/"
	for _, c := range []struct {
		name string
		rt   http.RoundTripper
	}{
		{"spool", &spool.Transport{}},
		{"net-http", &http.Transport{MaxIdleConnsPerHost: 64}},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetParallelism(8)
			b.RunParallel(func(pb *testing.PB) {
				req, _ := http.NewRequest("GET", url, nil)
				buf := make([]byte, 512)
				for pb.Next() {
					resp, err := c.rt.RoundTrip(req)
					if err != nil {
						b.Fatal(err)
					}
					for {
						if _, err := resp.Body.Read(buf); err != nil {
							break
						}
					}
					resp.Body.Close()
				}
			})
			c.rt.(interface{ CloseIdleConnections() }).CloseIdleConnections()
		})
	}
}

package spool_test

import (
	"context"
	"io"
	"net"
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
				getAndRead(b, c.rt, req, buf)
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
					getAndRead(b, c.rt, req, buf)
				}
			})
			c.rt.(interface{ CloseIdleConnections() }).CloseIdleConnections()
		})
	}
}

// BenchmarkRoundTripCPU measures the transport's own CPU per keep-alive
// GET: the conn is the in-memory cannedConn, so no syscall, no scheduler
// and no server time is counted. "ctx" runs each request with a
// cancellable context, as callers with deadlines do. (net/http cannot run
// here: its read-ahead goroutine needs a conn that blocks.)
//
//	go test -run '^$' -bench RoundTripCPU -benchmem .
func BenchmarkRoundTripCPU(b *testing.B) {
	const resp = "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Sun, 22 Nov 2026 10:00:00 GMT\r\nContent-Type: text/plain\r\nContent-Length: 12\r\nConnection: keep-alive\r\n\r\nhello, world"
	for _, withCtx := range []bool{false, true} {
		name := "background"
		if withCtx {
			name = "ctx"
		}
		b.Run(name, func(b *testing.B) {
			conn := &cannedConn{resp: resp}
			tr := &spool.Transport{DialContext: func(context.Context, string, string) (net.Conn, error) { return conn, nil }}
			defer tr.Close()
			req, _ := http.NewRequest("GET", "http://example.test/", nil)
			if withCtx {
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				req = req.WithContext(ctx)
			}
			buf := make([]byte, 512)
			b.ReportAllocs()
			for b.Loop() {
				getAndRead(b, tr, req, buf)
			}
		})
	}
}

// getAndRead is one benchmarked round trip: the body read to EOF through
// buf (no allocation of the benchmark's own), then closed.
func getAndRead(b testing.TB, rt http.RoundTripper, req *http.Request, buf []byte) {
	resp, err := rt.RoundTrip(req)
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

package spool_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/spoolhttp/spool"
)

// countingConn counts the socket writes under TLS: one per syscall.
type countingConn struct {
	net.Conn
	n *atomic.Int64
}

func (c countingConn) Write(p []byte) (int, error) {
	c.n.Add(1)
	return c.Conn.Write(p)
}

// BenchmarkH2 compares spool with net/http over HTTP/2 side by side, same
// in-process TLS server (its work is in both figures), one conn, 1 and 16
// concurrent streams. writes/op counts the client's socket writes.
//
//	go test -run '^$' -bench H2 -benchmem .
func BenchmarkH2(b *testing.B) {
	body := []byte("hello, world")
	big := make([]byte, 1<<20)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		switch r.URL.Path {
		case "/1m":
			w.Write(big)
			return
		case "/up":
			io.Copy(io.Discard, r.Body)
		}
		w.Write(body)
	}))
	srv.EnableHTTP2 = true
	srv.Config.HTTP2 = &http.HTTP2Config{MaxConcurrentStreams: 256}
	srv.StartTLS()
	defer srv.Close()
	roots := srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
	for _, cell := range []int{1, 16, 0, -1} { // 0: a 1 MiB download, -1: upload
		for _, name := range []string{"spool", "net-http"} {
			var writes atomic.Int64
			dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
				c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
				if err != nil {
					return nil, err
				}
				return countingConn{c, &writes}, nil
			}
			var rt http.RoundTripper
			if name == "spool" {
				rt = &spool.Transport{DialContext: dial, TLSClientConfig: &tls.Config{RootCAs: roots}, ForceAttemptHTTP2: true, MaxConnsPerHost: 1}
			} else {
				rt = &http.Transport{DialContext: dial, TLSClientConfig: &tls.Config{RootCAs: roots}, ForceAttemptHTTP2: true, MaxConnsPerHost: 1}
			}
			par := cell
			sub, path := name+"/streams="+itoa(par), "/"
			switch par {
			case 0:
				sub, path, par = name+"/download-1MiB", "/1m", 1
			case -1:
				sub, path, par = name+"/upload-1MiB", "/up", 1
			}
			b.Run(sub, func(b *testing.B) {
				req, _ := http.NewRequest("GET", srv.URL+path, nil)
				if path != "/" {
					b.SetBytes(int64(len(big)))
				}
				if path == "/up" {
					req, _ = http.NewRequest("POST", srv.URL+path, bytes.NewReader(big))
				}
				getH2(b, rt, req, make([]byte, 64)) // dial outside the timing
				writes.Store(0)
				b.ReportAllocs()
				b.ResetTimer()
				if par == 1 {
					buf := make([]byte, 32<<10)
					for i := 0; i < b.N; i++ {
						getH2(b, rt, req, buf)
					}
				} else {
					b.SetParallelism((par + 1) / 2) // GOMAXPROCS=2 here
					b.RunParallel(func(pb *testing.PB) {
						buf := make([]byte, 64)
						for pb.Next() {
							getH2(b, rt, req, buf)
						}
					})
				}
				b.ReportMetric(float64(writes.Load())/float64(b.N), "writes/op")
			})
			rt.(interface{ CloseIdleConnections() }).CloseIdleConnections()
		}
	}
}

func getH2(b *testing.B, rt http.RoundTripper, req *http.Request, buf []byte) {
	if req.GetBody != nil {
		req.Body, _ = req.GetBody()
	}
	resp, err := rt.RoundTrip(req)
	if err != nil {
		b.Fatal(err)
	}
	if resp.ProtoMajor != 2 {
		b.Fatalf("proto %s", resp.Proto)
	}
	for {
		if _, err := resp.Body.Read(buf); err == io.EOF {
			break
		} else if err != nil {
			b.Fatal(err)
		}
	}
	resp.Body.Close()
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}

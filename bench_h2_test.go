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
	"syscall"
	"testing"
	"time"

	"github.com/spoolhttp/spool"
	"github.com/spoolhttp/spool/internal/testutil"
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
	for _, cell := range []int{1, 16, 100, 0, -1} { // 0: a 1 MiB download, -1: upload
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

// BenchmarkH2Client compares the clients alone: the server is a child
// process (h2c, prior knowledge), so allocs/op are the client's, and
// cpu-us/op is this process's user+system CPU per request.
//
//	go test -run '^$' -bench H2Client -benchmem .
func BenchmarkH2Client(b *testing.B) {
	addr := testutil.StartChildServer(b, "SPOOL_H2C=1")
	url := "http://" + addr + "/"
	for _, par := range []int{1, 16, 100} {
		for _, name := range []string{"spool", "net-http"} {
			p := new(http.Protocols)
			p.SetUnencryptedHTTP2(true)
			var rt http.RoundTripper
			if name == "spool" {
				rt = &spool.Transport{Protocols: p, MaxConnsPerHost: 1}
			} else {
				rt = &http.Transport{Protocols: p, MaxConnsPerHost: 1}
			}
			b.Run(name+"/streams="+itoa(par), func(b *testing.B) {
				req, _ := http.NewRequest("GET", url, nil)
				getH2(b, rt, req, make([]byte, 64))
				b.ReportAllocs()
				cpu0 := cpuTime()
				b.ResetTimer()
				if par == 1 {
					buf := make([]byte, 64)
					for i := 0; i < b.N; i++ {
						getH2(b, rt, req, buf)
					}
				} else {
					b.SetParallelism((par + 1) / 2)
					b.RunParallel(func(pb *testing.PB) {
						buf := make([]byte, 64)
						for pb.Next() {
							getH2(b, rt, req, buf)
						}
					})
				}
				b.StopTimer()
				b.ReportMetric(float64(cpuTime()-cpu0)/float64(time.Microsecond)/float64(b.N), "cpu-us/op")
			})
			rt.(interface{ CloseIdleConnections() }).CloseIdleConnections()
		}
	}
}

// cpuTime is this process's user+system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

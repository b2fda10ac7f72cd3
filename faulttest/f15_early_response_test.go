package faulttest

import (
	"bufio"
	"io"
	"net"
	"testing"
	"time"

	"github.com/spoolhttp/spool/internal/testutil"
)

// TestF15_EarlyResponseDuringUpload: a server answers 413 to a large
// upload without reading it. The response is delivered; the upload stops;
// the conn is not reused; the request body is closed exactly once.
func TestF15_EarlyResponseDuringUpload(t *testing.T) {
	for _, tc := range []struct {
		name   string
		length int64 // -1: chunked
		close  bool  // the 413 says Connection: close
	}{
		{"content-length", 100 << 20, false},
		{"chunked", -1, false},
		{"content-length/connection-close", 100 << 20, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := testutil.NewRawServer(t, func(i int, c net.Conn) {
				br := bufio.NewReader(c)
				req, err := readHead(br)
				if err != nil {
					return
				}
				if i > 0 { // the next request, on a new conn
					io.Copy(io.Discard, req.Body)
					io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nnext")
					br.Peek(1)
					return
				}
				h := "HTTP/1.1 413 Payload Too Large\r\nContent-Length: 9\r\n"
				if tc.close {
					h += "Connection: close\r\n"
				}
				io.WriteString(c, h+"\r\ntoo large")
				// Keep the conn without reading, as a server that stopped
				// caring; the client must not wait for us to drain.
				c.SetReadDeadline(time.Now().Add(2 * time.Second))
				time.Sleep(300 * time.Millisecond)
				c.(*net.TCPConn).CloseWrite()
				io.Copy(io.Discard, c) // until the client goes
			})
			tr := testutil.NewTransport(t, nil)
			body := newEndless(100 << 20)
			req := testutil.NewRequest(t, "POST", s.URL(), nil)
			req.Body = body
			req.ContentLength = tc.length
			start := time.Now()
			resp, err := tr.RoundTrip(req)
			if err != nil {
				t.Fatalf("the early response was lost: %v", err)
			}
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 413 || string(b) != "too large" || err != nil {
				t.Fatalf("%d %q %v", resp.StatusCode, b, err)
			}
			t.Logf("413 after %v, %d body bytes read", time.Since(start), body.read.Load())
			sent := body.read.Load()
			time.Sleep(100 * time.Millisecond)
			if later := body.read.Load(); later != sent {
				t.Errorf("upload went on after the response: %d → %d bytes", sent, later)
			}
			if sent >= 100<<20 {
				t.Errorf("the whole 100 MiB was read")
			}
			if c := body.closes.Load(); c != 1 {
				t.Errorf("request body closed %d times, want exactly 1", c)
			}
			resp, err = tr.RoundTrip(testutil.NewRequest(t, "GET", s.URL(), nil))
			if err != nil {
				t.Fatalf("next request: %v", err)
			}
			b, _ = io.ReadAll(resp.Body)
			resp.Body.Close()
			if string(b) != "next" || s.Accepted() != 2 {
				t.Errorf("next request: %q on %d conns; want a new conn", b, s.Accepted())
			}
			if c := body.closes.Load(); c != 1 {
				t.Errorf("request body closed %d times, want exactly 1", c)
			}
		})
	}
}

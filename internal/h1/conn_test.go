package h1

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// serve answers each request head read from srv with the next canned
// response, then closes.
func serve(srv net.Conn, responses ...string) {
	br := bufio.NewReader(srv)
	for _, r := range responses {
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				srv.Close()
				return
			}
			if line == "\r\n" {
				break
			}
		}
		io.WriteString(srv, r)
		if !strings.Contains(r, "Content-Length") && !strings.Contains(r, "chunked") && strings.HasPrefix(r, "HTTP/1.1 200") {
			srv.Close() // a close-delimited body ends with the conn
			return
		}
	}
	io.Copy(io.Discard, br) // until the client closes
	srv.Close()
}

// exchange runs one request on c and reads the body; it reports whether
// the conn may be reused.
func exchange(t *testing.T, c *Conn, method string) (string, bool) {
	t.Helper()
	req, _ := http.NewRequest(method, "http://h.test/", nil)
	body, reuse, err := exchangeReq(t, c, req)
	if err != nil {
		t.Fatal(err)
	}
	return body, reuse
}

// exchangeReq reserves c, runs req and reads the body in 3-byte reads; it
// returns the body, whether the conn may be reused, and the first error.
func exchangeReq(t *testing.T, c *Conn, req *http.Request) (string, bool, error) {
	t.Helper()
	if err := c.Reserve(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.RoundTrip(req, &Options{}); err != nil {
		return "", false, err
	}
	if !c.HasBody() {
		return "", c.Reusable(), nil
	}
	var b strings.Builder
	buf := make([]byte, 3)
	for {
		n, err := c.ReadBody(buf)
		b.Write(buf[:n])
		if err == io.EOF {
			break
		}
		if err != nil {
			c.FinishBody()
			return b.String(), false, err
		}
	}
	return b.String(), c.FinishBody(), nil
}

// The keep-alive decision needs both sides' consent, a clean framed end
// and no stray bytes (RFC 9112 §9.3).
func TestKeepAliveDecision(t *testing.T) {
	cases := []struct {
		name, method, resp string
		body               string
		reuse              bool
	}{
		{"content-length", "GET", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", "hello", true},
		{"chunked", "GET", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", "hello", true},
		{"connection close", "GET", "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok", "ok", false},
		{"http/1.0", "GET", "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", "ok", false},
		{"http/1.0 keep-alive", "GET", "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok", "ok", true},
		{"close-delimited", "GET", "HTTP/1.1 200 OK\r\n\r\nuntil close", "until close", false},
		{"head", "HEAD", "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", "", true},
		{"204", "GET", "HTTP/1.1 204 No Content\r\n\r\n", "", true},
		{"stray bytes after 204", "GET", "HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 200 OK\r\n\r\n", "", false},
		{"stray bytes after body", "GET", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokXX", "ok", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cli, srv := net.Pipe()
			go serve(srv, tc.resp)
			c := New(cli, &Config{}, time.Now())
			defer c.Close()
			body, reuse := exchange(t, c, tc.method)
			if body != tc.body || reuse != tc.reuse {
				t.Fatalf("body %q reuse %v, want %q %v", body, reuse, tc.body, tc.reuse)
			}
			if c.InFlight() != 0 {
				t.Fatal("slot not freed")
			}
		})
	}
}

// AbortExchange and Reclaim act on the exchange they name only: a stale
// body handle cannot touch the conn's next request.
func TestStaleGenerationIsIgnored(t *testing.T) {
	cli, srv := net.Pipe()
	ok := "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
	go serve(srv, ok, ok)
	c := New(cli, &Config{}, time.Now())
	defer c.Close()
	if _, reuse := exchange(t, c, "GET"); !reuse {
		t.Fatal("first exchange not reusable")
	}
	stale := c.Gen()
	c.AbortExchange(stale)
	if c.Reclaim() != nil {
		t.Fatal("reclaimed a finished exchange")
	}
	if body, reuse := exchange(t, c, "GET"); body != "ok" || !reuse {
		t.Fatalf("second exchange: %q %v", body, reuse)
	}
}

// A cancelled context aborts a blocked head read, and the conn is not
// reused.
func TestCancelAbortsRead(t *testing.T) {
	cli, srv := net.Pipe()
	go func() { io.Copy(io.Discard, srv) }() // reads, never answers
	c := New(cli, &Config{}, time.Now())
	defer srv.Close()
	defer c.Close()
	c.Reserve()
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(10*time.Millisecond, cancel)
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://h.test/", nil)
	_, err := c.RoundTrip(req, &Options{})
	if err == nil || ctx.Err() == nil {
		t.Fatalf("err %v", err)
	}
	if c.InFlight() != 0 {
		t.Fatal("slot not freed")
	}
}

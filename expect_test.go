package spool_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/spoolhttp/spool"
	"github.com/spoolhttp/spool/internal/testutil"
)

// TestExpectContinueFinalStatusSendsBodyIfConnKept: an "Expect:
// 100-continue" request answered by a final status without a 100 gets its
// body sent after all when the conn stays open, and never when the server
// says Connection: close, as net/http's
// TestTransportExpect100Continue{200,500}Response{No,With}ConnClose expect.
// HTTP/1 only: HTTP/2 has no 100-continue hold in spool's codec.
func TestExpectContinueFinalStatusSendsBodyIfConnKept(t *testing.T) {
	const reqBody = "request body"
	for _, tc := range []struct {
		name     string
		head     string
		status   int
		wantBody bool
	}{
		{"200", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 200, true},
		{"500", "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n", 500, true},
		{"200-close", "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", 200, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			tr := testutil.NewTransport(t, &spool.Transport{ExpectContinueTimeout: time.Hour})
			type result struct {
				resp *http.Response
				err  error
			}
			done := make(chan result, 1)
			go func() {
				req := testutil.NewRequest(t, "PUT", "http://"+ln.Addr().String(), strings.NewReader(reqBody))
				req.Header.Set("Expect", "100-continue")
				resp, err := tr.RoundTrip(req)
				if err == nil {
					resp.Body.Close()
				}
				done <- result{resp, err}
			}()
			c, err := ln.Accept()
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			br := bufio.NewReader(c)
			if _, err := http.ReadRequest(br); err != nil {
				t.Fatal(err)
			}
			io.WriteString(c, tc.head)
			r := <-done
			if r.err != nil || r.resp.StatusCode != tc.status {
				t.Fatalf("RoundTrip: %v, %v; want %d", r.resp, r.err, tc.status)
			}
			tr.CloseIdleConnections() // the server sees EOF after whatever was sent
			c.SetReadDeadline(time.Now().Add(10 * time.Second))
			got, _ := io.ReadAll(br)
			want := ""
			if tc.wantBody {
				want = reqBody
			}
			if string(got) != want {
				t.Fatalf("the server got %q after the final status, want %q", got, want)
			}
		})
	}
}

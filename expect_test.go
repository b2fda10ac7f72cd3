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
			after := make(chan string, 1) // what the server got after its final status
			s := testutil.NewRawServer(t, func(_ int, c net.Conn) {
				br := bufio.NewReader(c)
				if _, err := http.ReadRequest(br); err != nil {
					t.Error(err)
					after <- ""
					return
				}
				io.WriteString(c, tc.head)
				c.SetReadDeadline(time.Now().Add(10 * time.Second))
				got, _ := io.ReadAll(br) // until the client closes
				after <- string(got)
			})
			tr := testutil.NewTransport(t, &spool.Transport{ExpectContinueTimeout: time.Hour})
			req := testutil.NewRequest(t, "PUT", s.URL(), strings.NewReader(reqBody))
			req.Header.Set("Expect", "100-continue")
			resp, err := tr.RoundTrip(req)
			if err != nil || resp.StatusCode != tc.status {
				t.Fatalf("RoundTrip: %v, %v; want %d", resp, err, tc.status)
			}
			resp.Body.Close()
			tr.CloseIdleConnections() // the server sees EOF after whatever was sent
			want := ""
			if tc.wantBody {
				want = reqBody
			}
			if got := <-after; got != want {
				t.Fatalf("the server got %q after the final status, want %q", got, want)
			}
		})
	}
}

package faulttest

import (
	"bufio"
	"context"
	"errors"
	"net"
	"net/http"
	"testing"
	"testing/synctest"
	"time"

	"github.com/spoolhttp/spool"
	"github.com/spoolhttp/spool/internal/testnet"
)

// TestF3_SlowHeaders: a server sending its head one byte every 200 ms.
// ResponseHeaderTimeout and a context deadline each end the request at
// their exact instant (synctest), the conn is closed (the server sees the
// client go) and no goroutine is left (the bubble ends; the goroutine
// count is back to where it was).
func TestF3_SlowHeaders(t *testing.T) {
	const head = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\nok"
	cases := []struct {
		name     string
		rht      time.Duration // ResponseHeaderTimeout
		ctx      time.Duration // context deadline
		want     time.Duration
		wantWhat string // TimeoutError.What, "" for the context's own error
	}{
		{"ResponseHeaderTimeout", 3 * time.Second, 0, 3 * time.Second, "ResponseHeaderTimeout"},
		{"context deadline", 0, 2500 * time.Millisecond, 2500 * time.Millisecond, ""},
		{"context before ResponseHeaderTimeout", 10 * time.Second, 1700 * time.Millisecond, 1700 * time.Millisecond, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				base := bubbleGoroutines()
				var n testnet.Network
				clientGone := make(chan time.Time, 1)
				srv := newBubbleServer(t, &n, "slow.test:80", func(c net.Conn, br *bufio.Reader) {
					if _, err := readReq(br); err != nil {
						return
					}
					g := gone(c, br)
					if dribble(c, head, 200*time.Millisecond, g) {
						return
					}
					clientGone <- time.Now()
				})
				tr := &spool.Transport{DialContext: n.Dial, ResponseHeaderTimeout: tc.rht}
				ctx := context.Background()
				if tc.ctx > 0 {
					var cancel context.CancelFunc
					ctx, cancel = context.WithTimeout(ctx, tc.ctx)
					defer cancel()
				}
				start := time.Now()
				req, _ := http.NewRequestWithContext(ctx, "GET", "http://slow.test/", nil)
				resp, err := tr.RoundTrip(req)
				took := time.Since(start)
				if err == nil {
					resp.Body.Close()
					t.Fatal("got a response from a server that needs 14s to send its head")
				}
				if took != tc.want {
					t.Errorf("returned after %v, want exactly %v", took, tc.want)
				}
				if !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("err %v does not match context.DeadlineExceeded", err)
				}
				// net/http's shapes: a net.Error timeout, or the context's
				// error unwrapped.
				if ne, ok := err.(net.Error); err != context.DeadlineExceeded && (!ok || !ne.Timeout()) {
					t.Errorf("err %T %v: want context.DeadlineExceeded or a net.Error timeout", err, err)
				}
				var te *spool.TimeoutError
				if tc.wantWhat != "" && (!errors.As(err, &te) || te.What != tc.wantWhat) {
					t.Errorf("err %v: want a TimeoutError naming %s", err, tc.wantWhat)
				}
				if tc.wantWhat == "" && errors.As(err, &te) {
					t.Errorf("err %v names %s; the context's deadline fired", err, te.What)
				}
				synctest.Wait()
				select {
				case at := <-clientGone:
					if at.Sub(start) > tc.want+200*time.Millisecond {
						t.Errorf("server saw the conn closed only after %v", at.Sub(start))
					}
				default:
					t.Error("the conn is still open: the server has not seen the client close it")
				}
				if k := held(tr); k != 0 {
					t.Errorf("transport holds %d conns", k)
				}
				tr.Close()
				srv.stop()
				synctest.Wait()
				if g := bubbleGoroutines(); g > base {
					t.Errorf("%d goroutines, %d before", g, base)
				}
			})
		})
	}
}

package faulttest

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"testing"
	"testing/synctest"
	"time"

	"github.com/spoolhttp/spool"
	"github.com/spoolhttp/spool/internal/testnet"
)

// TestF8_TLSHandshakeStall: a server that accepts and never answers the
// ClientHello. TLSHandshakeTimeout and the context (deadline or cancel)
// each end the dial at their exact instant, with the right error; the
// server sees the conn closed; no goroutine is left.
func TestF8_TLSHandshakeStall(t *testing.T) {
	cases := []struct {
		name    string
		hst     time.Duration
		ctxTime time.Duration
		cancel  bool // cancel at ctxTime instead of a deadline
		want    error
		what    string
	}{
		{"TLSHandshakeTimeout", 2 * time.Second, 0, false, context.DeadlineExceeded, "TLSHandshakeTimeout"},
		{"context deadline first", 10 * time.Second, 1500 * time.Millisecond, false, context.DeadlineExceeded, ""},
		{"context cancel", 10 * time.Second, 700 * time.Millisecond, true, context.Canceled, ""},
		{"no TLSHandshakeTimeout", 0, 3 * time.Second, false, context.DeadlineExceeded, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				base := bubbleGoroutines()
				var n testnet.Network
				closed := make(chan struct{}, 1)
				srv := newBubbleServer(t, &n, "tls.test:443", func(c net.Conn, br *bufio.Reader) {
					io.Copy(io.Discard, br) // swallow the ClientHello, answer nothing
					closed <- struct{}{}
				})
				tr := &spool.Transport{DialContext: n.Dial, TLSHandshakeTimeout: tc.hst}
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				if tc.ctxTime > 0 && tc.cancel {
					time.AfterFunc(tc.ctxTime, cancel)
				} else if tc.ctxTime > 0 {
					ctx, cancel = context.WithTimeout(ctx, tc.ctxTime)
					defer cancel()
				}
				want := tc.ctxTime
				if tc.what != "" {
					want = tc.hst
				}
				start := time.Now()
				req, _ := http.NewRequestWithContext(ctx, "GET", "https://tls.test/", nil)
				resp, err := tr.RoundTrip(req)
				if err == nil {
					resp.Body.Close()
					t.Fatal("no error")
				}
				if took := time.Since(start); took != want {
					t.Errorf("returned after %v, want exactly %v", took, want)
				}
				if !errors.Is(err, tc.want) {
					t.Errorf("err %v: want errors.Is %v", err, tc.want)
				}
				// net/http's shapes: its TLS handshake timeout (a net.Error
				// that is a timeout), else the context's error unwrapped.
				if ne, ok := err.(net.Error); tc.what != "" && (!ok || !ne.Timeout() || !ne.Temporary()) {
					t.Errorf("err %T %v: want a net.Error timeout", err, err)
				}
				if tc.what == "" && err != tc.want {
					t.Errorf("err %T %v: want %v unwrapped", err, err, tc.want)
				}
				t.Logf("err: %v", err)
				var te *spool.TimeoutError
				if tc.what != "" && (!errors.As(err, &te) || te.What != tc.what) {
					t.Errorf("err %v: want a TimeoutError naming %s", err, tc.what)
				}
				// The orphaned dial ends at TLSHandshakeTimeout; without one,
				// CloseIdleConnections cancels it (as net/http's does).
				if tc.hst > 0 {
					time.Sleep(tc.hst - time.Since(start))
				} else {
					tr.CloseIdleConnections()
				}
				synctest.Wait()
				select {
				case <-closed:
				default:
					if tc.hst > 0 {
						t.Errorf("the server has not seen the conn closed at TLSHandshakeTimeout (%v)", tc.hst)
					} else {
						t.Error("the stalled handshake is still open after CloseIdleConnections")
					}
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

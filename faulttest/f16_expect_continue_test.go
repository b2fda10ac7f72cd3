package faulttest

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/spoolhttp/spool"
	"github.com/spoolhttp/spool/internal/testnet"
	"github.com/spoolhttp/spool/internal/testutil"
)

// TestF16_ExpectContinue: with ExpectContinueTimeout > 0 spool does what
// net/http does: after 100 the body goes and the final status follows; a
// final status without 100 is delivered, and then the body is sent if the
// conn stays open (the server reads it; the conn is reused), or never sent
// if the server says Connection: close (the conn is not reused); either
// way the next request works (CVE-2024-24791); with no answer the body
// goes at ExpectContinueTimeout.
func TestF16_ExpectContinue(t *testing.T) {
	var payload = strings.Repeat("x", 11) // what newEndless(11) yields
	const ect = time.Second
	type seen struct {
		conn     int
		bodyAt   time.Duration // since the head arrived
		body     string
		afterRaw string // bytes that came after a refusal, on the same conn
	}
	run := func(t *testing.T, mode string, check func(t *testing.T, resp *http.Response, took time.Duration, got100 bool, log []seen, tr *spool.Transport, body *endless)) {
		synctest.Test(t, func(t *testing.T) {
			var n testnet.Network
			var mu sync.Mutex
			var log []seen
			conns := 0
			srv := newBubbleServer(t, &n, "api.test:80", func(c net.Conn, br *bufio.Reader) {
				mu.Lock()
				idx := conns
				conns++
				mu.Unlock()
				for {
					req, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					at := time.Now()
					s := seen{conn: idx}
					if req.Header.Get("Expect") == "" {
						io.Copy(io.Discard, req.Body)
						io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nnext")
						mu.Lock()
						log = append(log, s)
						mu.Unlock()
						continue
					}
					switch mode {
					case "100":
						io.WriteString(c, "HTTP/1.1 100 Continue\r\n\r\n")
					case "refuse-keepalive":
						// A final status, the conn kept: the body must follow
						// (net/http sends it too), and the server reads it.
						io.WriteString(c, "HTTP/1.1 417 Expectation Failed\r\nContent-Length: 0\r\n\r\n")
						b, _ := io.ReadAll(req.Body)
						s.body = string(b)
						mu.Lock()
						log = append(log, s)
						mu.Unlock()
						continue
					case "refuse":
						io.WriteString(c, "HTTP/1.1 417 Expectation Failed\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
						// Whatever arrives now on this conn is not a request
						// we can frame: record it raw.
						c.SetReadDeadline(time.Now().Add(5 * time.Second))
						rest, _ := io.ReadAll(br)
						s.afterRaw = string(rest)
						mu.Lock()
						log = append(log, s)
						mu.Unlock()
						return
					}
					b, _ := io.ReadAll(req.Body)
					s.body, s.bodyAt = string(b), time.Since(at)
					fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\ngot %s", 4+len(b), b)
					mu.Lock()
					log = append(log, s)
					mu.Unlock()
				}
			})
			tr := &spool.Transport{DialContext: n.Dial, ExpectContinueTimeout: ect}
			body := newEndless(int64(len(payload)))
			req := testutil.NewRequest(t, "PUT", "http://api.test/", nil)
			req.Body, req.ContentLength = body, int64(len(payload))
			req.Header.Set("Expect", "100-continue")
			got100 := false
			req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{Got100Continue: func() { got100 = true }}))
			start := time.Now()
			resp, err := tr.RoundTrip(req)
			took := time.Since(start)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			resp.Body = io.NopCloser(strings.NewReader(string(b)))
			// The next request on the same transport.
			resp2, err := tr.RoundTrip(testutil.NewRequest(t, "GET", "http://api.test/", nil))
			if err != nil {
				t.Fatalf("next request: %v", err)
			}
			b2, _ := io.ReadAll(resp2.Body)
			resp2.Body.Close()
			if string(b2) != "next" {
				t.Errorf("next request: %d %q", resp2.StatusCode, b2)
			}
			tr.Close()
			srv.stop()
			mu.Lock()
			defer mu.Unlock()
			// Conns log from their own goroutines: conn 0's refusal entry is
			// written when its close arrives, which may come after conn 1's
			// request. Order by conn (stable: a conn's own entries keep theirs).
			slices.SortStableFunc(log, func(a, b seen) int { return a.conn - b.conn })
			check(t, resp, took, got100, log, tr, body)
		})
	}
	t.Run("100-then-final", func(t *testing.T) {
		run(t, "100", func(t *testing.T, resp *http.Response, took time.Duration, got100 bool, log []seen, tr *spool.Transport, body *endless) {
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != 200 || string(b) != "got "+payload || !got100 {
				t.Errorf("%d %q, Got100Continue %v", resp.StatusCode, b, got100)
			}
			if took != 0 {
				t.Errorf("took %v: waited for the timeout despite the 100", took)
			}
			if len(log) != 2 || log[1].conn != 0 {
				t.Errorf("log %+v: want both requests on conn 0", log)
			}
		})
	})
	t.Run("final-without-100", func(t *testing.T) {
		run(t, "refuse", func(t *testing.T, resp *http.Response, took time.Duration, got100 bool, log []seen, tr *spool.Transport, body *endless) {
			if resp.StatusCode != 417 || got100 {
				t.Errorf("%d, Got100Continue %v", resp.StatusCode, got100)
			}
			if took != 0 {
				t.Errorf("took %v", took)
			}
			if body.read.Load() != 0 {
				t.Errorf("%d body bytes read after a refusal", body.read.Load())
			}
			if c := body.closes.Load(); c != 1 {
				t.Errorf("request body closed %d times, want 1", c)
			}
			if len(log) != 2 || log[0].afterRaw != "" || log[1].conn != 1 {
				t.Errorf("log %+v: want nothing more on conn 0 and the next request on conn 1", log)
			}
		})
	})
	t.Run("final-without-100-keep-alive", func(t *testing.T) {
		run(t, "refuse-keepalive", func(t *testing.T, resp *http.Response, took time.Duration, got100 bool, log []seen, tr *spool.Transport, body *endless) {
			if resp.StatusCode != 417 || got100 {
				t.Errorf("%d, Got100Continue %v", resp.StatusCode, got100)
			}
			if took != 0 {
				t.Errorf("took %v", took)
			}
			if c := body.closes.Load(); c != 1 {
				t.Errorf("request body closed %d times, want 1", c)
			}
			if len(log) != 2 || log[0].body != payload || log[1].conn != 0 {
				t.Errorf("log %+v: want the body sent after the final status and the next request on conn 0", log)
			}
		})
	})
	t.Run("no-answer", func(t *testing.T) {
		run(t, "silent", func(t *testing.T, resp *http.Response, took time.Duration, got100 bool, log []seen, tr *spool.Transport, body *endless) {
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != 200 || string(b) != "got "+payload || got100 {
				t.Errorf("%d %q, Got100Continue %v", resp.StatusCode, b, got100)
			}
			if took != ect || len(log) == 0 || log[0].bodyAt != ect {
				t.Errorf("took %v, log %+v: want the body sent at ExpectContinueTimeout (%v)", took, log, ect)
			}
		})
	})
}

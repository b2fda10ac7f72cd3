package cvetest

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spoolhttp/spool"
	"github.com/spoolhttp/spool/internal/testutil"
)

const okResponse = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"

// badThenGood serves bad on every request of conn 0 and okResponse on every
// other conn, recording which conn each request came on.
type badThenGood struct {
	*rawServer
	mu    sync.Mutex
	conns []int // guarded by mu; conn index of each request, in order
}

func startBadThenGood(t *testing.T, bad string) *badThenGood {
	s := &badThenGood{}
	s.rawServer = startRaw(t, func(c *rawConn) {
		for {
			req := c.ReadRequest()
			if req == nil {
				return
			}
			io.Copy(io.Discard, req.Body)
			s.mu.Lock()
			s.conns = append(s.conns, c.Index)
			s.mu.Unlock()
			if c.Index == 0 {
				c.WriteString(bad)
			} else {
				c.WriteString(okResponse)
			}
		}
	})
	return s
}

func (s *badThenGood) requestConns() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]int(nil), s.conns...)
}

// roundTripAll sends a GET and reads the whole body; the error is the
// RoundTrip's or the body read's.
func roundTripAll(t *testing.T, tr *spool.Transport, url string) (*http.Response, []byte, error) {
	t.Helper()
	resp, err := tr.RoundTrip(withTimeout(t, testutil.NewRequest(t, "GET", url, nil), 5*time.Second))
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}

// wantProtocolError sends one request that gets bad, wants a
// *spool.ProtocolError, then proves the conn was not reused: the next
// request lands on a new conn and succeeds.
func wantProtocolError(t *testing.T, bad string) error {
	t.Helper()
	s := startBadThenGood(t, bad)
	tr := testutil.NewTransport(t, nil)
	_, body, err := roundTripAll(t, tr, s.URL()+"/bad")
	var pe *spool.ProtocolError
	if !errors.As(err, &pe) {
		t.Fatalf("err = %T %v (body %q), want *spool.ProtocolError", err, err, body)
	}
	noControlBytes(t, "error", err.Error())
	_, body, err = roundTripAll(t, tr, s.URL()+"/next")
	if err != nil || string(body) != "ok" {
		t.Fatalf("next request: %q, %v", body, err)
	}
	if got := s.requestConns(); len(got) != 2 || got[1] == 0 {
		t.Fatalf("requests on conns %v: the conn that carried the bad response was reused", got)
	}
	return err
}

// Go CVE-2019-16276: net/http accepted "Header : value" (space before the
// colon), which a proxy may read differently: a request/response
// smuggling shape. spool rejects it with a ProtocolError and drops the conn.
func TestCVE_2019_16276_SpaceBeforeColon(t *testing.T) {
	for name, bad := range map[string]string{
		"Content-Length":         "HTTP/1.1 200 OK\r\nContent-Length : 5\r\n\r\nhello",
		"Transfer-Encoding":      "HTTP/1.1 200 OK\r\nTransfer-Encoding : chunked\r\nContent-Length: 5\r\n\r\nhello",
		"tab before colon":       "HTTP/1.1 200 OK\r\nContent-Length\t: 5\r\n\r\nhello",
		"ordinary field":         "HTTP/1.1 200 OK\r\nX-Foo : bar\r\nContent-Length: 5\r\n\r\nhello",
		"leading space on first": "HTTP/1.1 200 OK\r\n Content-Length: 5\r\n\r\nhello",
	} {
		t.Run(name, func(t *testing.T) { wantProtocolError(t, bad) })
	}
}

// Go CVE-2022-1705: net/http accepted Transfer-Encoding values other than
// a lone "chunked" and could disagree with a proxy on where the body ends.
// spool accepts exactly one "chunked" (RFC 9112 §6.1) and nothing else.
func TestCVE_2022_1705_InvalidTransferEncoding(t *testing.T) {
	body := "5\r\nhello\r\n0\r\n\r\n"
	for name, te := range map[string]string{
		"chunked, gzip":  "Transfer-Encoding: chunked, gzip\r\n",
		"gzip, chunked":  "Transfer-Encoding: gzip, chunked\r\n",
		"identity":       "Transfer-Encoding: identity\r\n",
		"chunked NUL":    "Transfer-Encoding: chunked\x00\r\n",
		"chunked,":       "Transfer-Encoding: chunked,\r\n",
		"chunked;q":      "Transfer-Encoding: chunked;q=1\r\n",
		"two fields":     "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
		"chunked, chunk": "Transfer-Encoding: chunked, chunked\r\n",
		"with CL":        "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n",
		"vertical tab":   "Transfer-Encoding: \x0bchunked\r\n",
		"HTTP/1.0":       "",
	} {
		t.Run(name, func(t *testing.T) {
			head := "HTTP/1.1 200 OK\r\n" + te
			if name == "HTTP/1.0" {
				head = "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n"
			}
			wantProtocolError(t, head+"\r\n"+body)
		})
	}
	t.Run("chunked is accepted", func(t *testing.T) {
		s := startRaw(t, replyAll("HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n"+body))
		_, b, err := roundTripAll(t, testutil.NewTransport(t, nil), s.URL())
		if err != nil || string(b) != "hello" {
			t.Fatalf("got %q, %v", b, err)
		}
	})
}

// Go CVE-2025-22871: net/http accepted a bare LF as the end of a chunk-size
// line; a proxy that disagrees sees a different body (smuggling). spool
// wants CRLF everywhere in the chunked framing.
func TestCVE_2025_22871_ChunkSizeBareLF(t *testing.T) {
	head := "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	for name, body := range map[string]string{
		"size line":             "5\nhello\r\n0\r\n\r\n",
		"size line with ext":    "5;a=b\nhello\r\n0\r\n\r\n",
		"last chunk":            "5\r\nhello\r\n0\n\r\n",
		"after data":            "5\r\nhello\n0\r\n\r\n",
		"CR inside size line":   "5\r;x\r\nhello\r\n0\r\n\r\n",
		"trailer line":          "5\r\nhello\r\n0\r\nX-T: 1\n\r\n",
		"smuggled 2nd response": "5\nhello\r\n0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nevil",
	} {
		t.Run(name, func(t *testing.T) { wantProtocolError(t, head+body) })
	}
}

// CVE-2026-42507 class: attacker bytes (terminal escapes, newlines) in a
// malformed response reached error strings verbatim, forging log lines or
// driving terminals. spool's errors quote and truncate peer bytes.
func TestCVE_2026_42507_ErrorStringsEscaped(t *testing.T) {
	const maxErrLen = 512
	esc := "\x1b[31mRED\x1b[0m"
	long := strings.Repeat("\x1b[2J\n", 20000)
	for name, bad := range map[string]string{
		"status code":        "HTTP/1.1 2" + esc + "00 OK\r\n\r\n",
		"reason phrase":      "HTTP/1.1 200 " + esc + "\r\n\r\n",
		"LF in status line":  "HTTP/1.1 200 OK\nInjected: " + esc + "\r\n\r\n",
		"not HTTP":           esc + "\nfake log line\n" + long,
		"version":            "HTTP/9" + esc + "\r\n\r\n",
		"long status line":   "HTTP/1.1 200 " + strings.Repeat("\x1b", 100000) + "\r\n\r\n",
		"header name":        "HTTP/1.1 200 OK\r\nX" + esc + ": v\r\n\r\n",
		"header value":       "HTTP/1.1 200 OK\r\nX: " + esc + "\r\n\r\n",
		"header long value":  "HTTP/1.1 200 OK\r\nX: " + strings.Repeat("\x7f\x1b", 50000) + "\r\n\r\n",
		"content-length":     "HTTP/1.1 200 OK\r\nContent-Length: 1" + strings.Repeat("x", 10000) + "\r\n\r\n",
		"transfer-encoding":  "HTTP/1.1 200 OK\r\nTransfer-Encoding: " + strings.Repeat("gzip, ", 10000) + "chunked\r\n\r\n",
		"chunk size":         "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5" + esc + "\r\nhello\r\n0\r\n\r\n",
		"chunk size long":    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + strings.Repeat("\x1b", 3000) + "\r\n",
		"trailer":            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: " + esc + "\r\n\r\n",
		"obs-fold":           "HTTP/1.1 200 OK\r\nX: a\r\n " + esc + "\r\n\r\n",
		"differing lengths":  "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2" + strings.Repeat(" ", 5000) + "x\r\n\r\n",
		"1xx status garbage": "HTTP/1.1 103 Early\r\n\r\nHTTP/1.1 " + esc + "\r\n\r\n",
	} {
		t.Run(name, func(t *testing.T) {
			s := startRaw(t, func(c *rawConn) {
				if c.ReadRequest() != nil {
					c.WriteString(bad)
				}
			})
			_, _, err := roundTripAll(t, testutil.NewTransport(t, nil), s.URL())
			if err == nil {
				t.Fatal("malformed response accepted")
			}
			msg := err.Error()
			noControlBytes(t, "error", msg)
			if len(msg) > maxErrLen {
				t.Errorf("error is %d bytes, want <= %d: %.200q...", len(msg), maxErrLen, msg)
			}
		})
	}
	t.Run("CONNECT refusal", func(t *testing.T) {
		// The proxy's answer to CONNECT is attacker-controlled too.
		for _, status := range []string{"407 " + esc, "403 " + strings.Repeat("A", 30000)} {
			proxy := startRaw(t, func(c *rawConn) {
				if c.ReadRequest() != nil {
					c.WriteString("HTTP/1.1 " + status + "\r\nContent-Length: 0\r\n\r\n")
				}
			})
			tr := testutil.NewTransport(t, &spool.Transport{Proxy: fixedProxy("http://" + proxy.Addr())})
			resp, err := tr.RoundTrip(withTimeout(t, testutil.NewRequest(t, "GET", "https://a.example/", nil), 5*time.Second))
			if err == nil {
				resp.Body.Close()
				t.Fatal("CONNECT refusal accepted")
			}
			var pe *spool.ProxyError
			if !errors.As(err, &pe) {
				t.Errorf("err = %T %v, want *spool.ProxyError", err, err)
			}
			msg := err.Error()
			noControlBytes(t, "CONNECT error", msg)
			if len(msg) > maxErrLen {
				t.Errorf("CONNECT error is %d bytes, want <= %d", len(msg), maxErrLen)
			}
		}
	})
}

// Go CVE-2025-61724: textproto joined continuation lines by re-copying the
// value each time, quadratic in their number. A head of ~1 MiB of obs-fold
// lines must be parsed (or refused) in linear work. Work is measured as
// bytes allocated, not time (no timed assertions: the machine is shared):
// a quadratic join of 200,000 folds copies gigabytes.
func TestCVE_2025_61724_QuadraticContinuationLines(t *testing.T) {
	run := func(lines int) uint64 {
		head := "HTTP/1.1 200 OK\r\nX-Fold: start\r\n" + strings.Repeat(" x\r\n", lines) + "Content-Length: 2\r\n\r\nok"
		s := startRaw(t, replyAll(head))
		tr := testutil.NewTransport(t, &spool.Transport{MaxResponseHeaderBytes: 2 << 20})
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		resp, _, err := roundTripAll(t, tr, s.URL())
		runtime.ReadMemStats(&after)
		if err == nil {
			if got := len(resp.Header.Get("X-Fold")); got != len("start")+2*lines {
				t.Errorf("folded value is %d bytes, want %d", got, len("start")+2*lines)
			}
		} else {
			var pe *spool.ProtocolError
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v, want success or *spool.ProtocolError", err)
			}
		}
		return after.TotalAlloc - before.TotalAlloc
	}
	const n = 100_000 // 400 KB of continuations
	a1, a2 := run(n), run(2*n)
	t.Logf("%d continuation lines: %d bytes allocated; %d: %d", n, a1, 2*n, a2)
	// Linear: twice the input, about twice the bytes (3x plus 1 MiB of
	// slack for the rest of the process); quadratic would be 4x and more.
	if a2 > 3*a1+1<<20 {
		t.Errorf("2x the continuation lines allocated %.1fx the bytes (%d vs %d): superlinear", float64(a2)/float64(a1), a2, a1)
	}
	if a2 > 64<<20 {
		t.Errorf("%d continuation lines (800 KB) allocated %d bytes", 2*n, a2)
	}
}

// curl CVE-2023-38039: curl kept reading header lines without a bound. An
// endless head must end with *spool.HeaderLimitError after reading about
// the limit, not more.
func TestCVE_2023_38039_HeaderSizeLimit(t *testing.T) {
	const limit = 64 << 10
	const slack = 8 << 10 // one read buffer plus a bit
	cases := map[string]struct{ head, unit string }{
		"endless fields":       {"HTTP/1.1 200 OK\r\n", "X-Flood: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n"},
		"endless single field": {"HTTP/1.1 200 OK\r\nX-Flood: ", "a"},
		"endless status line":  {"HTTP/1.1 200 ", "O"},
		"endless folds":        {"HTTP/1.1 200 OK\r\nX-Flood: a\r\n", " b\r\n"},
		"tiny fields":          {"HTTP/1.1 200 OK\r\n", "A:\r\n"},
		"endless 1xx heads":    {"", "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n"},
		"endless trailers": {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n",
			"X-Trailer: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			s := startRaw(t, func(c *rawConn) {
				if c.ReadRequest() != nil {
					flood(c, tc.head, tc.unit, 64<<20)
				}
			})
			var d testutil.CountingDialer
			tr := testutil.NewTransport(t, &spool.Transport{MaxResponseHeaderBytes: limit, DialContext: d.DialContext})
			_, _, err := roundTripAll(t, tr, s.URL())
			var he *spool.HeaderLimitError
			var pe *spool.ProtocolError
			switch {
			case errors.As(err, &he):
			case name == "endless 1xx heads" && errors.As(err, &pe):
				// "too many 1xx responses" is a fine answer too, if it came
				// within the byte budget (checked below).
			default:
				t.Fatalf("err = %T %v, want *spool.HeaderLimitError", err, err)
			}
			if got := d.Read.Load(); got > limit+slack {
				t.Fatalf("read %d bytes before giving up, want <= %d (limit %d)", got, limit+slack, limit)
			}
		})
	}
	t.Run("1xx heads share the budget", func(t *testing.T) {
		// Each 1xx head just under the limit: only a shared budget stops it.
		one := "HTTP/1.1 103 Early Hints\r\nLink: " + strings.Repeat("a", limit-100) + "\r\n\r\n"
		s := startRaw(t, func(c *rawConn) {
			if c.ReadRequest() != nil {
				for range 40 {
					c.WriteString(one)
				}
				c.WriteString(okResponse)
			}
		})
		var d testutil.CountingDialer
		tr := testutil.NewTransport(t, &spool.Transport{MaxResponseHeaderBytes: limit, DialContext: d.DialContext})
		_, _, err := roundTripAll(t, tr, s.URL())
		var he *spool.HeaderLimitError
		if !errors.As(err, &he) {
			t.Errorf("err = %v, want *spool.HeaderLimitError", err)
		}
		if got := d.Read.Load(); got > limit+slack {
			t.Fatalf("read %d bytes of 1xx heads, want <= %d (limit %d)", got, limit+slack, limit)
		}
	})
	t.Run("within limit is fine", func(t *testing.T) {
		head := "HTTP/1.1 200 OK\r\n" + strings.Repeat("X-Fill: "+strings.Repeat("a", 100)+"\r\n", 500) + "Content-Length: 2\r\n\r\nok"
		s := startRaw(t, replyAll(head))
		_, b, err := roundTripAll(t, testutil.NewTransport(t, &spool.Transport{MaxResponseHeaderBytes: limit}), s.URL())
		if err != nil || string(b) != "ok" {
			t.Fatalf("%d-byte head under a %d limit: %q, %v", len(head), limit, b, err)
		}
	})
}

func fixedProxy(u string) func(*http.Request) (*url.URL, error) {
	pu, err := url.Parse(u)
	if err != nil {
		panic(fmt.Sprint(err))
	}
	return func(*http.Request) (*url.URL, error) { return pu, nil }
}

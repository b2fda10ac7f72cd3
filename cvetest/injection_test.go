package cvetest

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/spoolhttp/spool"
	"github.com/spoolhttp/spool/internal/testutil"
)

// CR, LF or NUL in anything that goes into the request head would let the
// caller's (often attacker-influenced) data add header fields or a whole
// second request. The request must be refused before anything is dialed
// or written: the server sees no connection and no byte, and the same
// Transport keeps working.
func checkRefusedBeforeWrite(t *testing.T, mutate func(*http.Request)) {
	t.Helper()
	s := startRaw(t, replyAll("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
	tr := testutil.NewTransport(t, nil)
	req := withTimeout(t, testutil.NewRequest(t, "GET", s.URL()+"/x", nil), 5*time.Second)
	mutate(req)
	resp, err := tr.RoundTrip(req)
	if err == nil {
		resp.Body.Close()
		t.Fatal("request with CR/LF/NUL was sent")
	}
	var ire *spool.InvalidRequestError
	if !errors.As(err, &ire) {
		t.Errorf("err = %T %v, want *spool.InvalidRequestError", err, err)
	}
	noControlBytes(t, "error", err.Error())
	if n, c := s.bytes.Load(), s.Accepted(); n != 0 || c != 0 {
		t.Fatalf("server got %d conns and %d bytes, want none", c, n)
	}
	// Nothing was poisoned: a clean request on the same Transport works.
	resp, err = tr.RoundTrip(withTimeout(t, testutil.NewRequest(t, "GET", s.URL()+"/ok", nil), 5*time.Second))
	if err != nil {
		t.Fatalf("clean request after the refused one: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "ok" {
		t.Fatalf("clean request body %q", b)
	}
}

// Go CVE-2023-29406: net/http sent req.Host as is, so "\r\n" in it injected
// header fields.
func TestCVE_2023_29406_HostHeaderInjection(t *testing.T) {
	for _, host := range []string{
		"example.com\r\nX-Injected: 1",
		"example.com\nX-Injected: 1",
		"example.com\rX-Injected: 1",
		"example.com\x00evil",
		"example.com\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: evil",
		"example.com X-Injected: 1",
	} {
		t.Run(strings.NewReplacer("\r", `\r`, "\n", `\n`, "\x00", `\0`).Replace(host), func(t *testing.T) {
			checkRefusedBeforeWrite(t, func(r *http.Request) { r.Host = host })
		})
	}
	t.Run("URL.Host", func(t *testing.T) {
		// req.Host stays valid; the URL's host is what gets dialed and
		// must be checked the same way.
		checkRefusedBeforeWrite(t, func(r *http.Request) {
			r.URL.Host = r.URL.Host + "\r\nX-Injected: 1"
		})
	})
	t.Run("URL.Host in CONNECT", func(t *testing.T) {
		// Through a proxy, an https origin's host:port is written into the
		// CONNECT request: CR/LF there injects into the proxy's request.
		proxy := startRaw(t, func(c *rawConn) { io.Copy(io.Discard, c) })
		tr := testutil.NewTransport(t, &spool.Transport{Proxy: func(*http.Request) (*url.URL, error) {
			return &url.URL{Scheme: "http", Host: proxy.Addr()}, nil
		}})
		req := withTimeout(t, testutil.NewRequest(t, "GET", "https://a.example/x", nil), 2*time.Second)
		req.URL.Host = "a.example\r\nX-Injected\r\n\r\nGET /smuggled HTTP/1.1"
		resp, err := tr.RoundTrip(req)
		if err == nil {
			resp.Body.Close()
		}
		var ire *spool.InvalidRequestError
		if !errors.As(err, &ire) {
			t.Errorf("err = %v, want *spool.InvalidRequestError", err)
		}
		if n := proxy.bytes.Load(); n != 0 {
			t.Fatalf("proxy received %d bytes of a CONNECT built from a host with CR/LF", n)
		}
	})
}

// undici CVE-2022-31150 (and the net/http header-value checks): CR/LF in a
// header value, or in a header name, must never reach the wire.
func TestCVE_2022_31150_HeaderValueCRLFInjection(t *testing.T) {
	cases := map[string]func(*http.Request){
		"value CRLF":         func(r *http.Request) { r.Header["X-A"] = []string{"v\r\nX-Injected: 1"} },
		"value LF":           func(r *http.Request) { r.Header["X-A"] = []string{"v\nX-Injected: 1"} },
		"value CR":           func(r *http.Request) { r.Header["X-A"] = []string{"v\rX-Injected: 1"} },
		"value NUL":          func(r *http.Request) { r.Header["X-A"] = []string{"v\x00"} },
		"second value CRLF":  func(r *http.Request) { r.Header["X-A"] = []string{"fine", "v\r\n\r\nGET /smuggled HTTP/1.1"} },
		"name CRLF":          func(r *http.Request) { r.Header["X-A\r\nX-Injected"] = []string{"1"} },
		"name space":         func(r *http.Request) { r.Header["X-A X-Injected"] = []string{"1"} },
		"name colon":         func(r *http.Request) { r.Header["X-A: evil\r\nX"] = []string{"1"} },
		"User-Agent CRLF":    func(r *http.Request) { r.Header["User-Agent"] = []string{"ua\r\nX-Injected: 1"} },
		"Cookie CRLF":        func(r *http.Request) { r.Header["Cookie"] = []string{"a=b\r\nX-Injected: 1"} },
		"Authorization LF":   func(r *http.Request) { r.Header["Authorization"] = []string{"Basic x\nX-Injected: 1"} },
		"trailer value CRLF": func(r *http.Request) { r.Trailer = http.Header{"X-T": {"v\r\nX-Injected: 1"}} },
		"method CRLF":        func(r *http.Request) { r.Method = "GET / HTTP/1.1\r\nX-Injected: 1\r\n\r\nGET" },
		"query CRLF": func(r *http.Request) {
			r.URL.RawQuery = "a=b HTTP/1.1\r\nX-Injected: 1\r\n\r\n"
		},
		"opaque CRLF": func(r *http.Request) {
			r.URL.Opaque = "/x HTTP/1.1\r\nX-Injected: 1\r\n\r\n"
		},
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) { checkRefusedBeforeWrite(t, mutate) })
	}
}

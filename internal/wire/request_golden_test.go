package wire

import (
	"bufio"
	"bytes"
	"errors"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// Golden table: exact request head bytes.

func mustReq(method, rawURL string, h http.Header) *http.Request {
	u, err := url.Parse(rawURL)
	if err != nil {
		panic(err)
	}
	if h == nil {
		h = http.Header{}
	}
	return &http.Request{Method: method, URL: u, Header: h, Host: u.Host}
}

var reqCases = []struct {
	name string
	req  *http.Request
	o    HeadOptions
	want string
}{
	{"GET default UA", mustReq("GET", "http://example.com/a/b?x=1&y=2", nil), HeadOptions{UserAgent: "spool/1"},
		"GET /a/b?x=1&y=2 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: spool/1\r\n\r\n"},
	{"empty method is GET, empty path is /", &http.Request{URL: &url.URL{Scheme: "http", Host: "h"}}, HeadOptions{},
		"GET / HTTP/1.1\r\nHost: h\r\n\r\n"},
	{"UA override", mustReq("GET", "http://h/", http.Header{"User-Agent": {"mine"}}), HeadOptions{UserAgent: "spool/1"},
		"GET / HTTP/1.1\r\nHost: h\r\nUser-Agent: mine\r\n\r\n"},
	{"UA suppressed", mustReq("GET", "http://h/", http.Header{"User-Agent": {""}}), HeadOptions{UserAgent: "spool/1"},
		"GET / HTTP/1.1\r\nHost: h\r\n\r\n"},
	{"POST with length", mustReq("POST", "http://h/up", http.Header{"Content-Type": {"application/json"}}), HeadOptions{ContentLength: 13},
		"POST /up HTTP/1.1\r\nHost: h\r\nContent-Length: 13\r\nContent-Type: application/json\r\n\r\n"},
	{"POST empty sends length 0", mustReq("POST", "http://h/", nil), HeadOptions{},
		"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n"},
	{"DELETE empty sends no length", mustReq("DELETE", "http://h/x", nil), HeadOptions{},
		"DELETE /x HTTP/1.1\r\nHost: h\r\n\r\n"},
	{"chunked with trailers", func() *http.Request {
		r := mustReq("PUT", "http://h/f", nil)
		r.Trailer = http.Header{"x-checksum": nil}
		return r
	}(), HeadOptions{ContentLength: -1},
		"PUT /f HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nTrailer: X-Checksum\r\n\r\n"},
	{"absolute form through proxy", mustReq("GET", "http://example.com:8080/p?q", nil), HeadOptions{AbsoluteForm: true, ProxyAuthorization: "Basic eDp5"},
		"GET http://example.com:8080/p?q HTTP/1.1\r\nHost: example.com:8080\r\nProxy-Authorization: Basic eDp5\r\n\r\n"},
	{"OPTIONS *", &http.Request{Method: "OPTIONS", URL: &url.URL{Scheme: "http", Host: "h", Path: "*"}}, HeadOptions{},
		"OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n"},
	{"CONNECT authority form", &http.Request{Method: "CONNECT", URL: &url.URL{Host: "db:5432"}}, HeadOptions{},
		"CONNECT db:5432 HTTP/1.1\r\nHost: db:5432\r\n\r\n"},
	{"Connection: close", mustReq("GET", "http://h/", nil), HeadOptions{Close: true},
		"GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"},
	{"Connection: close already set", mustReq("GET", "http://h/", http.Header{"Connection": {"close"}}), HeadOptions{Close: true},
		"GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"},
	{"IPv6 host, zone removed", mustReq("GET", "http://[fe80::1%25eth0]:8080/", nil), HeadOptions{},
		"GET / HTTP/1.1\r\nHost: [fe80::1]:8080\r\n\r\n"},
	{"IPv6 host", mustReq("GET", "http://[::1]/x", nil), HeadOptions{},
		"GET /x HTTP/1.1\r\nHost: [::1]\r\n\r\n"},
	{"Host override", func() *http.Request { r := mustReq("GET", "http://10.0.0.1/", nil); r.Host = "vhost"; return r }(), HeadOptions{},
		"GET / HTTP/1.1\r\nHost: vhost\r\n\r\n"},
	{"escaped path", mustReq("GET", "http://h/a%20b/c", nil), HeadOptions{}, "GET /a%20b/c HTTP/1.1\r\nHost: h\r\n\r\n"},
	{"owned fields skipped, Accept-Encoding added", mustReq("GET", "http://h/",
		http.Header{"Host": {"evil"}, "content-length": {"9"}, "Transfer-Encoding": {"chunked"}}), HeadOptions{AcceptEncoding: "gzip"},
		"GET / HTTP/1.1\r\nHost: h\r\nAccept-Encoding: gzip\r\n\r\n"},
	{"value OWS trimmed", mustReq("GET", "http://h/", http.Header{"X-A": {"  v \t"}}), HeadOptions{},
		"GET / HTTP/1.1\r\nHost: h\r\nX-A: v\r\n\r\n"},
}

func TestRequestGolden(t *testing.T) {
	for _, c := range reqCases {
		t.Run(c.name, func(t *testing.T) {
			if err := ValidateRequest(c.req); err != nil {
				t.Fatalf("ValidateRequest: %v", err)
			}
			var buf bytes.Buffer
			bw := bufio.NewWriter(&buf)
			if err := WriteRequestHead(bw, c.req, &c.o); err != nil {
				t.Fatal(err)
			}
			bw.Flush()
			if got := buf.String(); got != c.want {
				t.Errorf("got\n%q\nwant\n%q", got, c.want)
			}
		})
	}
}

// TestRequestManyHeaders: caller fields come in map order; compare them as
// a set, and the fixed prefix exactly.
func TestRequestManyHeaders(t *testing.T) {
	req := mustReq("GET", "http://h/", http.Header{"A": {"1"}, "B": {"2", "3"}, "Connection": {"keep-alive"}})
	var fields []string
	trace := &httptrace.ClientTrace{
		WroteHeaderField: func(k string, v []string) { fields = append(fields, k) },
		WroteHeaders:     func() { fields = append(fields, "<end>") },
	}
	var buf bytes.Buffer
	bw := bufio.NewWriter(&buf)
	if err := WriteRequestHead(bw, req, &HeadOptions{UserAgent: "u", Trace: trace}); err != nil {
		t.Fatal(err)
	}
	bw.Flush()
	prefix := "GET / HTTP/1.1\r\nHost: h\r\nUser-Agent: u\r\n"
	got := buf.String()
	if !strings.HasPrefix(got, prefix) || !strings.HasSuffix(got, "\r\n\r\n") {
		t.Fatalf("got %q", got)
	}
	lines := strings.Split(strings.TrimSuffix(got[len(prefix):], "\r\n\r\n"), "\r\n")
	slices.Sort(lines)
	if want := []string{"A: 1", "B: 2", "B: 3", "Connection: keep-alive"}; !slices.Equal(lines, want) {
		t.Fatalf("lines %q", lines)
	}
	slices.Sort(fields[2:5])
	if want := []string{"Host", "User-Agent", "A", "B", "Connection", "<end>"}; !slices.Equal(fields, want) {
		t.Fatalf("trace %q", fields)
	}
}

func TestValidateRequest(t *testing.T) {
	bad := map[string]*http.Request{
		"method with space": mustReq("GE T", "http://h/", nil),
		"nil URL":           {Method: "GET"},
		"no host":           {Method: "GET", URL: &url.URL{Path: "/"}},
		"host with space":   func() *http.Request { r := mustReq("GET", "http://h/", nil); r.Host = "a b"; return r }(),
		"value with CRLF":   mustReq("GET", "http://h/", http.Header{"X": {"a\r\nInjected: 1"}}),
		"value with NUL":    mustReq("GET", "http://h/", http.Header{"X": {"a\x00"}}),
		"name with colon":   mustReq("GET", "http://h/", http.Header{"X:Y": {"1"}}),
		"query with CTL":    {Method: "GET", URL: &url.URL{Scheme: "http", Host: "h", Path: "/", RawQuery: "a=\n"}},
		"query with space":  {Method: "GET", URL: &url.URL{Scheme: "http", Host: "h", Path: "/", RawQuery: "a b"}},
		"trailer CL": func() *http.Request {
			r := mustReq("GET", "http://h/", nil)
			r.Trailer = http.Header{"Content-Length": nil}
			return r
		}(),
		"trailer bad value": func() *http.Request {
			r := mustReq("GET", "http://h/", nil)
			r.Trailer = http.Header{"X": {"\n"}}
			return r
		}(),
	}
	for name, req := range bad {
		err := ValidateRequest(req)
		var ie *InvalidRequestError
		if !errors.As(err, &ie) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	// WriteRequestHead refuses bad fields too, even without ValidateRequest.
	var buf bytes.Buffer
	err := WriteRequestHead(bufio.NewWriter(&buf), mustReq("GET", "http://h/", http.Header{"X": {"a\r\nY: b"}}), &HeadOptions{})
	var ie *InvalidRequestError
	if !errors.As(err, &ie) {
		t.Fatalf("write: err = %v", err)
	}
}

func TestChunkedWriter(t *testing.T) {
	var buf bytes.Buffer
	bw := bufio.NewWriter(&buf)
	w := NewChunkedWriter(bw)
	w.Write([]byte("hello"))
	w.Write(nil)
	w.Write(bytes.Repeat([]byte("x"), 26))
	if err := w.Close(http.Header{"X-Sum": {"7"}}); err != nil {
		t.Fatal(err)
	}
	bw.Flush()
	want := "5\r\nhello\r\n1a\r\n" + strings.Repeat("x", 26) + "\r\n0\r\nX-Sum: 7\r\n\r\n"
	if buf.String() != want {
		t.Fatalf("got %q", buf.String())
	}
	// Round trip through our reader and net/http's.
	compareWithNetHTTP(t, "GET", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"+want, true)

	if err := NewChunkedWriter(bw).Close(http.Header{"Content-Length": {"1"}}); err == nil {
		t.Fatal("forbidden trailer accepted")
	}
	if err := NewChunkedWriter(bw).Close(http.Header{"X": {"a\r\nb"}}); err == nil {
		t.Fatal("CRLF in trailer accepted")
	}
}

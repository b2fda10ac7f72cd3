package wire

import (
	"bufio"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// Golden table: response bytes → parsed result, or typed error, for every
// policy case in doc.go. Each case runs with a roomy buffer and with the
// smallest bufio buffer (16 bytes) so both the in-buffer and the scratch
// paths, and one-byte body reads, are covered.

type respCase struct {
	name   string
	method string
	in     string
	// expectations when err == nil
	status  string
	code    int
	minor   int
	header  http.Header
	kind    BodyKind
	length  int64 // resp.ContentLength
	close   bool
	body    string
	trailer http.Header
	te      []string
	// expected error kind: "proto", "limit", "eof", "unexpected"
	err string
}

var respCases = []respCase{
	{name: "200 with length", in: "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello",
		status: "200 OK", code: 200, minor: 1, kind: Length, length: 5, body: "hello",
		header: http.Header{"Content-Type": {"text/plain"}, "Content-Length": {"5"}}},
	{name: "missing reason", in: "HTTP/1.1 204\r\n\r\n", status: "204", code: 204, minor: 1, kind: NoBody, header: http.Header{}},
	{name: "extra spaces before code", in: "HTTP/1.1  200 OK \r\nContent-Length: 0\r\n\r\n", status: "200 OK ", code: 200, minor: 1,
		kind: NoBody, header: http.Header{"Content-Length": {"0"}}},
	{name: "bare LF lines", in: "HTTP/1.0 200 OK\nContent-Length: 2\n\nok", status: "200 OK", code: 200, kind: Length, length: 2,
		close: true, body: "ok", header: http.Header{"Content-Length": {"2"}}},
	{name: "obs-fold joined", in: "HTTP/1.1 200 OK\r\nX-F: a\r\n  b \r\n\tc\r\nContent-Length: 0\r\n\r\n", status: "200 OK", code: 200, minor: 1,
		kind: NoBody, header: http.Header{"X-F": {"a b c"}, "Content-Length": {"0"}}},
	{name: "canonical keys, duplicates kept in order", in: "HTTP/1.1 200 OK\r\nset-cookie: a\r\nx-b: 1\r\nSET-COOKIE: b\r\nContent-Length: 0\r\n\r\n",
		status: "200 OK", code: 200, minor: 1, kind: NoBody,
		header: http.Header{"Set-Cookie": {"a", "b"}, "X-B": {"1"}, "Content-Length": {"0"}}},
	{name: "OWS trimmed", in: "HTTP/1.1 200 OK\r\nX:  \t v \t\r\nContent-Length: 0\r\n\r\n", status: "200 OK", code: 200, minor: 1,
		kind: NoBody, header: http.Header{"X": {"v"}, "Content-Length": {"0"}}},
	{name: "pragma no-cache", in: "HTTP/1.1 200 OK\r\nPragma: no-cache\r\nContent-Length: 0\r\n\r\n", status: "200 OK", code: 200, minor: 1,
		kind: NoBody, header: http.Header{"Pragma": {"no-cache"}, "Cache-Control": {"no-cache"}, "Content-Length": {"0"}}},
	{name: "HEAD keeps length, no body", method: "HEAD", in: "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n", status: "200 OK", code: 200,
		minor: 1, kind: NoBody, length: 1000, header: http.Header{"Content-Length": {"1000"}}},
	{name: "HEAD without length", method: "HEAD", in: "HTTP/1.1 200 OK\r\n\r\n", status: "200 OK", code: 200, minor: 1, kind: NoBody,
		length: -1, header: http.Header{}},
	{name: "304 ignores length", in: "HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n", status: "304 Not Modified", code: 304,
		minor: 1, kind: NoBody, header: http.Header{"Content-Length": {"10"}}},
	{name: "100 continue", in: "HTTP/1.1 100 Continue\r\n\r\n", status: "100 Continue", code: 100, minor: 1, kind: NoBody, header: http.Header{}},
	{name: "CONNECT 200 is a tunnel", method: "CONNECT", in: "HTTP/1.1 200 Connection established\r\nContent-Length: 5\r\n\r\n",
		status: "200 Connection established", code: 200, minor: 1, kind: NoBody, length: -1, close: true,
		header: http.Header{"Content-Length": {"5"}}},
	{name: "until close", in: "HTTP/1.1 200 OK\r\n\r\nall of it", status: "200 OK", code: 200, minor: 1, kind: UntilClose, length: -1,
		close: true, body: "all of it", header: http.Header{}},
	{name: "connection close", in: "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\nx", status: "200 OK", code: 200, minor: 1,
		kind: Length, length: 1, close: true, body: "x", header: http.Header{"Content-Length": {"1"}}},
	{name: "HTTP/1.0 keep-alive", in: "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\nx", status: "200 OK", code: 200,
		kind: Length, length: 1, body: "x", header: http.Header{"Connection": {"keep-alive"}, "Content-Length": {"1"}}},
	{name: "identical duplicate lengths collapse", in: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok", status: "200 OK",
		code: 200, minor: 1, kind: Length, length: 2, body: "ok", header: http.Header{"Content-Length": {"2"}}},
	{name: "chunked with trailers", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\nTrailer: x-sum, X-Other\r\n\r\n" +
		"5;name=v\r\nhello\r\n6\r\n world\r\n0\r\nX-Sum: 42\r\nContent-Length: 1\r\n\r\n",
		status: "200 OK", code: 200, minor: 1, kind: Chunked, length: -1, body: "hello world", te: []string{"chunked"}, header: http.Header{},
		trailer: http.Header{"X-Sum": {"42"}, "X-Other": nil}},

	{name: "HTTP/2.0 rejected", in: "HTTP/2.0 200 OK\r\n\r\n", err: "proto"},
	{name: "HTTP/0.9 rejected", in: "HTTP/0.9 200 OK\r\n\r\n", err: "proto"},
	{name: "not HTTP fails fast", in: "\x16\x03\x01\x00", err: "proto"},
	{name: "signed status", in: "HTTP/1.1 +20 OK\r\n\r\n", err: "proto"},
	{name: "4-digit status", in: "HTTP/1.1 2000 OK\r\n\r\n", err: "proto"},
	{name: "CR in reason", in: "HTTP/1.1 200 O\rK\r\n\r\n", err: "proto"},
	{name: "space before colon (CVE-2019-16276)", in: "HTTP/1.1 200 OK\r\nContent-Length : 5\r\n\r\nhello", err: "proto"},
	{name: "invalid name byte", in: "HTTP/1.1 200 OK\r\nX(y): 1\r\n\r\n", err: "proto"},
	{name: "NUL in value", in: "HTTP/1.1 200 OK\r\nX: a\x00b\r\n\r\n", err: "proto"},
	{name: "CR in value", in: "HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n", err: "proto"},
	{name: "missing colon", in: "HTTP/1.1 200 OK\r\nnocolon\r\n\r\n", err: "proto"},
	{name: "fold on first field", in: "HTTP/1.1 200 OK\r\n X: 1\r\n\r\n", err: "proto"},
	{name: "TE and CL (smuggling)", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n3\r\nabc\r\n0\r\n\r\n", err: "proto"},
	{name: "TE gzip, chunked", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", err: "proto"},
	{name: "TE identity", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: identity\r\n\r\n", err: "proto"},
	{name: "TE chunked, chunked", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", err: "proto"},
	{name: "TE twice", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", err: "proto"},
	{name: "TE in HTTP/1.0", in: "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", err: "proto"},
	{name: "differing lengths", in: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc", err: "proto"},
	{name: "signed length", in: "HTTP/1.1 200 OK\r\nContent-Length: +2\r\n\r\nab", err: "proto"},
	{name: "length list", in: "HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\nab", err: "proto"},
	{name: "length overflow", in: "HTTP/1.1 200 OK\r\nContent-Length: 9223372036854775808\r\n\r\n", err: "proto"},
	{name: "empty length", in: "HTTP/1.1 200 OK\r\nContent-Length: \r\n\r\n", err: "proto"},
	{name: "forbidden Trailer key", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: Content-Length\r\n\r\n0\r\n\r\n", err: "proto"},
	{name: "short length body", in: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel", err: "unexpected"},
	{name: "empty input", in: "", err: "eof"},
	{name: "close mid-head", in: "HTTP/1.1 200 OK\r\nX: y\r\n", err: "unexpected"},
	{name: "chunk size bare LF (CVE-2025-22871)", in: chunkedHead + "5\nhello\r\n0\r\n\r\n", err: "proto"},
	{name: "chunk data without CRLF", in: chunkedHead + "5\r\nhelloXX0\r\n\r\n", err: "proto"},
	{name: "chunk data then bare LF", in: chunkedHead + "5\r\nhello\n0\r\n\r\n", err: "proto"},
	{name: "chunk size junk", in: chunkedHead + "0x5\r\nhello\r\n0\r\n\r\n", err: "proto"},
	{name: "chunk size too large", in: chunkedHead + "4000000000000001\r\n", err: "proto"},
	{name: "chunk size 17 digits", in: chunkedHead + "00000000000000005\r\nhello\r\n0\r\n\r\n", err: "proto"},
	{name: "chunk extension flood (CVE-2023-39326)", in: chunkedHead + strings.Repeat("1;"+strings.Repeat("x", 1000)+"\r\na\r\n", 40) + "0\r\n\r\n", err: "proto"},
	{name: "trailer bare LF", in: chunkedHead + "1\r\na\r\n0\r\nX-Sum: 1\n\r\n", err: "proto"},
	{name: "chunked closed early", in: chunkedHead + "5\r\nhel", err: "unexpected"},
	{name: "chunked no last chunk", in: chunkedHead + "5\r\nhello\r\n", err: "unexpected"},
}

func TestResponseGolden(t *testing.T) {
	for _, c := range respCases {
		for _, sizes := range [][2]int{{4096, 4096}, {16, 1}} {
			t.Run(c.name, func(t *testing.T) {
				method := c.method
				if method == "" {
					method = "GET"
				}
				p, err := parseAll(method, c.in, sizes[0], sizes[1])
				if c.err != "" {
					checkErrKind(t, err, c.err)
					return
				}
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				checkResp(t, &c, p)
			})
		}
	}
}

func checkErrKind(t *testing.T, err error, kind string) {
	t.Helper()
	var pe *ProtocolError
	var le *HeaderLimitError
	ok := false
	switch kind {
	case "proto":
		ok = errors.As(err, &pe)
	case "limit":
		ok = errors.As(err, &le)
	case "eof":
		ok = err == io.EOF
	case "unexpected":
		ok = err == io.ErrUnexpectedEOF
	}
	if !ok {
		t.Fatalf("error %T %v, want %s", err, err, kind)
	}
}

func checkResp(t *testing.T, c *respCase, p *parsed) {
	t.Helper()
	r := &p.resp
	eq := func(what string, got, want any) {
		t.Helper()
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %#v, want %#v", what, got, want)
		}
	}
	eq("Status", r.Status, c.status)
	eq("StatusCode", r.StatusCode, c.code)
	eq("ProtoMinor", r.ProtoMinor, c.minor)
	eq("Header", r.Header, c.header)
	eq("Kind", p.framing.Kind, c.kind)
	eq("ContentLength", r.ContentLength, c.length)
	eq("Close", r.Close, c.close)
	eq("Body", string(p.body), c.body)
	eq("Trailer", r.Trailer, c.trailer)
	eq("TransferEncoding", r.TransferEncoding, c.te)
	eq("Done", p.done, c.kind != UntilClose)
}

// TestResponseGoldenAgreesWithNetHTTP runs every golden case through the
// differential check too, so the table and net/http cannot drift apart.
func TestResponseGoldenAgreesWithNetHTTP(t *testing.T) {
	for _, c := range respCases {
		if c.method == "CONNECT" {
			continue // net/http's ReadResponse has no tunnel notion
		}
		m := c.method
		if m == "" {
			m = "GET"
		}
		t.Run(c.name, func(t *testing.T) { compareWithNetHTTP(t, m, c.in, true) })
	}
}

func TestHeaderLimit(t *testing.T) {
	big := "HTTP/1.1 200 OK\r\nX: " + strings.Repeat("a", 10000) + "\r\n\r\n"
	for _, size := range []int{16, 4096} {
		br := bufioReaderSize(big, size)
		var resp http.Response
		err := ReadResponseHead(br, 5000, &resp)
		var le *HeaderLimitError
		if !errors.As(err, &le) || le.Limit != 5000 {
			t.Fatalf("size %d: err = %v", size, err)
		}
		if !strings.Contains(err.Error(), "server response headers exceeded 5000 bytes") { // net/http's text
			t.Errorf("message %q", err)
		}
		// Consumed at most the limit plus one buffer.
		if consumed := len(big) - br.Buffered() - remaining(br); consumed > 5000+max(size, scratchMinBytes) {
			t.Errorf("consumed %d", consumed)
		}
	}
	// The 1xx heads and the final head share one budget.
	in := strings.Repeat("HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n", 3) + "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
	b := HeadBudget{Limit: 120}
	br := bufioReaderSize(in, 4096)
	var err error
	for i := 0; i < 4 && err == nil; i++ {
		var resp http.Response
		err = b.ReadResponseHead(br, &resp)
	}
	var le *HeaderLimitError
	if !errors.As(err, &le) || le.Limit != 120 {
		t.Fatalf("shared budget: err = %v, used %d", err, b.Used)
	}
}

func TestTrailerLimit(t *testing.T) {
	in := chunkedHead + "1\r\na\r\n0\r\nX-Sum: " + strings.Repeat("b", 200) + "\r\n\r\n"
	br := bufioReaderSize(in, 4096)
	var resp http.Response
	if err := ReadResponseHead(br, 0, &resp); err != nil {
		t.Fatal(err)
	}
	f, err := ResponseFraming("GET", &resp)
	if err != nil {
		t.Fatal(err)
	}
	var r BodyReader
	r.Reset(br, f, &resp, 100)
	_, err = io.ReadAll(&r)
	var le *HeaderLimitError
	if !errors.As(err, &le) || !le.Trailer || le.Limit != 100 {
		t.Fatalf("err = %v", err)
	}
}

// TestProtocolErrorDetailIsQuoted: attacker bytes never reach an error
// string raw (CVE-2026-42507), and are truncated.
func TestProtocolErrorDetailIsQuoted(t *testing.T) {
	in := "HTTP/1.1 200 OK\r\nX(\x1b[31m" + strings.Repeat("z", 500) + ": 1\r\n\r\n"
	_, err := parseAll("GET", in, 4096, 4096)
	msg := err.Error()
	if strings.ContainsRune(msg, '\x1b') || len(msg) > 200 {
		t.Fatalf("raw or long detail: %q", msg)
	}
}

// TestValueAppendDoesNotClobber: each key's value slice is capped.
func TestValueAppendDoesNotClobber(t *testing.T) {
	p, err := parseAll("GET", "HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nContent-Length: 0\r\n\r\n", 4096, 4096)
	if err != nil {
		t.Fatal(err)
	}
	h := p.resp.Header
	h["A"] = append(h["A"], "x")
	if h.Get("B") != "2" || len(h["A"]) != 2 {
		t.Fatalf("header = %v", h)
	}
}

func TestFoldIsLinear(t *testing.T) {
	// 100k continuation lines: quadratic joining would take minutes.
	in := "HTTP/1.1 200 OK\r\nX: a" + strings.Repeat("\r\n b", 100000) + "\r\nContent-Length: 0\r\n\r\n"
	p, err := parseAll("GET", in, 4096, 4096)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(p.resp.Header.Get("X")); got != 1+2*100000 {
		t.Fatalf("len = %d", got)
	}
}

// A status code spool refuses is marked Std (net/http's text is used)
// exactly when net/http refuses it too: net/http's strconv.Atoi takes a
// sign ("+20", "-00"), which spool alone refuses (doc.go S2), so that
// error must stay spool's own (FuzzExchange found "+00").
func TestStatusCodeStdAgreesWithNetHTTP(t *testing.T) {
	for _, code := range []string{"+20", "+00", "-00", "-01", "2x0", "20", "+2a", "2000"} {
		in := "HTTP/1.1 " + code + " X\r\n\r\n"
		var resp http.Response
		err := ReadResponseHead(bufioReaderSize(in, 4096), 0, &resp)
		var pe *ProtocolError
		if !errors.As(err, &pe) {
			t.Fatalf("%q: %v, want a ProtocolError", code, err)
		}
		_, nerr := http.ReadResponse(bufio.NewReader(strings.NewReader(in)), nil)
		if pe.Std() != (nerr != nil) {
			t.Errorf("%q: Std() %v, net/http's error %v", code, pe.Std(), nerr)
		}
	}
}

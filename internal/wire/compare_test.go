package wire

import (
	"bytes"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/net/http/httpguts"
)

// Differential testing against net/http: on the same bytes, both must
// accept or both reject, except for the documented cases in which wire is
// stricter (stricterThanNetHTTP) or, knowingly, more lenient
// (lenientThanNetHTTP). When both accept, status, proto, canonical headers,
// framing results, body bytes and trailers must be equal.

// compareWithNetHTTP fails t on any undocumented disagreement.
func compareWithNetHTTP(t *testing.T, method, input string, readBody bool) {
	t.Helper()
	var ours *parsed
	var oerr error
	if readBody {
		ours, oerr = parseAll(method, input, 4096, 4096)
	} else {
		ours, oerr = parseHeadOnly(method, input)
	}
	theirs, body, nerr := netHTTPMaybeBody(method, input, readBody)
	switch {
	case nerr == nil && oerr != nil:
		if !stricterThanNetHTTP(method, input) {
			t.Fatalf("wire rejects what net/http accepts: %v\ninput: %q", oerr, input)
		}
		return
	case nerr != nil && oerr == nil:
		if !lenientThanNetHTTP(input) {
			t.Fatalf("wire accepts what net/http rejects (%v)\ninput: %q", nerr, input)
		}
		return
	case nerr != nil:
		return
	}
	if readBody {
		checkOneByteReads(t, method, input, ours)
	}
	r := &ours.resp
	check := func(what string, got, want any) {
		t.Helper()
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: wire %#v, net/http %#v\ninput: %q", what, got, want, input)
		}
	}
	check("Status", r.Status, theirs.Status)
	check("StatusCode", r.StatusCode, theirs.StatusCode)
	check("Proto", r.Proto, theirs.Proto)
	check("ProtoMinor", r.ProtoMinor, theirs.ProtoMinor)
	check("Header", r.Header, theirs.Header)
	check("ContentLength", r.ContentLength, theirs.ContentLength)
	check("TransferEncoding", r.TransferEncoding, theirs.TransferEncoding)
	check("Close", r.Close, theirs.Close)
	if readBody {
		if !bytes.Equal(ours.body, body) {
			t.Fatalf("body: wire %q, net/http %q\ninput: %q", ours.body, body, input)
		}
		check("Trailer", normTrailer(r.Trailer), normTrailer(theirs.Trailer))
	} else {
		check("Trailer keys", normTrailer(r.Trailer), normTrailer(theirs.Trailer))
	}
}

// checkOneByteReads reads the same message one byte per Read: the body
// state machines must give the same bytes and trailers however the reads
// fall.
func checkOneByteReads(t *testing.T, method, input string, want *parsed) {
	t.Helper()
	got, err := parseAll(method, input, 4096, 1)
	if err != nil {
		t.Fatalf("one-byte reads fail (%v) where large reads succeed\ninput: %q", err, input)
	}
	if !bytes.Equal(got.body, want.body) || !reflect.DeepEqual(got.resp.Trailer, want.resp.Trailer) || got.done != want.done {
		t.Fatalf("one-byte reads: body %q trailer %v, large reads: body %q trailer %v\ninput: %q",
			got.body, got.resp.Trailer, want.body, want.resp.Trailer, input)
	}
}

// normTrailer drops the fields wire refuses as trailers and maps an empty
// trailer to nil.
func normTrailer(h http.Header) http.Header {
	var out http.Header
	for k, v := range h {
		if !httpguts.ValidTrailerHeader(k) {
			continue
		}
		if out == nil {
			out = http.Header{}
		}
		out[k] = v
	}
	return out
}

func parseHeadOnly(method, input string) (*parsed, error) {
	p := &parsed{}
	br := newReader(input)
	if err := ReadResponseHead(br, 0, &p.resp); err != nil {
		return p, err
	}
	f, err := ResponseFraming(method, &p.resp)
	p.framing = f
	return p, err
}

func netHTTPMaybeBody(method, input string, readBody bool) (*http.Response, []byte, error) {
	if readBody {
		return netHTTP(method, input)
	}
	resp, err := http.ReadResponse(newReader(input), &http.Request{Method: method})
	if err != nil {
		return nil, nil, err
	}
	// Announced trailer keys only: the body is not read.
	return resp, nil, nil
}

// stricterThanNetHTTP detects, syntactically, the inputs wire rejects on
// purpose although net/http accepts them (see doc.go, "Stricter than
// net/http").
func stricterThanNetHTTP(method, input string) bool {
	head, rest, _ := splitHead(input)
	lines := strings.Split(head, "\n")
	status := strings.TrimSuffix(lines[0], "\r")
	if badStatusLine(status) {
		return true
	}
	var hasTE, hasCL bool
	for _, l := range lines[1:] {
		l = strings.TrimSuffix(l, "\r")
		if l == "" || l[0] == ' ' || l[0] == '\t' {
			continue
		}
		name, _, _ := strings.Cut(l, ":")
		if strings.ContainsRune(name, ' ') {
			return true // S4: whitespace in a field name
		}
		hasTE = hasTE || strings.EqualFold(name, "Transfer-Encoding")
		hasCL = hasCL || strings.EqualFold(name, "Content-Length")
	}
	if hasTE && hasCL {
		return true // S5: both framing fields
	}
	if hasTE && strings.HasPrefix(status, "HTTP/1.0") {
		return true // S6: Transfer-Encoding in HTTP/1.0
	}
	if hasTE && method != "HEAD" {
		return chunkedStricter(rest)
	}
	return false
}

// badStatusLine: S1 version other than 1.0/1.1, S2 code not 3 DIGIT,
// S3 control byte in the status line.
func badStatusLine(s string) bool {
	if !strings.HasPrefix(s, "HTTP/1.0 ") && !strings.HasPrefix(s, "HTTP/1.1 ") {
		return true
	}
	rest := strings.TrimLeft(s[9:], " ")
	if len(rest) >= 3 && !(isDigit(rest[0]) && isDigit(rest[1]) && isDigit(rest[2])) {
		return true
	}
	return invalidValueAt([]byte(s)) >= 0
}

// chunkedStricter walks chunked framing with net/http's rules: S7 a chunk
// size above 2^62, S8 a bare LF or a SP in a name in the trailer section.
func chunkedStricter(body string) bool {
	for {
		line, rest, ok := strings.Cut(body, "\n")
		if !ok {
			return false
		}
		size := strings.TrimRight(strings.TrimSuffix(line, "\r"), " \t")
		size, _, _ = strings.Cut(size, ";")
		n, ok := parseHexLoose(size)
		if !ok {
			return false
		}
		if n > maxChunkSize {
			return true
		}
		if n == 0 {
			return trailerStricter(rest)
		}
		if uint64(len(rest)) < n+2 {
			return false
		}
		body = rest[n+2:]
	}
}

func trailerStricter(t string) bool {
	for {
		line, rest, ok := strings.Cut(t, "\n")
		if !ok {
			return false
		}
		if !strings.HasSuffix(line, "\r") {
			return true // S8: bare LF in the trailer section
		}
		line = strings.TrimSuffix(line, "\r")
		if line == "" {
			return false
		}
		if name, _, _ := strings.Cut(line, ":"); line[0] != ' ' && line[0] != '\t' && strings.ContainsRune(name, ' ') {
			return true // S4 in trailers
		}
		t = rest
	}
}

func parseHexLoose(s string) (uint64, bool) {
	if s == "" || len(s) > 16 {
		return 0, false
	}
	var n uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case '0' <= c && c <= '9':
			n = n<<4 | uint64(c-'0')
		case 'a' <= c && c <= 'f':
			n = n<<4 | uint64(c-'a'+10)
		case 'A' <= c && c <= 'F':
			n = n<<4 | uint64(c-'A'+10)
		default:
			return 0, false
		}
	}
	return n, true
}

// lenientThanNetHTTP detects the inputs wire accepts although net/http
// rejects them: L1 a trailer section longer than net/http's look-ahead
// window (one bufio buffer), which wire bounds by maxTrailerBytes instead.
func lenientThanNetHTTP(input string) bool {
	_, rest, _ := splitHead(input)
	i := strings.Index(rest, "\r\n0")
	return i >= 0 && len(rest)-i > 3000
}

// splitHead splits input at the first blank line after the status line.
func splitHead(input string) (head, rest string, ok bool) {
	var s blockScan
	s.statusLine = true
	if e := s.end([]byte(input)); e > 0 {
		return input[:e], input[e:], true
	}
	return input, "", false
}

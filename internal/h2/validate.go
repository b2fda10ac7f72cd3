package h2

import (
	"errors"
	"net/http"
	"net/textproto"

	"golang.org/x/net/http2/hpack"
)

// Response validation, beyond what Framer.ReadMetaHeaders already checks
// (lower-case token names, valid values, pseudo-headers first, no
// duplicate or request pseudo-headers: RFC 9113 §8.2.1, §8.3): x/net
// v0.62 transport.go's rules, with malformed messages rejected as §8.1.1
// says (x/net deletes connection-specific fields and conflicting
// Content-Length instead).

var (
	errHeaderListTooLarge = errors.New("http2: response header list larger than advertised limit")
	errNoStatus           = errors.New("malformed response from server: missing status pseudo header")
	errBadStatus          = errors.New("malformed response from server: malformed non-numeric status pseudo header")
	errConnHeader         = errors.New("malformed response from server: connection-specific header field")
	errBadContentLength   = errors.New("malformed response from server: invalid or conflicting content-length")
	err1xxEnd             = errors.New("1xx informational response with END_STREAM flag")
	errToo1xx             = errors.New("http2: too many 1xx informational responses")
	errTrailerNoEnd       = errors.New("http2: trailers without END_STREAM")
	errTrailerPseudo      = errors.New("http2: pseudo-header in trailers")
	errHeadersAfterEnd    = errors.New("http2: HEADERS after END_STREAM")
	errDataOnHead         = errors.New("http2: DATA in a response without content (HEAD, 204, 304)")
	errDataBeforeHeaders  = errors.New("http2: DATA before the response HEADERS")
	errDataAfterEnd       = errors.New("http2: DATA after END_STREAM")
	errStreamWindow       = errors.New("http2: DATA beyond the stream window")
)

// max1xx bounds the informational heads of one response (net/http allows 5
// on HTTP/1 when nobody traces them; a hostile server sends them forever).
const max1xx = 16

// decodeHead turns a response HEADERS block into a response (with room
// for its body). It returns
// (nil, nil) for a 1xx, which it has reported to the trace. An error is a
// stream error (PROTOCOL_ERROR) whose cause it is. s.mu is held.
func (s *stream) decodeHead(f *headBlock) (*respBody, error) {
	if f.truncated {
		return nil, errHeaderListTooLarge
	}
	status := f.status
	if status == "" {
		return nil, errNoStatus
	}
	code := parseStatus(status)
	if code < 0 {
		return nil, errBadStatus
	}
	// Single values share one backing array: the stream's own for the
	// final head; a 1xx head, which the trace may keep, gets its own.
	var strs []string
	if code >= 200 && len(f.fields) <= len(s.strs) {
		strs = s.strs[:]
	} else {
		strs = make([]string, len(f.fields))
	}
	header, declared, err := headerOf(f.fields, strs)
	if err != nil {
		return nil, err
	}
	if code < 200 {
		return nil, s.info1xx(f, code, header)
	}
	rb := new(respBody) // the response and its body in one allocation
	resp := &rb.resp
	*resp = http.Response{
		Status: statusLine(code, status), StatusCode: code,
		Proto: "HTTP/2.0", ProtoMajor: 2,
		Header: header, Trailer: declared, ContentLength: -1,
	}
	if resp.ContentLength, err = contentLength(header); err != nil {
		return nil, err
	}
	if s.isHead || code == http.StatusNoContent || code == http.StatusNotModified {
		s.remain = -1 // no content, whatever the length says (RFC 9110 §8.6)
		if f.endStream {
			resp.ContentLength = max(resp.ContentLength, 0)
		}
	} else {
		s.remain = resp.ContentLength
		if resp.ContentLength < 0 && f.endStream {
			resp.ContentLength = 0
		}
	}
	return rb, nil
}

// headerOf builds the header and the declared trailers from the regular
// fields, rejecting connection-specific ones (§8.2.2).
func headerOf(fields []hpack.HeaderField, strs []string) (header, declared http.Header, err error) {
	header = make(http.Header, len(fields))
	for _, hf := range fields {
		switch hf.Name {
		case "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade":
			return nil, nil, errConnHeader
		case "trailer":
			if declared == nil {
				declared = make(http.Header)
			}
			for _, v := range splitList(hf.Value) {
				declared[canonicalName(lowerASCII(v))] = nil
			}
			continue
		}
		key := canonicalName(hf.Name)
		if vv := header[key]; vv == nil && len(strs) > 0 {
			header[key], strs = strs[:1:1], strs[1:]
			header[key][0] = hf.Value
		} else {
			header[key] = append(vv, hf.Value)
		}
	}
	return header, declared, nil
}

// contentLength is the response's Content-Length, -1 if none; repeated
// values must agree (RFC 9110 §8.6), and Header keeps one.
func contentLength(header http.Header) (int64, error) {
	clens := header["Content-Length"]
	if len(clens) == 0 {
		return -1, nil
	}
	n := parseLength(clens[0])
	for _, v := range clens[1:] {
		if v != clens[0] {
			n = -1
		}
	}
	if n < 0 {
		return 0, errBadContentLength
	}
	header["Content-Length"] = clens[:1]
	return n, nil
}

// info1xx reports a 1xx head: 100 lets a waiting body go; every one reaches
// Got1xxResponse (103 Early Hints, ...), whose error fails the stream.
func (s *stream) info1xx(f *headBlock, code int, header http.Header) error {
	if f.endStream {
		return err1xxEnd
	}
	if s.n1xx++; s.n1xx > max1xx {
		return errToo1xx
	}
	if t := s.trace; t != nil && t.Got1xxResponse != nil {
		if err := t.Got1xxResponse(code, textproto.MIMEHeader(header)); err != nil {
			return err
		}
	}
	if code == http.StatusContinue {
		if t := s.trace; t != nil && t.Got100Continue != nil {
			t.Got100Continue()
		}
		s.notifyCont()
	}
	return nil
}

// decodeTrailers checks a trailing HEADERS block: END_STREAM and no
// pseudo-headers, else a connection error as x/net (§8.1).
func decodeTrailers(f *headBlock) (map[string][]string, error) {
	if !f.endStream {
		return nil, errTrailerNoEnd
	}
	if f.pseudo > 0 {
		return nil, errTrailerPseudo
	}
	if f.truncated {
		return nil, errHeaderListTooLarge
	}
	t := make(map[string][]string, len(f.fields))
	for _, hf := range f.fields {
		k := canonicalName(hf.Name)
		t[k] = append(t[k], hf.Value)
	}
	return t, nil
}

// parseStatus accepts exactly three digits, 100-999 (RFC 9110 §15).
func parseStatus(s string) int {
	if len(s) != 3 || s[0] < '1' || s[0] > '9' {
		return -1
	}
	n := 0
	for i := 0; i < 3; i++ {
		if s[i] < '0' || s[i] > '9' {
			return -1
		}
		n = n*10 + int(s[i]-'0')
	}
	return n
}

// parseLength parses a Content-Length value: digits only, at most 18.
func parseLength(s string) int64 {
	if s == "" || len(s) > 18 {
		return -1
	}
	var n int64
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return -1
		}
		n = n*10 + int64(s[i]-'0')
	}
	return n
}

func splitList(v string) []string {
	var out []string
	for len(v) > 0 {
		i := 0
		for i < len(v) && v[i] != ',' {
			i++
		}
		if f := trimOWS(v[:i]); f != "" {
			out = append(out, f)
		}
		if i == len(v) {
			break
		}
		v = v[i+1:]
	}
	return out
}

func trimOWS(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; 'A' <= c && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

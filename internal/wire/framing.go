package wire

import (
	"net/http"
	"strings"

	"golang.org/x/net/http/httpguts"
)

// Deciding how a response body is delimited (RFC 9112 §6.3).

// BodyKind names how a body is delimited.
type BodyKind uint8

const (
	NoBody     BodyKind = iota // no body bytes follow the head
	Length                     // exactly Framing.Length (> 0) bytes follow
	Chunked                    // chunked transfer coding, then trailers
	UntilClose                 // the body runs until the server closes the connection
)

func (k BodyKind) String() string {
	switch k {
	case NoBody:
		return "NoBody"
	case Length:
		return "Length"
	case Chunked:
		return "Chunked"
	case UntilClose:
		return "UntilClose"
	}
	return "BodyKind(?)"
}

// Framing says how to read one response body.
type Framing struct {
	Kind   BodyKind
	Length int64 // for Length: the body size
}

// maxContentLength is the largest Content-Length accepted: it must fit an
// int64, as in net/http (strconv.ParseUint(s, 10, 63)).
const maxContentLength = 1<<63 - 1

// ResponseFraming decides how the body of resp (a response to a request
// with method reqMethod, "" meaning GET) is delimited, following RFC 9112
// §6.3 in order. It sets resp.ContentLength (-1 when unknown),
// resp.TransferEncoding (["chunked"] when chunked, and then removes the
// Transfer-Encoding header), resp.Close (the connection must not be reused
// after this response), resp.Uncompressed=false, and pre-populates
// resp.Trailer with the keys announced by a "Trailer" header (nil values).
// For a 2xx to CONNECT and for 101 the bytes after the head belong to a
// tunnel; see IsTunnel.
func ResponseFraming(reqMethod string, resp *http.Response) (Framing, error) {
	h := resp.Header
	resp.Uncompressed = false
	resp.TransferEncoding = nil
	resp.Close = shouldClose(resp)
	if reqMethod == "CONNECT" && resp.StatusCode/100 == 2 {
		// A 2xx to CONNECT starts a tunnel: any Content-Length or
		// Transfer-Encoding is ignored (RFC 9110 §9.3.6) and the connection
		// is never reused for HTTP.
		resp.ContentLength, resp.Close = -1, true
		return Framing{Kind: NoBody}, nil
	}
	chunked, err := transferEncoding(resp)
	if err != nil {
		return Framing{}, err
	}
	n, err := contentLength(h)
	if err != nil {
		return Framing{}, err
	}
	if chunked && n >= 0 {
		// RFC 9112 §6.1 lets a recipient drop Content-Length; we reject the
		// message instead: both present is the request/response smuggling shape.
		return Framing{}, &ProtocolError{Reason: "Content-Length and Transfer-Encoding both present"}
	}
	if err := announcedTrailers(resp, chunked); err != nil {
		return Framing{}, err
	}
	return decideBody(reqMethod, resp, chunked, n), nil
}

// decideBody applies RFC 9112 §6.3 once the headers are known to be sane.
func decideBody(reqMethod string, resp *http.Response, chunked bool, n int64) Framing {
	switch {
	case reqMethod == "HEAD":
		// A response to HEAD has no body; ContentLength keeps the announced
		// length as net/http does (RFC 9112 §6.3 rule 1, RFC 9110 §9.3.2).
		resp.ContentLength = n
		return Framing{Kind: NoBody}
	case resp.StatusCode/100 == 1 || resp.StatusCode == 204 || resp.StatusCode == 304:
		// 1xx, 204 and 304 never have a body (RFC 9112 §6.3 rule 1).
		resp.ContentLength = 0
		return Framing{Kind: NoBody}
	case chunked:
		// Chunked is the final coding: read chunks to the last one (RFC 9112 §6.3 rule 4).
		resp.ContentLength = -1
		return Framing{Kind: Chunked}
	case n == 0:
		// A valid Content-Length is the body size (RFC 9112 §6.3 rule 6).
		resp.ContentLength = 0
		return Framing{Kind: NoBody}
	case n > 0:
		resp.ContentLength = n
		return Framing{Kind: Length, Length: n}
	}
	// No length and not chunked: the body ends when the server closes the
	// connection, which therefore cannot be reused (RFC 9112 §6.3 rule 8).
	resp.ContentLength, resp.Close = -1, true
	return Framing{Kind: UntilClose}
}

// shouldClose reports whether the connection must close after resp
// (RFC 9112 §9.3): HTTP/1.0 unless "Connection: keep-alive", or any
// "Connection: close". Like net/http, a close token on HTTP/1.1 removes the
// Connection header (the transport consumed it).
func shouldClose(resp *http.Response) bool {
	conn := resp.Header["Connection"]
	hasClose := httpguts.HeaderValuesContainsToken(conn, "close")
	if resp.ProtoMajor == 1 && resp.ProtoMinor == 0 {
		// HTTP/1.0 persistence is opt-in (RFC 9112 §9.3, Appendix C.2.2).
		return hasClose || !httpguts.HeaderValuesContainsToken(conn, "keep-alive")
	}
	if hasClose {
		delete(resp.Header, "Connection")
	}
	return hasClose
}

// transferEncoding validates Transfer-Encoding and reports whether the body
// is chunked. The header is removed when present, as net/http does.
func transferEncoding(resp *http.Response) (bool, error) {
	te, ok := resp.Header["Transfer-Encoding"]
	if !ok {
		return false, nil
	}
	delete(resp.Header, "Transfer-Encoding")
	if resp.ProtoMinor == 0 {
		// HTTP/1.0 has no transfer codings; a TE there means a confused or
		// hostile framing (RFC 9112 §6.1: treat as faulty framing, close).
		return false, &ProtocolError{Reason: "Transfer-Encoding in an HTTP/1.0 response"}
	}
	// Only a single "chunked": any other coding, a list, or repeated fields
	// are rejected (RFC 9112 §6.1; CVE-2022-1705 class; net/http agrees).
	if len(te) != 1 || !strings.EqualFold(te[0], "chunked") {
		d := ""
		if len(te) > 0 {
			d = te[0]
		}
		return false, protoErrString("unsupported Transfer-Encoding", d)
	}
	te[0] = "chunked"
	resp.TransferEncoding = te[:1:1] // reuse the header's own slice: no allocation
	return true, nil
}

// contentLength returns the Content-Length value, -1 if absent. Identical
// duplicates collapse into one field; differing ones are an error
// (RFC 9112 §6.3 rule 5).
func contentLength(h http.Header) (int64, error) {
	cl, ok := h["Content-Length"]
	if !ok || len(cl) == 0 {
		return -1, nil
	}
	// Values are compared and parsed without surrounding blanks, as
	// net/http does: an obs-fold joined into the value leaves a trailing
	// SP (RFC 9112 §5.2), which is not part of the number.
	first := strings.Trim(cl[0], " \t")
	for _, v := range cl[1:] {
		if strings.Trim(v, " \t") != first {
			return 0, protoErrString("multiple differing Content-Length values", cl[0]+", "+v)
		}
	}
	if len(cl) > 1 {
		h["Content-Length"] = cl[:1:1]
	}
	n, ok := parseDecimal(first)
	if !ok {
		// 1*DIGIT only: no sign, no list, no overflow (RFC 9110 §8.6).
		return 0, protoErrString("invalid Content-Length", cl[0])
	}
	return n, nil
}

// parseDecimal parses 1*DIGIT into a non-negative int64.
func parseDecimal(s string) (int64, bool) {
	if s == "" {
		return 0, false
	}
	var n uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isDigit(c) {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
		if n > maxContentLength {
			return 0, false
		}
	}
	return int64(n), true
}

// announcedTrailers fills resp.Trailer with the keys a "Trailer" header
// announces (RFC 9110 §6.6.2), for chunked bodies only: net/http leaves a
// Trailer header on a non-chunked response in Header and sets no Trailer.
func announcedTrailers(resp *http.Response, chunked bool) error {
	resp.Trailer = nil
	vv, ok := resp.Header["Trailer"]
	if !ok || !chunked {
		return nil
	}
	delete(resp.Header, "Trailer")
	var t http.Header
	for _, v := range vv {
		for _, k := range strings.Split(v, ",") {
			k = strings.TrimSpace(k)
			if k == "" {
				continue
			}
			k = http.CanonicalHeaderKey(k)
			switch k {
			case "Transfer-Encoding", "Trailer", "Content-Length":
				// Framing fields can't be trailers (RFC 9110 §6.5.1); net/http rejects the message.
				return protoErrString("forbidden key in Trailer header", k)
			}
			if t == nil {
				t = make(http.Header)
			}
			t[k] = nil
		}
	}
	resp.Trailer = t
	return nil
}

// IsTunnel reports whether, after resp's head, the connection carries a
// tunnel rather than HTTP: a 2xx to CONNECT (RFC 9110 §9.3.6) or 101
// Switching Protocols (RFC 9110 §15.2.2). The h1 layer hands such a
// connection to the caller instead of reading a body.
func IsTunnel(reqMethod string, resp *http.Response) bool {
	return reqMethod == "CONNECT" && resp.StatusCode/100 == 2 || resp.StatusCode == 101
}

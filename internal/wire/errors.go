package wire

import (
	"strconv"
)

// DefaultMaxHeaderBytes bounds a response head when the caller gives no
// limit. It matches net/http's DefaultMaxHeaderBytes so moving from
// net/http changes nothing for servers that already work with it.
const DefaultMaxHeaderBytes = 1 << 20

// maxDetailBytes bounds how much of the peer's bytes an error quotes: enough
// to recognise the offending line, never enough to carry a payload into logs
// (CVE-2026-42507: raw attacker bytes must not reach error strings).
const maxDetailBytes = 64

// ProtocolError: the peer's bytes violate HTTP/1.1 syntax or framing. Never
// retried; the connection is closed.
type ProtocolError struct {
	Reason string // fixed text chosen by us, e.g. "Content-Length and Transfer-Encoding both present"
	Detail string // offending bytes, quoted and truncated (see quoteDetail)
}

func (e *ProtocolError) Error() string {
	if e.Detail == "" {
		return "http/1.1 protocol error: " + e.Reason
	}
	return "http/1.1 protocol error: " + e.Reason + ": " + e.Detail
}

// protoErr builds a *ProtocolError quoting the offending bytes.
func protoErr(reason string, detail []byte) *ProtocolError {
	return &ProtocolError{Reason: reason, Detail: quoteDetail(detail)}
}

// protoErrString is protoErr for a detail that is already a string.
func protoErrString(reason, detail string) *ProtocolError {
	return &ProtocolError{Reason: reason, Detail: quoteDetail([]byte(detail))}
}

// quoteDetail returns b Go-quoted (control bytes and non-UTF-8 escaped),
// truncated to maxDetailBytes of input with a "..." marker. An empty b
// yields "".
func quoteDetail(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	trunc := len(b) > maxDetailBytes
	if trunc {
		b = b[:maxDetailBytes]
	}
	q := strconv.QuoteToASCII(string(b))
	if trunc {
		q += "..."
	}
	return q
}

// HeaderLimitError: the response head (or the trailers, or the sum of the
// 1xx heads and the final head) exceeded its byte limit.
type HeaderLimitError struct {
	Limit   int
	Trailer bool // the trailer section, not the head, exceeded Limit
}

func (e *HeaderLimitError) Error() string {
	if e.Trailer {
		return "response trailer exceeds its limit (" + strconv.Itoa(e.Limit) + " bytes)"
	}
	return "response header exceeds MaxResponseHeaderBytes (" + strconv.Itoa(e.Limit) + " bytes)"
}

// InvalidRequestError: the caller's request cannot be sent (bad method,
// header name or value with CR/LF/NUL, bad host). ValidateRequest returns it
// before any byte is written.
type InvalidRequestError struct {
	Field  string // what is wrong: "Method", "Host", "URL", "Header", "Trailer"
	Reason string // fixed text, plus the quoted offending name where useful
}

func (e *InvalidRequestError) Error() string {
	return "invalid request: " + e.Field + ": " + e.Reason
}

// invalidReq builds an *InvalidRequestError; what is the caller's value,
// quoted and truncated like a ProtocolError detail.
func invalidReq(field, reason, what string) *InvalidRequestError {
	if what != "" {
		reason += " " + quoteDetail([]byte(what))
	}
	return &InvalidRequestError{Field: field, Reason: reason}
}

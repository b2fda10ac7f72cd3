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

// Error is net/http's text for a fault net/http detects too (DESIGN
// decision 7), else spool's "http/1.1 protocol error: reason: detail".
func (e *ProtocolError) Error() string {
	if std, ok := stdTexts[e.Reason]; ok {
		if e.Detail == "" {
			return std
		}
		return std + " " + e.Detail
	}
	if e.Detail == "" {
		return "http/1.1 protocol error: " + e.Reason
	}
	return "http/1.1 protocol error: " + e.Reason + ": " + e.Detail
}

// Std reports whether net/http fails on the same bytes (its text is then
// the error's); the other faults are those where spool is stricter.
func (e *ProtocolError) Std() bool {
	_, ok := stdTexts[e.Reason]
	return ok
}

// stdTexts maps a Reason to net/http's message for the same fault, which
// the quoted detail follows. Reasons missing here are faults net/http
// accepts (listed in doc.go).
var stdTexts = map[string]string{
	"malformed HTTP status line":                  "malformed HTTP response",
	"malformed HTTP status code":                  "malformed HTTP status code",
	"malformed HTTP version":                      "malformed HTTP version",
	"malformed header: missing colon":             "malformed MIME header: missing colon:",
	"malformed header: leading whitespace":        "malformed MIME header initial line:",
	"invalid byte in header field name":           "malformed MIME header line:",
	"empty header field name":                     "malformed MIME header line:",
	"invalid byte in header field value":          "malformed MIME header line:",
	"invalid Content-Length":                      "bad Content-Length",
	"multiple differing Content-Length values":    "http: message cannot contain multiple Content-Length headers; got",
	"unsupported Transfer-Encoding":               "unsupported transfer encoding:",
	"missing CRLF after chunk data":               "malformed chunked encoding",
	"chunk size line too long":                    "header line too long",
	"invalid chunk size":                          "invalid byte in chunk length",
	"chunked encoding contains too much non-data": "chunked encoding contains too much non-data",
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
	// net/http's text (DESIGN decision 7).
	return "net/http: server response headers exceeded " + strconv.Itoa(e.Limit) + " bytes; aborted"
}

// InvalidRequestError: the caller's request cannot be sent (bad method,
// header name or value with CR/LF/NUL, bad host). ValidateRequest returns it
// before any byte is written. Its text is net/http's for the same fault
// (`net/http: invalid header field name "k"`), so code and libraries that
// match net/http's texts keep working (DESIGN decision 7).
type InvalidRequestError struct {
	Field  string // what is wrong: "Method", "Host", "URL", "Header", "Trailer"
	Reason string // the message, net/http's text with the offending name quoted
}

func (e *InvalidRequestError) Error() string { return e.Reason }

// invalidReq builds an *InvalidRequestError: text is net/http's message,
// what the caller's value, quoted as %q does (bounded, CVE-2026-42507).
func invalidReq(field, text, what string) *InvalidRequestError {
	if what != "" {
		text += " " + quoteName(what)
	}
	return &InvalidRequestError{Field: field, Reason: text}
}

// quoteName quotes a caller's name as net/http's %q does (printable
// Unicode kept, control bytes escaped), truncated to maxDetailBytes.
func quoteName(s string) string {
	if len(s) > maxDetailBytes {
		return strconv.Quote(s[:maxDetailBytes]) + "..."
	}
	return strconv.Quote(s)
}

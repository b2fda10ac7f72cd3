// Package wire converts between HTTP/1.1 bytes and net/http messages: it
// writes request heads and chunked bodies, and reads response heads,
// framing decisions, bodies and trailers. It owns no socket, no pool and
// no clock; internal/h1 drives it over one connection.
//
// # Hot path
//
// A typical request head is written with no allocation (strings go
// straight into the bufio.Writer). A typical response head costs four
// allocations: the header map (two: map and its group), one []string for
// all values, and one string holding every kept byte of the head; keys and
// frequent values are interned (intern.go) and everything else is a
// substring. Framing and a Content-Length body cost none.
//
// # Policy
//
// Each rule is written again, with its RFC section, where it is enforced.
//
// Response head (response_head.go, head_parse.go, head_read.go):
//   - Status line is "HTTP/1.x SP 3DIGIT [SP reason]"; a missing reason is
//     accepted, extra SP before the code is tolerated (as net/http does).
//   - Only HTTP/1.0 and HTTP/1.1; anything else ("HTTP/2.0", "HTTP/0.9")
//     is a *ProtocolError, detected from the first bytes (RFC 9112 §2.3).
//   - The status code is exactly three digits (no sign); the status line
//     carries no control byte except HTAB (RFC 9112 §4).
//   - Field names are tokens; whitespace between name and colon is
//     rejected (RFC 9112 §5.1, CVE-2019-16276).
//   - Field values hold no NUL, CR, LF or other control byte except HTAB
//     (RFC 9110 §5.5); OWS around values is trimmed (RFC 9112 §5.1).
//   - Bare LF line endings are accepted in the head (RFC 9112 §2.2 MAY;
//     net/http does too).
//   - obs-fold continuation lines are joined with one SP, as net/textproto
//     does in Go 1.26, in linear time (RFC 9112 §5.2, CVE-2025-61724); a
//     continuation before the first field is rejected.
//   - "Pragma: no-cache" without Cache-Control adds "Cache-Control:
//     no-cache" (RFC 9111 §5.4), as net/http's ReadResponse does.
//   - The limit counts every byte of the head including the status line;
//     HeadBudget shares one limit across 1xx heads and the final head.
//   - A close before any byte is io.EOF; a close mid-head is
//     io.ErrUnexpectedEOF.
//
// Framing (framing.go, RFC 9112 §6.3, in this order):
//   - 2xx to CONNECT: a tunnel; Content-Length and Transfer-Encoding are
//     ignored (RFC 9110 §9.3.6), NoBody, ContentLength -1, Close.
//   - Transfer-Encoding in an HTTP/1.0 response: *ProtocolError (§6.1).
//   - Transfer-Encoding other than one field equal (case-insensitively) to
//     "chunked": *ProtocolError (§6.1, CVE-2022-1705 class).
//   - Content-Length: 1*DIGIT fitting int64; identical duplicates collapse
//     into one; differing ones, signs, lists, empty: *ProtocolError (§6.3).
//   - Transfer-Encoding together with Content-Length: *ProtocolError (§6.1
//     allows dropping Content-Length; we reject the smuggling shape).
//   - "Trailer" naming Transfer-Encoding, Trailer or Content-Length:
//     *ProtocolError; otherwise its keys pre-populate resp.Trailer (chunked
//     only).
//   - HEAD: NoBody, ContentLength keeps the announced length.
//   - 1xx, 204, 304: NoBody, ContentLength 0.
//   - chunked: Chunked, ContentLength -1, TransferEncoding ["chunked"], the
//     Transfer-Encoding header removed.
//   - Content-Length 0: NoBody; n > 0: Length n.
//   - otherwise: UntilClose, ContentLength -1, Close.
//   - Close is also set by "Connection: close", or by HTTP/1.0 without
//     "Connection: keep-alive" (RFC 9112 §9.3); on HTTP/1.1 a close token
//     removes the Connection header, as net/http does.
//
// Bodies (body_read.go, chunked_read.go):
//   - Length: exactly n bytes; an early close is io.ErrUnexpectedEOF.
//   - chunk-size: 1 to 16 hex digits, at most 2^62, optional trailing OWS,
//     optional ";ext" (ignored); leading junk is rejected (RFC 9112 §7.1).
//   - The chunk-size line ends in CRLF, with no other CR; chunk data is
//     followed by CRLF; a bare LF in either place is a *ProtocolError
//     (RFC 9112 §7.1, errata 7633, CVE-2025-22871).
//   - A chunk-size line is at most 4096 bytes, and extension overhead is
//     accounted like net/http: 16 bytes per chunk plus twice its data are
//     free, more than 16 KiB of excess fails (CVE-2023-39326).
//   - Trailers are parsed with the head's rules but CRLF line endings only,
//     bounded by maxTrailerBytes, merged into resp.Trailer; fields that must
//     not be trailers (httpguts.ValidTrailerHeader: framing, routing,
//     authentication, content metadata; RFC 9110 §6.5.1) are dropped.
//
// Requests (request_validate.go, request_write.go, chunked_write.go):
//   - The method is a token; the URL and a valid, non-empty Host are
//     required (RFC 9112 §3.2); an IPv6 zone is removed (RFC 6874); the raw
//     URL parts hold no control byte or SP; names are tokens and values hold
//     no control byte but HTAB; framing fields cannot be trailers.
//   - Head order: request line, Host, User-Agent, Connection: close,
//     Content-Length or Transfer-Encoding, Trailer, caller fields,
//     Accept-Encoding, Proxy-Authorization. Host, User-Agent,
//     Content-Length, Transfer-Encoding and Trailer are never copied from
//     req.Header (compared case-insensitively).
//   - Content-Length 0 is sent for POST, PUT and PATCH without a body.
//
// # Stricter than net/http
//
// The fuzz targets compare with net/http and allow only these
// disagreements (stricterThanNetHTTP in compare_test.go):
//
//	S1 a version other than HTTP/1.0 or HTTP/1.1
//	S2 a status code that is not three digits ("+20")
//	S3 a control byte other than HTAB in the status line
//	S4 whitespace in a field name (head or trailers)
//	S5 Transfer-Encoding together with Content-Length
//	S6 Transfer-Encoding in an HTTP/1.0 response
//	S7 a chunk size above 2^62
//	S8 a bare LF in the trailer section
//
// and one leniency (lenientThanNetHTTP): net/http rejects a trailer
// section longer than its bufio buffer; wire bounds it by maxTrailerBytes.
// Results differ (both accept) in two documented ways: forbidden trailer
// fields are dropped, and a 2xx to CONNECT is a tunnel.
package wire

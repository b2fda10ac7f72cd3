package wire

import (
	"bufio"
	"net/http"
	"net/http/httptrace"
	"strconv"
	"strings"

	"golang.org/x/net/http/httpguts"
)

// Writing a request head (RFC 9112 §3, §5): request line, Host, then the
// other fields, straight into the bufio.Writer with no allocation for a
// typical request.

// HeadOptions are the transport's decisions about one request head.
type HeadOptions struct {
	AbsoluteForm       bool                   // request-target is the absolute URI (HTTP proxy, RFC 9112 §3.2.2); else origin-form
	ContentLength      int64                  // >0: Content-Length: n; -1: Transfer-Encoding: chunked; 0: no body ("Content-Length: 0" for POST, PUT, PATCH)
	UserAgent          string                 // sent when req.Header has no User-Agent key; a present-but-empty one means none
	AcceptEncoding     string                 // if non-empty, an Accept-Encoding line (the caller set none)
	ProxyAuthorization string                 // if non-empty, a Proxy-Authorization line
	Close              bool                   // add "Connection: close" unless the caller's Connection has it
	Trace              *httptrace.ClientTrace // WroteHeaderField per field, WroteHeaders at the end
}

// WriteRequestHead writes req's head to bw. Call ValidateRequest first: the
// host and the request-target are checked again before the first byte (an
// *InvalidRequestError leaves bw untouched); a bad header name or value
// found while writing is refused too (defence in depth), but then bw holds
// part of a head and must be discarded. Order: request line, Host,
// User-Agent, Connection: close, Content-Length or Transfer-Encoding,
// Trailer, the caller's fields (map order), Accept-Encoding,
// Proxy-Authorization.
func WriteRequestHead(bw *bufio.Writer, req *http.Request, o *HeadOptions) error {
	if o == nil {
		o = &HeadOptions{}
	}
	if req.URL == nil {
		return invalidReq("URL", "http: nil Request.URL", "")
	}
	host, err := sendHost(req)
	if err != nil {
		return err
	}
	if err := validateTarget(req); err != nil {
		return err
	}
	method := req.Method
	if method == "" {
		method = "GET"
	}
	w := headWriter{bw: bw, trace: o.Trace}
	w.requestLine(method, host, req, o.AbsoluteForm)
	w.field("Host", host)
	w.userAgent(req.Header, o.UserAgent)
	if o.Close && !httpguts.HeaderValuesContainsToken(req.Header["Connection"], "close") {
		w.field("Connection", "close") // RFC 9112 §9.6: announce we close after this exchange
	}
	w.framing(method, o.ContentLength)
	if o.ContentLength < 0 && len(req.Trailer) > 0 {
		w.trailerNames(req.Trailer) // RFC 9110 §6.6.2: announce trailers we will send
	}
	for k, vv := range req.Header {
		if !ownedField(k) {
			w.values(k, vv)
		}
	}
	if o.AcceptEncoding != "" {
		w.field("Accept-Encoding", o.AcceptEncoding)
	}
	if o.ProxyAuthorization != "" {
		w.field("Proxy-Authorization", o.ProxyAuthorization)
	}
	bw.WriteString("\r\n")
	if w.err != nil {
		return w.err
	}
	if o.Trace != nil && o.Trace.WroteHeaders != nil {
		o.Trace.WroteHeaders()
	}
	_, err = bw.Write(nil) // surfaces a write error bufio kept
	return err
}

// ownedField reports whether k is written by the transport, not copied
// from req.Header. Compared case-insensitively so a non-canonical map key
// cannot smuggle a second framing field.
func ownedField(k string) bool {
	switch len(k) {
	case 4:
		return strings.EqualFold(k, "Host")
	case 7:
		return strings.EqualFold(k, "Trailer")
	case 10:
		return strings.EqualFold(k, "User-Agent")
	case 14:
		return strings.EqualFold(k, "Content-Length")
	case 17:
		return strings.EqualFold(k, "Transfer-Encoding")
	}
	return false
}

// headWriter writes fields to bw and reports them to trace.
type headWriter struct {
	bw    *bufio.Writer
	trace *httptrace.ClientTrace
	err   error // first refused field
}

// requestLine writes "METHOD SP request-target SP HTTP/1.1 CRLF".
func (w *headWriter) requestLine(method, host string, req *http.Request, absolute bool) {
	bw, u := w.bw, req.URL
	bw.WriteString(method)
	bw.WriteByte(' ')
	switch {
	case absolute && u.Scheme != "" && u.Opaque == "":
		// absolute-form to an HTTP proxy (RFC 9112 §3.2.2); like net/http the
		// authority is the Host being sent.
		bw.WriteString(u.Scheme)
		bw.WriteString("://")
		bw.WriteString(host)
		writeOriginForm(bw, req)
	case method == "CONNECT" && u.Path == "":
		// authority-form (RFC 9112 §3.2.3).
		if u.Opaque != "" {
			bw.WriteString(u.Opaque)
		} else {
			bw.WriteString(host)
		}
	default:
		writeOriginForm(bw, req) // origin-form (RFC 9112 §3.2.1), or "*" (§3.2.4)
	}
	bw.WriteString(" HTTP/1.1\r\n")
}

// writeOriginForm writes url.URL.RequestURI() without building it.
func writeOriginForm(bw *bufio.Writer, req *http.Request) {
	u := req.URL
	if u.Opaque != "" {
		if strings.HasPrefix(u.Opaque, "//") {
			bw.WriteString(u.Scheme)
			bw.WriteByte(':')
		}
		bw.WriteString(u.Opaque)
	} else if p := u.EscapedPath(); p != "" {
		bw.WriteString(p)
	} else {
		bw.WriteByte('/')
	}
	if u.ForceQuery || u.RawQuery != "" {
		bw.WriteByte('?')
		bw.WriteString(u.RawQuery)
	}
}

// userAgent writes the caller's User-Agent (first value), or def when the
// caller has no User-Agent key; a present but empty one suppresses it.
func (w *headWriter) userAgent(h http.Header, def string) {
	if vv, ok := h["User-Agent"]; ok {
		def = ""
		if len(vv) > 0 {
			def = vv[0]
		}
	}
	if def = trimOWS(def); def != "" {
		w.field("User-Agent", def)
	}
}

// framing writes Content-Length or Transfer-Encoding (RFC 9112 §6.1, §6.2).
func (w *headWriter) framing(method string, n int64) {
	switch {
	case n > 0:
		w.bw.WriteString("Content-Length: ")
		writeDecimal(w.bw, uint64(n))
		w.bw.WriteString("\r\n")
		if w.tracing() {
			w.trace.WroteHeaderField("Content-Length", []string{strconv.FormatInt(n, 10)})
		}
	case n < 0:
		w.field("Transfer-Encoding", "chunked")
	case method == "POST" || method == "PUT" || method == "PATCH":
		// Many servers want a length on methods that usually carry a body (net/http does the same).
		w.field("Content-Length", "0")
	}
}

// trailerNames writes "Trailer: A,B" with the canonical keys of t.
func (w *headWriter) trailerNames(t http.Header) {
	w.bw.WriteString("Trailer: ")
	var keys []string // only filled for a trace
	first := true
	for k := range t {
		if !first {
			w.bw.WriteByte(',')
		}
		first = false
		k = http.CanonicalHeaderKey(k)
		w.bw.WriteString(k)
		if w.tracing() {
			keys = append(keys, k)
		}
	}
	w.bw.WriteString("\r\n")
	if w.tracing() {
		w.trace.WroteHeaderField("Trailer", keys)
	}
}

// values writes one line per value of k, trimming OWS like net/http.
func (w *headWriter) values(k string, vv []string) {
	if !httpguts.ValidHeaderFieldName(k) {
		w.refuse("net/http: invalid header field name", k)
		return
	}
	for _, v := range vv {
		v = trimOWS(v)
		if !httpguts.ValidHeaderFieldValue(v) {
			w.refuse("net/http: invalid header field value for", k)
			return
		}
		w.bw.WriteString(k)
		w.bw.WriteString(": ")
		w.bw.WriteString(v)
		w.bw.WriteString("\r\n")
	}
	if w.tracing() && len(vv) > 0 {
		w.trace.WroteHeaderField(k, vv)
	}
}

// field writes one "k: v" line the transport built.
func (w *headWriter) field(k, v string) {
	w.bw.WriteString(k)
	w.bw.WriteString(": ")
	w.bw.WriteString(v)
	w.bw.WriteString("\r\n")
	w.traced(k, v)
}

// traced reports a field built here to the trace (allocating only then).
func (w *headWriter) traced(k, v string) {
	if w.tracing() {
		w.trace.WroteHeaderField(k, []string{v})
	}
}

func (w *headWriter) tracing() bool { return w.trace != nil && w.trace.WroteHeaderField != nil }

func (w *headWriter) refuse(reason, k string) {
	if w.err == nil {
		w.err = invalidReq("Header", reason, k)
	}
}

// writeDecimal writes n in decimal without allocating.
func writeDecimal(bw *bufio.Writer, n uint64) {
	var d [20]byte
	i := len(d)
	for {
		i--
		d[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			break
		}
	}
	for ; i < len(d); i++ {
		bw.WriteByte(d[i])
	}
}

// trimOWS trims SP and HTAB at both ends.
func trimOWS(s string) string {
	for len(s) > 0 && isOWS(s[0]) {
		s = s[1:]
	}
	for len(s) > 0 && isOWS(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}

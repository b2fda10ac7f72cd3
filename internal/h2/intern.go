package h2

import (
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
)

// Interning, as internal/wire does for HTTP/1: the common header names in
// both spellings, and status lines, come from tables instead of a fresh
// string per request.

var commonNames = []string{
	"Accept", "Accept-Charset", "Accept-Encoding", "Accept-Language", "Accept-Ranges",
	"Access-Control-Allow-Credentials", "Access-Control-Allow-Headers", "Access-Control-Allow-Methods",
	"Access-Control-Allow-Origin", "Access-Control-Expose-Headers", "Access-Control-Max-Age",
	"Age", "Allow", "Alt-Svc", "Authorization", "Cache-Control", "Content-Disposition",
	"Content-Encoding", "Content-Language", "Content-Length", "Content-Location", "Content-Range",
	"Content-Security-Policy", "Content-Type", "Cookie", "Date", "Etag", "Expect", "Expires",
	"From", "Grpc-Message", "Grpc-Status", "If-Match", "If-Modified-Since", "If-None-Match",
	"If-Range", "If-Unmodified-Since", "Last-Modified", "Link", "Location", "Max-Forwards",
	"Origin", "Pragma", "Proxy-Authenticate", "Proxy-Authorization", "Range", "Referer",
	"Referrer-Policy", "Refresh", "Retry-After", "Server", "Set-Cookie", "Strict-Transport-Security",
	"Te", "Trailer", "User-Agent", "Vary", "Via", "Www-Authenticate", "X-Content-Type-Options",
	"X-Forwarded-For", "X-Forwarded-Proto", "X-Frame-Options", "X-Request-Id", "X-Xss-Protection",
}

var (
	lowerOf     = make(map[string]string, len(commonNames)) // canonical → lower case
	canonicalOf = make(map[string]string, len(commonNames)) // lower case → canonical
	statusLines [600]string                                 // "200 OK" for every known code
)

func init() {
	for _, k := range commonNames {
		l := strings.ToLower(k)
		lowerOf[k] = l
		canonicalOf[l] = k
	}
	for code := 100; code < len(statusLines); code++ {
		if t := http.StatusText(code); t != "" {
			statusLines[code] = strconv.Itoa(code) + " " + t
		}
	}
}

// lowerName is a request header name as HTTP/2 sends it (§8.2.1).
func lowerName(k string) string {
	if l, ok := lowerOf[k]; ok {
		return l
	}
	for i := 0; i < len(k); i++ {
		if c := k[i]; 'A' <= c && c <= 'Z' {
			return strings.ToLower(k)
		}
	}
	return k
}

// canonicalName is a response header name as net/http keys it.
func canonicalName(l string) string {
	if k, ok := canonicalOf[l]; ok {
		return k
	}
	return textproto.CanonicalMIMEHeaderKey(l)
}

// statusLine is resp.Status for code (three digits, already checked).
func statusLine(code int, status string) string {
	if s := statusLines[code]; s != "" {
		return s
	}
	return status + " " + http.StatusText(code)
}

// internedWireNames maps a known lower-case field name to itself: a
// literal name a server sends (not indexed) is this string, not a copy.
var internedWireNames = make(map[string]string, len(commonNames)+len(staticTable))

func init() {
	for _, e := range staticTable {
		internedWireNames[e.name] = e.name
	}
	for _, l := range lowerOf {
		internedWireNames[l] = l
	}
}

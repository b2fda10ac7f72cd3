package wire

import (
	"net/http"
	"strings"

	"golang.org/x/net/http/httpguts"
)

// ValidateRequest reports whether req can be sent, before any byte is
// written: the method is a token ("" means GET), the URL is set, the Host
// that will be sent (req.Host, else req.URL.Host) is non-empty and valid,
// the request-target has no control byte or space, header and trailer
// names are tokens and their values hold no CR, LF, NUL or other control
// byte. The error is an *InvalidRequestError.
func ValidateRequest(req *http.Request) error {
	if req == nil {
		return invalidReq("Request", "http: nil Request", "")
	}
	if req.Method != "" && !httpguts.ValidHeaderFieldName(req.Method) {
		// method = token (RFC 9110 §9.1).
		return invalidReq("Method", "net/http: invalid method", req.Method)
	}
	if req.URL == nil {
		return invalidReq("URL", "http: nil Request.URL", "")
	}
	if _, err := sendHost(req); err != nil {
		return err
	}
	if req.Host != "" && req.URL.Host != "" {
		// URL.Host is what gets dialed and named in a CONNECT even when
		// req.Host overrides the header: it must be as clean
		// (CVE-2023-29406 through the proxy path).
		if h, err := httpguts.PunycodeHostPort(req.URL.Host); err != nil || !httpguts.ValidHostHeader(h) {
			return invalidReq("URL.Host", "http: invalid Host header", "")
		}
	}
	if err := validateTarget(req); err != nil {
		return err
	}
	if err := validateFields("Header", req.Header); err != nil {
		return err
	}
	if err := validateFields("Trailer", req.Trailer); err != nil {
		return err
	}
	for k := range req.Trailer {
		if isFramingField(k) {
			// Framing fields cannot be trailers (RFC 9110 §6.5.1); net/http refuses them too.
			return invalidReq("Trailer", "invalid Trailer key", k)
		}
	}
	return nil
}

// sendHost returns the Host field value to send: req.Host, else
// req.URL.Host, converted to Punycode when not ASCII and without an IPv6
// zone (RFC 6874 §4: a zone never leaves the host). It must be non-empty and
// valid (RFC 9112 §3.2: a client MUST send a Host field).
func sendHost(req *http.Request) (string, error) {
	host := req.Host
	if host == "" && req.URL != nil {
		host = req.URL.Host
	}
	if host == "" {
		return "", invalidReq("Host", "http: no Host in request URL", "")
	}
	host, err := httpguts.PunycodeHostPort(host)
	if err != nil {
		return "", invalidReq("Host", "http: invalid Host header", "")
	}
	if !httpguts.ValidHostHeader(host) {
		return "", invalidReq("Host", "http: invalid Host header", "")
	}
	return removeZone(host), nil
}

// removeZone strips "%zone" from "[ipv6%zone]:port", as net/http does.
func removeZone(host string) string {
	if !strings.HasPrefix(host, "[") {
		return host
	}
	i := strings.LastIndexByte(host, ']')
	if i < 0 {
		return host
	}
	j := strings.LastIndexByte(host[:i], '%')
	if j < 0 {
		return host
	}
	return host[:j] + host[i:]
}

// validateTarget rejects a request-target that would break the request
// line: the URL's raw parts (Opaque, RawQuery) are sent as they are, so a
// CTL or SP there would end the target early (RFC 9112 §3.2).
func validateTarget(req *http.Request) error {
	u := req.URL
	for _, part := range [...]string{u.Opaque, u.RawQuery, u.Scheme} {
		if !validTargetPart(part) {
			return invalidReq("URL", "net/http: can't write control character in Request.URL", "")
		}
	}
	return nil
}

func validTargetPart(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] == 0x7f {
			return false
		}
	}
	return true
}

// validateFields checks names (token, RFC 9110 §5.1) and values (no CTL but
// HTAB, RFC 9110 §5.5) of h.
func validateFields(what string, h http.Header) error {
	for k, vv := range h {
		if !httpguts.ValidHeaderFieldName(k) {
			return invalidReq(what, "net/http: invalid "+strings.ToLower(what)+" field name", k)
		}
		for _, v := range vv {
			if !httpguts.ValidHeaderFieldValue(v) {
				return invalidReq(what, "net/http: invalid "+strings.ToLower(what)+" field value for", k)
			}
		}
	}
	return nil
}

// isFramingField reports, case-insensitively, whether k is one of the
// fields the writer owns.
func isFramingField(k string) bool {
	return strings.EqualFold(k, "Content-Length") || strings.EqualFold(k, "Transfer-Encoding") ||
		strings.EqualFold(k, "Trailer")
}

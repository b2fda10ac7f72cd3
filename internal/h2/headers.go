package h2

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/net/http/httpguts"
	"golang.org/x/net/http2/hpack"

	"github.com/spoolhttp/spool/internal/errs"
)

// reqHead is what checkRequest found, before any lock is taken: nothing
// in it can fail once the stream has an ID (an HPACK block, once encoded,
// must be sent, or the peer's table would diverge).
type reqHead struct {
	authority, method, path string
	connect                 bool // a plain CONNECT: no :path or :scheme (§8.5)
	trailers                string
	hasBody                 bool
	expect                  bool // wait for 100-continue
	contentLength           int64
	listSize                uint64 // header list size (§6.5.2), for the peer's limit
}

// checkRequest validates req as x/net does (connection-specific headers,
// :path, header names and values) and works out its pseudo-headers.
func (c *Conn) checkRequest(s *stream, req *http.Request, o *Options) (*reqHead, error) {
	h := &s.head
	h.method = req.Method
	if err := h.check(req); err != nil {
		return nil, &errs.Error{Op: errs.OpValidate, Addr: c.Addr, Err: err}
	}
	if h.method == "" {
		h.method = http.MethodGet
	}
	h.hasBody = req.Body != nil && req.Body != http.NoBody
	switch {
	case !h.hasBody:
	case req.ContentLength != 0:
		h.contentLength = req.ContentLength
	default:
		h.contentLength = -1
	}
	h.expect = h.hasBody && c.cfg.ExpectContinueTimeout > 0 && httpguts.HeaderValuesContainsToken(req.Header["Expect"], "100-continue")
	h.listSize = c.listSize(req, h, o)
	return h, nil
}

func (h *reqHead) check(req *http.Request) error {
	if req.URL == nil {
		return errors.New("http2: Request.URL is nil")
	}
	if err := checkConnHeaders(req.Header); err != nil {
		return err
	}
	host := req.Host
	if host == "" {
		host = req.URL.Host
	}
	host, err := httpguts.PunycodeHostPort(host)
	if err != nil {
		return err
	}
	if !httpguts.ValidHostHeader(host) {
		return errors.New("http2: invalid Host header")
	}
	h.authority = removeZone(host)
	h.connect = req.Method == http.MethodConnect
	if !h.connect {
		h.path = req.URL.RequestURI()
		if !validPseudoPath(h.path) {
			orig := h.path
			h.path = strings.TrimPrefix(h.path, req.URL.Scheme+"://"+host)
			if !validPseudoPath(h.path) {
				return fmt.Errorf("http2: invalid request :path %q", orig)
			}
		}
	}
	if err := validateFields("header", req.Header); err != nil {
		return err
	}
	if err := validateFields("trailer", req.Trailer); err != nil {
		return err
	}
	h.trailers, err = trailerList(req.Trailer)
	return err
}

func checkConnHeaders(h http.Header) error {
	if vv := h["Upgrade"]; len(vv) > 0 && (vv[0] != "" && vv[0] != "chunked") {
		return fmt.Errorf("http2: invalid Upgrade request header: %q", vv)
	}
	if vv := h["Transfer-Encoding"]; len(vv) > 0 && (len(vv) > 1 || vv[0] != "" && vv[0] != "chunked") {
		return fmt.Errorf("http2: invalid Transfer-Encoding request header: %q", vv)
	}
	if vv := h["Connection"]; len(vv) > 0 && (len(vv) > 1 || vv[0] != "" && !strings.EqualFold(vv[0], "close") && !strings.EqualFold(vv[0], "keep-alive")) {
		return fmt.Errorf("http2: invalid Connection request header: %q", vv)
	}
	return nil
}

func validateFields(what string, hdr http.Header) error {
	for k, vv := range hdr {
		if !httpguts.ValidHeaderFieldName(k) {
			return fmt.Errorf("invalid HTTP %s name %q", what, k)
		}
		for _, v := range vv {
			if !httpguts.ValidHeaderFieldValue(v) {
				return fmt.Errorf("invalid HTTP %s value for %q", what, k)
			}
		}
	}
	return nil
}

func trailerList(t http.Header) (string, error) {
	if len(t) == 0 {
		return "", nil
	}
	keys := make([]string, 0, len(t))
	for k := range t {
		k = http.CanonicalHeaderKey(k)
		switch k {
		case "Transfer-Encoding", "Trailer", "Content-Length":
			return "", fmt.Errorf("http2: invalid Trailer key %q", k)
		}
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return strings.Join(keys, ","), nil
}

func validPseudoPath(v string) bool { return (len(v) > 0 && v[0] == '/') || v == "*" }

// removeZone strips "%zone" from "[ipv6%zone]:port": a zone never leaves
// the host (RFC 6874 §4).
func removeZone(host string) string {
	if !strings.HasPrefix(host, "[") {
		return host
	}
	i := strings.LastIndex(host, "]")
	if i < 0 {
		return host
	}
	j := strings.LastIndex(host[:i], "%")
	if j < 0 {
		return host
	}
	return host[:j] + host[i:]
}

// skipField: not sent as a regular field (Host is :authority,
// Content-Length is ours, connection-specific fields are illegal, §8.2.2).
func skipField(k string) bool {
	switch k {
	case "Host", "Content-Length", "Connection", "Proxy-Connection", "Transfer-Encoding", "Upgrade", "Keep-Alive":
		return true
	}
	return false
}

// fields calls f for every field of the request in wire order; the
// encoder and the size check both use it.
func (c *Conn) fields(req *http.Request, h *reqHead, o *Options, f func(name, value string)) {
	f(":authority", h.authority)
	f(":method", h.method)
	if !h.connect {
		f(":path", h.path)
		f(":scheme", req.URL.Scheme)
	}
	if h.trailers != "" {
		f("trailer", h.trailers)
	}
	ae := ""
	if o != nil {
		ae = o.AcceptEncoding
	}
	_, hasUA := req.Header["User-Agent"]
	for k, vv := range req.Header {
		switch {
		case skipField(k) || (ae != "" && k == "Accept-Encoding"):
			continue
		case k == "User-Agent":
			if len(vv) == 0 || vv[0] == "" {
				continue // present but empty: send none
			}
			vv = vv[:1]
		case k == "Cookie":
			splitCookies(vv, f) // §8.2.3: one field per crumb compresses better
			continue
		}
		name := lowerName(k)
		for _, v := range vv {
			f(name, v)
		}
	}
	if shouldSendContentLength(h.method, h.contentLength) {
		f("content-length", strconv.FormatInt(h.contentLength, 10))
	}
	if ae != "" {
		f("accept-encoding", ae)
	}
	if !hasUA && c.cfg.UserAgent != "" {
		f("user-agent", c.cfg.UserAgent)
	}
}

func splitCookies(vv []string, f func(name, value string)) {
	for _, v := range vv {
		for {
			p := strings.IndexByte(v, ';')
			if p < 0 {
				break
			}
			f("cookie", v[:p])
			p++
			for p < len(v) && v[p] == ' ' {
				p++
			}
			v = v[p:]
		}
		if v != "" {
			f("cookie", v)
		}
	}
}

func shouldSendContentLength(method string, n int64) bool {
	if n > 0 {
		return true
	}
	if n < 0 {
		return false
	}
	switch method {
	case "POST", "PUT", "PATCH":
		return true
	}
	return false
}

func (c *Conn) listSize(req *http.Request, h *reqHead, o *Options) uint64 {
	var n uint64
	c.fields(req, h, o, func(name, value string) { n += uint64(len(name) + len(value) + 32) })
	return n
}

// encodeHeadersLocked HPACK-encodes the request's fields into c.hbuf;
// wq.mu is held.
func (c *Conn) encodeHeadersLocked(s *stream, h *reqHead, o *Options) {
	t := s.trace
	if t != nil && t.WroteHeaderField != nil {
		c.hcache.invalidate()
		c.fields(s.req, h, o, func(name, value string) {
			c.henc.WriteField(hpack.HeaderField{Name: name, Value: value})
			t.WroteHeaderField(name, []string{value})
		})
		return
	}
	c.encodeCachedLocked(s.req, h, o)
}

func (c *Conn) writeField(name, value string) {
	c.henc.WriteField(hpack.HeaderField{Name: name, Value: value})
}

// encodeTrailersLocked encodes request trailers; wq.mu is held.
func (c *Conn) encodeTrailersLocked(tr http.Header) {
	c.hcache.invalidate()
	for k, vv := range tr {
		name := lowerName(k)
		for _, v := range vv {
			c.writeField(name, v)
		}
	}
}

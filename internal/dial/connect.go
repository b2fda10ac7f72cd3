package dial

import (
	"bufio"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spoolhttp/spool/internal/errs"
)

const (
	// maxConnectResponseBytes bounds the proxy's CONNECT response head: a
	// proxy is not allowed to make the client buffer without limit, and real
	// CONNECT replies are a few hundred bytes.
	maxConnectResponseBytes = 64 << 10

	// connectReadBufferSize is the bufio size for reading the CONNECT reply;
	// small, since the reader lives for one exchange.
	connectReadBufferSize = 4 << 10
)

// aLongTimeAgo is a deadline already past: setting it makes blocked conn
// reads and writes return at once.
var aLongTimeAgo = time.Unix(1, 0)

// ProxyError is a proxy's refusal of a CONNECT tunnel: any non-2xx reply,
// e.g. 403 Forbidden or 407 Proxy Authentication Required.
type ProxyError struct {
	StatusCode int    // e.g. 407
	Status     string // e.g. "407 Proxy Authentication Required"
}

// Error is net/http's text for the same refusal: the reason phrase, or
// "unknown status code" when the status line has none.
func (e *ProxyError) Error() string {
	if _, reason, ok := strings.Cut(e.Status, " "); ok && reason != "" {
		return reason
	}
	return "unknown status code"
}

// proxyConnect marks a failure to reach the proxy itself (its TCP dial or
// its TLS) as net/http does: a *net.OpError with Op "proxyconnect" around
// the cause (golang/go#16997), inside the phase's *errs.Error.
func proxyConnect(err error) error {
	var e *errs.Error
	if !errors.As(err, &e) {
		return &net.OpError{Op: "proxyconnect", Net: "tcp", Err: err}
	}
	return &errs.Error{Op: e.Op, Addr: e.Addr, Reused: e.Reused,
		Err: &net.OpError{Op: "proxyconnect", Net: "tcp", Err: e.Err}}
}

// safeStatus keeps a proxy's status line printable and short: it is the
// peer's bytes and ends up in logs (CVE-2026-42507).
func safeStatus(code int, status string) string {
	const max = 64
	reason := strings.TrimSpace(strings.TrimPrefix(status, strconv.Itoa(code)))
	if len(reason) > max {
		reason = reason[:max] + "..."
	}
	q := strconv.QuoteToASCII(reason)
	if q == `"`+reason+`"` {
		q = reason // plain text stays unquoted: "407 Proxy Authentication Required"
	}
	return strconv.Itoa(code) + " " + q
}

// viaHTTPProxy reaches the origin through an HTTP or HTTPS proxy: a plain
// connection for http origins (absolute-form requests), a CONNECT tunnel
// with TLS inside for https origins.
func (d *Dialer) viaHTTPProxy(ctx context.Context, t Target) (Result, error) {
	paddr, err := proxyAddr(t.Proxy)
	if err != nil {
		return Result{}, err
	}
	conn, err := d.dialTCP(ctx, paddr)
	if err != nil {
		return Result{}, proxyConnect(err)
	}
	res := Result{Conn: conn}
	if t.Proxy.Scheme == "https" {
		if res, err = d.clientTLS(ctx, conn, paddr, proxyLeg); err != nil {
			return Result{}, proxyConnect(err)
		}
	}
	if t.Scheme == "http" {
		// RFC 9112 §3.2.2: a proxy gets the absolute URI; its credentials
		// ride on each request, which is why the caller needs them.
		res.AbsoluteForm = true
		res.ProxyAuth = proxyAuth(t.Proxy)
		return res, nil
	}
	if err := d.connectTunnel(ctx, res.Conn, paddr, t); err != nil {
		res.Conn.Close()
		return Result{}, err
	}
	return d.clientTLS(ctx, res.Conn, t.Addr, t.originLeg())
}

// connectTunnel asks the proxy on conn for a tunnel to t.Addr (RFC 9110
// §9.3.6). The exchange is bounded by ctx through a past deadline set by
// context.AfterFunc, so no goroutine waits on it; conn is left without a
// deadline on success.
func (d *Dialer) connectTunnel(ctx context.Context, conn net.Conn, paddr string, t Target) error {
	head, hdr, err := d.connectRequest(ctx, t)
	if err != nil {
		return &errs.Error{Op: errs.OpProxy, Addr: paddr, Err: err}
	}
	var onResp func(*http.Response) error
	if hook := d.cfg.OnProxyConnectResponse; hook != nil {
		onResp = func(resp *http.Response) error {
			req := &http.Request{Method: http.MethodConnect, URL: &url.URL{Opaque: t.Addr}, Host: t.Addr, Header: hdr}
			return hook(ctx, t.Proxy, req.WithContext(ctx), resp)
		}
	}
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(aLongTimeAgo) })
	err = exchangeConnect(conn, head, onResp)
	if !stop() {
		// ctx ended during the exchange and its deadline may land on conn at
		// any moment from now: the conn is unusable whatever happened.
		return &errs.Error{Op: errs.OpProxy, Addr: paddr, Err: ctx.Err()}
	}
	if err != nil {
		return &errs.Error{Op: errs.OpProxy, Addr: paddr, Err: err}
	}
	return nil
}

// exchangeConnect writes the CONNECT head and reads the proxy's reply,
// which onResp (OnProxyConnectResponse), if set, sees first.
func exchangeConnect(conn net.Conn, head []byte, onResp func(*http.Response) error) error {
	if _, err := conn.Write(head); err != nil {
		return err // as net/http returns it
	}
	lr := &io.LimitedReader{R: conn, N: maxConnectResponseBytes}
	br := bufio.NewReaderSize(lr, connectReadBufferSize)
	resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodConnect})
	if err != nil {
		if lr.N == 0 {
			return fmt.Errorf("CONNECT response head exceeds %d bytes", maxConnectResponseBytes)
		}
		return err // http.ReadResponse's, as net/http returns it (io.ErrUnexpectedEOF for a close)
	}
	if onResp != nil {
		if err := onResp(resp); err != nil {
			return err // the hook's own, as net/http returns it
		}
	}
	if resp.StatusCode/100 != 2 {
		// The reply body, if any, is not read: the conn is closed anyway.
		return &ProxyError{StatusCode: resp.StatusCode, Status: safeStatus(resp.StatusCode, resp.Status)}
	}
	if n := br.Buffered(); n > 0 {
		// After a 2xx the proxy relays the origin, and a TLS origin speaks
		// only after our ClientHello: bytes here mean a broken proxy, and
		// dropping them with the bufio.Reader would corrupt the stream.
		return fmt.Errorf("proxy sent %d unexpected bytes after its CONNECT response", n)
	}
	return nil
}

// connectRequest builds the CONNECT request head for t: request target and
// Host are the authority (RFC 9112 §3.2.3), then the configured headers and
// the proxy URL's credentials.
func (d *Dialer) connectRequest(ctx context.Context, t Target) ([]byte, http.Header, error) {
	hdr := d.cfg.ProxyConnectHeader
	if d.cfg.GetProxyConnectHeader != nil {
		var err error
		if hdr, err = d.cfg.GetProxyConnectHeader(ctx, t.Proxy, t.Addr); err != nil {
			return nil, nil, fmt.Errorf("GetProxyConnectHeader: %w", err)
		}
	}
	if pa := proxyAuth(t.Proxy); pa != "" {
		hdr = hdr.Clone()
		if hdr == nil {
			hdr = make(http.Header)
		}
		hdr.Set("Proxy-Authorization", pa)
	}
	var b strings.Builder
	b.WriteString("CONNECT " + t.Addr + " HTTP/1.1\r\nHost: " + t.Addr + "\r\n")
	for _, k := range slices.Sorted(maps.Keys(hdr)) { // sorted: same bytes every time
		vs := hdr[k]
		if strings.EqualFold(k, "Host") {
			continue // already written from the target; two would be invalid
		}
		if !validFieldName(k) {
			return nil, nil, fmt.Errorf("invalid proxy CONNECT header name %q", k)
		}
		for _, v := range vs {
			if !validFieldValue(v) {
				// Refuse rather than clean: a CR/LF here is header injection.
				return nil, nil, fmt.Errorf("invalid value for proxy CONNECT header %q", k)
			}
			b.WriteString(k + ": " + v + "\r\n")
		}
	}
	b.WriteString("\r\n")
	return []byte(b.String()), hdr, nil
}

// proxyAddr returns "host:port" of the proxy, defaulting the port by scheme.
func proxyAddr(u *url.URL) (string, error) {
	host := u.Hostname()
	if host == "" {
		return "", &errs.Error{Op: errs.OpProxy, Addr: u.Host, Err: errors.New("proxy URL has no host")}
	}
	port := u.Port()
	if port == "" {
		switch u.Scheme {
		case "http":
			port = "80"
		case "https":
			port = "443"
		default: // socks5, socks5h
			port = "1080"
		}
	}
	return net.JoinHostPort(host, port), nil
}

// proxyAuth is the Basic credential (RFC 7617) from the proxy URL's userinfo,
// or "" when it has none.
func proxyAuth(u *url.URL) string {
	if u == nil || u.User == nil {
		return ""
	}
	pass, _ := u.User.Password()
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(u.User.Username()+":"+pass))
}

// validFieldName reports whether k is an RFC 9110 §5.1 token. (httpguts has
// the same check but pulls in x/net/idna and x/text for it.)
func validFieldName(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if c >= 0x80 || !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

// validFieldValue reports whether v is an RFC 9110 §5.5 field value: no
// control bytes other than horizontal tab, so no CR or LF to inject lines.
func validFieldValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

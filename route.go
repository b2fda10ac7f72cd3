package spool

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/spoolhttp/spool/internal/dial"
	"github.com/spoolhttp/spool/internal/h1"
	"github.com/spoolhttp/spool/internal/pool"
)

// maxRoutes bounds the route cache; a crawler touching millions of hosts
// rebuilds entries instead of growing without limit.
const maxRoutes = 16384

// routeID is the cache key: comparable, built without allocating.
type routeID struct {
	proxy  string // "" or the proxy URL's scheme://user@host
	scheme string
	host   string // req.URL.Host as given
}

// route is where a request goes and the pool key its connections share.
// Keys separate proxy (with its credentials), scheme and host:port, so a
// connection is never reused across any of them (curl CVE-2021-22924).
type route struct {
	st        *state
	key       pool.Key
	addr      string // origin host:port
	target    dial.Target
	absolute  bool   // absolute-form through an HTTP proxy (RFC 9112 §3.2.2)
	proxyAuth string // Proxy-Authorization for absolute-form only
	dial      pool.DialFunc[pool.Conn]
	tgt       Target // the key, split for Observer events
}

// route finds (or builds) the route for req, applying Transport.Proxy.
func (st *state) route(req *http.Request) (*route, error) {
	var proxyURL *url.URL
	if st.t.Proxy != nil {
		u, err := st.t.Proxy(req)
		if err != nil {
			return nil, &Error{Op: OpProxy, Err: err}
		}
		proxyURL = u
	}
	id := routeID{scheme: req.URL.Scheme, host: req.URL.Host}
	if proxyURL != nil {
		id.proxy = proxyID(proxyURL)
	}
	st.routesMu.RLock()
	r := st.routes[id]
	st.routesMu.RUnlock()
	if r != nil {
		return r, nil
	}
	r = st.newRoute(id, req.URL, proxyURL)
	st.routesMu.Lock()
	if len(st.routes) >= maxRoutes {
		clear(st.routes)
	}
	st.routes[id] = r
	st.routesMu.Unlock()
	return r, nil
}

// proxyID identifies a proxy with its exact credentials, for the private
// route cache: different credentials never share a route or a conn.
func proxyID(u *url.URL) string {
	s := u.Scheme + "://"
	if u.User != nil {
		s += u.User.String() + "@"
	}
	return s + canonicalAddr(u)
}

// proxyKey names a proxy in the pool key (shown in Stats): the user, and
// the password as a MAC under a per-Transport random key, so keys differ
// for different passwords and reveal nothing searchable.
func (st *state) proxyKey(u *url.URL) string {
	s := u.Scheme + "://"
	if u.User != nil {
		s += u.User.Username()
		if p, ok := u.User.Password(); ok {
			m := hmac.New(sha256.New, st.secret[:])
			m.Write([]byte(p))
			s += ":#" + hex.EncodeToString(m.Sum(nil)[:12])
		}
		s += "@"
	}
	return s + canonicalAddr(u)
}

func (st *state) newRoute(id routeID, u, proxyURL *url.URL) *route {
	addr := canonicalAddr(u)
	r := &route{st: st, addr: addr, target: dial.Target{Scheme: id.scheme, Addr: addr, Proxy: proxyURL}}
	key := id.scheme + "://" + addr
	if proxyURL != nil {
		key = st.proxyKey(proxyURL) + "|" + key
		if id.scheme == "http" && (proxyURL.Scheme == "http" || proxyURL.Scheme == "https") {
			r.absolute = true
			r.proxyAuth = basicAuth(proxyURL)
		}
	}
	r.key = pool.Key(key)
	r.tgt = targetOf(r.key)
	r.dial = func(ctx context.Context) (pool.Conn, error) { return st.dialConn(ctx, r) }
	return r
}

// dialConn is the pool's dial for a route: a ready conn, wrapped for the
// negotiated protocol.
func (st *state) dialConn(ctx context.Context, r *route) (pool.Conn, error) {
	res, err := st.dialer.Dial(ctx, r.target)
	if err != nil {
		return nil, err
	}
	if res.Proto == "h2" || (st.h2c && r.target.Scheme == "http" && r.target.Proxy == nil) {
		return st.h2.New(res.Conn, time.Now())
	}
	c := h1.New(res.Conn, &st.h1, time.Now())
	c.Owner = r
	if st.obs != nil {
		c.Owner = &exchObs{r: r, proto: ProtoHTTP1} // see routeOf
	}
	return c, nil
}

// canonicalAddr is host:port with the scheme's default port filled in.
func canonicalAddr(u *url.URL) string {
	host, port := u.Hostname(), u.Port()
	if port == "" {
		switch u.Scheme {
		case "https":
			port = "443"
		case "socks5", "socks5h":
			port = "1080"
		default:
			port = "80"
		}
	}
	return net.JoinHostPort(strings.ToLower(host), port)
}

func basicAuth(u *url.URL) string {
	if u.User == nil {
		return ""
	}
	p, _ := u.User.Password()
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(u.User.Username()+":"+p))
}

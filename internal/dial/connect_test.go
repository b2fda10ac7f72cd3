package dial

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/spoolhttp/spool/internal/errs"
)

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

const (
	testProxyUser = "alice"
	testProxyPass = "s3cret"
)

var testProxyAuth = proxyAuth(&url.URL{User: url.UserPassword(testProxyUser, testProxyPass)})

func withUser(u *url.URL) *url.URL {
	c := *u
	c.User = url.UserPassword(testProxyUser, testProxyPass)
	return &c
}

func TestConnectTunnel(t *testing.T) {
	origin := newTLSOrigin(t, false)
	for _, secureProxy := range []bool{false, true} {
		name := map[bool]string{false: "http proxy", true: "https proxy"}[secureProxy]
		t.Run(name, func(t *testing.T) {
			p := &connectProxy{wantAuth: testProxyAuth}
			_, purl := startProxy(t, p, secureProxy)
			var tl traceLog
			d := New(Config{
				TLSClientConfig:    &tls.Config{RootCAs: rootsFor(origin)},
				NextProtos:         []string{"http/1.1"},
				ProxyConnectHeader: http.Header{"X-Test": {"1"}},
			})
			addr := origin.Listener.Addr().String()
			res, err := d.Dial(tl.with(testCtx(t)), Target{Scheme: "https", Addr: addr, Proxy: withUser(purl)})
			if err != nil {
				t.Fatal(err)
			}
			defer res.Conn.Close()
			if res.AbsoluteForm || res.ProxyAuth != "" || res.Proto != "http/1.1" || !res.TLS.HandshakeComplete {
				t.Errorf("tunnel result = %+v %+v", res, res.TLS)
			}
			// The origin sees a plain request and no proxy credentials.
			if got := get(t, res.Conn, addr, "/", nil); got != "origin HTTP/1.1 []" {
				t.Errorf("origin body = %q", got)
			}
			reqs := p.seen()
			if len(reqs) != 1 || reqs[0].Method != "CONNECT" || reqs[0].RequestURI != addr || reqs[0].Host != addr {
				t.Fatalf("proxy saw %+v", reqs)
			}
			if reqs[0].Header.Get("Proxy-Authorization") != testProxyAuth || reqs[0].Header.Get("X-Test") != "1" {
				t.Errorf("CONNECT headers = %v", reqs[0].Header)
			}
			wantTLS := 1 // origin
			if secureProxy {
				wantTLS = 2 // proxy, then origin inside the tunnel
			}
			if tl.tlsStart != wantTLS || tl.tlsDone != wantTLS {
				t.Errorf("TLS trace %d/%d, want %d", tl.tlsStart, tl.tlsDone, wantTLS)
			}
		})
	}
}

func TestGetProxyConnectHeader(t *testing.T) {
	origin := newTLSOrigin(t, false)
	p := &connectProxy{}
	_, purl := startProxy(t, p, false)
	addr := origin.Listener.Addr().String()
	var gotTarget string
	d := New(Config{
		TLSClientConfig:    &tls.Config{RootCAs: rootsFor(origin)},
		ProxyConnectHeader: http.Header{"X-Static": {"no"}},
		GetProxyConnectHeader: func(_ context.Context, u *url.URL, target string) (http.Header, error) {
			gotTarget = target
			return http.Header{"X-Dynamic": {u.Host}}, nil
		},
	})
	res, err := d.Dial(testCtx(t), Target{Scheme: "https", Addr: addr, Proxy: purl})
	if err != nil {
		t.Fatal(err)
	}
	res.Conn.Close()
	h := p.seen()[0].Header
	if gotTarget != addr || h.Get("X-Dynamic") != purl.Host || h.Get("X-Static") != "" || h.Get("Proxy-Authorization") != "" {
		t.Errorf("target %q, headers %v", gotTarget, h)
	}

	boom := errors.New("no header for you")
	d = New(Config{GetProxyConnectHeader: func(context.Context, *url.URL, string) (http.Header, error) { return nil, boom }})
	_, err = d.Dial(testCtx(t), Target{Scheme: "https", Addr: addr, Proxy: purl})
	if asDialErr(t, err, errs.OpProxy); !errors.Is(err, boom) {
		t.Errorf("got %v", err)
	}

	// A header value with CR/LF is refused, never written.
	d = New(Config{ProxyConnectHeader: http.Header{"X-Evil": {"a\r\nInjected: 1"}}})
	_, err = d.Dial(testCtx(t), Target{Scheme: "https", Addr: addr, Proxy: purl})
	asDialErr(t, err, errs.OpProxy)
}

func TestConnectRefused(t *testing.T) {
	origin := newTLSOrigin(t, false)
	addr := origin.Listener.Addr().String()
	for _, tt := range []struct {
		name   string
		proxy  *connectProxy
		status int
	}{
		{"403", &connectProxy{status: http.StatusForbidden}, 403},
		{"407 without credentials", &connectProxy{wantAuth: testProxyAuth}, 407},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, purl := startProxy(t, tt.proxy, false)
			_, err := New(Config{}).Dial(testCtx(t), Target{Scheme: "https", Addr: addr, Proxy: purl})
			e := asDialErr(t, err, errs.OpProxy)
			var pe *ProxyError
			wantStatus := fmt.Sprintf("%d %s", tt.status, http.StatusText(tt.status))
			if !errors.As(err, &pe) || pe.StatusCode != tt.status || pe.Status != wantStatus {
				t.Fatalf("want ProxyError %d, got %v", tt.status, err)
			}
			if e.Addr != purl.Host {
				t.Errorf("Addr = %q, want the proxy %q", e.Addr, purl.Host)
			}
		})
	}

	// Wrong credentials: 407, and the password appears in no error text.
	p := &connectProxy{wantAuth: testProxyAuth}
	_, purl := startProxy(t, p, false)
	purl.User = url.UserPassword("alice", "wrong-password")
	_, err := New(Config{}).Dial(testCtx(t), Target{Scheme: "https", Addr: addr, Proxy: purl})
	var pe *ProxyError
	if !errors.As(err, &pe) || pe.StatusCode != 407 || strings.Contains(err.Error(), "wrong-password") {
		t.Errorf("got %v", err)
	}
}

func TestConnectProxyMisbehaves(t *testing.T) {
	for _, tt := range []struct {
		name  string
		reply []byte
		want  string
	}{
		{"closes without answering", []byte{}, "unexpected EOF"}, // net/http's: ReadResponse's own
		{"bytes after 200", []byte("HTTP/1.1 200 OK\r\n\r\n\x16\x03\x01early"), "unexpected bytes"},
		{"huge head", []byte("HTTP/1.1 200 OK\r\nX-Big: " + strings.Repeat("a", maxConnectResponseBytes) + "\r\n\r\n"), "exceeds"},
		{"garbage", []byte("SSH-2.0-OpenSSH\r\n"), "malformed"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			paddr := scriptedProxy(t, tt.reply)
			_, err := New(Config{}).Dial(testCtx(t), Target{Scheme: "https", Addr: "example.com:443", Proxy: mustURL("http://" + paddr)})
			asDialErr(t, err, errs.OpProxy)
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not mention %q", err, tt.want)
			}
		})
	}
}

func TestConnectContextDeadline(t *testing.T) {
	paddr := silentListener(t)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := New(Config{}).Dial(ctx, Target{Scheme: "https", Addr: "example.com:443", Proxy: mustURL("http://" + paddr)})
	e := asDialErr(t, err, errs.OpProxy)
	if !errors.Is(err, context.DeadlineExceeded) || !e.Timeout() {
		t.Errorf("want DeadlineExceeded, got %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v", d)
	}
}

func TestHTTPThroughProxyAbsoluteForm(t *testing.T) {
	for _, secureProxy := range []bool{false, true} {
		p := &connectProxy{wantAuth: testProxyAuth}
		psrv, purl := startProxy(t, p, secureProxy)
		cfg := &tls.Config{}
		if secureProxy {
			cfg.RootCAs = rootsFor(psrv)
		}
		d := New(Config{TLSClientConfig: cfg, NextProtos: []string{"h2", "http/1.1"}})
		res, err := d.Dial(testCtx(t), Target{Scheme: "http", Addr: "origin.test:80", Proxy: withUser(purl)})
		if err != nil {
			t.Fatal(err)
		}
		if !res.AbsoluteForm || res.ProxyAuth != testProxyAuth {
			t.Errorf("result = %+v", res)
		}
		if secureProxy && (res.TLS == nil || res.Proto != "http/1.1") {
			// The proxy leg offers only HTTP/1.1 whatever the origin ALPN list.
			t.Errorf("https proxy leg: Proto %q TLS %v", res.Proto, res.TLS)
		}
		body := get(t, res.Conn, "origin.test", "http://origin.test/x", http.Header{"Proxy-Authorization": {res.ProxyAuth}})
		res.Conn.Close()
		if body != "proxied http://origin.test/x" {
			t.Errorf("body = %q", body)
		}
	}
}

func TestProxyUnreachable(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	paddr := ln.Addr().String()
	ln.Close()
	for _, scheme := range []string{"http", "socks5h"} {
		_, err := New(Config{}).Dial(testCtx(t), Target{Scheme: "https", Addr: "example.com:443", Proxy: mustURL(scheme + "://" + paddr)})
		if e := asDialErr(t, err, errs.OpDial); e.Addr != paddr {
			t.Errorf("%s: Addr = %q, want the proxy %q", scheme, e.Addr, paddr)
		}
	}
}

func TestProxyAddrDefaults(t *testing.T) {
	for in, want := range map[string]string{
		"http://p":         "p:80",
		"https://p":        "p:443",
		"socks5://p":       "p:1080",
		"socks5h://[::1]":  "[::1]:1080",
		"http://u:pw@p:81": "p:81",
	} {
		if got, err := proxyAddr(mustURL(in)); err != nil || got != want {
			t.Errorf("proxyAddr(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

// TestOnProxyConnectResponse: the hook sees the proxy's reply to CONNECT
// with the request it answers, whatever the status; its error fails the
// dial as it is (net/http's TestOnProxyConnectResponse).
func TestOnProxyConnectResponse(t *testing.T) {
	origin := newTLSOrigin(t, false)
	addr := origin.Listener.Addr().String()
	boom := errors.New("403 seen by the hook")
	for _, tt := range []struct {
		name    string
		proxy   *connectProxy
		hookErr error
		want    int // the status the hook saw
	}{
		{"accepted", &connectProxy{}, nil, http.StatusOK},
		{"accepted, hook refuses", &connectProxy{}, boom, http.StatusOK},
		{"refused", &connectProxy{status: http.StatusForbidden}, boom, http.StatusForbidden},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, purl := startProxy(t, tt.proxy, false)
			var seen int
			d := New(Config{
				TLSClientConfig:    &tls.Config{RootCAs: rootsFor(origin)},
				ProxyConnectHeader: http.Header{"X-Hdr": {"v"}},
				OnProxyConnectResponse: func(_ context.Context, u *url.URL, req *http.Request, resp *http.Response) error {
					if u.String() != purl.String() || req.Method != http.MethodConnect || req.URL.String() != addr ||
						req.Host != addr || req.Header.Get("X-Hdr") != "v" {
						t.Errorf("hook got proxy %v, request %s %v Host %q %v", u, req.Method, req.URL, req.Host, req.Header)
					}
					seen = resp.StatusCode
					return tt.hookErr
				},
			})
			res, err := d.Dial(testCtx(t), Target{Scheme: "https", Addr: addr, Proxy: purl})
			if seen != tt.want {
				t.Errorf("hook saw status %d, want %d", seen, tt.want)
			}
			if tt.hookErr == nil {
				if err != nil {
					t.Fatal(err)
				}
				res.Conn.Close()
				return
			}
			if asDialErr(t, err, errs.OpProxy); !errors.Is(err, tt.hookErr) {
				t.Errorf("dial error %v, want the hook's", err)
			}
		})
	}
}

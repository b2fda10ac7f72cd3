package dial

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/spoolhttp/spool/internal/errs"
)

func TestSOCKS5(t *testing.T) {
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "via socks")
	}))
	defer origin.Close()
	_, port, _ := net.SplitHostPort(origin.Listener.Addr().String())

	for _, tt := range []struct {
		scheme   string
		wantAtyp byte
		wantHost string
	}{
		{"socks5", socksAtypIPv4, "127.0.0.1"}, // resolved here
		{"socks5h", socksAtypDomain, "localhost"},
	} {
		t.Run(tt.scheme, func(t *testing.T) {
			s := &socksServer{user: testProxyUser, pass: testProxyPass}
			paddr := startSOCKS(t, s)
			var tl traceLog
			res, err := New(Config{}).Dial(tl.with(testCtx(t)), Target{
				Scheme: "http", Addr: net.JoinHostPort("localhost", port),
				Proxy: withUser(mustURL(tt.scheme + "://" + paddr)),
			})
			if err != nil {
				t.Fatal(err)
			}
			defer res.Conn.Close()
			if _, ok := res.Conn.(*net.TCPConn); !ok {
				t.Errorf("conn is %T, want the raw *net.TCPConn", res.Conn)
			}
			if res.AbsoluteForm || res.ProxyAuth != "" {
				t.Errorf("result = %+v", res)
			}
			if got := get(t, res.Conn, "localhost", "/", nil); got != "via socks" {
				t.Errorf("body = %q", got)
			}
			atyp, host, _ := s.last()
			if atyp != tt.wantAtyp || host != tt.wantHost {
				t.Errorf("proxy got atyp %d host %q, want %d %q", atyp, host, tt.wantAtyp, tt.wantHost)
			}
			wantDNS := 0 // socks5h: the proxy resolves
			if tt.scheme == "socks5" {
				wantDNS = 1
			}
			if tl.dnsStart != wantDNS || tl.connectStart != 1 {
				t.Errorf("trace DNS %d connect %d", tl.dnsStart, tl.connectStart)
			}
		})
	}
}

func TestSOCKS5hTLS(t *testing.T) {
	origin := newTLSOrigin(t, true)
	_, port, _ := net.SplitHostPort(origin.Listener.Addr().String())
	// Only the proxy knows example.com; the certificate names it.
	s := &socksServer{hosts: map[string]string{"example.com": "127.0.0.1"}}
	paddr := startSOCKS(t, s)
	d := New(Config{TLSClientConfig: &tls.Config{RootCAs: rootsFor(origin)}, NextProtos: []string{"h2", "http/1.1"}})
	res, err := d.Dial(testCtx(t), Target{Scheme: "https", Addr: "example.com:" + port, Proxy: mustURL("socks5h://" + paddr)})
	if err != nil {
		t.Fatal(err)
	}
	defer res.Conn.Close()
	if res.Proto != "h2" || res.TLS.ServerName != "example.com" {
		t.Errorf("Proto %q ServerName %q", res.Proto, res.TLS.ServerName)
	}
}

func TestSOCKS5WrongPassword(t *testing.T) {
	s := &socksServer{user: testProxyUser, pass: testProxyPass}
	paddr := startSOCKS(t, s)
	u := mustURL("socks5h://alice:nope@" + paddr)
	_, err := New(Config{}).Dial(testCtx(t), Target{Scheme: "http", Addr: "localhost:1", Proxy: u})
	asDialErr(t, err, errs.OpProxy)
	if strings.Contains(err.Error(), "nope") {
		t.Errorf("password in error text: %v", err)
	}
}

func TestSOCKSHostTooLong(t *testing.T) {
	host := strings.Repeat("a", 256)
	for _, scheme := range []string{"socks5", "socks5h"} {
		s := &socksServer{}
		paddr := startSOCKS(t, s)
		var tl traceLog
		_, err := New(Config{}).Dial(tl.with(testCtx(t)), Target{Scheme: "http", Addr: host + ":80", Proxy: mustURL(scheme + "://" + paddr)})
		asDialErr(t, err, errs.OpProxy)
		if !strings.Contains(err.Error(), "256 bytes") {
			t.Errorf("%s: unclear error %v", scheme, err)
		}
		if _, _, accepted := s.last(); accepted != 0 || tl.dnsStart != 0 || tl.connectStart != 0 {
			t.Errorf("%s: something was sent: accepted %d, DNS %d, connect %d", scheme, accepted, tl.dnsStart, tl.connectStart)
		}
	}
	// 255 bytes is allowed through to the proxy (which fails to resolve it).
	s := &socksServer{}
	paddr := startSOCKS(t, s)
	_, err := New(Config{}).Dial(testCtx(t), Target{Scheme: "http", Addr: strings.Repeat("a", 255) + ":80", Proxy: mustURL("socks5h://" + paddr)})
	asDialErr(t, err, errs.OpProxy)
	if _, host, _ := s.last(); len(host) != 255 {
		t.Errorf("proxy got a host of %d bytes", len(host))
	}
}

func TestSOCKS5LocalDNSFailure(t *testing.T) {
	s := &socksServer{}
	paddr := startSOCKS(t, s)
	_, err := New(Config{}).Dial(testCtx(t), Target{Scheme: "http", Addr: "nonexistent.invalid:80", Proxy: mustURL("socks5://" + paddr)})
	asDialErr(t, err, errs.OpDial)
	var dnsErr *net.DNSError
	if !errors.As(err, &dnsErr) {
		t.Errorf("want *net.DNSError, got %v", err)
	}
	if _, _, accepted := s.last(); accepted != 0 {
		t.Errorf("proxy contacted %d times", accepted)
	}
}

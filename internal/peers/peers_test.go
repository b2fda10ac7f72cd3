package peers

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// client returns a net/http client for the peers: it trusts n's CA and uses
// proxy when non-nil. Its idle connections are closed at cleanup.
func client(t *testing.T, n *Nginx, proxy *url.URL, h2 bool) (*http.Client, *http.Transport) {
	tr := &http.Transport{TLSClientConfig: n.TLSConfig(), ForceAttemptHTTP2: h2}
	if proxy != nil {
		tr.Proxy = http.ProxyURL(proxy)
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}, tr
}

// get fetches url and returns the response with its body read.
func get(t *testing.T, c *http.Client, url string) (*http.Response, []byte) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: read body: %v", url, err)
	}
	return resp, body
}

func wantHello(t *testing.T, c *http.Client, url, proto string) {
	t.Helper()
	resp, body := get(t, c, url)
	if resp.StatusCode != 200 || string(body) != "hello, world" || resp.Proto != proto {
		t.Fatalf("GET %s = %s %s %q, want 200 %s \"hello, world\"", url, resp.Proto, resp.Status, body, proto)
	}
}

func TestNginxHTTPReuse(t *testing.T) {
	n := StartNginx(t, NginxOptions{})
	c, _ := client(t, n, nil, false)
	wantHello(t, c, n.URL("/"), "HTTP/1.1")
	wantHello(t, c, n.URL("/again"), "HTTP/1.1")

	log := n.WaitAccessLog(t, 2)
	if len(log) != 2 || Connections(log) != 1 || log[0].ConnRequests != 1 || log[1].ConnRequests != 2 {
		t.Fatalf("access log = %+v, want 2 requests on one connection", log)
	}
	if log[1].Request != "GET /again HTTP/1.1" || log[1].Status != 200 || log[1].Proto != "HTTP/1.1" {
		t.Fatalf("entry = %+v", log[1])
	}
}

func TestNginxLocations(t *testing.T) {
	n := StartNginx(t, NginxOptions{})
	c, _ := client(t, n, nil, false)

	resp, body := get(t, c, n.URL("/big"))
	if resp.ContentLength != BigSize || !bytes.Equal(body, BigBody()) {
		t.Errorf("/big: Content-Length %d, body %d bytes equal=%v", resp.ContentLength, len(body), bytes.Equal(body, BigBody()))
	}
	resp, body = get(t, c, n.URL("/chunked"))
	if len(resp.TransferEncoding) != 1 || resp.TransferEncoding[0] != "chunked" || !bytes.Contains(body, []byte("chunked body")) {
		t.Errorf("/chunked: Transfer-Encoding %v, body %q", resp.TransferEncoding, body)
	}
	// net/http asks for gzip itself and decodes it transparently.
	resp, body = get(t, c, n.URL("/gzip"))
	if !resp.Uncompressed || !strings.HasPrefix(string(body), "spool gzip test line") {
		t.Errorf("/gzip: Uncompressed=%v body %.40q", resp.Uncompressed, body)
	}
	resp, body = get(t, c, n.URL("/headers"))
	if !bytes.Contains(body, []byte("method=GET\nhost="+n.HTTPAddr+"\n")) {
		t.Errorf("/headers: %q", body)
	}
	for _, code := range nginxStatuses {
		resp, _ = get(t, c, n.URL(fmt.Sprintf("/status/%d", code)))
		if resp.StatusCode != code {
			t.Errorf("/status/%d: got %s", code, resp.Status)
		}
	}
}

func TestNginxKeepaliveRequests(t *testing.T) {
	n := StartNginx(t, NginxOptions{KeepaliveRequests: 2, KeepaliveTimeout: "5s"})
	c, _ := client(t, n, nil, false)
	for i := range 3 {
		wantHello(t, c, n.URL(fmt.Sprintf("/%d", i)), "HTTP/1.1")
	}
	if log := n.WaitAccessLog(t, 3); Connections(log) != 2 {
		t.Fatalf("keepalive_requests 2, 3 requests: access log %+v, want 2 connections", log)
	}
}

func TestNginxHTTPS(t *testing.T) {
	n := StartNginx(t, NginxOptions{})
	// Without HTTP2 nginx offers no h2 by ALPN, so even a client that
	// tries h2 speaks HTTP/1.1.
	c, _ := client(t, n, nil, true)
	wantHello(t, c, n.TLSURL("/"), "HTTP/1.1")
	wantHello(t, c, "https://localhost:"+strings.Split(n.HTTPSAddr, ":")[1]+"/", "HTTP/1.1")
	if log := n.WaitAccessLog(t, 2); Connections(log) != 2 {
		t.Fatalf("two hosts share no connection: %+v", log)
	}
}

func TestNginxHTTP2(t *testing.T) {
	n := StartNginx(t, NginxOptions{HTTP2: true})
	c, _ := client(t, n, nil, true)
	wantHello(t, c, n.TLSURL("/"), "HTTP/2.0")
	resp, body := get(t, c, n.TLSURL("/big"))
	if resp.ProtoMajor != 2 || !bytes.Equal(body, BigBody()) {
		t.Fatalf("/big over h2: %s, %d bytes", resp.Proto, len(body))
	}
	log := n.WaitAccessLog(t, 2)
	if Connections(log) != 1 || log[0].Proto != "HTTP/2.0" || log[1].ConnRequests != 2 {
		t.Fatalf("access log = %+v, want 2 h2 streams on one connection", log)
	}
	// The plain listener stays HTTP/1.1.
	wantHello(t, c, n.URL("/"), "HTTP/1.1")
}

func TestNginxStop(t *testing.T) {
	n := StartNginx(t, NginxOptions{})
	c, _ := client(t, n, nil, false)
	wantHello(t, c, n.URL("/"), "HTTP/1.1")
	n.Stop()
	if _, err := c.Get(n.URL("/")); err == nil {
		t.Fatal("GET after Stop succeeded")
	}
}

func TestSquidConnect(t *testing.T) {
	s := StartSquid(t, SquidOptions{})
	n := StartNginx(t, NginxOptions{})
	c, tr := client(t, n, s.URL(), false)
	wantHello(t, c, n.TLSURL("/"), "HTTP/1.1") // CONNECT to a non-443 port
	wantHello(t, c, n.URL("/"), "HTTP/1.1")    // plain HTTP, absolute-form
	tr.CloseIdleConnections()                  // squid logs a tunnel when it ends
	log := strings.Join(s.WaitAccessLog(t, 2), "\n")
	if !strings.Contains(log, "CONNECT "+n.HTTPSAddr) || !strings.Contains(log, "GET http://"+n.HTTPAddr+"/") {
		t.Fatalf("squid access log:\n%s", log)
	}
}

// connectStatus records the status of the proxy's answer to CONNECT;
// net/http turns a non-200 answer into an error without a response.
func connectStatus(tr *http.Transport) *int {
	status := new(int)
	tr.OnProxyConnectResponse = func(_ context.Context, _ *url.URL, _ *http.Request, resp *http.Response) error {
		*status = resp.StatusCode
		return nil
	}
	return status
}

func TestSquidDenyAll(t *testing.T) {
	s := StartSquid(t, SquidOptions{DenyAll: true})
	n := StartNginx(t, NginxOptions{})
	c, tr := client(t, n, s.URL(), false)
	status := connectStatus(tr)
	if _, err := c.Get(n.TLSURL("/")); err == nil || *status != http.StatusForbidden {
		t.Fatalf("CONNECT through DenyAll: err %v, status %d; want an error and 403", err, *status)
	}
	if resp, _ := get(t, c, n.URL("/")); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("plain GET through DenyAll: %s", resp.Status)
	}
}

func TestSquidOnlyLoopback(t *testing.T) {
	s := StartSquid(t, SquidOptions{})
	n := StartNginx(t, NginxOptions{})
	c, _ := client(t, n, s.URL(), false)
	// 192.0.2.0/24 is TEST-NET-1: squid must refuse it without connecting.
	if resp, _ := get(t, c, "http://192.0.2.1/"); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("non-loopback destination: %s, want 403", resp.Status)
	}
}

func TestSquidRequireAuth(t *testing.T) {
	s := StartSquid(t, SquidOptions{RequireAuth: true, User: "alice", Pass: "s3cret"})
	n := StartNginx(t, NginxOptions{})

	c, tr := client(t, n, s.URL(), false)
	status := connectStatus(tr)
	if _, err := c.Get(n.TLSURL("/")); err == nil || *status != http.StatusProxyAuthRequired {
		t.Fatalf("CONNECT without credentials: err %v, status %d; want 407", err, *status)
	}
	if resp, _ := get(t, c, n.URL("/")); resp.StatusCode != http.StatusProxyAuthRequired {
		t.Fatalf("GET without credentials: %s, want 407", resp.Status)
	}

	bad := s.AuthURL()
	bad.User = url.UserPassword("alice", "wrong")
	c, _ = client(t, n, bad, false)
	if resp, _ := get(t, c, n.URL("/")); resp.StatusCode != http.StatusProxyAuthRequired {
		t.Fatalf("GET with a wrong password: %s, want 407", resp.Status)
	}

	c, _ = client(t, n, s.AuthURL(), false)
	wantHello(t, c, n.TLSURL("/"), "HTTP/1.1")
	wantHello(t, c, n.URL("/"), "HTTP/1.1")
}

func TestSocks(t *testing.T) {
	s := StartSocks(t, SocksOptions{})
	n := StartNginx(t, NginxOptions{HTTP2: true})
	c, _ := client(t, n, s.URL(), true)
	wantHello(t, c, n.URL("/"), "HTTP/1.1")
	wantHello(t, c, n.TLSURL("/"), "HTTP/2.0")
	if log := n.WaitAccessLog(t, 2); Connections(log) != 2 {
		t.Fatalf("access log %+v", log)
	}
}

func TestSocksRequireAuth(t *testing.T) {
	s := StartSocks(t, SocksOptions{RequireAuth: true})
	n := StartNginx(t, NginxOptions{})
	c, _ := client(t, n, s.URL(), false)
	wantHello(t, c, n.URL("/"), "HTTP/1.1")

	anon := *s.URL()
	anon.User = nil
	c, _ = client(t, n, &anon, false)
	if _, err := c.Get(n.URL("/")); err == nil {
		t.Fatal("SOCKS without credentials succeeded")
	}
	wrong := *s.URL()
	wrong.User = url.UserPassword(s.User, "wrong")
	c, _ = client(t, n, &wrong, false)
	if _, err := c.Get(n.URL("/")); err == nil {
		t.Fatal("SOCKS with a wrong password succeeded")
	}
}

// TestMissingBinarySkips shows what a machine without the peers sees.
func TestMissingBinarySkips(t *testing.T) {
	var skipped bool
	t.Run("missing", func(t *testing.T) {
		defer func() { skipped = t.Skipped() }()
		findBinary(t, "spool-no-such-peer")
	})
	if !skipped {
		t.Fatal("a missing binary did not skip the test")
	}
}

func TestListening(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if ok, err := listening(addr)(); !ok {
		t.Fatalf("listening(%s) on a listener: %v", addr, err)
	}
	ln.Close()
	if ok, _ := listening(addr)(); ok {
		t.Fatalf("listening(%s) after Close", addr)
	}
}

func TestStaleName(t *testing.T) {
	for name, want := range map[string]string{
		"spool123x4-cf__queues.shm": "123",
		"spool-squid-123-98765":     "123",
		"spool-squid-98765":         "", // older layout: not ours to judge
		"spoolhttp-cache":           "",
		"TestSquidConnect123/001":   "",
		"spool123x":                 "123",
	} {
		got := ""
		if m := staleName.FindStringSubmatch(name); m != nil {
			got = m[1]
		}
		if got != want {
			t.Errorf("staleName(%q) = %q, want %q", name, got, want)
		}
	}
}

func TestParseAccessEntry(t *testing.T) {
	e, err := parseAccessEntry("17\t3\t200\tHTTP/2.0\tGET /a\\x09b HTTP/2.0")
	want := AccessEntry{Conn: 17, ConnRequests: 3, Status: 200, Proto: "HTTP/2.0", Request: `GET /a\x09b HTTP/2.0`}
	if err != nil || e != want {
		t.Fatalf("got %+v, %v; want %+v", e, err, want)
	}
	if _, err := parseAccessEntry("17 3 200"); err == nil {
		t.Fatal("no error for a malformed line")
	}
}

func TestVersionAtLeast(t *testing.T) {
	for _, tc := range []struct {
		v    string
		want bool
	}{{"1.25.1", true}, {"1.25.0", false}, {"1.22.1", false}, {"1.26", true}, {"2.0.0", true}} {
		if got := versionAtLeast(tc.v, 1, 25, 1); got != tc.want {
			t.Errorf("versionAtLeast(%q, 1.25.1) = %v", tc.v, got)
		}
	}
}

package cvetest

import (
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/spoolhttp/spool"
	"github.com/spoolhttp/spool/internal/peers"
	"github.com/spoolhttp/spool/internal/testutil"
)

func basic(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

// noProxyAuthAtOrigin fails if any request the origin saw carried the
// proxy's credentials.
func noProxyAuthAtOrigin(t *testing.T, o *origin, wantReqs int) {
	t.Helper()
	got := o.seen()
	if len(got) != wantReqs {
		t.Fatalf("origin saw %d requests, want %d", len(got), wantReqs)
	}
	for _, r := range got {
		if v, ok := r.Header["Proxy-Authorization"]; ok {
			t.Fatalf("origin received Proxy-Authorization %q on %s", v, r.Path)
		}
		for k, vv := range r.Header {
			for _, v := range vv {
				if strings.Contains(v, "cHJveHk") || strings.Contains(v, "proxy-secret") { // base64 of "proxy..." / the password
					t.Fatalf("origin received the proxy secret in %s: %q", k, v)
				}
			}
		}
	}
}

// Python requests CVE-2023-32681: requests re-sent Proxy-Authorization to
// the destination server when following a redirect to https through a
// tunnel. The proxy's credentials must reach the proxy (absolute-form
// request or CONNECT) and never the origin.
func TestCVE_2023_32681_ProxyCredentialsNotSentToOrigin(t *testing.T) {
	const user, pass = "proxyuser", "proxy-secret"
	want := basic(user, pass)
	proxyURL := func(p *proxyServer) *url.URL {
		return &url.URL{Scheme: "http", User: url.UserPassword(user, pass), Host: p.Addr()}
	}

	t.Run("http origin: absolute-form to the proxy", func(t *testing.T) {
		p := startProxy(t)
		tr := testutil.NewTransport(t, &spool.Transport{Proxy: http.ProxyURL(proxyURL(p))})
		c := &http.Client{Transport: tr, Timeout: 10 * time.Second}
		if _, body := testutil.Get(t, c, "http://a.example/x"); body != "proxied" {
			t.Fatalf("body %q", body)
		}
		if got := p.log.get(); len(got) != 1 || got[0] != "0 GET http://a.example/x "+want {
			t.Fatalf("proxy saw %q, want one absolute-form GET with %q", got, want)
		}
	})

	t.Run("https origin: CONNECT carries them, the tunnel does not", func(t *testing.T) {
		p := startProxy(t)
		o := startOrigin(t, true, nil)
		tr := testutil.NewTransport(t, &spool.Transport{Proxy: http.ProxyURL(proxyURL(p)), TLSClientConfig: loopbackCert(t).clientConfig()})
		c := &http.Client{Transport: tr, Timeout: 10 * time.Second}
		for range 2 {
			if _, body := testutil.Get(t, c, o.URL+"/secure"); body != "origin" {
				t.Fatalf("body %q", body)
			}
		}
		host := strings.TrimPrefix(o.URL, "https://")
		if got := p.log.get(); len(got) != 1 || got[0] != "0 CONNECT "+host+" "+want {
			t.Fatalf("proxy saw %q, want one CONNECT %s with %q", got, host, want)
		}
		noProxyAuthAtOrigin(t, o, 2)
	})

	t.Run("redirect from http to https through the proxy", func(t *testing.T) {
		o := startOrigin(t, true, nil)
		p := &proxyServer{}
		p.rawServer = startRaw(t, func(c *rawConn) {
			// Absolute-form GETs are answered with a redirect to the TLS
			// origin; CONNECTs are tunnelled (as startProxy does).
			for {
				req := c.ReadRequest()
				if req == nil {
					return
				}
				p.log.add(req.Method + " " + req.Header.Get("Proxy-Authorization"))
				if req.Method == "CONNECT" {
					up, err := dialTCP(req.RequestURI)
					if err != nil {
						return
					}
					c.WriteString("HTTP/1.1 200 OK\r\n\r\n")
					splice(c, up)
					return
				}
				c.WriteString("HTTP/1.1 302 Found\r\nLocation: " + o.URL + "/landed\r\nContent-Length: 0\r\n\r\n")
			}
		})
		tr := testutil.NewTransport(t, &spool.Transport{Proxy: http.ProxyURL(proxyURL(p)), TLSClientConfig: loopbackCert(t).clientConfig()})
		c := &http.Client{Transport: tr, Timeout: 10 * time.Second}
		resp, body := testutil.Get(t, c, "http://a.example/start")
		if body != "origin" || resp.Request.URL.Path != "/landed" {
			t.Fatalf("landed at %s with %q", resp.Request.URL, body)
		}
		if got := p.log.get(); len(got) != 2 || got[0] != "GET "+want || got[1] != "CONNECT "+want {
			t.Fatalf("proxy saw %q", got)
		}
		noProxyAuthAtOrigin(t, o, 1)
	})

	t.Run("direct request after proxied ones", func(t *testing.T) {
		// The Proxy func picks per request: a request that goes direct
		// must not inherit the proxy's credentials (nor its conn).
		p := startProxy(t)
		o := startOrigin(t, false, nil)
		pu := proxyURL(p)
		tr := testutil.NewTransport(t, &spool.Transport{Proxy: func(r *http.Request) (*url.URL, error) {
			if r.Header.Get("X-Direct") != "" {
				return nil, nil
			}
			return pu, nil
		}})
		for _, direct := range []bool{false, true, false, true} {
			req := withTimeout(t, testutil.NewRequest(t, "GET", o.URL+"/d", nil), 5*time.Second)
			if direct {
				req.Header.Set("X-Direct", "1")
			}
			resp, err := tr.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if want := map[bool]string{true: "origin", false: "proxied"}[direct]; string(b) != want {
				t.Fatalf("direct=%v: body %q, want %q", direct, b, want)
			}
		}
		noProxyAuthAtOrigin(t, o, 2)
		if n := len(p.log.get()); n != 2 {
			t.Fatalf("proxy saw %d requests, want 2", n)
		}
	})

	t.Run("squid", func(t *testing.T) {
		sq := peers.StartSquid(t, peers.SquidOptions{RequireAuth: true, User: user, Pass: pass})
		plain := startOrigin(t, false, nil)
		secure := startOrigin(t, true, nil)
		tr := testutil.NewTransport(t, &spool.Transport{Proxy: http.ProxyURL(sq.AuthURL()), TLSClientConfig: loopbackCert(t).clientConfig()})
		c := &http.Client{Transport: tr, Timeout: 10 * time.Second}
		// squid answers 407 without the right credentials: a 200 proves
		// they reached it, for both routes.
		for _, u := range []string{plain.URL + "/via-squid", secure.URL + "/via-squid"} {
			if resp, body := testutil.Get(t, c, u); resp.StatusCode != 200 || body != "origin" {
				t.Fatalf("GET %s via squid: %s %q", u, resp.Status, body)
			}
		}
		noProxyAuthAtOrigin(t, plain, 1)
		noProxyAuthAtOrigin(t, secure, 1)
		tr.CloseIdleConnections() // squid logs a tunnel when it closes
		for _, line := range sq.WaitAccessLog(t, 2) {
			if !strings.Contains(line, " "+user+" ") {
				t.Errorf("squid access log line without the user: %q", line)
			}
		}

		// Wrong credentials: squid refuses, and nothing reaches the origin.
		bad := sq.URL()
		bad.User = url.UserPassword(user, "wrong")
		tr2 := testutil.NewTransport(t, &spool.Transport{Proxy: http.ProxyURL(bad), TLSClientConfig: loopbackCert(t).clientConfig()})
		resp, err := tr2.RoundTrip(withTimeout(t, testutil.NewRequest(t, "GET", plain.URL+"/refused", nil), 10*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusProxyAuthRequired {
			t.Fatalf("http via squid with wrong credentials: %s", resp.Status)
		}
		_, err = tr2.RoundTrip(withTimeout(t, testutil.NewRequest(t, "GET", secure.URL+"/refused", nil), 10*time.Second))
		var pe *spool.ProxyError
		if !errors.As(err, &pe) || pe.StatusCode != http.StatusProxyAuthRequired {
			t.Fatalf("https via squid with wrong credentials: %v, want ProxyError 407", err)
		}
		noProxyAuthAtOrigin(t, plain, 1)
		noProxyAuthAtOrigin(t, secure, 1)
	})
}

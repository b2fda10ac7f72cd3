package peertest

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/spoolhttp/spool"
	"github.com/spoolhttp/spool/internal/peers"
)

// https through squid's CONNECT and http through squid in absolute form.
func TestSquid(t *testing.T) {
	n := peers.StartNginx(t, peers.NginxOptions{})
	sq := peers.StartSquid(t, peers.SquidOptions{RequireAuth: true})
	tr := &spool.Transport{TLSClientConfig: n.TLSConfig(), Proxy: http.ProxyURL(sq.AuthURL())}
	defer tr.Close()
	c := client(tr)
	for _, u := range []string{n.TLSURL("/"), n.URL("/"), n.TLSURL("/"), n.URL("/")} {
		if b := fetch(t, c, u); string(b) != "hello, world" {
			t.Fatalf("%s: %q", u, b)
		}
	}
	st := tr.Stats()
	if st.Total.Dials != 2 || st.Total.Reuses != 2 {
		t.Fatalf("want one tunnel and one proxy conn, each reused: %+v", st.Total)
	}
	for k := range st.Hosts {
		if strings.Contains(k, sq.Pass) {
			t.Fatalf("Stats key %q shows the proxy password", k)
		}
	}
	tr.CloseIdleConnections()
	log := strings.Join(sq.WaitAccessLog(t, 3), "\n")
	if !strings.Contains(log, "CONNECT 127.0.0.1") || !strings.Contains(log, "GET http://"+n.HTTPAddr+"/") {
		t.Fatalf("squid log lacks the CONNECT or the absolute-form GET:\n%s", log)
	}
}

// A proxy's refusal is a typed error that keeps the status.
func TestSquidRefuses(t *testing.T) {
	n := peers.StartNginx(t, peers.NginxOptions{})
	deny := peers.StartSquid(t, peers.SquidOptions{DenyAll: true})
	auth := peers.StartSquid(t, peers.SquidOptions{RequireAuth: true})
	for _, c := range []struct {
		proxy *url.URL
		code  int
	}{{deny.URL(), 403}, {auth.URL(), 407}} {
		tr := &spool.Transport{TLSClientConfig: n.TLSConfig(), Proxy: http.ProxyURL(c.proxy)}
		_, err := tr.RoundTrip(mustGet(t, n.TLSURL("/")))
		tr.Close()
		var pe *spool.ProxyError
		if !errors.As(err, &pe) || pe.StatusCode != c.code || err.Error() != http.StatusText(c.code) {
			t.Fatalf("want ProxyError %d with net/http's text, got %v", c.code, err)
		}
	}
}

func TestSOCKS5(t *testing.T) {
	n := peers.StartNginx(t, peers.NginxOptions{})
	s := peers.StartSocks(t, peers.SocksOptions{})
	for _, scheme := range []string{"socks5", "socks5h"} {
		u := s.URL()
		u.Scheme = scheme
		tr := &spool.Transport{TLSClientConfig: n.TLSConfig(), Proxy: http.ProxyURL(u)}
		c := client(tr)
		for _, target := range []string{n.URL("/"), n.TLSURL("/"), n.URL("/")} {
			if b := fetch(t, c, target); string(b) != "hello, world" {
				t.Fatalf("%s %s: %q", scheme, target, b)
			}
		}
		if st := tr.Stats().Total; st.Dials != 2 {
			t.Fatalf("%s: %+v", scheme, st)
		}
		tr.Close()
	}
}

func mustGet(t *testing.T, url string) *http.Request {
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

package spool_test

import (
	"crypto/tls"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/spoolhttp/spool"
	"github.com/spoolhttp/spool/internal/testutil"
)

// GODEBUG=http2client=0 turns HTTP/2 off in net/http's client whatever
// the Transport asks for (net/http's TestTransportServerProtocols, "GODEBUG
// disables HTTP2 client"); a program switched to spool keeps it. The
// server speaks h2 over TLS and h2c, so only the client's switch decides.
func TestGODEBUGHTTP2ClientOffSpeaksHTTP1(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, r.Proto) })
	tlsSrv := httptest.NewUnstartedServer(h)
	tlsSrv.EnableHTTP2 = true
	tlsSrv.StartTLS()
	defer tlsSrv.Close()
	h2cSrv := httptest.NewUnstartedServer(h)
	h2cSrv.Config.Protocols = new(http.Protocols)
	h2cSrv.Config.Protocols.SetHTTP1(true)
	h2cSrv.Config.Protocols.SetUnencryptedHTTP2(true)
	h2cSrv.Start()
	defer h2cSrv.Close()
	roots := tlsSrv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs

	both := new(http.Protocols)
	both.SetHTTP1(true)
	both.SetHTTP2(true)
	h2only := new(http.Protocols)
	h2only.SetHTTP2(true)
	h2c := new(http.Protocols)
	h2c.SetUnencryptedHTTP2(true)
	cases := []struct {
		name  string
		url   string
		proto *http.Protocols
		force bool
	}{
		{"Protocols HTTP1+HTTP2", tlsSrv.URL, both, false},
		{"Protocols HTTP2 only", tlsSrv.URL, h2only, false},
		{"ForceAttemptHTTP2", tlsSrv.URL, nil, true},
		{"Protocols UnencryptedHTTP2", h2cSrv.URL, h2c, false},
	}
	get := func(t *testing.T, url string, p *http.Protocols, force bool) string {
		tr := &spool.Transport{Protocols: p, ForceAttemptHTTP2: force, TLSClientConfig: &tls.Config{RootCAs: roots}}
		defer tr.Close()
		_, got := testutil.Get(t, &http.Client{Transport: tr}, url)
		return got
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// Without the switch the same Transport speaks HTTP/2, so the
			// case can tell the switch from a setup that never offers h2.
			t.Setenv("GODEBUG", "")
			if got := get(t, c.url, c.proto, c.force); got != "HTTP/2.0" {
				t.Fatalf("without GODEBUG: server saw %s, want HTTP/2.0", got)
			}
			t.Setenv("GODEBUG", "netdns=go,http2client=0")
			if got := get(t, c.url, c.proto, c.force); got != "HTTP/1.1" {
				t.Fatalf("GODEBUG=%s: server saw %s, want HTTP/1.1", "netdns=go,http2client=0", got)
			}
		})
	}
}

package spool_test

import (
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"

	"github.com/spoolhttp/spool"
	"github.com/spoolhttp/spool/internal/testutil"
)

// Every HTTPS response carries the conn's TLS state, as net/http's
// (issue 11 bug 8: TestResponseSetsTLSConnectionState); plain ones none.
func TestModesResponseTLS(t *testing.T) {
	forEachMode(t, func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	}, nil, func(t *testing.T, s *modeServer) {
		for i := range 2 { // the dial's response and a reused conn's
			resp, err := s.tr.RoundTrip(testutil.NewRequest(t, "GET", s.URL, nil))
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			switch {
			case s.TLS == nil && resp.TLS != nil:
				t.Errorf("response %d: TLS state on a plain conn", i)
			case s.TLS != nil && (resp.TLS == nil || !resp.TLS.HandshakeComplete || len(resp.TLS.PeerCertificates) == 0):
				t.Errorf("response %d: TLS = %+v, want the handshake's state", i, resp.TLS)
			case s.TLS != nil && resp.TLS.NegotiatedProtocol != map[int]string{1: "", 2: "h2"}[resp.ProtoMajor] &&
				!(resp.ProtoMajor == 1 && resp.TLS.NegotiatedProtocol == "http/1.1"):
				t.Errorf("response %d: ALPN %q on HTTP/%d", i, resp.TLS.NegotiatedProtocol, resp.ProtoMajor)
			}
		}
	})
}

// ALPN offers what net/http offers for the same configuration (issue 11
// bug 9, net/http's TestNextProtoUpgrade): the caller's NextProtos kept,
// h2 first and http/1.1 last only when HTTP/2 is on, nothing at all when
// HTTP/2 is off and the caller lists none.
func TestALPNOfferIsNetHTTPs(t *testing.T) {
	var mu sync.Mutex
	var offered [][]string
	s := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "proto="+r.TLS.NegotiatedProtocol)
	}))
	s.TLS = &tls.Config{
		NextProtos: []string{"unhandled-proto", "tls-0.9"},
		GetConfigForClient: func(hi *tls.ClientHelloInfo) (*tls.Config, error) {
			mu.Lock()
			offered = append(offered, hi.SupportedProtos)
			mu.Unlock()
			return nil, nil
		},
	}
	s.StartTLS()
	defer s.Close()
	roots := s.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
	for _, c := range []struct {
		name  string
		cfg   *tls.Config
		force bool
		offer []string // what the server must see
		ok    bool
	}{
		{"custom config, no h2: no ALPN", &tls.Config{RootCAs: roots}, false, nil, true},
		{"caller's protocol only", &tls.Config{RootCAs: roots, NextProtos: []string{"unhandled-proto"}}, false, []string{"unhandled-proto"}, false},
		{"h2 forced: h2, caller's, http/1.1", &tls.Config{RootCAs: roots, NextProtos: []string{"x-custom"}}, true, []string{"h2", "x-custom", "http/1.1"}, false},
		// A custom dialer opts out of HTTP/2 too (golang/go#14275); the
		// certificate is not trusted here, but the offer is seen first.
		{"custom dialer, no config: no ALPN", nil, false, nil, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			mu.Lock()
			offered = nil
			mu.Unlock()
			tr := &spool.Transport{TLSClientConfig: c.cfg, ForceAttemptHTTP2: c.force}
			if c.cfg == nil {
				tr.DialContext = (&net.Dialer{}).DialContext
			}
			defer tr.Close()
			resp, err := tr.RoundTrip(testutil.NewRequest(t, "GET", s.URL, nil))
			if err == nil {
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if string(b) != "proto=" {
					t.Errorf("body %q, want no protocol negotiated", b)
				}
			}
			if (err == nil) != c.ok {
				t.Errorf("err %v, want success %v", err, c.ok)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(offered) == 0 || !slices.Equal(offered[0], c.offer) {
				t.Errorf("offered %q, want %q", offered, c.offer)
			}
		})
	}
}

// GODEBUG=http2client=0 turns HTTP/2 off for the client whatever the
// Transport asks, as in net/http (TestTransportServerProtocols).
func TestGODEBUGHTTP2ClientOff(t *testing.T) {
	s := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.Proto)
	}))
	s.EnableHTTP2 = true
	s.StartTLS()
	defer s.Close()
	for _, off := range []bool{false, true} {
		if off {
			t.Setenv("GODEBUG", "http2client=0")
		}
		p := &http.Protocols{}
		p.SetHTTP1(true)
		p.SetHTTP2(true)
		tr := &spool.Transport{TLSClientConfig: s.Client().Transport.(*http.Transport).TLSClientConfig, Protocols: p}
		_, got := testutil.Get(t, &http.Client{Transport: tr}, s.URL)
		tr.Close()
		if want := map[bool]string{false: "HTTP/2.0", true: "HTTP/1.1"}[off]; got != want {
			t.Errorf("http2client off %v: %s, want %s", off, got, want)
		}
	}
}

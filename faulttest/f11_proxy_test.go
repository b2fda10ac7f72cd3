package faulttest

import (
	"bufio"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/spoolhttp/spool"
	"github.com/spoolhttp/spool/internal/peers"
	"github.com/spoolhttp/spool/internal/testutil"
)

// originRecorder is an origin (TLS and plain) that records the headers it
// got, to prove proxy credentials never reach it.
type originRecorder struct {
	mu      sync.Mutex
	headers []http.Header
}

func (o *originRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	o.mu.Lock()
	o.headers = append(o.headers, r.Header.Clone())
	o.mu.Unlock()
	io.WriteString(w, "origin")
}

// TestF11_ProxyFailures: a proxy refusing CONNECT (403, 407) gives a
// *spool.ProxyError with its status and sends nothing to the origin; a
// proxy that closes during or right after CONNECT gives a typed error;
// proxy credentials never reach the origin.
func TestF11_ProxyFailures(t *testing.T) {
	origin := testutil.NewRawServer(t, func(int, net.Conn) {}) // must never be reached
	originURL := "https://" + origin.Addr() + "/"
	wantProxyError := func(t *testing.T, tr *spool.Transport, status int) {
		t.Helper()
		_, err := tr.RoundTrip(testutil.NewRequest(t, "GET", originURL, nil))
		var pe *spool.ProxyError
		if !errors.As(err, &pe) || pe.StatusCode != status {
			t.Fatalf("err %v: want a *spool.ProxyError with status %d", err, status)
		}
		if err != error(pe) || err.Error() != http.StatusText(status) { // net/http's text: the reason phrase
			t.Errorf("err %T %v: want the ProxyError itself, reading %q", err, err, http.StatusText(status))
		}
		if n := origin.Accepted(); n != 0 {
			t.Errorf("the origin got %d conns", n)
		}
		if held(tr) != 0 {
			t.Errorf("transport holds conns after a refused CONNECT")
		}
	}
	t.Run("squid-403", func(t *testing.T) {
		sq := peers.StartSquid(t, peers.SquidOptions{DenyAll: true})
		wantProxyError(t, testutil.NewTransport(t, &spool.Transport{Proxy: http.ProxyURL(sq.URL())}), 403)
	})
	t.Run("squid-407", func(t *testing.T) {
		sq := peers.StartSquid(t, peers.SquidOptions{RequireAuth: true})
		wantProxyError(t, testutil.NewTransport(t, &spool.Transport{Proxy: http.ProxyURL(sq.URL())}), 407)

		// With credentials: through, and the origin never sees them.
		rec := &originRecorder{}
		tlsSrv := httptest.NewTLSServer(rec)
		defer tlsSrv.Close()
		plainSrv := httptest.NewServer(rec)
		defer plainSrv.Close()
		tr := testutil.NewTransport(t, &spool.Transport{Proxy: http.ProxyURL(sq.AuthURL()),
			TLSClientConfig: tlsSrv.Client().Transport.(*http.Transport).TLSClientConfig})
		for _, u := range []string{tlsSrv.URL, plainSrv.URL} {
			resp, err := tr.RoundTrip(testutil.NewRequest(t, "GET", u+"/", nil))
			if err != nil {
				t.Fatalf("%s through squid with credentials: %v", u, err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if string(b) != "origin" {
				t.Fatalf("%s: %d %q", u, resp.StatusCode, b)
			}
		}
		tr.CloseIdleConnections()
		rec.mu.Lock()
		defer rec.mu.Unlock()
		for _, h := range rec.headers {
			if h.Get("Proxy-Authorization") != "" || h.Get("Authorization") != "" {
				t.Errorf("origin got credentials: %v", h)
			}
		}
	})

	// A scripted proxy for what squid will not do.
	scripted := func(t *testing.T, answer string) (*spool.Transport, *sync.Map) {
		var got sync.Map
		p := testutil.NewRawServer(t, func(i int, c net.Conn) {
			req, err := readHead(bufio.NewReader(c))
			if err != nil {
				return
			}
			got.Store(i, req)
			io.WriteString(c, answer)
			// Then hang up: a FIN, and the client's next bytes (a TLS
			// ClientHello into the tunnel) read and dropped until it
			// closes. A plain close would answer those bytes with a TCP
			// reset, and a client reading after the reset gets
			// "connection reset by peer" instead of the EOF the subtests
			// assert (seen under load).
			if tc, ok := c.(*net.TCPConn); ok {
				tc.CloseWrite()
				c.SetReadDeadline(time.Now().Add(5 * time.Second))
				io.Copy(io.Discard, c)
			}
		})
		u, _ := url.Parse("http://user:secret@" + p.Addr())
		return testutil.NewTransport(t, &spool.Transport{Proxy: http.ProxyURL(u), TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}), &got
	}
	t.Run("scripted-407", func(t *testing.T) {
		tr, got := scripted(t, "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"x\"\r\nContent-Length: 0\r\n\r\n")
		wantProxyError(t, tr, 407)
		r, _ := got.Load(0)
		if req := r.(*http.Request); req.Method != "CONNECT" || req.Header.Get("Proxy-Authorization") == "" {
			t.Errorf("CONNECT %v without credentials: %v", req.Method, req.Header)
		}
	})
	t.Run("scripted-close-before-answer", func(t *testing.T) {
		tr, _ := scripted(t, "")
		_, err := tr.RoundTrip(testutil.NewRequest(t, "GET", originURL, nil))
		var pe *spool.ProxyError
		if !errors.Is(err, io.ErrUnexpectedEOF) || errors.As(err, &pe) {
			t.Errorf("err %v: want an unexpected EOF that is not a ProxyError", err)
		}
		if origin.Accepted() != 0 || held(tr) != 0 {
			t.Error("origin reached or conn held")
		}
	})
	t.Run("scripted-close-after-200", func(t *testing.T) {
		tr, _ := scripted(t, "HTTP/1.1 200 Connection established\r\n\r\n")
		_, err := tr.RoundTrip(testutil.NewRequest(t, "GET", originURL, nil))
		if err != io.EOF { // the handshake's own error, as net/http returns it
			t.Errorf("err %T %v: want io.EOF (the tunnel died before the handshake)", err, err)
		}
		if held(tr) != 0 {
			t.Error("conn held")
		}
	})
}

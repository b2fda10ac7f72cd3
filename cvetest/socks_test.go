package cvetest

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/spoolhttp/spool"
	"github.com/spoolhttp/spool/internal/testutil"
)

// curl CVE-2023-38545: curl copied a host name longer than 255 bytes into
// the SOCKS5 request (whose length field is one byte): a heap overflow.
// spool refuses such a host before a single byte goes to the proxy, for
// socks5h (the proxy resolves) and socks5 (we resolve) alike, http and https.
func TestCVE_2023_38545_SOCKS5LongHostName(t *testing.T) {
	long := strings.Repeat("a", 60) + "." + strings.Repeat("b", 60) + "." + strings.Repeat("c", 60) + "." +
		strings.Repeat("d", 60) + "." + strings.Repeat("e", 60) + ".example" // 313 bytes
	for _, proxyScheme := range []string{"socks5h", "socks5"} {
		for _, scheme := range []string{"http", "https"} {
			t.Run(proxyScheme+"/"+scheme, func(t *testing.T) {
				proxy := startRaw(t, func(c *rawConn) { io.Copy(io.Discard, c) })
				tr := testutil.NewTransport(t, &spool.Transport{Proxy: func(*http.Request) (*url.URL, error) {
					return &url.URL{Scheme: proxyScheme, Host: proxy.Addr()}, nil
				}})
				req := withTimeout(t, testutil.NewRequest(t, "GET", scheme+"://"+long+"/", nil), 5*time.Second)
				resp, err := tr.RoundTrip(req)
				if err == nil {
					resp.Body.Close()
					t.Fatal("a 313-byte host name went through SOCKS5")
				}
				if n := proxy.bytes.Load(); n != 0 {
					t.Fatalf("SOCKS server received %d bytes, want 0", n)
				}
				noControlBytes(t, "error", err.Error())
			})
		}
	}
	t.Run("255 bytes still goes", func(t *testing.T) {
		// The boundary: a 255-byte name is legal SOCKS5 and must be sent
		// with its length byte. The fake server checks the request shape.
		host := strings.Repeat("h", 63) + "." + strings.Repeat("i", 63) + "." + strings.Repeat("j", 63) + "." + strings.Repeat("k", 61) + ".x"
		if len(host) != 255 {
			t.Fatalf("host is %d bytes", len(host))
		}
		got := make(chan string, 1)
		proxy := startRaw(t, func(c *rawConn) {
			buf := make([]byte, 3)
			if _, err := io.ReadFull(c, buf); err != nil { // VER NMETHODS METHOD
				return
			}
			c.WriteString("\x05\x00") // no auth
			hdr := make([]byte, 5)    // VER CMD RSV ATYP LEN
			if _, err := io.ReadFull(c, hdr); err != nil {
				return
			}
			name := make([]byte, int(hdr[4])+2)
			io.ReadFull(c, name)
			got <- string(hdr[3:4]) + string(name[:len(name)-2])
			c.WriteString("\x05\x04\x00\x01\x00\x00\x00\x00\x00\x00") // host unreachable
		})
		tr := testutil.NewTransport(t, &spool.Transport{Proxy: func(*http.Request) (*url.URL, error) {
			return &url.URL{Scheme: "socks5h", Host: proxy.Addr()}, nil
		}})
		resp, err := tr.RoundTrip(withTimeout(t, testutil.NewRequest(t, "GET", "http://"+host+"/", nil), 5*time.Second))
		if err == nil {
			resp.Body.Close()
		}
		select {
		case g := <-got:
			if g != "\x03"+host {
				t.Fatalf("SOCKS5 request carried ATYP/name %.20q..., want DOMAINNAME %q", g, host[:10])
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("the SOCKS server never got the request (err %v)", err)
		}
	})
}

package faulttest

import (
	"bufio"
	"crypto/tls"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/spoolhttp/spool"
	"github.com/spoolhttp/spool/internal/testutil"
)

// floodServer answers every request head with prefix, then writes
// chunk() until the client goes away.
func floodServer(t *testing.T, prefix string, chunk func() []byte) *testutil.RawServer {
	return testutil.NewRawServer(t, func(_ int, c net.Conn) {
		br := bufio.NewReader(c)
		if _, err := readHead(br); err != nil {
			return
		}
		go io.Copy(io.Discard, br) // so our close is a FIN, not an RST
		if _, err := io.WriteString(c, prefix); err != nil {
			return
		}
		for {
			if _, err := c.Write(chunk()); err != nil {
				return
			}
		}
	})
}

func randomBytes(n int) func() []byte {
	return func() []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rand.N(256))
		}
		return b
	}
}

func repeatBytes(s string, n int) func() []byte {
	b := []byte(strings.Repeat(s, n/len(s)+1)[:n])
	return func() []byte { return b }
}

// boundedFailure runs one request against url and checks: an error, no
// response; at most limit+slack bytes read; the conn closed, not pooled.
func boundedFailure(t *testing.T, url string, limit int, tlsConf *tls.Config) error {
	t.Helper()
	const slack = 8 << 10
	var cnt testutil.CountingDialer
	tr := testutil.NewTransport(t, &spool.Transport{DialContext: cnt.DialContext, MaxResponseHeaderBytes: int64(limit), TLSClientConfig: tlsConf})
	resp, err := tr.RoundTrip(testutil.NewRequest(t, "GET", url, nil))
	if err == nil {
		resp.Body.Close()
		t.Fatalf("got %s, want an error", resp.Status)
	}
	if r := cnt.Read.Load(); r > int64(limit+slack) {
		t.Errorf("read %d bytes, limit %d (+%d)", r, limit, slack)
	} else {
		t.Logf("read %d bytes (limit %d): %v", r, limit, err)
	}
	if o := cnt.Open.Load(); o != 0 {
		t.Errorf("%d conns left open", o)
	}
	if k := held(tr); k != 0 {
		t.Errorf("transport holds %d conns", k)
	}
	if cnt.Dials.Load() != 1 {
		t.Errorf("%d dials, want 1 (no retry of a protocol failure)", cnt.Dials.Load())
	}
	return err
}

// TestF5_Garbage: a peer that does not speak HTTP/1 fails the request with
// an error after reading no more than the header limit, without a panic,
// and its conn is closed. TLS spoken to a plain server and plain HTTP
// spoken to a TLS server fail the same way.
func TestF5_Garbage(t *testing.T) {
	const limit = 16 << 10
	protocolErr := func(t *testing.T, err error) {
		t.Helper()
		var pe *spool.ProtocolError
		var he *spool.HeaderLimitError
		if !errors.As(err, &pe) && !errors.As(err, &he) {
			t.Errorf("err %v: want a ProtocolError or HeaderLimitError", err)
		}
	}
	t.Run("banner", func(t *testing.T) {
		s := floodServer(t, "SSH-2.0-OpenSSH_9.6\r\n", randomBytes(32<<10))
		protocolErr(t, boundedFailure(t, s.URL(), limit, nil))
	})
	t.Run("binary", func(t *testing.T) {
		s := floodServer(t, "", randomBytes(32<<10))
		protocolErr(t, boundedFailure(t, s.URL(), limit, nil))
	})
	t.Run("status-line-then-binary", func(t *testing.T) {
		s := floodServer(t, "HTTP/1.1 200 OK\r\n", repeatBytes("\x00\xff\x7f", 32<<10))
		protocolErr(t, boundedFailure(t, s.URL(), limit, nil))
	})
	t.Run("status-line-without-end", func(t *testing.T) {
		s := floodServer(t, "HTTP/1.1 200 ", repeatBytes("O", 32<<10))
		protocolErr(t, boundedFailure(t, s.URL(), limit, nil))
	})
	t.Run("plain-to-tls-records", func(t *testing.T) {
		// A TLS server's records where a status line should be.
		rec := append([]byte{0x16, 0x03, 0x03, 0x40, 0x00}, make([]byte, 0x4000)...)
		s := floodServer(t, "", func() []byte { return rec })
		protocolErr(t, boundedFailure(t, s.URL(), limit, nil))
	})
	t.Run("plain-to-tls-server", func(t *testing.T) {
		// A real crypto/tls server (not net/http's, which answers plain
		// HTTP with a valid HTTP/1.0 400).
		srv := httptest.NewUnstartedServer(http.NotFoundHandler())
		srv.StartTLS()
		defer srv.Close()
		ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: srv.TLS.Certificates})
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				c.(*tls.Conn).Handshake()
				c.Close()
			}
		}()
		defer func() { ln.Close(); <-done }()
		boundedFailure(t, "http://"+ln.Addr().String(), limit, nil)
	})
	t.Run("tls-to-plain", func(t *testing.T) {
		// A plain server answering the ClientHello with HTTP and garbage.
		s2 := testutil.NewRawServer(t, func(_ int, c net.Conn) {
			go io.Copy(io.Discard, c)
			io.WriteString(c, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
			b := repeatBytes("garbage ", 32<<10)()
			for {
				if _, err := c.Write(b); err != nil {
					return
				}
			}
		})
		err := boundedFailure(t, "https://"+s2.Addr(), limit, &tls.Config{InsecureSkipVerify: true})
		if _, ok := err.(tls.RecordHeaderError); !ok { // unwrapped, as net/http returns it
			t.Errorf("err %T %v: want a tls.RecordHeaderError", err, err)
		}
	})
	t.Run("tls-to-plain-http-server", func(t *testing.T) {
		// net/http's plain server answers a ClientHello with a 400.
		srv := httptest.NewServer(http.NotFoundHandler())
		defer srv.Close()
		err := boundedFailure(t, strings.Replace(srv.URL, "http://", "https://", 1), limit, &tls.Config{InsecureSkipVerify: true})
		// http.Client turns this one into http.ErrSchemeMismatch, as with net/http.
		if _, ok := err.(tls.RecordHeaderError); !ok {
			t.Errorf("err %T %v: want a tls.RecordHeaderError", err, err)
		}
	})
}

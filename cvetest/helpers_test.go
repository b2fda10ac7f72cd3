package cvetest

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spoolhttp/spool/internal/testutil"
)

// withTimeout gives req a context that ends when the test does or after d.
func withTimeout(t testing.TB, req *http.Request, d time.Duration) *http.Request {
	ctx, cancel := context.WithTimeout(req.Context(), d)
	t.Cleanup(cancel)
	return req.WithContext(ctx)
}

// rawServer is a testutil.RawServer whose handler sees the raw socket and
// that counts every byte the clients sent it, so a test can prove that
// nothing at all reached it (Accepted counts the conns).
type rawServer struct {
	*testutil.RawServer
	bytes atomic.Int64 // bytes read from clients, over all conns
}

// rawConn is the server side of one conn; reads are counted.
type rawConn struct {
	net.Conn
	Index int
	s     *rawServer
	BR    *bufio.Reader
}

func (c *rawConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.s.bytes.Add(int64(n))
	return n, err
}

// Write sends s as is; errors are ignored (the client may have gone).
func (c *rawConn) WriteString(s string) { io.WriteString(c.Conn, s) }

// ReadRequest reads one request and its body (nil on error).
func (c *rawConn) ReadRequest() *http.Request {
	req, err := http.ReadRequest(c.BR)
	if err != nil {
		return nil
	}
	return req
}

// startRaw serves each accepted conn with h on its own goroutine until the
// test ends; the conn is closed when h returns.
func startRaw(t testing.TB, h func(c *rawConn)) *rawServer {
	t.Helper()
	s := &rawServer{}
	s.RawServer = testutil.NewRawServer(t, func(i int, nc net.Conn) {
		c := &rawConn{Conn: nc, Index: i, s: s}
		c.BR = bufio.NewReader(c)
		h(c)
	})
	return s
}

// replyAll answers every request on the conn with resp (raw bytes) until
// the client goes away.
func replyAll(resp string) func(c *rawConn) {
	return func(c *rawConn) {
		for {
			req := c.ReadRequest()
			if req == nil {
				return
			}
			io.Copy(io.Discard, req.Body)
			c.WriteString(resp)
		}
	}
}

// mapDialer sends every dial for a host name in m to its address, so tests
// can use distinct host names without DNS.
func mapDialer(m map[string]string) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		if to, ok := m[addr]; ok {
			addr = to
		}
		var nd net.Dialer
		return nd.DialContext(ctx, network, addr)
	}
}

// floodWriter writes unit to c until limit bytes are out or the client
// goes away; it returns how much was written.
func flood(c *rawConn, head, unit string, limit int) int {
	n, _ := io.WriteString(c.Conn, head)
	big := strings.Repeat(unit, max(1, 16<<10/len(unit)))
	for n < limit {
		m, err := io.WriteString(c.Conn, big)
		n += m
		if err != nil {
			break
		}
	}
	return n
}

// testCert is a self-signed certificate for 127.0.0.1 and localhost.
type testCert struct {
	cert tls.Certificate
	pool *x509.CertPool
}

var (
	certOnce sync.Once
	certVal  testCert
)

func loopbackCert(t testing.TB) testCert {
	t.Helper()
	certOnce.Do(func() {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			panic(err)
		}
		tmpl := &x509.Certificate{
			SerialNumber:          big.NewInt(1),
			Subject:               pkix.Name{CommonName: "spool cvetest"},
			NotBefore:             time.Now().Add(-time.Hour),
			NotAfter:              time.Now().Add(24 * time.Hour),
			IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
			DNSNames:              []string{"localhost", "a.example", "b.example"},
			IsCA:                  true,
			BasicConstraintsValid: true,
			KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
			ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
		if err != nil {
			panic(err)
		}
		leaf, _ := x509.ParseCertificate(der)
		pool := x509.NewCertPool()
		pool.AddCert(leaf)
		certVal = testCert{cert: tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool: pool}
	})
	return certVal
}

func (c testCert) serverConfig() *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{c.cert}}
}

func (c testCert) clientConfig() *tls.Config { return &tls.Config{RootCAs: c.pool} }

// noControlBytes fails the test if s holds a byte an attacker could use to
// forge a log line or drive a terminal (C0 controls, DEL).
func noControlBytes(t testing.TB, what, s string) {
	t.Helper()
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f {
			t.Errorf("%s holds raw control byte %#x at %d: %q", what, c, i, s)
			return
		}
	}
}

// syncList is a list of strings safe for concurrent appends.
type syncList struct {
	mu sync.Mutex
	l  []string
}

func (s *syncList) add(v string) { s.mu.Lock(); s.l = append(s.l, v); s.mu.Unlock() }
func (s *syncList) get() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.l...)
}

// closeCounter is a request body that counts Close calls.
type closeCounter struct {
	*strings.Reader
	closes atomic.Int32
}

func (b *closeCounter) Close() error { b.closes.Add(1); return nil }

func discardLogger() *log.Logger { return log.New(io.Discard, "", 0) }

func dialTCP(addr string) (net.Conn, error) { return net.DialTimeout("tcp", addr, 5*time.Second) }

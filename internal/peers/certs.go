package peers

import (
	"crypto/tls"
	"crypto/x509"
	"testing"

	"github.com/spoolhttp/spool/internal/testcert"
)

// writeCerts writes a fresh CA and server certificate into dir
// (internal/testcert) or fails the test.
func writeCerts(t testing.TB, dir string) testcert.Files {
	t.Helper()
	f, err := testcert.Write(dir)
	if err != nil {
		t.Fatalf("peers: %v", err)
	}
	return f
}

// clientTLS returns a client config that trusts pool; the certificate names
// both "localhost" and 127.0.0.1, so either host verifies.
func clientTLS(pool *x509.CertPool) *tls.Config {
	return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
}

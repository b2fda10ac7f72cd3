// Package conf is dot-imported into the generated copies of net/http's
// client tests. It holds the transport type the tests' Transport is
// rewritten into (chosen by build tag: conf_nethttp or conf_spool) and the
// stand-ins for net/http's export_test.go hooks whose meaning a test
// package outside net/http can keep. Hooks that reach into net/http's
// unexported state are deliberately absent: tests that use them do not
// compile here and are listed as needing net/http internals.
package conf

import (
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
	_ "unsafe" // go:linkname of net/http's unexported error values
)

// The unexported error values export_test.go re-exports, reached by
// linkname (the build passes -ldflags=-checklinkname=0). The tests compare
// with them through ConfErrIs/ConfErrEq, which the generator substitutes
// for errors.Is and ==.
var (
	//go:linkname ExportErrRequestCanceled net/http.errRequestCanceled
	ExportErrRequestCanceled error
	//go:linkname ExportErrRequestCanceledConn net/http.errRequestCanceledConn
	ExportErrRequestCanceledConn error
	//go:linkname ExportErrServerClosedIdle net/http.errServerClosedIdle
	ExportErrServerClosedIdle error
)

// CondSkipHTTP2 skips under the nethttpomithttp2 tag; the stdlib here is
// always built with HTTP/2.
func CondSkipHTTP2(t testing.TB) {}

// ExportHttp2ConfigureServer stands in for net/http's http2ConfigureServer:
// the server offers h2 by ALPN, and net/http's Server.Serve configures its
// own bundled HTTP/2 server for it (it does so whenever TLSNextProto is nil).
func ExportHttp2ConfigureServer(s *http.Server, conf any) error {
	if s.TLSConfig == nil {
		s.TLSConfig = new(tls.Config)
	}
	if len(s.TLSConfig.NextProtos) == 0 {
		s.TLSConfig.NextProtos = []string{"h2", "http/1.1"}
	}
	return nil
}

// ExportHttp2ConfigureTransport stands in for net/http's
// http2configureTransports: turn HTTP/2 on for this transport. The public
// switch with that meaning, on both transports, is ForceAttemptHTTP2.
func ExportHttp2ConfigureTransport(t *ConfTransport) error {
	t.ForceAttemptHTTP2 = true
	return nil
}

// SetRSTAvoidanceDelay tunes how long net/http's server waits between
// CloseWrite and Close. The real server here keeps its default (longer
// than the tests ask for), which only makes the server gentler.
func SetRSTAvoidanceDelay(t *testing.T, d time.Duration) {}

// ConfWithT stands in for (*Request).WithT, which only routes net/http's
// internal transport logging to t.Logf.
func ConfWithT(r *http.Request, t *testing.T) *http.Request { return r }

// ConfClient replaces ts.Client(): the server's client with its transport
// swapped for the one under test (a no-op on net/http). httptest.Server
// keeps the same *http.Client, so Close still closes its idle conns.
func ConfClient(ts *httptest.Server) *http.Client {
	c := ts.Client()
	if tr, ok := c.Transport.(*http.Transport); ok {
		c.Transport = fromHTTPTransport(tr)
	}
	return c
}

// ConfErrIs is errors.Is against one of net/http's unexported errors.
// spool cannot return those values; where it returns net/http's error
// text instead (DESIGN.md decision 7) the text stands in for identity.
func ConfErrIs(err, target error) bool {
	if errors.Is(err, target) {
		return true
	}
	if !matchByText || target == nil {
		return false
	}
	for e := err; e != nil; e = errors.Unwrap(e) {
		if e.Error() == target.Error() {
			return true
		}
	}
	return false
}

// ConfErrEq is err == target with the same stand-in as ConfErrIs.
func ConfErrEq(err, target error) bool {
	if err == target {
		return true
	}
	return matchByText && err != nil && target != nil && err.Error() == target.Error()
}

// ResponseWriterConnForTesting reaches the server's net.Conn behind w; a
// test package outside net/http cannot. It reports false, as net/http's
// does for its HTTP/2 ResponseWriter: hostPortHandler then writes only the
// client's address (a server-side detail, the same for both transports).
func ResponseWriterConnForTesting(w http.ResponseWriter) (net.Conn, bool) { return nil, false }

// NewLoggingConn is net/http's debug logging wrapper; the one test that
// uses it does so only when its debug constant is set.
func NewLoggingConn(baseName string, c net.Conn) net.Conn { return c }

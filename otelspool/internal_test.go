package otelspool

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
	"testing"

	"github.com/spoolhttp/spool"
)

func TestParseKey(t *testing.T) {
	for _, c := range []struct {
		key  string
		want origin
	}{
		{"https://example.com:443", origin{scheme: "https", host: "example.com", port: 443}},
		{"http://[::1]:8080", origin{scheme: "http", host: "::1", port: 8080}},
		{"http://bob:#0011aabb@proxy:3128|https://example.com:443",
			origin{scheme: "https", host: "example.com", port: 443, proxy: "http://proxy:3128"}},
		{"socks5://proxy:1080|http://a.test:80", origin{scheme: "http", host: "a.test", port: 80, proxy: "socks5://proxy:1080"}},
		{"not a key", origin{host: "not a key"}},
		{"http://noport", origin{scheme: "http", host: "noport"}},
	} {
		if got := parseKey(c.key); got != c.want {
			t.Errorf("parseKey(%q) = %+v, want %+v", c.key, got, c.want)
		}
	}
}

func TestSplitByProtocol(t *testing.T) {
	for _, c := range []struct {
		h              spool.HostStats
		a1, i1, a2, i2 int
	}{
		{spool.HostStats{Active: 2, Idle: 3}, 2, 3, 0, 0},
		{spool.HostStats{Active: 1, Idle: 1, H2Conns: 2, Streams: 5}, 0, 0, 1, 1},
		// Mixed: 1 h2 conn with streams is active; the rest are h1.
		{spool.HostStats{Active: 2, Idle: 2, H2Conns: 1, Streams: 3}, 1, 2, 1, 0},
		// Mixed, no streams: the h2 conn is idle.
		{spool.HostStats{Active: 1, Idle: 2, H2Conns: 1}, 1, 1, 0, 1},
		// Mixed, more h2 conns than idle ones: some must be active.
		{spool.HostStats{Active: 3, Idle: 1, H2Conns: 3}, 1, 0, 2, 1},
	} {
		a1, i1, a2, i2 := splitByProtocol(c.h)
		if a1 != c.a1 || i1 != c.i1 || a2 != c.a2 || i2 != c.i2 {
			t.Errorf("%+v: got %d %d %d %d, want %d %d %d %d", c.h, a1, i1, a2, i2, c.a1, c.i1, c.a2, c.i2)
		}
		if a1+a2 != c.h.Active || i1+i2 != c.h.Idle {
			t.Errorf("%+v: split does not add up", c.h)
		}
	}
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func TestErrorType(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	for _, c := range []struct {
		err    error
		status int
		want   string
	}{
		{nil, 200, ""},
		{nil, 302, ""},
		{nil, 404, "404"},
		{nil, 502, "502"},
		{context.Canceled, 0, "canceled"},
		{fmt.Errorf("x: %w", context.DeadlineExceeded), 0, "timeout"},
		{&net.OpError{Op: "read", Err: timeoutErr{}}, 0, "timeout"},
		{&net.DNSError{Err: "no such host", Name: "x.test", IsNotFound: true}, 0, "name_resolution_error"},
		{refused, 0, "connection_error"},
		{&spool.Error{Op: spool.OpDial, Err: refused}, 0, "connection_error"},
		{&tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}, 0, "secure_connection_error"},
		{&spool.Error{Op: spool.OpTLS, Err: errors.New("handshake")}, 0, "secure_connection_error"},
		{&spool.ProxyError{StatusCode: 407}, 0, "proxy_tunnel_error"},
		{&spool.ProtocolError{}, 0, "http_protocol_error"},
		{spool.ErrNoResponse, 0, "response_ended"},
		{spool.ErrWaitQueueFull, 0, "wait_queue_full"},
		{spool.ErrTransportClosed, 0, "transport_closed"},
		{errors.New("something else"), 0, "_OTHER"},
	} {
		if got := errorType(c.err, c.status); got != c.want {
			t.Errorf("errorType(%v, %d) = %q, want %q", c.err, c.status, got, c.want)
		}
	}
}

// TestInflightOverflow: past maxInflightSets, new host × method pairs share
// the overflow counter, and a request's +1 and -1 land on the same one.
func TestInflightOverflow(t *testing.T) {
	var f inflight
	target := func(i int) *spool.Target {
		return &spool.Target{Key: fmt.Sprintf("http://h%d.test:80", i), Scheme: "http", Host: fmt.Sprintf("h%d.test", i), Port: 80}
	}
	for i := range maxInflightSets {
		f.add(target(i), "GET", 1)
	}
	f.add(target(maxInflightSets), "GET", 1)
	f.add(target(maxInflightSets+1), "POST", 1)
	if got := len(f.m); got != maxInflightSets {
		t.Fatalf("%d sets, want %d", got, maxInflightSets)
	}
	if got := f.overflow.n.Load(); got != 2 {
		t.Fatalf("overflow %d, want 2", got)
	}
	f.add(target(maxInflightSets), "GET", -1)
	f.add(target(0), "GET", -1)
	if got, first := f.overflow.n.Load(), f.m[inflightKey{target(0).Key, "GET"}].n.Load(); got != 1 || first != 0 {
		t.Fatalf("overflow %d, first %d; want 1, 0", got, first)
	}
}

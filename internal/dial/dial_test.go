package dial

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/spoolhttp/spool/internal/errs"
)

func TestDialPlain(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hello")
	}))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())

	for _, host := range []string{"127.0.0.1", "localhost"} {
		t.Run(host, func(t *testing.T) {
			var tl traceLog
			d := New(Config{})
			res, err := d.Dial(tl.with(testCtx(t)), Target{Scheme: "http", Addr: net.JoinHostPort(host, port)})
			if err != nil {
				t.Fatal(err)
			}
			defer res.Conn.Close()
			if res.Proto != "" || res.TLS != nil || res.AbsoluteForm || res.ProxyAuth != "" {
				t.Errorf("plaintext result = %+v", res)
			}
			if _, ok := res.Conn.(*net.TCPConn); !ok {
				t.Errorf("conn is %T, want *net.TCPConn", res.Conn)
			}
			if got := get(t, res.Conn, host, "/", nil); got != "hello" {
				t.Errorf("body = %q", got)
			}
			wantDNS := 0
			if host == "localhost" {
				wantDNS = 1
			}
			// Every event exactly once per lookup/attempt (net fires them from the
			// nettrace hooks; spool must not fire them a second time).
			if tl.dnsStart != wantDNS || tl.dnsDone != wantDNS {
				t.Errorf("DNSStart/Done = %d/%d, want %d", tl.dnsStart, tl.dnsDone, wantDNS)
			}
			if tl.connectStart < 1 || tl.connectStart != tl.connectDone || tl.tlsStart != 0 {
				t.Errorf("ConnectStart/Done = %d/%d, TLSStart = %d", tl.connectStart, tl.connectDone, tl.tlsStart)
			}
		})
	}
}

func TestDialTLSALPN(t *testing.T) {
	h2 := newTLSOrigin(t, true)
	h1 := newTLSOrigin(t, false)
	tests := []struct {
		name   string
		srv    *httptest.Server
		offer  []string
		want   string
		wantIn string // body prefix of a request over the conn ("" skips)
	}{
		{"h2 server, h2 offered", h2, []string{"h2", "http/1.1"}, "h2", ""},
		// httptest's h2 server offers only "h2": no overlap, no ALPN, HTTP/1.1.
		{"h2 server, only http/1.1 offered", h2, []string{"http/1.1"}, "", "origin HTTP/1.1"},
		{"h1 server, h2 offered", h1, []string{"h2", "http/1.1"}, "http/1.1", "origin HTTP/1.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var tl traceLog
			d := New(Config{TLSClientConfig: &tls.Config{RootCAs: rootsFor(tt.srv)}, NextProtos: tt.offer})
			addr := tt.srv.Listener.Addr().String()
			res, err := d.Dial(tl.with(testCtx(t)), Target{Scheme: "https", Addr: addr})
			if err != nil {
				t.Fatal(err)
			}
			defer res.Conn.Close()
			if res.Proto != tt.want || res.TLS == nil || res.TLS.NegotiatedProtocol != tt.want {
				t.Fatalf("Proto = %q, want %q", res.Proto, tt.want)
			}
			if tt.wantIn != "" {
				if got := get(t, res.Conn, addr, "/", nil); !strings.HasPrefix(got, tt.wantIn) {
					t.Errorf("body = %q", got)
				}
			}
			if tl.tlsStart != 1 || tl.tlsDone != 1 || tl.lastTLSErr != nil {
				t.Errorf("TLS trace start/done = %d/%d err %v", tl.tlsStart, tl.tlsDone, tl.lastTLSErr)
			}
		})
	}
}

func TestTLSConfigNotMutated(t *testing.T) {
	srv := newTLSOrigin(t, true)
	cfg := &tls.Config{RootCAs: rootsFor(srv)}
	d := New(Config{TLSClientConfig: cfg, NextProtos: []string{"h2"}})
	res, err := d.Dial(testCtx(t), Target{Scheme: "https", Addr: srv.Listener.Addr().String()})
	if err != nil {
		t.Fatal(err)
	}
	res.Conn.Close()
	if cfg.ServerName != "" || cfg.NextProtos != nil || cfg.ClientSessionCache != nil {
		t.Errorf("caller's tls.Config was modified: %q %q %v", cfg.ServerName, cfg.NextProtos, cfg.ClientSessionCache)
	}
}

func TestSessionResumption(t *testing.T) {
	srv := newTLSOrigin(t, false)
	addr := srv.Listener.Addr().String()
	d := New(Config{TLSClientConfig: &tls.Config{RootCAs: rootsFor(srv)}, NextProtos: []string{"http/1.1"}})

	first, err := d.Dial(testCtx(t), Target{Scheme: "https", Addr: addr})
	if err != nil {
		t.Fatal(err)
	}
	if first.TLS.DidResume {
		t.Fatal("first handshake resumed")
	}
	// TLS 1.3 session tickets arrive after the handshake: one exchange makes
	// the client read (and store) them.
	get(t, first.Conn, addr, "/", nil)
	first.Conn.Close()

	second, err := d.Dial(testCtx(t), Target{Scheme: "https", Addr: addr})
	if err != nil {
		t.Fatal(err)
	}
	defer second.Conn.Close()
	if !second.TLS.DidResume {
		t.Error("second handshake did not resume the session")
	}

	// Another Dialer has its own cache: no resumption from d's sessions.
	other, err := New(d.cfg).Dial(testCtx(t), Target{Scheme: "https", Addr: addr})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Conn.Close()
	if other.TLS.DidResume {
		t.Error("a fresh Dialer resumed a session it never had")
	}
}

func TestTLSHandshakeTimeout(t *testing.T) {
	addr := silentListener(t)

	t.Run("TLSHandshakeTimeout", func(t *testing.T) {
		d := New(Config{TLSHandshakeTimeout: 100 * time.Millisecond})
		start := time.Now()
		_, err := d.Dial(testCtx(t), Target{Scheme: "https", Addr: addr})
		e := asDialErr(t, err, errs.OpTLS)
		var te *errs.TimeoutError
		if !e.Timeout() || !errors.Is(err, context.DeadlineExceeded) || !errors.As(err, &te) || te.What != "TLSHandshakeTimeout" {
			t.Errorf("not the handshake timeout: %v", err)
		}
		if e.Addr != addr {
			t.Errorf("Addr = %q, want %q", e.Addr, addr)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("took %v", d)
		}
	})
	t.Run("context deadline", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		_, err := New(Config{}).Dial(ctx, Target{Scheme: "https", Addr: addr})
		e := asDialErr(t, err, errs.OpTLS)
		var te *errs.TimeoutError
		if !e.Timeout() || !errors.Is(err, context.DeadlineExceeded) || errors.As(err, &te) {
			t.Errorf("want the context's deadline, got %v", err)
		}
	})
}

func TestTLSVerificationFailure(t *testing.T) {
	srv := newTLSOrigin(t, false)
	var tl traceLog
	_, err := New(Config{}).Dial(tl.with(testCtx(t)), Target{Scheme: "https", Addr: srv.Listener.Addr().String()})
	asDialErr(t, err, errs.OpTLS)
	var verr *tls.CertificateVerificationError
	var uerr x509.UnknownAuthorityError
	if !errors.As(err, &verr) || !errors.As(err, &uerr) {
		t.Errorf("verification error not reachable: %v", err)
	}
	if tl.tlsDone != 1 || tl.lastTLSErr == nil {
		t.Errorf("TLSHandshakeDone = %d, err %v", tl.tlsDone, tl.lastTLSErr)
	}
}

func TestDialTLSContext(t *testing.T) {
	srv := newTLSOrigin(t, true)
	roots := rootsFor(srv)
	var tl traceLog
	d := New(Config{
		NextProtos: []string{"http/1.1"}, // ignored: the custom dialer owns its config
		DialTLSContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			// Not handshaken: Dial must finish it.
			return tls.Client(c, &tls.Config{RootCAs: roots, ServerName: "example.com", NextProtos: []string{"h2"}}), nil
		},
	})
	res, err := d.Dial(tl.with(testCtx(t)), Target{Scheme: "https", Addr: srv.Listener.Addr().String()})
	if err != nil {
		t.Fatal(err)
	}
	defer res.Conn.Close()
	if res.Proto != "h2" || res.TLS == nil || !res.TLS.HandshakeComplete {
		t.Errorf("Proto %q TLS %v", res.Proto, res.TLS)
	}
	if tl.tlsStart != 1 || tl.tlsDone != 1 {
		t.Errorf("TLS trace start/done = %d/%d", tl.tlsStart, tl.tlsDone)
	}

	// A verification failure inside DialTLSContext is still Op tls.
	d = New(Config{DialTLSContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		return tls.DialWithDialer(&net.Dialer{}, network, addr, &tls.Config{ServerName: "example.com"})
	}})
	_, err = d.Dial(testCtx(t), Target{Scheme: "https", Addr: srv.Listener.Addr().String()})
	asDialErr(t, err, errs.OpTLS)
}

func TestDNSFailure(t *testing.T) {
	var tl traceLog
	_, err := New(Config{}).Dial(tl.with(testCtx(t)), Target{Scheme: "http", Addr: "nonexistent.invalid:80"})
	e := asDialErr(t, err, errs.OpDial)
	var dnsErr *net.DNSError
	if !errors.As(err, &dnsErr) || !dnsErr.IsNotFound {
		t.Fatalf("want a not-found *net.DNSError, got %v", err)
	}
	if e.Addr != "nonexistent.invalid:80" {
		t.Errorf("Addr = %q", e.Addr)
	}
	if tl.dnsStart != 1 || tl.dnsDone != 1 || tl.connectStart != 0 {
		t.Errorf("trace DNS %d/%d connect %d", tl.dnsStart, tl.dnsDone, tl.connectStart)
	}
}

func TestConnectionRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()

	var tl traceLog
	_, err = New(Config{}).Dial(tl.with(testCtx(t)), Target{Scheme: "http", Addr: addr})
	e := asDialErr(t, err, errs.OpDial)
	if !errors.Is(err, syscall.ECONNREFUSED) || e.Timeout() || e.Addr != addr {
		t.Errorf("want connection refused at %s, got %v", addr, err)
	}
	if tl.connectStart != 1 || tl.connectDone != 1 {
		t.Errorf("ConnectStart/Done = %d/%d, want one attempt", tl.connectStart, tl.connectDone)
	}
}

func TestDialContextExpired(t *testing.T) {
	ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	for _, addr := range []string{"127.0.0.1:1", "localhost:1"} {
		_, err := New(Config{}).Dial(ctx, Target{Scheme: "http", Addr: addr})
		e := asDialErr(t, err, errs.OpDial)
		if !errors.Is(err, context.DeadlineExceeded) || !e.Timeout() {
			t.Errorf("%s: want DeadlineExceeded, got %v", addr, err)
		}
	}
}

func TestCustomDialContextError(t *testing.T) {
	boom := errors.New("boom")
	d := New(Config{DialContext: func(context.Context, string, string) (net.Conn, error) { return nil, boom }})
	_, err := d.Dial(testCtx(t), Target{Scheme: "https", Addr: "example.com:443"})
	if e := asDialErr(t, err, errs.OpDial); !errors.Is(err, boom) || e.Addr != "example.com:443" {
		t.Errorf("got %v", err)
	}
}

func TestInvalidTargets(t *testing.T) {
	d := New(Config{})
	for _, tt := range []struct {
		target Target
		op     string
	}{
		{Target{Scheme: "ftp", Addr: "a:1"}, errs.OpDial},
		{Target{Scheme: "http", Addr: "no-port"}, errs.OpDial},
		{Target{Scheme: "http", Addr: ":80"}, errs.OpDial},
		{Target{Scheme: "http", Addr: "a:80", Proxy: mustURL("ftp://p:1")}, errs.OpProxy},
		{Target{Scheme: "http", Addr: "a:80", Proxy: mustURL("http://:8080")}, errs.OpProxy},
	} {
		_, err := d.Dial(testCtx(t), tt.target)
		asDialErr(t, err, tt.op)
	}
}

func TestTLSHost(t *testing.T) {
	for in, want := range map[string]string{
		"example.com:443":  "example.com",
		"[::1]:443":        "::1",
		"[fe80::1%lo]:443": "fe80::1",
		"127.0.0.1:8443":   "127.0.0.1",
	} {
		if got := tlsHost(in); got != want {
			t.Errorf("tlsHost(%q) = %q, want %q", in, got, want)
		}
	}
}

// A lookup that never answers is cut off by ctx, through the context spool
// hands the resolver (which hides ctx's values but keeps its deadline).
func TestResolverHonorsContext(t *testing.T) {
	stalled := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	var tl traceLog
	_, err := New(Config{Resolver: stalled}).Dial(tl.with(ctx), Target{Scheme: "http", Addr: "stalled.test:80"})
	asDialErr(t, err, errs.OpDial)
	var dnsErr *net.DNSError
	if !errors.Is(err, context.DeadlineExceeded) || !errors.As(err, &dnsErr) {
		t.Errorf("want a DNS error matching DeadlineExceeded, got %v", err)
	}
	if tl.dnsStart != 1 || tl.dnsDone != 1 || tl.connectStart != 0 {
		t.Errorf("trace DNS %d/%d connect %d (name server dials must not show)", tl.dnsStart, tl.dnsDone, tl.connectStart)
	}
}

// Addresses are tried in resolver order; a refused one falls through to the
// next, and each attempt is traced.
func TestDialFallsBackToNextAddress(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "second address")
	}))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	// 127.0.0.2 is loopback too, but nothing listens there.
	resolver, wait := fakeResolver("127.0.0.2", "127.0.0.1")
	defer wait()

	var tl traceLog
	res, err := New(Config{Resolver: resolver}).Dial(tl.with(testCtx(t)), Target{Scheme: "http", Addr: "multi.test:" + port})
	if err != nil {
		t.Fatal(err)
	}
	defer res.Conn.Close()
	if got := get(t, res.Conn, "multi.test", "/", nil); got != "second address" {
		t.Errorf("body = %q", got)
	}
	want := []string{"127.0.0.2:" + port, "127.0.0.1:" + port}
	if tl.dnsStart != 1 || tl.connectDone != 2 || !slices.Equal(tl.connectAddrs, want) {
		t.Errorf("DNS %d, connects %v (done %d), want %v", tl.dnsStart, tl.connectAddrs, tl.connectDone, want)
	}
}

package spool_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/spoolhttp/spool"
	"github.com/spoolhttp/spool/internal/testutil"
)

// The regression tests of issue 11 bugs 15 and 3 (DESIGN decision 7): for
// the same fault, spool's error has the shape of net/http's. Each case
// runs against both transports, configured alike, and compares:
//   - a sentinel (context.Canceled, io.EOF, io.ErrUnexpectedEOF, the
//     caller's own error) must be the same value, unwrapped;
//   - a public type of the standard library (*net.OpError,
//     *tls.CertificateVerificationError, ...) must be the same type,
//     unwrapped, with the same fields where they do not name addresses;
//   - net/http's own errors (unexported types, errors.New, fmt.Errorf) must
//     have the same text;
//   - and either way the same net.Error answers: Timeout and Temporary.

// knobs is the configuration both transports get.
type knobs struct {
	tls       *tls.Config
	proxy     func(*http.Request) (*url.URL, error)
	dial      func(ctx context.Context, network, addr string) (net.Conn, error)
	rht, tlht time.Duration
	maxHeader int64
}

func (k knobs) std() *http.Transport {
	return &http.Transport{TLSClientConfig: k.tls, Proxy: k.proxy, DialContext: k.dial,
		ResponseHeaderTimeout: k.rht, TLSHandshakeTimeout: k.tlht, MaxResponseHeaderBytes: k.maxHeader}
}

func (k knobs) spool() *spool.Transport {
	return &spool.Transport{TLSClientConfig: k.tls, Proxy: k.proxy, DialContext: k.dial,
		ResponseHeaderTimeout: k.rht, TLSHandshakeTimeout: k.tlht, MaxResponseHeaderBytes: k.maxHeader}
}

// fault is one case: do runs a request on rt and returns the error the
// caller sees (from RoundTrip or from reading the body).
type fault struct {
	name string
	k    knobs
	do   func(t *testing.T, rt http.RoundTripper) error
}

func TestErrorsAreNetHTTPs(t *testing.T) {
	for _, f := range errorFaults(t) {
		t.Run(f.name, func(t *testing.T) {
			std, sp := f.k.std(), f.k.spool()
			defer std.CloseIdleConnections()
			defer sp.Close()
			want := f.do(t, std)
			got := f.do(t, sp)
			if want == nil {
				t.Fatalf("net/http: no error; the case is wrong")
			}
			sameShape(t, want, got)
		})
	}
}

// sameShape fails t unless got has want's shape (see the file comment).
func sameShape(t *testing.T, want, got error) {
	t.Helper()
	if got == nil {
		t.Fatalf("spool: no error; net/http: %T %v", want, want)
	}
	wt, gt := reflect.TypeOf(want), reflect.TypeOf(got)
	switch {
	case isSentinel(want):
		if got != want {
			t.Errorf("spool: %T %q; net/http: the sentinel %q itself", got, got, want)
		}
	case ownType(wt):
		if got.Error() != want.Error() {
			t.Errorf("spool: %q; net/http: %q", got, want)
		}
	default:
		if gt != wt {
			t.Errorf("spool: %T %q; net/http: %T %q", got, got, want, want)
		}
		// net/http's TestTransportDialPreservesNetOpProxyError: the same
		// Op and Net around the same kind of cause.
		if wo, ok := want.(*net.OpError); ok {
			if g, ok := got.(*net.OpError); ok && (g.Op != wo.Op || g.Net != wo.Net || reflect.TypeOf(g.Err) != reflect.TypeOf(wo.Err)) {
				t.Errorf("spool: %#v; net/http: %#v", g, wo)
			}
		}
	}
	wn, wok := want.(net.Error)
	gn, gok := got.(net.Error)
	if wok != gok || wok && (wn.Timeout() != gn.Timeout() || wn.Temporary() != gn.Temporary()) {
		t.Errorf("net.Error: spool %T %v; net/http %T %v", got, gok, want, wok)
	}
}

var errBodyRead = errors.New("the request body's own error")

func isSentinel(err error) bool {
	switch err {
	case context.Canceled, context.DeadlineExceeded, io.EOF, io.ErrUnexpectedEOF, errBodyRead:
		return true
	}
	return false
}

// ownType: an error type of net/http's own or a plain errors.New or
// fmt.Errorf, compared by text.
func ownType(t reflect.Type) bool {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.PkgPath() {
	case "net/http", "errors", "fmt":
		return true
	}
	return false
}

// roundTrip runs req and reads the whole body: the first error either gives.
func roundTrip(rt http.RoundTripper, req *http.Request) error {
	resp, err := rt.RoundTrip(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, err = io.ReadAll(resp.Body)
	return err
}

func getErr(url string) func(*testing.T, http.RoundTripper) error {
	return func(t *testing.T, rt http.RoundTripper) error {
		return roundTrip(rt, testutil.NewRequest(t, "GET", url, nil))
	}
}

// rawAnswer is a server that reads a request head and writes answer.
func rawAnswer(t *testing.T, answer string) string {
	s := testutil.NewRawServer(t, func(_ int, c net.Conn) {
		br := bufio.NewReader(c)
		for {
			line, err := br.ReadString('\n')
			if err != nil || line == "\r\n" {
				break
			}
		}
		io.WriteString(c, answer)
	})
	return s.URL()
}

// rawKeepAlive answers every GET on a conn with an empty 200; a POST it
// never answers, reading what comes (as a handler reading the body first):
// the outcome is the client's, never a race with an early response.
func rawKeepAlive(t *testing.T) string {
	s := testutil.NewRawServer(t, func(_ int, c net.Conn) {
		br := bufio.NewReader(c)
		post := false
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				return
			}
			switch {
			case strings.HasPrefix(line, "POST "):
				post = true
			case line == "\r\n" && post:
				io.Copy(io.Discard, br)
				return
			case line == "\r\n":
				io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
			}
		}
	})
	return s.URL()
}

// stall is a server that accepts and never writes.
func stall(t *testing.T) string {
	s := testutil.NewRawServer(t, func(_ int, c net.Conn) { io.Copy(io.Discard, c) })
	return s.Addr()
}

func withReq(method, url string, mod func(*http.Request)) func(*testing.T, http.RoundTripper) error {
	return func(t *testing.T, rt http.RoundTripper) error {
		req := testutil.NewRequest(t, method, url, nil)
		mod(req)
		return roundTrip(rt, req)
	}
}

func errorFaults(t *testing.T) []fault {
	ok := rawAnswer(t, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
	tlsSrv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(tlsSrv.Close)
	refused := closedPort(t)
	stalled := stall(t)
	errDial := errors.New("some dial error")
	connect := func(answer string) func(*http.Request) (*url.URL, error) {
		return http.ProxyURL(&url.URL{Scheme: "http", Host: strings.TrimPrefix(rawAnswer(t, answer), "http://")})
	}
	cancelled := func(r *http.Request) {
		ctx, cancel := context.WithCancel(r.Context())
		cancel()
		*r = *r.WithContext(ctx)
	}
	expired := func(r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), -time.Second)
		cancel()
		*r = *r.WithContext(ctx)
	}
	return []fault{
		// Refused before anything is dialed.
		{"invalid header name", knobs{}, withReq("GET", ok, func(r *http.Request) { r.Header["💡"] = []string{"x"} })},
		{"invalid header value", knobs{}, withReq("GET", ok, func(r *http.Request) { r.Header.Set("Key", "\x19") })},
		{"invalid trailer name", knobs{}, withReq("GET", ok, func(r *http.Request) { r.Trailer = http.Header{"\r\nTrx": {"x"}} })},
		{"invalid trailer value", knobs{}, withReq("GET", ok, func(r *http.Request) { r.Trailer = http.Header{"Trx": {"x\r\nY"}} })},
		{"invalid method", knobs{}, withReq("GET", ok, func(r *http.Request) { r.Method = "G E T" })},
		{"unsupported scheme", knobs{}, withReq("GET", ok, func(r *http.Request) { r.URL.Scheme = "faux" })},
		{"no host", knobs{}, withReq("GET", ok, func(r *http.Request) { r.URL.Host, r.Host = "", "" })},
		{"nil URL", knobs{}, withReq("GET", ok, func(r *http.Request) { r.URL = nil })},
		{"nil header", knobs{}, withReq("GET", ok, func(r *http.Request) { r.Header = nil })},
		{"canceled", knobs{}, withReq("GET", ok, cancelled)},
		{"deadline", knobs{}, withReq("GET", ok, expired)},
		// Dialing.
		{"connection refused", knobs{}, getErr("http://" + refused + "/")},
		{"proxy dial error", knobs{proxy: http.ProxyURL(&url.URL{Scheme: "http", Host: "proxy.fake.tld"}),
			dial: func(context.Context, string, string) (net.Conn, error) { return nil, errDial }}, getErr("http://fake.tld/")},
		{"CONNECT refused", knobs{proxy: connect("HTTP/1.1 403 Forbidden\r\n\r\n")}, getErr("https://golang.example/")},
		{"CONNECT no status text", knobs{proxy: connect("HTTP/1.1 400\r\n\r\n")}, getErr("https://golang.example/")},
		{"TLS verification", knobs{}, getErr(tlsSrv.URL)},
		{"TLS handshake timeout", knobs{tlht: 50 * time.Millisecond}, getErr("https://" + stalled + "/")},
		{"TLS to a plain server", knobs{}, getErr("https://" + testutil.NewRawServer(t, func(_ int, c net.Conn) {
			io.WriteString(c, "HTTP/1.1 400 Bad Request\r\n\r\n") // at once: a plain server answering the ClientHello
		}).Addr() + "/")},
		// The exchange.
		{"response header timeout", knobs{rht: 50 * time.Millisecond}, getErr("http://" + stalled + "/")},
		{"closed before any byte", knobs{}, getErr(rawAnswer(t, ""))},
		{"malformed status line", knobs{}, getErr(rawAnswer(t, "SSH-2.0-OpenSSH_9.2\r\n\r\n"))},
		{"headers past the limit", knobs{maxHeader: 512}, getErr(rawAnswer(t, "HTTP/1.1 200 OK\r\nLong: "+strings.Repeat("a", 1024)+"\r\n\r\n"))},
		{"sign in Content-Length", knobs{}, getErr(rawAnswer(t, "HTTP/1.1 200 OK\r\nContent-Length: +3\r\n\r\nabc"))},
		{"request body read error", knobs{}, func(t *testing.T, rt http.RoundTripper) error {
			// On a reused conn, as net/http's TestTransportBodyReadError: not
			// retried, the body's error itself.
			keepAlive := rawKeepAlive(t)
			if err := roundTrip(rt, testutil.NewRequest(t, "GET", keepAlive, nil)); err != nil {
				t.Fatal(err)
			}
			body := &countingBody{Reader: errReader{}}
			req := testutil.NewRequest(t, "POST", keepAlive, nil)
			req.Body = body
			err := roundTrip(rt, req)
			if n := body.closes.Load(); n != 1 {
				t.Errorf("%T: request body closed %d times, want 1", rt, n)
			}
			return err
		}},
		// The body.
		{"short body", knobs{}, getErr(rawAnswer(t, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort"))},
		{"gzip cut short", knobs{}, getErr(rawAnswer(t, "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 2\r\n\r\n\x1f\x8b"))},
		{"read after close", knobs{}, func(t *testing.T, rt http.RoundTripper) error {
			resp, err := rt.RoundTrip(testutil.NewRequest(t, "GET", ok, nil))
			if err != nil {
				return err
			}
			resp.Body.Close()
			_, err = resp.Body.Read(make([]byte, 1))
			return err
		}},
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errBodyRead }

// Over the three modes: a cancelled request, a deadline and a certificate
// nobody trusts give net/http's errors on HTTP/2 too.
func TestErrorsAreNetHTTPsOverModes(t *testing.T) {
	forEachMode(t, func(w http.ResponseWriter, r *http.Request) {}, nil, func(t *testing.T, s *modeServer) {
		for _, c := range []struct {
			name string
			mod  func(*http.Request)
			want error
		}{
			{"canceled", func(r *http.Request) {
				ctx, cancel := context.WithCancel(r.Context())
				cancel()
				*r = *r.WithContext(ctx)
			}, context.Canceled},
			{"deadline", func(r *http.Request) {
				ctx, cancel := context.WithTimeout(r.Context(), -1)
				cancel()
				*r = *r.WithContext(ctx)
			}, context.DeadlineExceeded},
		} {
			req := testutil.NewRequest(t, "GET", s.URL, nil)
			c.mod(req)
			if _, err := s.tr.RoundTrip(req); err != c.want {
				t.Errorf("%s: err %T %v, want %v unwrapped", c.name, err, err, c.want)
			}
		}
		req := testutil.NewRequest(t, "GET", s.URL, nil)
		req.Header["💡"] = []string{"x"}
		if _, err := s.tr.RoundTrip(req); err == nil || err.Error() != `net/http: invalid header field name "💡"` {
			t.Errorf("invalid header: %v", err)
		}
		if s.TLS != nil {
			tr := &spool.Transport{ForceAttemptHTTP2: true}
			defer tr.Close()
			_, err := tr.RoundTrip(testutil.NewRequest(t, "GET", s.URL, nil))
			var ve *tls.CertificateVerificationError
			if !errors.As(err, &ve) || err != error(ve) {
				t.Errorf("untrusted certificate: %T %v, want a *tls.CertificateVerificationError", err, err)
			}
		}
	})
}

// A body Read cut by the caller's context gives the context's error
// itself on every mode, HTTP/2 included (net/http's persistConn returns
// pc.canceled()'s cause; its HTTP/2 body, the context's error).
func TestBodyReadCanceledOverModes(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	forEachMode(t, func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("part"))
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}, nil, func(t *testing.T, s *modeServer) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		resp, err := s.tr.RoundTrip(testutil.NewRequest(t, "GET", s.URL, nil).WithContext(ctx))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		buf := make([]byte, 4)
		if _, err := io.ReadFull(resp.Body, buf); err != nil {
			t.Fatal(err)
		}
		cancel()
		if _, err := resp.Body.Read(buf); err != context.Canceled {
			t.Errorf("Read after cancel: %T %v, want context.Canceled unwrapped", err, err)
		}
	})
}

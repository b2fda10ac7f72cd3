package dial

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/spoolhttp/spool/internal/errs"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// testTimeout bounds every test dial so a bug fails the test instead of
// hanging the binary.
const testTimeout = 10 * time.Second

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// rootsFor returns a pool trusting srv's certificate (httptest uses one
// certificate for every server, valid for 127.0.0.1, ::1 and example.com).
func rootsFor(srv *httptest.Server) *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	return pool
}

// newTLSOrigin starts an https origin answering "origin <proto> <Proxy-Authorization>".
func newTLSOrigin(t *testing.T, h2 bool) *httptest.Server {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "origin "+r.Proto+" ["+r.Header.Get("Proxy-Authorization")+"]")
	}))
	srv.EnableHTTP2 = h2
	srv.Config.ErrorLog = quietLog // failed handshakes are what some tests are about
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

// get does one HTTP/1.1 GET over conn and returns the body. target is the
// request target: a path, or an absolute URL for a proxy.
func get(t *testing.T, conn net.Conn, host, target string, extra http.Header) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("GET " + target + " HTTP/1.1\r\nHost: " + host + "\r\n")
	extra.Write(&b)
	b.WriteString("\r\n")
	conn.SetDeadline(time.Now().Add(testTimeout))
	defer conn.SetDeadline(time.Time{})
	if _, err := io.WriteString(conn, b.String()); err != nil {
		t.Fatalf("write request: %v", err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return string(body)
}

// asDialErr checks that err is an *errs.Error with op and returns it.
func asDialErr(t *testing.T, err error, op string) *errs.Error {
	t.Helper()
	if err == nil {
		t.Fatalf("want an error with Op %q, got nil", op)
	}
	e, ok := err.(*errs.Error)
	if !ok {
		t.Fatalf("error %T is not *errs.Error: %v", err, err)
	}
	if e.Op != op {
		t.Fatalf("Op = %q, want %q (%v)", e.Op, op, err)
	}
	return e
}

// traceLog counts httptrace events.
type traceLog struct {
	mu                        sync.Mutex
	dnsStart, dnsDone         int
	connectStart, connectDone int
	tlsStart, tlsDone         int
	connectAddrs              []string
	lastTLSErr                error
}

func (l *traceLog) with(ctx context.Context) context.Context {
	lock := func(f func()) { l.mu.Lock(); defer l.mu.Unlock(); f() }
	return httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		DNSStart: func(httptrace.DNSStartInfo) { lock(func() { l.dnsStart++ }) },
		DNSDone:  func(httptrace.DNSDoneInfo) { lock(func() { l.dnsDone++ }) },
		ConnectStart: func(_, addr string) {
			lock(func() { l.connectStart++; l.connectAddrs = append(l.connectAddrs, addr) })
		},
		ConnectDone:       func(_, _ string, _ error) { lock(func() { l.connectDone++ }) },
		TLSHandshakeStart: func() { lock(func() { l.tlsStart++ }) },
		TLSHandshakeDone: func(_ tls.ConnectionState, err error) {
			lock(func() { l.tlsDone++; l.lastTLSErr = err })
		},
	})
}

// connTracker closes every conn a test server hijacked or accepted and
// waits for the goroutines serving them, so goleak sees none left.
type connTracker struct {
	mu    sync.Mutex
	conns []net.Conn
	wg    sync.WaitGroup
}

func (ct *connTracker) add(c net.Conn) {
	ct.mu.Lock()
	ct.conns = append(ct.conns, c)
	ct.mu.Unlock()
}

func (ct *connTracker) closeAll() {
	ct.mu.Lock()
	for _, c := range ct.conns {
		c.Close()
	}
	ct.mu.Unlock()
	ct.wg.Wait()
}

// splice relays a and b until either side ends, then closes both.
func (ct *connTracker) splice(a, b net.Conn) {
	ct.add(a)
	ct.add(b)
	var once sync.Once
	closeBoth := func() { once.Do(func() { a.Close(); b.Close() }) }
	ct.wg.Add(2)
	go func() { defer ct.wg.Done(); io.Copy(a, b); closeBoth() }()
	go func() { defer ct.wg.Done(); io.Copy(b, a); closeBoth() }()
}

// connectProxy is an HTTP proxy written with net/http: CONNECT tunnels and
// absolute-form requests (answered by the proxy itself with what it saw).
type connectProxy struct {
	wantAuth string // required Proxy-Authorization; "" requires none
	status   int    // when non-zero, every request is refused with it

	mu       sync.Mutex
	requests []*http.Request // method, RequestURI and headers of each request seen
	tunnels  connTracker
}

func (p *connectProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	p.requests = append(p.requests, &http.Request{Method: r.Method, RequestURI: r.RequestURI, Host: r.Host, Header: r.Header.Clone()})
	p.mu.Unlock()
	if p.wantAuth != "" && r.Header.Get("Proxy-Authorization") != p.wantAuth {
		w.Header().Set("Proxy-Authenticate", `Basic realm="test"`)
		http.Error(w, "auth please", http.StatusProxyAuthRequired)
		return
	}
	if p.status != 0 {
		http.Error(w, "refused", p.status)
		return
	}
	if r.Method != http.MethodConnect {
		io.WriteString(w, "proxied "+r.RequestURI)
		return
	}
	dst, err := net.Dial("tcp", r.Host)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	c, _, err := w.(http.Hijacker).Hijack()
	if err != nil {
		dst.Close()
		return
	}
	io.WriteString(c, "HTTP/1.1 200 Connection established\r\n\r\n")
	p.tunnels.splice(c, dst)
}

func (p *connectProxy) seen() []*http.Request {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]*http.Request(nil), p.requests...)
}

// startProxy serves p over plain HTTP, or HTTPS when secure.
func startProxy(t *testing.T, p *connectProxy, secure bool) (*httptest.Server, *url.URL) {
	srv := httptest.NewUnstartedServer(p)
	srv.Config.ErrorLog = quietLog
	if secure {
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(func() { srv.Close(); p.tunnels.closeAll() })
	u, _ := url.Parse(srv.URL)
	return srv, u
}

// scriptedProxy accepts conns, reads one request head and then plays reply
// (nil: never answers, holding the conn open until cleanup) and closes.
func scriptedProxy(t *testing.T, reply []byte) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var ct connTracker
	ct.wg.Add(1)
	go func() {
		defer ct.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			ct.add(c)
			ct.wg.Add(1)
			go func() {
				defer ct.wg.Done()
				br := bufio.NewReader(c)
				for {
					line, err := br.ReadString('\n')
					if err != nil || line == "\r\n" {
						break
					}
				}
				if reply == nil {
					io.Copy(io.Discard, br) // hold until the client or cleanup closes
					return
				}
				c.Write(reply)
				c.Close()
			}()
		}
	}()
	t.Cleanup(func() { ln.Close(); ct.closeAll() })
	return ln.Addr().String()
}

// silentListener accepts conns and never writes a byte.
func silentListener(t *testing.T) string {
	return scriptedProxy(t, nil)
}

var quietLog = log.New(io.Discard, "", 0)

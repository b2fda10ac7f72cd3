package cvetest

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spoolhttp/spool"
	"github.com/spoolhttp/spool/internal/testutil"
)

// sniffListener serves TLS and plaintext on one port: a conn whose first
// byte is a TLS handshake record (0x16) is wrapped in tls.Server.
type sniffListener struct {
	net.Listener
	cfg *tls.Config
}

type peekedConn struct {
	net.Conn
	br *bufio.Reader
}

func (c *peekedConn) Read(p []byte) (int, error) { return c.br.Read(p) }

func (l *sniffListener) Accept() (net.Conn, error) {
	for {
		nc, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		nc.SetReadDeadline(time.Now().Add(5 * time.Second))
		br := bufio.NewReader(nc)
		b, err := br.Peek(1)
		nc.SetReadDeadline(time.Time{})
		if err != nil {
			nc.Close()
			continue
		}
		pc := &peekedConn{Conn: nc, br: br}
		if b[0] == 0x16 {
			return tls.Server(pc, l.cfg), nil
		}
		return pc, nil
	}
}

// startDualServer answers on one port in plaintext and TLS with
// "conn=N tls=BOOL", N the serial number of the conn.
func startDualServer(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns atomic.Int64
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, "conn=%d tls=%v", r.Context().Value(connKey{}), r.TLS != nil)
		}),
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			return context.WithValue(ctx, connKey{}, conns.Add(1))
		},
		ErrorLog: discardLogger(),
	}
	done := make(chan struct{})
	go func() { srv.Serve(&sniffListener{Listener: ln, cfg: loopbackCert(t).serverConfig()}); close(done) }()
	t.Cleanup(func() { srv.Close(); <-done })
	return ln.Addr().String()
}

func fetch(t *testing.T, tr http.RoundTripper, u string, hdr ...string) string {
	t.Helper()
	req := withTimeout(t, testutil.NewRequest(t, "GET", u, nil), 10*time.Second)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: body: %v", u, err)
	}
	return string(b)
}

// curl CVE-2021-22924 / CVE-2026-4873, requests CVE-2024-35195: a conn set
// up for one configuration (plaintext vs TLS, a proxy, proxy credentials,
// certificate verification) was reused for a request that asked for
// another. spool's pool key is scheme + host:port + proxy + proxy
// credentials; these tests prove each part separates conns, and that
// reuse inside one key still happens (so the separation is not an
// accident of no reuse at all).
func TestCVE_2021_22924_ConnReuseAcrossConfigs(t *testing.T) {
	t.Run("http and https to one host:port", func(t *testing.T) {
		addr := startDualServer(t)
		tr := testutil.NewTransport(t, &spool.Transport{TLSClientConfig: loopbackCert(t).clientConfig()})
		var got []string
		for _, scheme := range []string{"http", "https", "http", "https", "https", "http"} {
			got = append(got, fetch(t, tr, scheme+"://"+addr+"/"))
		}
		want := []string{"conn=1 tls=false", "conn=2 tls=true", "conn=1 tls=false", "conn=2 tls=true", "conn=2 tls=true", "conn=1 tls=false"}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("got %q\nwant %q", got, want)
		}
		st := tr.Stats()
		for _, k := range []string{"http://" + addr, "https://" + addr} {
			if h, ok := st.Hosts[k]; !ok || h.Dials != 1 || h.Requests != 3 {
				t.Errorf("Stats[%q] = %+v (present %v), want 1 dial and 3 requests", k, h, ok)
			}
		}
	})

	t.Run("different proxies per request", func(t *testing.T) {
		o := startOrigin(t, true, func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, r.Context().Value(connKey{}))
		})
		pa, pb := startProxy(t), startProxy(t)
		routes := map[string]*url.URL{
			"a": {Scheme: "http", Host: pa.Addr()},
			"b": {Scheme: "http", Host: pb.Addr()},
		}
		tr := testutil.NewTransport(t, &spool.Transport{
			TLSClientConfig: loopbackCert(t).clientConfig(),
			Proxy:           func(r *http.Request) (*url.URL, error) { return routes[r.Header.Get("X-Route")], nil },
		})
		conn := map[string]string{}
		for _, route := range []string{"a", "b", "direct", "a", "b", "direct"} {
			c := fetch(t, tr, o.URL+"/", "X-Route", route)
			if prev, ok := conn[route]; ok && prev != c {
				t.Errorf("route %s: origin conn %s then %s, want reuse", route, prev, c)
			}
			for r, oc := range conn {
				if r != route && oc == c {
					t.Fatalf("route %s got origin conn %s, already used by route %s", route, c, r)
				}
			}
			conn[route] = c
		}
		if na, nb := len(pa.log.get()), len(pb.log.get()); na != 1 || nb != 1 {
			t.Fatalf("proxies saw %d and %d CONNECTs, want 1 each", na, nb)
		}
		if n := len(tr.Stats().Hosts); n != 3 {
			t.Errorf("Stats has %d keys, want 3: %v", n, keys(tr.Stats()))
		}
	})

	creds := []*url.Userinfo{
		url.UserPassword("alice", "pw-one"),
		url.UserPassword("alice", "pw-two"),
		url.UserPassword("bob", "pw-one"),
		nil,
	}
	credProxy := func(p *proxyServer) func(r *http.Request) (*url.URL, error) {
		return func(r *http.Request) (*url.URL, error) {
			i, _ := strconv.Atoi(r.Header.Get("X-User"))
			return &url.URL{Scheme: "http", Host: p.Addr(), User: creds[i]}, nil
		}
	}
	wantAuth := func(i int) string {
		if creds[i] == nil {
			return ""
		}
		pw, _ := creds[i].Password()
		return basic(creds[i].Username(), pw)
	}

	t.Run("proxy credentials per request, CONNECT", func(t *testing.T) {
		o := startOrigin(t, true, nil)
		p := startProxy(t)
		tr := testutil.NewTransport(t, &spool.Transport{TLSClientConfig: loopbackCert(t).clientConfig(), Proxy: credProxy(p)})
		order := []int{0, 1, 2, 3, 0, 1, 2, 3}
		for _, i := range order {
			fetch(t, tr, o.URL+"/", "X-User", strconv.Itoa(i))
		}
		// One tunnel per credential, each opened with its own credential:
		// a tunnel authenticated as alice must never carry bob's request.
		log := p.log.get()
		if len(log) != 4 {
			t.Fatalf("proxy saw %d CONNECTs, want 4: %q", len(log), log)
		}
		for i, line := range log {
			f := strings.SplitN(line, " ", 4)
			if f[0] != strconv.Itoa(i) || f[1] != "CONNECT" || f[3] != wantAuth(i) {
				t.Errorf("CONNECT %d: %q, want conn %d with %q", i, line, i, wantAuth(i))
			}
		}
		if n := len(o.seen()); n != len(order) {
			t.Fatalf("origin saw %d requests", n)
		}
		noSecretsInStats(t, tr)
	})

	t.Run("proxy credentials per request, absolute-form", func(t *testing.T) {
		p := startProxy(t)
		tr := testutil.NewTransport(t, &spool.Transport{Proxy: credProxy(p)})
		order := []int{0, 1, 2, 3, 3, 2, 1, 0}
		for _, i := range order {
			fetch(t, tr, "http://a.example/", "X-User", strconv.Itoa(i))
		}
		log := p.log.get()
		if len(log) != len(order) {
			t.Fatalf("proxy saw %d requests, want %d", len(log), len(order))
		}
		connOf := map[int]string{}
		for n, line := range log {
			f := strings.SplitN(line, " ", 4)
			i := order[n]
			if f[3] != wantAuth(i) {
				t.Errorf("request %d (user %d) carried %q, want %q", n, i, f[3], wantAuth(i))
			}
			if prev, ok := connOf[i]; ok && prev != f[0] {
				t.Errorf("user %d: proxy conn %s then %s, want reuse", i, prev, f[0])
			}
			for j, c := range connOf {
				if j != i && c == f[0] {
					t.Errorf("user %d sent on proxy conn %s, used by user %d", i, c, j)
				}
			}
			connOf[i] = f[0]
		}
		noSecretsInStats(t, tr)
	})

	t.Run("proxy passwords with colliding key hashes", func(t *testing.T) {
		// fnv32a("pw-795809") == fnv32a("pw-1054732") == 1208818057; the
		// hash also shows in Stats keys, so a colliding password is a
		// 2^32 search away for anyone who can read Stats.
		o := startOrigin(t, true, nil)
		p := startProxy(t)
		users := []*url.Userinfo{url.UserPassword("alice", "pw-795809"), url.UserPassword("alice", "pw-1054732")}
		tr := testutil.NewTransport(t, &spool.Transport{
			TLSClientConfig: loopbackCert(t).clientConfig(),
			Proxy: func(r *http.Request) (*url.URL, error) {
				i, _ := strconv.Atoi(r.Header.Get("X-User"))
				return &url.URL{Scheme: "http", Host: p.Addr(), User: users[i]}, nil
			},
		})
		fetch(t, tr, o.URL+"/", "X-User", "0")
		fetch(t, tr, o.URL+"/", "X-User", "1")
		if log := p.log.get(); len(log) != 2 {
			t.Errorf("proxy saw %q: the second password's request went through the first password's tunnel", log)
		}
		// The route cache has the same key: an absolute-form request made
		// with the second password must carry the second password.
		fetch(t, tr, "http://a.example/", "X-User", "0")
		fetch(t, tr, "http://a.example/", "X-User", "1")
		log := p.log.get()
		if got, want := log[len(log)-1], basic("alice", "pw-1054732"); !strings.HasSuffix(got, " "+want) {
			t.Errorf("request made with alice:pw-1054732 reached the proxy as %q, want %q", got, want)
		}
	})

	t.Run("certificate verification is per Transport", func(t *testing.T) {
		// A Transport that trusts the test CA connects; one that does not
		// must fail its own handshake, whatever the first one has cached.
		o := startOrigin(t, true, nil)
		trusting := testutil.NewTransport(t, &spool.Transport{TLSClientConfig: loopbackCert(t).clientConfig()})
		fetch(t, trusting, o.URL+"/")
		strict := trusting.Clone()
		strict.TLSClientConfig = nil
		testutil.NewTransport(t, strict)
		resp, err := strict.RoundTrip(withTimeout(t, testutil.NewRequest(t, "GET", o.URL+"/", nil), 5*time.Second))
		if err == nil {
			resp.Body.Close()
			t.Fatal("untrusted certificate accepted")
		}
		var ve *tls.CertificateVerificationError
		if !errors.As(err, &ve) {
			t.Errorf("err = %T %v, want a *tls.CertificateVerificationError", err, err)
		}
		if n := len(o.seen()); n != 1 {
			t.Fatalf("origin saw %d requests, want 1", n)
		}
	})
}

func keys(s spool.Stats) []string {
	var k []string
	for h := range s.Hosts {
		k = append(k, h)
	}
	return k
}

// noSecretsInStats: Stats keys separate credentials without showing them.
func noSecretsInStats(t *testing.T, tr *spool.Transport) {
	t.Helper()
	for _, k := range keys(tr.Stats()) {
		if strings.Contains(k, "pw-one") || strings.Contains(k, "pw-two") {
			t.Errorf("Stats key %q shows a proxy password", k)
		}
	}
}

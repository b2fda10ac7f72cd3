package spool_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spoolhttp/spool"
	"github.com/spoolhttp/spool/internal/testutil"
)

// Root behaviour runs over three modes: HTTP/1.1, HTTP/1.1 over TLS and
// HTTP/2 (TLS + ALPN). The server is net/http's, counting its conns.
type mode struct {
	name  string
	proto int // expected resp.ProtoMajor
	tls   bool
	h2    bool
}

var modes = []mode{{"h1", 1, false, false}, {"h1-tls", 1, true, false}, {"h2", 2, true, true}}

type modeServer struct {
	*httptest.Server
	conns atomic.Int32 // conns the server accepted
	tr    *spool.Transport
}

func forEachMode(t *testing.T, h http.HandlerFunc, cfg func(*spool.Transport), f func(t *testing.T, s *modeServer)) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			s := &modeServer{Server: httptest.NewUnstartedServer(h)}
			s.Config.ConnState = func(c net.Conn, st http.ConnState) {
				if st == http.StateNew {
					s.conns.Add(1)
				}
			}
			s.EnableHTTP2 = m.h2
			s.tr = &spool.Transport{}
			if m.tls {
				s.StartTLS()
				pool := s.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
				s.tr.TLSClientConfig = &tls.Config{RootCAs: pool}
				s.tr.ForceAttemptHTTP2 = m.h2
			} else {
				s.Start()
			}
			if cfg != nil {
				cfg(s.tr)
			}
			t.Cleanup(func() { s.tr.Close(); s.Close() })
			f(t, s)
		})
	}
}

func protoOf(t *testing.T) int {
	if strings.HasSuffix(t.Name(), "/h2") {
		return 2
	}
	return 1
}

func TestModesReuseAndProto(t *testing.T) {
	forEachMode(t, func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hello "+r.Proto)
	}, nil, func(t *testing.T, s *modeServer) {
		c := &http.Client{Transport: s.tr}
		var wg sync.WaitGroup
		for i := 0; i < 50; i++ {
			resp, err := c.Get(s.URL)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.ProtoMajor != protoOf(t) || !strings.HasPrefix(string(b), "hello HTTP/") {
				t.Fatalf("proto %d body %q", resp.ProtoMajor, b)
			}
		}
		wg.Wait()
		if n := s.conns.Load(); n != 1 {
			t.Fatalf("server accepted %d conns for 50 sequential requests", n)
		}
		st := s.tr.Stats().Total
		if st.Requests != 50 || st.Dials != 1 {
			t.Fatalf("stats %+v", st)
		}
	})
}

// Concurrent requests: h1 opens a conn per concurrent request, h2
// multiplexes them on one.
func TestModesConcurrent(t *testing.T) {
	gate := make(chan struct{})
	var arrived atomic.Int32
	forEachMode(t, func(w http.ResponseWriter, r *http.Request) {
		if arrived.Add(1)%8 == 0 {
			close(gate)
		}
		<-gate
		io.WriteString(w, r.URL.Path)
	}, nil, func(t *testing.T, s *modeServer) {
		arrived.Store(0)
		gate = make(chan struct{})
		var wg sync.WaitGroup
		for i := 0; i < 8; i++ {
			wg.Go(func() {
				resp, err := s.tr.RoundTrip(testutil.NewRequest(t, "GET", s.URL+"/x", nil))
				if err != nil {
					t.Error(err)
					return
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if string(b) != "/x" {
					t.Errorf("body %q", b)
				}
			})
		}
		wg.Wait()
		want := int32(8)
		if protoOf(t) == 2 {
			want = 1
		}
		if n := s.conns.Load(); n != want {
			t.Fatalf("server saw %d conns, want %d", n, want)
		}
	})
}

// Uploads and downloads arrive intact (hash checked), gzip is decoded.
func TestModesBodiesIntact(t *testing.T) {
	payload := bytes.Repeat([]byte("0123456789abcdefghij"), 100_000) // 2 MB
	sum := sha256.Sum256(payload)
	forEachMode(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/echo": // full duplex: the answer streams while the upload does
			http.NewResponseController(w).EnableFullDuplex()
			io.Copy(w, r.Body)
		case "/gzip":
			w.Header().Set("Content-Encoding", "gzip")
			zw := gzip.NewWriter(w)
			zw.Write(payload)
			zw.Close()
		}
	}, nil, func(t *testing.T, s *modeServer) {
		for _, c := range []struct {
			path string
			body io.Reader
		}{{"/echo", bytes.NewReader(payload)}, {"/echo", io.MultiReader(bytes.NewReader(payload))}, {"/gzip", nil}} {
			method := "POST"
			if c.body == nil {
				method = "GET"
			}
			resp, err := s.tr.RoundTrip(testutil.NewRequest(t, method, s.URL+c.path, c.body))
			if err != nil {
				t.Fatal(err)
			}
			h := sha256.New()
			_, err = io.Copy(h, resp.Body)
			resp.Body.Close()
			if err != nil || !bytes.Equal(h.Sum(nil), sum[:]) {
				t.Fatalf("%s: body corrupted (err %v)", c.path, err)
			}
		}
	})
}

func TestModesContract(t *testing.T) {
	forEachMode(t, func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(503)
	}, nil, func(t *testing.T, s *modeServer) {
		body := &countingBody{Reader: strings.NewReader("data")}
		req := testutil.NewRequest(t, "PUT", s.URL, nil)
		req.Body, req.ContentLength = body, 4
		resp, err := s.tr.RoundTrip(req)
		if err != nil || resp.StatusCode != 503 {
			t.Fatalf("503 must be a response: %v", err)
		}
		resp.Body.Close()
		// x/net may close it from its writer goroutine after RoundTrip
		// returns, which the RoundTripper contract allows.
		testutil.WaitFor(t, "req.Body to be closed", func() bool { return body.closes.Load() >= 1 })
		if body.closes.Load() != 1 {
			t.Fatalf("req.Body closed %d times", body.closes.Load())
		}
	})
}

// Cancelling the context mid-body makes Read return promptly with the
// context's error.
func TestModesCancelMidBody(t *testing.T) {
	forEachMode(t, func(w http.ResponseWriter, r *http.Request) {
		w.Write(make([]byte, 1000))
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	}, nil, func(t *testing.T, s *modeServer) {
		ctx, cancel := context.WithCancel(context.Background())
		resp, err := s.tr.RoundTrip(testutil.NewRequest(t, "GET", s.URL, nil).WithContext(ctx))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		io.ReadFull(resp.Body, make([]byte, 1000))
		time.AfterFunc(20*time.Millisecond, cancel)
		start := time.Now()
		_, err = io.Copy(io.Discard, resp.Body)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err %v, want context.Canceled", err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("cancel took %v", d)
		}
	})
}

// A body dropped without Close is reclaimed in every mode: HTTP/1 closes
// the conn; HTTP/2 resets the stream and keeps the conn.
func TestModesForgottenBody(t *testing.T) {
	forEachMode(t, func(w http.ResponseWriter, r *http.Request) {
		w.Write(make([]byte, 100<<10)) // more than fits a socket buffer in one go
	}, func(tr *spool.Transport) { tr.OnLeakedBody = func(string, string) {} }, func(t *testing.T, s *modeServer) {
		func() {
			resp, err := s.tr.RoundTrip(testutil.NewRequest(t, "GET", s.URL, nil))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Read(make([]byte, 10))
		}()
		deadline := time.Now().Add(5 * time.Second)
		for s.tr.Stats().Total.LeakedBodies == 0 {
			if time.Now().After(deadline) {
				t.Fatal("not reclaimed")
			}
			runtime.GC()
			time.Sleep(time.Millisecond)
		}
		resp, err := s.tr.RoundTrip(testutil.NewRequest(t, "GET", s.URL, nil))
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		st := s.tr.Stats().Total
		wantDials := int64(2)
		if protoOf(t) == 2 {
			wantDials = 1
		}
		if st.Dials != wantDials || st.Active != 0 {
			t.Fatalf("after reclaim: %+v", st)
		}
	})
}

func TestH2StatsStreams(t *testing.T) {
	release := make(chan struct{})
	forEachMode(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(200)
		w.(http.Flusher).Flush()
		<-release
	}, nil, func(t *testing.T, s *modeServer) {
		if protoOf(t) != 2 {
			t.Skip("HTTP/2 only")
		}
		var bodies []io.Closer
		for i := 0; i < 3; i++ {
			resp, err := s.tr.RoundTrip(testutil.NewRequest(t, "GET", s.URL, nil))
			if err != nil {
				t.Fatal(err)
			}
			bodies = append(bodies, resp.Body)
		}
		st := s.tr.Stats().Total
		if st.H2Conns != 1 || st.Streams != 3 || st.Active != 1 {
			t.Fatalf("3 streams on one h2 conn: %+v", st)
		}
		for _, b := range bodies {
			b.Close()
		}
		close(release)
		if st := s.tr.Stats().Total; st.Streams != 0 || st.Idle != 1 {
			t.Fatalf("after close: %+v", st)
		}
	})
}

// h2c with prior knowledge: Protocols with only UnencryptedHTTP2 speaks
// HTTP/2 to an http:// origin on one conn.
func TestH2CPriorKnowledge(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.Proto)
	}))
	srv.Config.Protocols = new(http.Protocols)
	srv.Config.Protocols.SetUnencryptedHTTP2(true)
	srv.Start()
	defer srv.Close()
	p := new(http.Protocols)
	p.SetUnencryptedHTTP2(true)
	tr := &spool.Transport{Protocols: p}
	defer tr.Close()
	c := &http.Client{Transport: tr}
	for i := 0; i < 3; i++ {
		if _, got := testutil.Get(t, c, srv.URL); got != "HTTP/2.0" {
			t.Fatalf("server saw %q", got)
		}
	}
	if st := tr.Stats().Total; st.Dials != 1 || st.H2Conns != 1 {
		t.Fatalf("stats %+v", st)
	}
}

// HTTP/2 with a server limit of 2 streams per conn: held requests open a
// new conn when streams run out, and MaxConnsPerHost counts conns, not
// streams (golang/go#34941): at 2 conns the fifth request waits.
func TestH2StreamsExhaustedAndMaxConns(t *testing.T) {
	release := make(chan struct{})
	var inHandler atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inHandler.Add(1)
		<-release
		io.WriteString(w, "ok")
	}))
	var open, maxOpen atomic.Int32 // server-side conns open now, and at most
	srv.Config.ConnState = func(c net.Conn, st http.ConnState) {
		switch st {
		case http.StateNew:
			n := open.Add(1)
			for m := maxOpen.Load(); n > m && !maxOpen.CompareAndSwap(m, n); m = maxOpen.Load() {
			}
		case http.StateClosed, http.StateHijacked:
			open.Add(-1)
		}
	}
	srv.EnableHTTP2 = true
	srv.Config.HTTP2 = &http.HTTP2Config{MaxConcurrentStreams: 2}
	srv.StartTLS()
	defer srv.Close()
	pool := srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
	tr := &spool.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true, MaxConnsPerHost: 2}
	defer tr.Close()
	warm, _, err := fetchAllWith(tr, srv.URL, release)
	if err != nil || warm != 200 {
		t.Fatal(err)
	}
	inHandler.Store(0)
	release = make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 5)
	for i := 0; i < 5; i++ {
		wg.Go(func() {
			_, body, err := fetchAll(tr, testutil.NewRequest(t, "GET", srv.URL, nil))
			if err == nil && string(body) != "ok" {
				err = errors.New("body " + string(body))
			}
			errs <- err
		})
	}
	testutil.WaitFor(t, "4 requests in the handler", func() bool { return inHandler.Load() == 4 })
	// The fifth waits: in the pool's queue, or inside x/net for a stream
	// slot when it was placed on the second conn before that conn's
	// SETTINGS arrived. Either way no third conn is opened.
	st := tr.Stats().Total
	if st.H2Conns != 2 || st.Dials != 2 {
		close(release)
		wg.Wait()
		t.Fatalf("with 4 streams held on a 2-stream server and MaxConnsPerHost 2: %+v", st)
	}
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := maxOpen.Load(); n > 2 {
		t.Fatalf("server had %d conns open at once, MaxConnsPerHost is 2; %+v", n, tr.Stats().Total)
	}
}

// fetchAllWith makes one request while the handler is released at once.
func fetchAllWith(rt http.RoundTripper, url string, release chan struct{}) (int, []byte, error) {
	close(release)
	req, _ := http.NewRequest("GET", url, nil)
	return fetchAll(rt, req)
}

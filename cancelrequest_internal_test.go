package spool

import (
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"
)

// inFlight counts the requests registered for CancelRequest.
func (st *state) inFlight() int {
	n := 0
	for i := range st.flights {
		sh := &st.flights[i]
		sh.mu.Lock()
		n += len(sh.m)
		sh.mu.Unlock()
	}
	return n
}

// TestCancelRequestRegistryEmptiesOnEveryEnd: a request leaves the
// CancelRequest registry however it ends (body at EOF, early Close, no
// body, RoundTrip's error, a body dropped and reclaimed, Request.Cancel,
// HTTP/2), so the registry holds only requests in flight and pins nothing.
func TestCancelRequestRegistryEmptiesOnEveryEnd(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/empty" {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		io.WriteString(w, strings.Repeat("x", 64<<10))
	}))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()
	pool := srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
	for _, h2 := range []bool{false, true} {
		tr := &Transport{ForceAttemptHTTP2: h2, OnLeakedBody: func(string, string) {}}
		tr.TLSClientConfig = srv.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
		tr.TLSClientConfig.RootCAs = pool
		if !h2 {
			tr.TLSClientConfig.NextProtos = nil
			p := new(http.Protocols)
			p.SetHTTP1(true)
			tr.Protocols = p
		}
		st := tr.state()
		check := func(what string) {
			t.Helper()
			if n := st.inFlight(); n != 0 {
				t.Fatalf("h2=%v, %s: %d requests still registered", h2, what, n)
			}
		}
		get := func(path string, cancel chan struct{}) *http.Response {
			t.Helper()
			req, _ := http.NewRequest("GET", srv.URL+path, nil)
			req.Cancel = cancel
			resp, err := tr.RoundTrip(req)
			if err != nil {
				t.Fatalf("h2=%v %s: %v", h2, path, err)
			}
			return resp
		}
		resp := get("/", nil)
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		check("body read to EOF")
		get("/", nil).Body.Close()
		check("early Close")
		get("/empty", nil).Body.Close()
		check("no body")
		resp = get("/", make(chan struct{}))
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		check("Request.Cancel set")
		req, _ := http.NewRequest("GET", "http://127.0.0.1:1/", nil) // nothing listens
		if _, err := tr.RoundTrip(req); err == nil {
			t.Fatal("RoundTrip to a closed port succeeded")
		}
		check("RoundTrip error")
		func() { _ = get("/", nil) }() // dropped without Close
		deadline := time.Now().Add(10 * time.Second)
		for st.inFlight() != 0 && time.Now().Before(deadline) {
			runtime.GC()
			time.Sleep(time.Millisecond)
		}
		check("body dropped and reclaimed")
		tr.Close()
	}
}

// TestCancelRequestBeforeExchangeStarts: a CancelRequest that lands
// between the pool handing over a conn and the exchange starting on it
// (onH1 before the conn's watch) cancels the exchange as it starts, with
// net/http's error; the conn is not reused.
func TestCancelRequestBeforeExchangeStarts(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	tr := &Transport{}
	defer tr.Close()
	warm, _ := http.NewRequest("GET", srv.URL, nil)
	resp, err := tr.RoundTrip(warm) // an idle conn: the next Get takes it without queueing
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	req, _ := http.NewRequest("GET", srv.URL, nil)
	st := tr.state()
	// No conn yet: only the flag and the pool's queue.
	if err := canceledBeforeExchange(t, tr, req, false); err != ErrRequestCanceled {
		t.Fatalf("RoundTrip after an early CancelRequest: %v, want ErrRequestCanceled", err)
	}
	if s := tr.Stats().Total; s.Idle != 0 || s.Active != 0 {
		t.Fatalf("the cancelled exchange's conn: idle %d active %d, want it closed", s.Idle, s.Active)
	}
	if st.inFlight() != 0 {
		t.Fatal("flight left registered")
	}
	resp, err = tr.RoundTrip(req) // the same request, sent again: a new flight
	if err != nil {
		t.Fatalf("the request sent again: %v", err)
	}
	resp.Body.Close()
}

// TestCancelRequestBeforeStreamStarts: on HTTP/2 a CancelRequest that
// lands before the stream opens keeps it from opening; the conn's slot is
// given back and the conn carries the next request.
func TestCancelRequestBeforeStreamStarts(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()
	tr := &Transport{ForceAttemptHTTP2: true, TLSClientConfig: srv.Client().Transport.(*http.Transport).TLSClientConfig.Clone()}
	defer tr.Close()
	warm, _ := http.NewRequest("GET", srv.URL, nil)
	resp, err := tr.RoundTrip(warm)
	if err != nil || resp.ProtoMajor != 2 {
		t.Fatalf("warm-up: %v (HTTP/2: %v)", err, err == nil && resp.ProtoMajor == 2)
	}
	resp.Body.Close()
	req, _ := http.NewRequest("GET", srv.URL, nil)
	if err := canceledBeforeExchange(t, tr, req, true); err != ErrRequestCanceled {
		t.Fatalf("RoundTrip after an early CancelRequest: %v, want ErrRequestCanceled", err)
	}
	if s := tr.Stats(); s.Total.Active != 0 || s.Total.Streams != 0 || s.H2.Streams != 1 {
		t.Fatalf("after the cancelled stream: active %d, streams %d, started %d; want 0, 0, 1 (the warm-up)",
			s.Total.Active, s.Total.Streams, s.H2.Streams)
	}
	resp, err = tr.RoundTrip(req)
	if err != nil {
		t.Fatalf("the request sent again: %v", err)
	}
	resp.Body.Close()
	if s := tr.Stats().Total; s.Dials != 1 {
		t.Fatalf("%d dials, want the one conn throughout", s.Dials)
	}
}

// BenchmarkCancelRequestRegistry is what the registry costs a request:
// register, mark its conn, unregister (no allocation; the shard locks
// are spread over flightShards cache lines). Parallel runs it from every P.
// canceledBeforeExchange registers req's flight, calls CancelRequest
// before the request reaches a conn, runs it, and returns its public error
// (h2: as the HTTP/2 path returns it).
func canceledBeforeExchange(t *testing.T, tr *Transport, req *http.Request, h2 bool) error {
	t.Helper()
	st := tr.state()
	r, err := st.route(req)
	if err != nil {
		t.Fatal(err)
	}
	f := st.startFlight(req, r.key)
	tr.CancelRequest(req)
	_, err = st.roundTripRoute(req, r, f)
	st.endFlight(f)
	return publicErr(req, err, h2)
}

func BenchmarkCancelRequestRegistry(b *testing.B) {
	tr := &Transport{}
	st := tr.state()
	cycle := func(req *http.Request) { // what a request costs the registry
		f := st.startFlight(req, "k")
		f.onH2(nil, req)
		st.endFlight(f)
	}
	b.Run("serial", func(b *testing.B) {
		req, _ := http.NewRequest("GET", "http://x.test/", nil)
		b.ReportAllocs()
		for b.Loop() {
			cycle(req)
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			req, _ := http.NewRequest("GET", "http://x.test/", nil) // one per goroutine
			for pb.Next() {
				cycle(req)
			}
		})
	})
}

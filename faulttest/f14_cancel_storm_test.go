package faulttest

import (
	"context"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spoolhttp/spool"
	"github.com/spoolhttp/spool/internal/testutil"
)

var stormPhases = []string{"dial", "tls", "header-write", "body-write", "await-headers", "read-body", "random"}

func stormHandler(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	chunk := strings.Repeat("r", 32<<10)
	io.WriteString(w, chunk)
	w.(http.Flusher).Flush()
	io.WriteString(w, chunk)
}

// cancelBody is a request body that cancels the request after its first Read.
type cancelBody struct {
	left   int
	cancel func()
	reads  int
}

func (b *cancelBody) Read(p []byte) (int, error) {
	if b.left == 0 {
		return 0, io.EOF
	}
	if b.reads++; b.reads == 2 {
		b.cancel()
	}
	n := min(len(p), b.left)
	for i := range n {
		p[i] = 'u'
	}
	b.left -= n
	return n, nil
}
func (b *cancelBody) Close() error { return nil }

// stormOne sends one request to url and cancels it in phase.
func stormOne(t *testing.T, tr *spool.Transport, url, phase string) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var once sync.Once
	fire := func() { once.Do(cancel) }
	trace := &httptrace.ClientTrace{}
	switch phase {
	case "dial":
		trace.ConnectStart = func(string, string) { fire() }
	case "tls":
		trace.TLSHandshakeStart = fire
	case "header-write":
		trace.WroteHeaderField = func(string, []string) { fire() }
	case "await-headers":
		trace.WroteRequest = func(httptrace.WroteRequestInfo) { fire() }
	case "random":
		time.AfterFunc(rand.N(2*time.Millisecond), fire)
	}
	ctx = httptrace.WithClientTrace(ctx, trace)
	var body io.ReadCloser
	method := "GET"
	if phase == "body-write" || rand.N(4) == 0 {
		method = "POST"
		b := &cancelBody{left: 256 << 10, cancel: func() {}}
		if phase == "body-write" {
			b.cancel = fire
		}
		body = b
	}
	req, _ := http.NewRequestWithContext(ctx, method, url, body)
	resp, err := tr.RoundTrip(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	buf := make([]byte, 1024)
	if _, err := resp.Body.Read(buf); err != nil {
		return err
	}
	if phase == "read-body" {
		fire()
	}
	_, err = io.Copy(io.Discard, resp.Body)
	return err
}

type stormTarget struct {
	name string
	tr   *spool.Transport
	url  string
	h2   bool
}

// TestF14_CancellationStorm: 10,000 requests, each cancelled in one phase
// (dial, TLS, header write, body write, awaiting headers, reading body, or
// at a random instant), over plain HTTP/1, HTTP/1 over TLS and HTTP/2
// (ForceAttemptHTTP2 against httptest's TLS server with EnableHTTP2): no
// panic, no race, no leak; then 1,000 normal requests on the same
// transports with 0 errors, so no cancelled exchange left a poisoned conn
// in the pool.
func TestF14_CancellationStorm(t *testing.T) {
	base := runtime.NumGoroutine()
	total, normal := scale(10000, 1000), scale(1000, 200)
	plain := httptest.NewServer(http.HandlerFunc(stormHandler))
	secure := httptest.NewTLSServer(http.HandlerFunc(stormHandler))
	h2srv := httptest.NewUnstartedServer(http.HandlerFunc(stormHandler))
	h2srv.EnableHTTP2 = true
	h2srv.StartTLS()
	h1cfg := secure.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
	h1cfg.NextProtos = []string{"http/1.1"}
	h2cfg := h2srv.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
	h2cfg.NextProtos = nil
	targets := []stormTarget{
		{"h1", &spool.Transport{MaxConnsPerHost: 32}, plain.URL, false},
		{"h1+tls", &spool.Transport{MaxConnsPerHost: 32, TLSClientConfig: h1cfg}, secure.URL, false},
		{"h2", &spool.Transport{ForceAttemptHTTP2: true, TLSClientConfig: h2cfg}, h2srv.URL, true},
	}

	// Does spool negotiate h2? If not, the h2 target is dropped (and said so).
	resp, err := targets[2].tr.RoundTrip(testutil.NewRequest(t, "GET", h2srv.URL, nil))
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.ProtoMajor != 2 {
		t.Logf("spool negotiated %s with ForceAttemptHTTP2 against an h2 server: storming h1 only", resp.Proto)
		targets[2].tr.Close()
		targets = targets[:2]
	}

	var cancelled, completed atomic.Int64
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= total {
					return
				}
				phase := stormPhases[i%len(stormPhases)]
				// Three in five on plain h1, one on h1+tls, one on h2; every
				// TLS-phase one over TLS.
				tg := targets[0]
				switch k := i % 5; {
				case k == 3 || phase == "tls" && k%2 == 0:
					tg = targets[1]
				case k == 4 || phase == "tls":
					tg = targets[len(targets)-1]
				}
				if err := stormOne(t, tg.tr, tg.url, phase); err != nil {
					cancelled.Add(1)
				} else {
					completed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	t.Logf("storm: %d requests, %d cancelled, %d completed first", total, cancelled.Load(), completed.Load())

	var failed atomic.Int64
	next.Store(0)
	for range 16 {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= normal {
					return
				}
				tg := targets[i%len(targets)]
				if err := stormOne(t, tg.tr, tg.url, "none"); err != nil {
					if failed.Add(1) <= 5 {
						t.Errorf("%s: normal request %d after the storm: %v", tg.name, i, err)
					}
				}
			}
		})
	}
	wg.Wait()
	if f := failed.Load(); f > 0 {
		t.Errorf("%d of %d normal requests failed after the storm", f, normal)
	}
	for _, tg := range targets {
		st := tg.tr.Stats().Total
		t.Logf("%s: dials %d reuses %d closes %+v", tg.name, st.Dials, st.Reuses, st.Closes)
		if tg.h2 {
			resp, err := tg.tr.RoundTrip(testutil.NewRequest(t, "GET", tg.url, nil))
			if err != nil || resp.ProtoMajor != 2 {
				t.Errorf("h2 after the storm: %v", err)
			} else {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}
		tg.tr.Close()
	}
	plain.Close()
	secure.Close()
	h2srv.Close()
	waitGoroutines(t, base)
}

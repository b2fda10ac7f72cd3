package peertest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spoolhttp/spool"
	"github.com/spoolhttp/spool/internal/peers"
	"github.com/spoolhttp/spool/internal/testutil"
)

// HTTP/2 against nginx (TLS, ALPN h2): what users of an HTTP/2 origin rely
// on, each asserted from both sides (nginx's access log and spool's Stats).

func h2Transport(n *peers.Nginx) *spool.Transport {
	return &spool.Transport{TLSClientConfig: n.TLSConfig(), ForceAttemptHTTP2: true}
}

func sum(b []byte) string { h := sha256.Sum256(b); return hex.EncodeToString(h[:]) }

// get reads url to the end; it fails unless the answer is 200 over HTTP/2.
func get(c *http.Client, url string) ([]byte, *http.Response, error) {
	resp, err := c.Get(url)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err == nil && (resp.StatusCode != 200 || resp.ProtoMajor != 2) {
		err = &statusError{resp.Status, resp.Proto}
	}
	return b, resp, err
}

type statusError struct{ status, proto string }

func (e *statusError) Error() string { return e.status + " over " + e.proto }

// Many concurrent streams of mixed sizes on one conn, each body intact
// (the 1 MiB /big by checksum), and nginx's http2_max_concurrent_streams
// respected: after the conn's SETTINGS spool never has more streams open
// than nginx allows, so nginx refuses none. (MaxConnsPerHost 1 keeps the
// burst on one conn; without it spool, like net/http, dials another conn
// when one is full.)
func TestNginxH2ManyStreams(t *testing.T) {
	const limit = 8
	n := peers.StartNginx(t, peers.NginxOptions{HTTP2: true, H2MaxConcurrentStreams: limit, KeepaliveRequests: 10000})
	tr := h2Transport(n)
	tr.MaxConnsPerHost = 1
	defer tr.Close()
	c := client(tr)
	if _, _, err := get(c, n.TLSURL("/")); err != nil { // the conn and nginx's SETTINGS
		t.Fatal(err)
	}
	bigSum := sum(peers.BigBody())
	var maxStreams atomic.Int64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() { // samples the streams in flight while the burst runs
		defer close(sampled)
		for {
			select {
			case <-stop:
				return
			default:
			}
			if s := int64(tr.Stats().Total.Streams); s > maxStreams.Load() {
				maxStreams.Store(s)
			}
			time.Sleep(100 * time.Microsecond)
		}
	}()
	const requests = 300
	var wg sync.WaitGroup
	for i := range requests {
		wg.Go(func() {
			path, want := "/", "hello, world"
			if i%10 == 0 {
				path = "/big"
			}
			b, _, err := get(c, n.TLSURL(path))
			switch {
			case err != nil:
				t.Errorf("GET %s: %v", path, err)
			case path == "/big" && sum(b) != bigSum:
				t.Errorf("/big: %d bytes, checksum differs", len(b))
			case path == "/" && string(b) != want:
				t.Errorf("/: %q", b)
			}
		})
	}
	wg.Wait()
	close(stop)
	<-sampled
	log := n.WaitAccessLog(t, requests+1)
	if conns := peers.Connections(log); conns != 1 {
		t.Fatalf("nginx saw %d connections for %d h2 requests", conns, requests+1)
	}
	st := tr.Stats()
	t.Logf("up to %d streams in flight (limit %d)", maxStreams.Load(), limit)
	if m := maxStreams.Load(); m > limit || m < 2 {
		t.Fatalf("up to %d streams in flight, want 2..%d (nginx's http2_max_concurrent_streams)", m, limit)
	}
	if st.Total.Dials != 1 || st.H2.NotProcessed != 0 || st.Total.Requests != requests+1 {
		t.Fatalf("dials %d, refused/replayed %d, requests %d: want 1, 0, %d", st.Total.Dials, st.H2.NotProcessed, st.Total.Requests, requests+1)
	}
}

// A 1 MiB upload through nginx's HTTP/2 (its flow-control windows) reaches
// the upstream intact, and the 1 MiB download arrives intact, both checked
// by SHA-256.
func TestNginxH2UploadDownload(t *testing.T) {
	var got atomic.Value // the upstream's checksum of the last upload
	up := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		got.Store(sum(b))
		io.WriteString(w, sum(b))
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go up.Serve(ln)
	defer up.Close()
	n := peers.StartNginx(t, peers.NginxOptions{HTTP2: true, Upstream: ln.Addr().String()})
	tr := h2Transport(n)
	defer tr.Close()
	c := client(tr)

	body := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	body[12345] = 'X'                                       // a misplaced chunk shows
	for _, streamed := range []bool{false, true} {
		var r io.Reader = bytes.NewReader(body)
		if streamed {
			r = io.MultiReader(r) // no GetBody: the body streams as the windows allow
		}
		req := testutil.NewRequest(t, "POST", n.TLSURL("/upload"), r)
		req.ContentLength = int64(len(body))
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("upload (streamed %v): %v", streamed, err)
		}
		answer, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.ProtoMajor != 2 || string(answer) != sum(body) || got.Load() != sum(body) {
			t.Fatalf("upload (streamed %v): %s over %s, upstream's checksum %q, want %s", streamed, resp.Status, resp.Proto, answer, sum(body))
		}
	}
	b, _, err := get(c, n.TLSURL("/big"))
	if err != nil || sum(b) != sum(peers.BigBody()) {
		t.Fatalf("download: %d bytes, %v: checksum differs", len(b), err)
	}
	if st := tr.Stats().Total; st.Dials != 1 {
		t.Fatalf("%d dials for 3 requests, want 1", st.Dials)
	}
}

// Closing a 1 MiB download after its first KiB resets the stream
// (RST_STREAM, unless all of it had arrived) and keeps the conn: the next
// requests go on it and read right, nothing is left of the closed stream
// (the whole /big at the end needs the conn's window back).
func TestNginxH2EarlyCloseReuse(t *testing.T) {
	n := peers.StartNginx(t, peers.NginxOptions{HTTP2: true})
	tr := h2Transport(n)
	defer tr.Close()
	c := client(tr)
	for range 5 {
		resp, err := c.Get(n.TLSURL("/big"))
		if err != nil {
			t.Fatal(err)
		}
		head := make([]byte, 1024)
		if _, err := io.ReadFull(resp.Body, head); err != nil || !bytes.Equal(head, peers.BigBody()[:1024]) {
			t.Fatalf("first KiB of /big: %v", err)
		}
		resp.Body.Close()
		b, _, err := get(c, n.TLSURL("/"))
		if err != nil || string(b) != "hello, world" {
			t.Fatalf("after an early Close: %q, %v", b, err)
		}
	}
	b, _, err := get(c, n.TLSURL("/big"))
	if err != nil || sum(b) != sum(peers.BigBody()) {
		t.Fatalf("a whole /big after the early Closes: %d bytes, %v", len(b), err)
	}
	st := tr.Stats()
	t.Logf("RST_STREAM sent: %d of 5 early Closes (the others' streams had ended)", st.H2.Resets)
	if st.Total.Dials != 1 || st.Total.Streams != 0 || st.Total.Requests != 11 {
		t.Fatalf("dials %d, streams %d, requests %d: want 1 conn, none in flight, 11", st.Total.Dials, st.Total.Streams, st.Total.Requests)
	}
	if conns := peers.Connections(n.WaitAccessLog(t, 11)); conns != 1 {
		t.Fatalf("nginx saw %d connections", conns)
	}
}

// nginx's add_trailer reaches resp.Trailer over HTTP/2 once the body is read.
func TestNginxH2Trailers(t *testing.T) {
	n := peers.StartNginx(t, peers.NginxOptions{HTTP2: true})
	tr := h2Transport(n)
	defer tr.Close()
	b, resp, err := get(client(tr), n.TLSURL("/trailer"))
	if err != nil || string(b) != "trailer body" {
		t.Fatalf("/trailer: %q, %v", b, err)
	}
	if v := resp.Trailer.Get("X-Trailer"); v != "done" {
		t.Fatalf("trailer X-Trailer %q (trailers %v), want done", v, resp.Trailer)
	}
}

// nginx's keepalive_requests ends each HTTP/2 conn with a GOAWAY after 50
// streams while 16 workers keep it busy: the streams nginx did not take
// are replayed on a new conn, so 2,000 requests see no error, and Stats
// counts each once.
func TestNginxH2GoAwayReplay(t *testing.T) {
	n := peers.StartNginx(t, peers.NginxOptions{HTTP2: true, KeepaliveRequests: 50})
	tr := h2Transport(n)
	defer tr.Close()
	c := client(tr)
	const total, workers = 2000, 16
	var next atomic.Int64
	var failed atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for next.Add(1) <= total {
				b, _, err := get(c, n.TLSURL("/"))
				if err != nil || string(b) != "hello, world" {
					if failed.Add(1) <= 5 {
						t.Errorf("error to the caller: %q, %v", b, err)
					}
				}
			}
		})
	}
	wg.Wait()
	st := tr.Stats()
	t.Logf("%d requests: dials %d, GOAWAYs %d, replayed %d, closes %+v", total, st.Total.Dials, st.H2.GoAways, st.H2.NotProcessed, st.Total.Closes)
	if failed.Load() > 0 {
		t.Fatalf("%d requests failed", failed.Load())
	}
	if st.Total.Dials < total/50 || st.H2.GoAways < total/50-1 {
		t.Fatalf("dials %d, GOAWAYs %d: nginx's keepalive_requests 50 should force >= %d of each", st.Total.Dials, st.H2.GoAways, total/50-1)
	}
	if st.Total.Requests != total {
		t.Fatalf("Stats.Requests = %d, want %d (a replay is not a new request)", st.Total.Requests, total)
	}
	log := n.WaitAccessLog(t, total)
	for _, e := range log {
		if e.Proto != "HTTP/2.0" || e.Status != 200 || e.ConnRequests > 50 {
			t.Fatalf("nginx logged %+v", e)
		}
	}
	if len(log) != total || !strings.HasPrefix(log[0].Request, "GET / ") {
		t.Fatalf("nginx logged %d requests, want %d (unprocessed streams are not in its log)", len(log), total)
	}
}

// An nginx reload (SIGHUP) while 8 workers keep one HTTP/2 conn busy: the
// old worker sends GOAWAY, finishes the streams it took and closes; the
// others go on a new conn to a new worker. No request fails.
func TestNginxH2ReloadGoAway(t *testing.T) {
	n := peers.StartNginx(t, peers.NginxOptions{HTTP2: true, KeepaliveRequests: 100000})
	tr := h2Transport(n)
	defer tr.Close()
	c := client(tr)
	var done atomic.Int64
	var failed atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				b, _, err := get(c, n.TLSURL("/"))
				if err != nil || string(b) != "hello, world" {
					if failed.Add(1) <= 5 {
						t.Errorf("error to the caller: %q, %v", b, err)
					}
				}
				done.Add(1)
			}
		})
	}
	waitFor := func(what string, cond func() bool) {
		deadline := time.Now().Add(10 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				close(stop)
				wg.Wait()
				t.Fatalf("no %s within 10 s", what)
			}
			time.Sleep(time.Millisecond)
		}
	}
	waitFor("requests", func() bool { return done.Load() >= 200 })
	n.Reload(t)
	waitFor("GOAWAY", func() bool { return tr.Stats().H2.GoAways >= 1 })
	mark := done.Load()
	waitFor("requests after the GOAWAY", func() bool { return done.Load() >= mark+200 })
	close(stop)
	wg.Wait()
	st := tr.Stats()
	t.Logf("%d requests: dials %d, GOAWAYs %d, replayed %d", done.Load(), st.Total.Dials, st.H2.GoAways, st.H2.NotProcessed)
	if failed.Load() > 0 {
		t.Fatalf("%d requests failed across the reload", failed.Load())
	}
	if st.Total.Dials < 2 || st.Total.Requests != done.Load() {
		t.Fatalf("dials %d, Stats.Requests %d for %d requests: want a second conn, each request counted once", st.Total.Dials, st.Total.Requests, done.Load())
	}
}

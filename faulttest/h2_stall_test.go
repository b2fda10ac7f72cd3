package faulttest

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"
	"time"

	"github.com/spoolhttp/spool"
	"github.com/spoolhttp/spool/internal/h2test"
	"golang.org/x/net/http2"
)

// maxWindow is the largest flow-control window (RFC 9113 §6.9.1).
const maxWindow = 1<<31 - 1

// stuckFor reports once b's reads stopped moving for quiet: the upload
// is blocked (on the socket, or on flow control).
func waitStuck(t *testing.T, b *endless, quiet time.Duration) {
	t.Helper()
	deadline := time.Now().Add(h2Bound)
	last, since := b.read.Load(), time.Now()
	for time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		if n := b.read.Load(); n != last {
			last, since = n, time.Now()
			continue
		}
		if last > 0 && time.Since(since) >= quiet {
			return
		}
	}
	t.Fatalf("upload never got stuck (read %d bytes)", last)
}

// An h2 origin grants an endless window, then stops reading its socket
// during a large upload: the client's write blocks in the kernel. A
// request to another origin (HTTP/1) through the same Transport is not
// delayed, Stats answers meanwhile, the upload ends with its context, and
// the stalled conn fails by its write deadline (issue 10: the adapter froze the whole pool, as
// the pool called ClientConn.State under its lock and State waited for
// the blocked write). A GET the pool then puts on the stuck conn (its
// HEADERS queued behind the blocked DATA, never on the wire) is replayed on
// a fresh conn when the stuck one fails (DESIGN decision 3: a request of
// which nothing was written is retried, whatever its method).
func TestH2StalledPeerDelaysNoOtherOrigin(t *testing.T) {
	t.Run("tls-h2 stalled, http1 other", func(t *testing.T) {
		base := runtime.NumGoroutine()
		stalled := h2test.NewTLSServer(t, stallScript)
		other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "ok")
		}))
		defer other.Close()
		tr := h2cTransport(t, func(tr *spool.Transport) {
			tr.Protocols = nil // HTTP/1 for http://, h2 by ALPN for https://
			tr.ForceAttemptHTTP2 = true
			tr.TLSClientConfig = stalled.ClientTLS
		})
		stalledUpload(t, tr, stalled, other.URL)
		other.Close()
		requireClean(t, tr, base)
	})
	t.Run("h2c stalled, h2c other", func(t *testing.T) {
		base := runtime.NumGoroutine()
		stalled := h2test.NewServer(t, stallScript)
		other := h2test.NewServerAt(t, "127.0.0.2:0", h2test.Handle(h2test.OK))
		tr := h2cTransport(t, nil)
		stalledUpload(t, tr, stalled, other.URL)
		other.Close()
		requireClean(t, tr, base)
	})
}

// stallScript grants an endless window on its first conn and never reads
// it again; later conns (the probe's) are served normally.
func stallScript(c *h2test.Conn) {
	if c.Index > 0 { // the probe after the stall
		h2test.Handle(h2test.OK)(c)
		return
	}
	if c.Handshake(http2.Setting{ID: http2.SettingInitialWindowSize, Val: maxWindow}) != nil {
		return
	}
	c.WriteWindowUpdate(0, maxWindow-65535)
	c.Park() // never read again
}

// stalledUpload runs the scenario: an endless upload to stalled gets
// stuck, a GET to otherURL and Stats must not wait for it, and the
// upload's context ends it and its conn; a GET to stalled is then
// replayed on a fresh conn when the stuck one fails. It closes stalled.
func stalledUpload(t *testing.T, tr *spool.Transport, stalled *h2test.Server, otherURL string) {
	defer stalled.Close() // unblocks anything still stuck, so the test can end
	upCtx, upCancel := context.WithCancel(context.Background())
	defer upCancel()
	body := newEndless(-1)
	upErr := make(chan error, 1)
	go func() {
		req, _ := http.NewRequestWithContext(upCtx, http.MethodPost, stalled.URL+"/upload", body)
		resp, err := tr.RoundTrip(req)
		if err == nil {
			resp.Body.Close()
		}
		upErr <- err
	}()
	waitStuck(t, body, 300*time.Millisecond)

	otherDone := make(chan error, 1)
	go func() {
		got, err := getAll(boundedCtx(t), tr, otherURL)
		if err == nil && got != "ok" {
			err = errors.New("body " + got)
		}
		otherDone <- err
	}()
	defer func() { <-otherDone }()
	statsDone := make(chan spool.Stats, 1)
	go func() { statsDone <- tr.Stats() }()
	select {
	case err := <-otherDone:
		otherDone <- err
		if err != nil {
			t.Errorf("other origin: %v", err)
		}
	case <-time.After(h2Bound / 2):
		t.Errorf("a request to another origin waited %v behind the stalled upload", h2Bound/2)
	}
	select {
	case st := <-statsDone:
		if h := st.Hosts[stalled.URL]; h.H2Conns != 1 || h.Streams != 1 {
			t.Errorf("Stats of the stalled origin during the stall: %+v", h)
		}
	case <-time.After(h2Bound / 2):
		t.Errorf("Stats blocked %v behind the stalled upload", h2Bound/2)
	}
	select {
	case err := <-upErr:
		t.Fatalf("upload ended before its context: %v", err)
	default:
	}

	upCancel()
	select {
	case err := <-upErr:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("stalled upload: err = %v, want context.Canceled", err)
		}
	case <-time.After(h2Bound):
		t.Errorf("stalled upload still blocked %v after its context ended", h2Bound)
	}
	probeAfterStall(t, tr, stalled.URL)
}

// stallProbeBound is how long a request to the stalled origin may take
// after the stall: the stuck conn must fail at its write deadline (the
// engine's default is 10 s) and the request go to a fresh conn.
const stallProbeBound = 2 * h2Bound

// probeAfterStall GETs the stalled origin again. The pool puts it on the
// conn whose write is stuck: its HEADERS wait in the write queue behind
// the blocked DATA. That conn must fail at its write deadline, and the GET,
// never sent, be replayed on a fresh conn, the origin's only one after.
func probeAfterStall(t *testing.T, tr *spool.Transport, origin string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), stallProbeBound)
	defer cancel()
	got, err := getAll(ctx, tr, origin+"/probe")
	if ctx.Err() != nil {
		t.Errorf("request to the stalled origin still waiting %v after the stall: %v", stallProbeBound, err)
		return
	}
	if err != nil || got != "ok" {
		t.Errorf("a GET queued behind the stuck write was not replayed when the conn failed: %q, %v", got, err)
		return
	}
	if h := tr.Stats().Hosts[origin]; h.Dials != 2 || h.H2Conns != 1 {
		t.Errorf("stalled origin after the probe: %+v, want 2 dials and only the fresh conn", h)
	}
}

// waitConnsGone fails unless tr holds no conn to origin (a test
// server's URL, which is also its pool key) within h2Bound: a conn whose
// write is stuck must be closed, not pooled.
func waitConnsGone(t *testing.T, tr *spool.Transport, origin string) {
	t.Helper()
	key := origin
	deadline := time.Now().Add(h2Bound)
	for time.Now().Before(deadline) {
		h := tr.Stats().Hosts[key]
		if h.Active+h.Idle == 0 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Errorf("the stalled conn is still held %v after its request ended: %+v", h2Bound, tr.Stats().Hosts[key])
}

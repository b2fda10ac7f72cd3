package h2

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"golang.org/x/net/http2"

	"github.com/spoolhttp/spool/internal/errs"
)

// A stream whose HEADERS wait in the write queue behind a write that fails
// (the peer stopped reading during an upload) never reached the server: it
// fails as not processed (NoResponseError, Wrote=false), which the root
// replays on another conn whatever its method. The upload, whose HEADERS
// went out, does not.
func TestScriptedUnsentStreamNotProcessed(t *testing.T) {
	c, p := newPeer(t, Config{WriteTimeout: time.Second},
		http2.Setting{ID: http2.SettingInitialWindowSize, Val: 1<<31 - 1})
	p.write(func(fr *http2.Framer) error { return fr.WriteWindowUpdate(0, 1<<31-1-65535) })
	up, _ := http.NewRequest("POST", "http://x/", zeros{})
	upCh := goRoundTrip(c, up)
	eventually(t, 5*time.Second, "upload did not start", func() bool { return c.Writes() > 3 })
	p.deaf.Store(true) // the socket buffers fill, the flusher blocks
	last := c.Writes()
	eventually(t, 5*time.Second, "write never stuck", func() bool {
		time.Sleep(100 * time.Millisecond) // no write ended meanwhile: one is stuck
		n := c.Writes()
		stuck := n == last
		last = n
		c.wq.mu.Lock()
		defer c.wq.mu.Unlock()
		return stuck && c.wq.inflight > 0
	})
	getCh := goRoundTrip(c, get(t, "http://x/"))

	var nr *errs.NoResponseError
	if r := wait(t, getCh); !errors.As(r.err, &nr) || nr.Wrote {
		t.Errorf("GET queued behind the failed write: %v, want NoResponseError with Wrote=false", r.err)
	}
	if r := wait(t, upCh); r.err == nil || (errors.As(r.err, &nr) && !nr.Wrote) {
		t.Errorf("upload whose HEADERS were written: %v, want an error not marked unsent", r.err)
	}
	if got := c.ctr.snapshot().NotProcessed; got != 1 {
		t.Errorf("NotProcessed = %d, want 1 (the GET)", got)
	}
}

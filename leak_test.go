package spool_test

import (
	"net/http"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/spoolhttp/spool"
	"github.com/spoolhttp/spool/internal/testserver"
	"github.com/spoolhttp/spool/internal/testutil"
)

// A body dropped without Close is reclaimed after GC: the conn is closed,
// the slot freed, Stats counts it and the hook names the request.
func TestForgottenBodyReclaimed(t *testing.T) {
	s := testserver.New(t, testserver.OK("a body nobody reads"))
	var reported atomic.Value
	tr := testutil.NewTransport(t, &spool.Transport{
		MaxConnsPerHost: 1,
		OnLeakedBody:    func(method, url string) { reported.Store(method + " " + url) },
	})
	forget := func() {
		resp, err := tr.RoundTrip(testutil.NewRequest(t, "GET", s.URL()+"/leak", nil))
		if err != nil {
			t.Fatal(err)
		}
		_ = resp // dropped without Close
	}
	forget()
	if st := tr.Stats().Total; st.Active != 1 {
		t.Fatalf("active %d, want 1 before GC", st.Active)
	}
	deadline := time.Now().Add(5 * time.Second)
	for tr.Stats().Total.LeakedBodies == 0 {
		if time.Now().After(deadline) {
			t.Fatal("leaked body not reclaimed after GC")
		}
		runtime.GC()
		time.Sleep(time.Millisecond)
	}
	st := tr.Stats().Total
	if st.LeakedBodies != 1 || st.Closes.Leaked != 1 || st.Active != 0 {
		t.Fatalf("stats %+v", st)
	}
	if got, _ := reported.Load().(string); got != "GET "+s.URL()+"/leak" {
		t.Fatalf("hook got %q", got)
	}
	// MaxConnsPerHost is 1: the slot must be free again.
	c := &http.Client{Transport: tr, Timeout: 5 * time.Second}
	if _, got := testutil.Get(t, c, s.URL()); got != "a body nobody reads" {
		t.Fatalf("after reclaim: %q", got)
	}
}

// A zstd body dropped mid-read is reclaimed like any other: the decoder
// starts no goroutine (concurrency 1), so nothing outlives the reclaim.
func TestForgottenZstdBodyReclaimed(t *testing.T) {
	enc, _ := zstd.NewWriter(nil)
	z := string(enc.EncodeAll([]byte(strings.Repeat("zstd body ", 1<<16)), nil))
	enc.Close()
	s := testserver.New(t, func(c *testserver.Conn, r *testserver.Request) {
		c.Reply(200, http.Header{"Content-Encoding": {"zstd"}}, z)
	})
	tr := testutil.NewTransport(t, &spool.Transport{ExtraEncodings: true})
	before := runtime.NumGoroutine()
	func() {
		resp, err := tr.RoundTrip(testutil.NewRequest(t, "GET", s.URL(), nil))
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 10)
		if n, err := resp.Body.Read(buf); err != nil || string(buf[:n]) != "zstd body " {
			t.Fatalf("read %q %v", buf[:n], err)
		}
		// dropped mid-body without Close
	}()
	testutil.WaitFor(t, "the zstd body reclaimed", func() bool {
		runtime.GC()
		return tr.Stats().Total.LeakedBodies == 1
	})
	testutil.WaitFor(t, "goroutines back to the baseline", func() bool {
		return runtime.NumGoroutine() <= before
	})
}

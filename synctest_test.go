package spool_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/spoolhttp/spool"
	"github.com/spoolhttp/spool/internal/testnet"
	"github.com/spoolhttp/spool/internal/testutil"
)

// Time-dependent behaviour runs in synctest bubbles over internal/testnet:
// fake time advances only when every goroutine in the bubble is blocked,
// so these tests assert exact durations and take no real time.

// bubble starts a net/http server on n at addr; stop shuts it down.
func bubble(t *testing.T, n *testnet.Network, addr string, h http.HandlerFunc) (stop func()) {
	t.Helper()
	l, err := n.Listen(addr)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	go srv.Serve(l)
	return func() { srv.Close() }
}

func hello(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello") }

func doGet(t *testing.T, tr http.RoundTripper, url string) error {
	t.Helper()
	resp, err := tr.RoundTrip(testutil.NewRequest(t, "GET", url, nil))
	if err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return err
}

func TestIdleExpirySynctest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var n testnet.Network
		defer bubble(t, &n, "api.test:80", hello)()
		tr := &spool.Transport{DialContext: n.Dial, IdleConnTimeout: 30 * time.Second}
		defer tr.Close()
		if err := doGet(t, tr, "http://api.test/"); err != nil {
			t.Fatal(err)
		}
		time.Sleep(29 * time.Second)
		synctest.Wait()
		if st := tr.Stats().Total; st.Idle != 1 {
			t.Fatalf("at 29s: idle %d, want 1", st.Idle)
		}
		time.Sleep(2 * time.Second)
		synctest.Wait()
		if st := tr.Stats().Total; st.Idle != 0 || st.Closes.IdleTimeout != 1 {
			t.Fatalf("at 31s: %+v", st)
		}
	})
}

func TestMaxConnLifetimeSynctest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var n testnet.Network
		defer bubble(t, &n, "api.test:80", hello)()
		tr := &spool.Transport{DialContext: n.Dial, MaxConnLifetime: 10 * time.Second}
		defer tr.Close()
		for _, at := range []time.Duration{0, 5 * time.Second, 6 * time.Second} {
			time.Sleep(at)
			if err := doGet(t, tr, "http://api.test/"); err != nil {
				t.Fatal(err)
			}
		}
		st := tr.Stats().Total
		if st.Dials != 2 || st.Reuses != 1 || st.Closes.Lifetime != 1 {
			t.Fatalf("stats %+v", st)
		}
	})
}

func TestResponseHeaderTimeoutSynctest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var n testnet.Network
		release := make(chan struct{})
		defer bubble(t, &n, "api.test:80", func(w http.ResponseWriter, r *http.Request) { <-release })()
		defer close(release)
		tr := &spool.Transport{DialContext: n.Dial, ResponseHeaderTimeout: 2 * time.Second}
		defer tr.Close()
		start := time.Now()
		err := doGet(t, tr, "http://api.test/")
		if time.Since(start) != 2*time.Second {
			t.Fatalf("returned after %v, want exactly 2s", time.Since(start))
		}
		var te *spool.TimeoutError
		if !errors.As(err, &te) || te.What != "ResponseHeaderTimeout" || !strings.Contains(err.Error(), "net/http: timeout awaiting response headers") {
			t.Fatalf("err %v", err)
		}
		var ne net.Error
		if !errors.Is(err, context.DeadlineExceeded) || !errors.As(err, &ne) || !ne.Timeout() {
			t.Fatalf("err %v is not a deadline", err)
		}
		if st := tr.Stats().Total; st.Active+st.Idle != 0 {
			t.Fatalf("conn kept after timeout: %+v", st)
		}
	})
}

func TestBodyReadTimeoutSynctest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var n testnet.Network
		release := make(chan struct{})
		defer bubble(t, &n, "api.test:80", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "10")
			io.WriteString(w, "12345")
			w.(http.Flusher).Flush()
			<-release
		})()
		defer close(release)
		tr := &spool.Transport{DialContext: n.Dial, BodyReadTimeout: time.Second}
		defer tr.Close()
		resp, err := tr.RoundTrip(testutil.NewRequest(t, "GET", "http://api.test/", nil))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		start := time.Now()
		b, err := io.ReadAll(resp.Body)
		if string(b) != "12345" || time.Since(start) != time.Second {
			t.Fatalf("read %q after %v", b, time.Since(start))
		}
		var te *spool.TimeoutError
		if !errors.As(err, &te) || te.What != "BodyReadTimeout" || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err %v", err)
		}
	})
}

func TestPoolWaitSynctest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var n testnet.Network
		release := make(chan struct{})
		defer bubble(t, &n, "api.test:80", func(w http.ResponseWriter, r *http.Request) { <-release })()
		tr := &spool.Transport{DialContext: n.Dial, MaxConnsPerHost: 1, MaxConnWaiters: 1}
		defer tr.Close()
		first := make(chan error)
		go func() { first <- doGet(t, tr, "http://api.test/") }()
		synctest.Wait() // the first request holds the only conn

		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		waiter := make(chan error)
		start := time.Now()
		go func() {
			_, err := tr.RoundTrip(testutil.NewRequest(t, "GET", "http://api.test/", nil).WithContext(ctx))
			waiter <- err
		}()
		synctest.Wait()
		// The queue (bound 1) is full: a third caller fails at once.
		_, err := tr.RoundTrip(testutil.NewRequest(t, "GET", "http://api.test/", nil))
		if !errors.Is(err, spool.ErrWaitQueueFull) {
			t.Fatalf("third caller: %v, want ErrWaitQueueFull", err)
		}
		err = <-waiter
		if err != context.DeadlineExceeded { // unwrapped, as net/http returns it
			t.Fatalf("waiter: %v", err)
		}
		if time.Since(start) != time.Second {
			t.Fatalf("waiter returned after %v", time.Since(start))
		}
		close(release)
		if err := <-first; err != nil {
			t.Fatal(err)
		}
		if st := tr.Stats().Total; st.WaitCount != 2 || st.Dials != 1 {
			t.Fatalf("stats %+v", st)
		}
	})
}

package faulttest

import (
	"context"
	"errors"
	"net"
	"net/http"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/spoolhttp/spool"
	"github.com/spoolhttp/spool/internal/testnet"
	"github.com/spoolhttp/spool/internal/testutil"
)

// TestF10_ConnectFailure: a refused connect fails fast after one dial
// (real loopback, custom and default dialer); a black-holed connect is
// bounded by the context deadline, to the instant, after one dial.
func TestF10_ConnectFailure(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now: connect is refused

	t.Run("refused/custom-dialer", func(t *testing.T) {
		var cnt testutil.CountingDialer
		tr := testutil.NewTransport(t, &spool.Transport{DialContext: cnt.DialContext})
		start := time.Now()
		_, err := tr.RoundTrip(testutil.NewRequest(t, "GET", "http://"+addr+"/", nil))
		took := time.Since(start)
		checkRefused(t, err, took)
		if d := cnt.Dials.Load(); d != 1 {
			t.Errorf("%d dials, want 1", d)
		}
	})
	t.Run("refused/default-dialer", func(t *testing.T) {
		tr := testutil.NewTransport(t, nil)
		start := time.Now()
		_, err := tr.RoundTrip(testutil.NewRequest(t, "GET", "http://"+addr+"/", nil))
		checkRefused(t, err, time.Since(start))
		if st := tr.Stats().Total; st.Dials != 1 || st.DialErrors != 1 {
			t.Errorf("stats: %d dials, %d dial errors; want 1 and 1", st.Dials, st.DialErrors)
		}
	})
	t.Run("blackhole", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			var n testnet.Network
			n.SetDialFault("hole.test:80", testnet.DialFault{Blackhole: true})
			tr := &spool.Transport{DialContext: n.Dial}
			defer tr.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			start := time.Now()
			req, _ := http.NewRequestWithContext(ctx, "GET", "http://hole.test/", nil)
			_, err := tr.RoundTrip(req)
			if took := time.Since(start); took != 5*time.Second {
				t.Errorf("returned after %v, want exactly the 5s deadline", took)
			}
			if err != context.DeadlineExceeded { // unwrapped, as net/http returns it
				t.Errorf("err %T %v: want context.DeadlineExceeded", err, err)
			}
			synctest.Wait()
			if d := n.Dials("hole.test:80"); d != 1 {
				t.Errorf("%d dials, want 1", d)
			}
			if k := held(tr); k != 0 {
				t.Errorf("transport holds %d conns", k)
			}
		})
	})
}

func checkRefused(t *testing.T, err error, took time.Duration) {
	t.Helper()
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("err %v: want ECONNREFUSED", err)
	}
	if oe, ok := err.(*net.OpError); !ok || oe.Op != "dial" { // unwrapped, as net/http returns it
		t.Errorf("err %T %v: want a *net.OpError dial", err, err)
	}
	if took > 500*time.Millisecond {
		t.Errorf("refused took %v", took)
	}
}

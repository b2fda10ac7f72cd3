package h1

import (
	"context"
	"errors"
	"net"
	"net/http"
	"testing"
	"time"
)

// exchangeCtx is exchange with a request context; it returns the
// RoundTrip error instead of failing.
func exchangeCtx(t *testing.T, c *Conn, ctx context.Context) (reuse bool, err error) {
	t.Helper()
	if err := c.Reserve(); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://h.test/", nil)
	if _, err := c.RoundTrip(req, &Options{}); err != nil {
		return false, err
	}
	buf := make([]byte, 16)
	for {
		if _, err := c.ReadBody(buf); err != nil {
			break
		}
	}
	return c.FinishBody(), nil
}

// One AfterFunc serves every exchange on a worker's long-lived context; a
// cancellation while the conn is idle poisons nothing, and the next request
// on the ended context fails.
func TestWatchReusedAcrossExchanges(t *testing.T) {
	cli, srv := net.Pipe()
	ok := "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
	go serve(srv, ok, ok, ok)
	c := New(cli, &Config{}, time.Now())
	defer c.Close()

	a, cancelA := context.WithCancel(context.Background())
	for i := range 2 {
		if reuse, err := exchangeCtx(t, c, a); err != nil || !reuse {
			t.Fatalf("exchange %d on ctx A: reuse %v err %v", i, reuse, err)
		}
	}
	first := c.stopWatch
	if first == nil || c.watchDone != a.Done() {
		t.Fatal("no registration kept for ctx A")
	}
	cancelA() // the conn is idle: nothing to abort
	b, cancelB := context.WithCancel(context.Background())
	defer cancelB()
	if reuse, err := exchangeCtx(t, c, b); err != nil || !reuse {
		t.Fatalf("exchange on ctx B after A ended while idle: reuse %v err %v", reuse, err)
	}
	if c.watchDone != b.Done() {
		t.Fatal("the registration did not move to ctx B")
	}
	if _, err := exchangeCtx(t, c, a); !errors.Is(err, context.Canceled) {
		t.Fatalf("request on the ended ctx A: %v, want context.Canceled", err)
	}
}

// A later exchange on the same context is still aborted by it.
func TestWatchReusedContextAbortsBlockedRead(t *testing.T) {
	cli, srv := net.Pipe()
	go serve(srv, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok") // then reads, never answers
	c := New(cli, &Config{}, time.Now())
	defer c.Close()
	ctx, cancel := context.WithCancel(context.Background())
	if reuse, err := exchangeCtx(t, c, ctx); err != nil || !reuse {
		t.Fatalf("first exchange: reuse %v err %v", reuse, err)
	}
	time.AfterFunc(20*time.Millisecond, cancel)
	done := make(chan error, 1)
	go func() {
		_, err := exchangeCtx(t, c, ctx)
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("second exchange: %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("cancelling the reused context did not abort the blocked read")
	}
	if c.InFlight() != 0 {
		t.Fatal("slot not freed")
	}
}

// Close drops the registration, so a long-lived context does not keep a
// closed conn reachable.
func TestCloseDropsWatch(t *testing.T) {
	cli, srv := net.Pipe()
	ok := "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
	go serve(srv, ok)
	c := New(cli, &Config{}, time.Now())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if reuse, err := exchangeCtx(t, c, ctx); err != nil || !reuse {
		t.Fatalf("exchange: reuse %v err %v", reuse, err)
	}
	stop := c.stopWatch
	c.Close()
	if c.stopWatch != nil || c.watchDone != nil {
		t.Fatal("Close kept the registration")
	}
	if stop() {
		t.Fatal("the AfterFunc was still registered after Close")
	}
}

package h1

import (
	"context"
	"errors"
	"net"
	"net/http"
	"testing"
	"time"
)

// pipeConn is a Conn over an in-memory pipe whose server answers each
// request with the next of responses; it is closed with the test.
func pipeConn(t *testing.T, responses ...string) *Conn {
	cli, srv := net.Pipe()
	go serve(srv, responses...)
	c := New(cli, &Config{}, time.Now())
	t.Cleanup(func() { c.Close() })
	return c
}

const okResp = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"

// exchangeCtx is exchange with a request context; it returns the
// RoundTrip error instead of failing.
func exchangeCtx(t *testing.T, c *Conn, ctx context.Context) (reuse bool, err error) {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://h.test/", nil)
	_, reuse, err = exchangeReq(t, c, req)
	return reuse, err
}

// One AfterFunc serves every exchange on a worker's long-lived context; a
// cancellation while the conn is idle poisons nothing, and the next request
// on the ended context fails.
func TestWatchReusedAcrossExchanges(t *testing.T) {
	c := pipeConn(t, okResp, okResp, okResp)

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
	if _, err := exchangeCtx(t, c, a); !errors.Is(err, context.Canceled) {
		t.Fatalf("request on the ended ctx A: %v, want context.Canceled", err)
	}
}

// A later exchange on the same context is still aborted by it.
func TestWatchReusedContextAbortsBlockedRead(t *testing.T) {
	c := pipeConn(t, okResp) // then reads, never answers
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
	c := pipeConn(t, okResp, okResp)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for range 2 { // the second exchange on the same context keeps its registration
		if reuse, err := exchangeCtx(t, c, ctx); err != nil || !reuse {
			t.Fatalf("exchange: reuse %v err %v", reuse, err)
		}
	}
	stop := c.stopWatch
	if stop == nil {
		t.Fatal("no registration kept for a context used twice")
	}
	c.Close()
	if c.stopWatch != nil || c.watchDone != nil {
		t.Fatal("Close kept the registration")
	}
	if stop() {
		t.Fatal("the AfterFunc was still registered after Close")
	}
}

// A context seen once (one per request, the common case) is unregistered
// when its exchange ends, as it was before registrations were kept: its
// cancel after use must not start a goroutine, and an idle conn must not
// hold it.
func TestWatchPerRequestContextUnregistered(t *testing.T) {
	c := pipeConn(t, okResp, okResp)
	for i := range 2 {
		ctx, cancel := context.WithCancel(context.Background())
		if reuse, err := exchangeCtx(t, c, ctx); err != nil || !reuse {
			t.Fatalf("exchange %d: reuse %v err %v", i, reuse, err)
		}
		if c.stopWatch != nil || c.watchDone != nil {
			t.Fatalf("exchange %d: the registration of a one-off context outlived its exchange", i)
		}
		cancel()
	}
}

// A kept registration whose context ends while the conn is idle is
// forgotten, so the ended context is not held by the conn.
func TestWatchEndedWhileIdleIsForgotten(t *testing.T) {
	c := pipeConn(t, okResp, okResp)
	ctx, cancel := context.WithCancel(context.Background())
	for range 2 {
		if reuse, err := exchangeCtx(t, c, ctx); err != nil || !reuse {
			t.Fatalf("reuse %v err %v", reuse, err)
		}
	}
	if c.stopWatch == nil {
		t.Fatal("no registration kept for a context used twice")
	}
	cancel()
	deadline := time.Now().Add(5 * time.Second)
	for {
		c.mu.Lock()
		gone := c.stopWatch == nil && c.watchDone == nil
		c.mu.Unlock()
		if gone {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the ended context's registration is still held by the idle conn")
		}
		time.Sleep(time.Millisecond)
	}
}

// The keep-alive decision and AbortExchange (a Body.Close racing the Read
// that reached EOF) are ordered by unwatch: once unwatch has said the conn
// is clean, an abort of that exchange is a no-op, so no past deadline rides
// back into the pool on a conn judged reusable.
func TestAbortAfterUnwatchIsNoOp(t *testing.T) {
	c := pipeConn(t, okResp, okResp)
	if err := c.Reserve(); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", "http://h.test/", nil)
	if _, err := c.RoundTrip(req, &Options{}); err != nil {
		t.Fatal(err)
	}
	gen := c.Gen()
	buf := make([]byte, 16)
	for {
		if _, err := c.ReadBody(buf); err != nil {
			break
		}
	}
	if !c.unwatch() { // finishOK's first step: the conn is judged clean
		t.Fatal("unwatch: conn not clean")
	}
	c.AbortExchange(gen) // the racing Close lands here
	if c.isAborted() {
		t.Fatal("an abort after unwatch poisoned a conn already judged reusable")
	}
	if !c.FinishBody() {
		t.Fatal("not reusable")
	}
	if reuse, err := exchangeCtx(t, c, context.Background()); err != nil || !reuse {
		t.Fatalf("next exchange on the conn: reuse %v err %v", reuse, err)
	}
}

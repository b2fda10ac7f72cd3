package h2

import (
	"context"
	"errors"
	"testing"
	"time"

	"golang.org/x/net/http2"
)

func watched(c *Conn) context.Context {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.watchCtx
}

// roundTripCtx is roundTripOK with ctx, on a parked conn (the caller
// reads its response, so its context is registered).
func roundTripCtx(t *testing.T, c *Conn, p *peer, ctx context.Context) {
	t.Helper()
	waitParked(t, c)
	ch := goRoundTrip(c, get(t, "http://x/").WithContext(ctx))
	h := p.headers()
	p.respond(h.id, true, "204")
	if r := wait(t, ch); r.err != nil {
		t.Fatalf("RoundTrip: %v", r.err)
	}
}

// A per-request context is not held by the conn once its request is
// done; one that comes back keeps its registration, which still
// interrupts a later caller's read, and is dropped when it ends or the
// conn does.
func TestHandOffContextRegistration(t *testing.T) {
	c, p := parkedPeer(t, Config{})
	one, cancelOne := context.WithCancel(context.Background())
	defer cancelOne()
	roundTripCtx(t, c, p, one)
	if watched(c) != nil {
		t.Fatal("a context seen once is still registered after its request")
	}

	long, cancelLong := context.WithCancel(context.Background())
	defer cancelLong()
	roundTripCtx(t, c, p, long)
	roundTripCtx(t, c, p, long)
	if watched(c) != long {
		t.Fatal("a context seen twice in a row is not kept registered")
	}
	before := c.holds.Load()
	waitParked(t, c)
	ch := goRoundTrip(c, get(t, "http://x/").WithContext(long))
	h := p.headers()
	eventually(t, 5*time.Second, "the caller never read", func() bool { return c.holds.Load() > before })
	time.Sleep(20 * time.Millisecond)
	cancelLong()
	if r := wait(t, ch); !errors.Is(r.err, context.Canceled) {
		t.Fatalf("RoundTrip: %v, want context.Canceled through the kept registration", r.err)
	}
	p.expectRST(h.id)
	eventually(t, 5*time.Second, "an ended context is still registered", func() bool { return watched(c) == nil })
	// The reset stream sent the reads to the reader, which parks after
	// its next frame.
	p.write(func(fr *http2.Framer) error { return fr.WritePing(false, [8]byte{1}) })

	again, cancelAgain := context.WithCancel(context.Background())
	defer cancelAgain()
	roundTripCtx(t, c, p, again)
	roundTripCtx(t, c, p, again)
	if watched(c) == nil {
		t.Fatal("not registered: the test missed its case")
	}
	c.Close()
	eventually(t, 5*time.Second, "a closed conn keeps its context registration", func() bool { return watched(c) == nil })
}

// A per-request context over a long-lived one (a trace, a value) shares
// its Done channel but is not kept: keeping the first would hold its
// values for the conn's life.
func TestHandOffValueContextsNotKept(t *testing.T) {
	c, p := parkedPeer(t, Config{})
	worker, cancel := context.WithCancel(context.Background())
	defer cancel()
	type key struct{}
	for i := range 3 {
		roundTripCtx(t, c, p, context.WithValue(worker, key{}, i))
	}
	if watched(c) != nil {
		t.Fatal("a per-request value context is still registered after its request")
	}
}

// A kept registration whose context ended between two requests (its
// callback ran with no holder, or has not run yet): the next holder with
// that context fails at once instead of blocking on the socket.
func TestHandOffKeptRegistrationSpent(t *testing.T) {
	c, p := parkedPeer(t, Config{})
	ctx, cancel := context.WithCancel(context.Background())
	roundTripCtx(t, c, p, ctx)
	roundTripCtx(t, c, p, ctx)
	if watched(c) != ctx {
		t.Fatal("not kept: the test missed its case")
	}
	// The callback's run is left out: as if it had looked for a holder
	// before this one came and not yet dropped the registration.
	c.mu.Lock()
	stop := c.stopWatch
	c.mu.Unlock()
	stop()
	cancel()
	s := &stream{c: c, ctx: ctx, wake: make(chan struct{}, 1)}
	c.holder.Store(s)
	c.watchHolder(s)
	c.holder.Store(nil)
	if !errors.Is(s.err, context.Canceled) {
		t.Fatalf("holder's error %v, want context.Canceled", s.err)
	}
}

package h2

import (
	"context"
	"errors"
	"testing"
	"time"

	"golang.org/x/net/http2"
)

func watched(c *Conn) <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.watchDone
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
	if watched(c) != long.Done() {
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

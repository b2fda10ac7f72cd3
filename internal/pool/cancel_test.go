package pool

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

type testTag struct{ canceled atomic.Bool }

var errTagCanceled = errors.New("tag canceled")

func (t *testTag) WaitCanceled() error {
	if t.canceled.Load() {
		return errTagCanceled
	}
	return nil
}

// TestCancelWaitFailsOnlyItsWaiter: CancelWait fails the queued GetTagged
// caller with that tag, with its error as a pool-wait error, and no
// other; the queue's accounting follows. A tag cancelled before its
// caller queues fails the Get at once (CancelWait found nothing then).
func TestCancelWaitFailsOnlyItsWaiter(t *testing.T) {
	p := New[*fakeConn](Config{MaxConnsPerHost: 1})
	defer p.Close()
	d := &dialer{}
	held, _ := mustGet(t, p, "a", d)
	mine, other := &testTag{}, &testTag{}
	errc := make(chan error, 2)
	for _, tag := range []*testTag{mine, other} {
		go func() {
			c, _, err := p.GetTagged(context.Background(), "a", d.dial, false, false, tag)
			if err == nil {
				done(p, "a", c)
			}
			errc <- err
		}()
	}
	deadline := time.Now().Add(10 * time.Second)
	for hostStats(p, "a").Waiting != 2 {
		if time.Now().After(deadline) {
			t.Fatal("the two callers never queued")
		}
		time.Sleep(time.Millisecond)
	}
	if p.CancelWait("b", mine, errTagCanceled) {
		t.Fatal("CancelWait found a waiter under another key")
	}
	mine.canceled.Store(true)
	if !p.CancelWait("a", mine, errTagCanceled) {
		t.Fatal("CancelWait found no waiter")
	}
	err := <-errc
	var e interface{ Unwrap() error }
	if !errors.Is(err, errTagCanceled) || !errors.As(err, &e) {
		t.Fatalf("cancelled Get: %v, want the tag's error as a pool-wait error", err)
	}
	if w := hostStats(p, "a").Waiting; w != 1 {
		t.Fatalf("waiting %d after the cancel, want 1 (the other)", w)
	}
	if p.CancelWait("a", mine, errTagCanceled) {
		t.Fatal("a second CancelWait found the waiter again")
	}
	done(p, "a", held) // the other gets the conn
	if err := <-errc; err != nil {
		t.Fatalf("the other waiter: %v", err)
	}
	// An idle conn at hand: no queueing, so the tag is not asked (the
	// root cancels the exchange on the conn instead).
	c, _, err := p.GetTagged(context.Background(), "a", d.dial, false, false, mine)
	if err != nil {
		t.Fatalf("Get with an idle conn at hand: %v", err)
	}
	done(p, "a", c)
}

func TestCancelWaitBeforeQueueing(t *testing.T) {
	p := New[*fakeConn](Config{MaxConnsPerHost: 1})
	defer p.Close()
	d := &dialer{}
	held, _ := mustGet(t, p, "a", d)
	defer done(p, "a", held)
	tag := &testTag{}
	tag.canceled.Store(true)
	if _, _, err := p.GetTagged(context.Background(), "a", d.dial, false, false, tag); !errors.Is(err, errTagCanceled) {
		t.Fatalf("Get with a cancelled tag: %v, want its error at once", err)
	}
	if w := hostStats(p, "a").Waiting; w != 0 {
		t.Fatalf("waiting %d", w)
	}
}

package pool

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"
)

// A one-request conn whose exchange ended (Available() back to 1) before
// its Put reached the pool is still checked out: it must be neither shared
// nor handed to a second caller. Found by the soak: the conn went to two
// requests at once and the first one's Put(false) closed it under the
// second.
func TestFinishedExchangeIsNotSharedBeforePut(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := New[*fakeConn](Config{MaxConnsPerHost: 1})
		defer p.Close()
		c1 := &fakeConn{id: 1, slots: 1, instant: true}
		dial := func(context.Context) (*fakeConn, error) { return c1, nil }
		ctx := context.Background()
		got, _, err := p.Get(ctx, "k", dial, false)
		if err != nil || got != c1 {
			t.Fatal(got, err)
		}
		second := make(chan *fakeConn)
		go func() {
			c, _, _ := p.Get(ctx, "k", dial, false)
			second <- c
		}()
		synctest.Wait() // the second caller waits at MaxConnsPerHost
		p.Put("k", c1, true, 0)
		if c := <-second; c != c1 {
			t.Fatal("the waiter did not get the freed conn")
		}
		// c1 is the waiter's now, though its Available() says 1 again.
		ctx3, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		if c, _, err := p.Get(ctx3, "k", dial, false); err == nil {
			t.Fatalf("a third caller got conn %d while the second still holds it", c.id)
		} else if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatal(err)
		}
		p.Put("k", c1, true, 0)
	})
}

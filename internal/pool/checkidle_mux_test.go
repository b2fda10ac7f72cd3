package pool

import (
	"context"
	"sync"
	"testing"
	"time"
)

// checkedConn is a multiplexed fakeConn that is also an IdleChecker: the
// pool runs CheckIdle outside its lock at the checkout of an idle conn
// (checkIdle), then shares the conn again.
type checkedConn struct {
	*fakeConn
	mu     sync.Mutex
	bad    error // what CheckIdle reports
	checks int
}

func (c *checkedConn) CheckIdle(time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.checks++
	return c.bad
}

func (c *checkedConn) checked() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.checks
}

func TestCheckIdleMultiplexed(t *testing.T) {
	p := New[*checkedConn](Config{})
	defer p.Close()
	d := &dialer{slots: 100}
	dial := func(ctx context.Context) (*checkedConn, error) {
		fc, err := d.dial(ctx)
		if err != nil {
			return nil, err
		}
		return &checkedConn{fakeConn: fc}, nil
	}
	get := func() (*checkedConn, GetInfo) {
		t.Helper()
		c, info, err := p.Get(context.Background(), "a", dial, false)
		if err != nil {
			t.Fatal(err)
		}
		return c, info
	}
	put := func(c *checkedConn) { c.finish(); p.Put("a", c, true, 0) }

	c, _ := get()
	put(c) // idle now
	c1, info := get()
	if c1 != c || !info.WasIdle || c.checked() != 1 {
		t.Fatalf("checkout of the idle conn: conn %d %+v, %d checks; want conn 1 from idle, checked once", c1.id, info, c.checked())
	}
	c2, info := get() // shared while in use: no check, no dial
	if c2 != c || info.WasIdle || c.checked() != 1 || d.dialed() != 1 {
		t.Fatalf("second Get: conn %d %+v, %d checks, %d dials; want conn 1 shared unchecked", c2.id, info, c.checked(), d.dialed())
	}
	put(c1)
	put(c2)

	c.mu.Lock()
	c.bad = errBoom
	c.mu.Unlock()
	c3, info := get()
	if c3 == c || info.Reused || !c.isClosed() || d.dialed() != 2 {
		t.Fatalf("after a failed check: conn %d %+v, old closed %v, %d dials; want a fresh conn, the old one closed", c3.id, info, c.isClosed(), d.dialed())
	}
	put(c3)
}

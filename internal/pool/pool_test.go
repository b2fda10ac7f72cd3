package pool

import (
	"context"
	"errors"
	"sync"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var (
	errFakeClosed = errors.New("fake: closed")
	errFakeFull   = errors.New("fake: full")
	errBoom       = errors.New("boom")
)

// fakeConn is a Conn with a fixed number of request slots: 1 behaves like
// HTTP/1, more like HTTP/2.
type fakeConn struct {
	id    int
	slots int

	// instant: the exchange ends the moment the slot is taken (Reserve
	// does not count it), as a fast HTTP/1 exchange can before its Put
	// reaches the pool.
	instant bool

	mu       sync.Mutex
	inflight int
	closed   int   // Close calls
	err      error // what Err reports
	errCalls int
}

func (c *fakeConn) Available() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed > 0 || c.err != nil {
		return 0
	}
	return c.slots - c.inflight
}

func (c *fakeConn) InFlight() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.inflight
}

func (c *fakeConn) Reserve() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.closed > 0:
		return errFakeClosed
	case c.inflight >= c.slots:
		return errFakeFull
	}
	if !c.instant {
		c.inflight++
	}
	return nil
}

func (c *fakeConn) Release() { c.finish() }

func (c *fakeConn) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.errCalls++
	if c.closed > 0 {
		return errFakeClosed
	}
	return c.err
}

func (c *fakeConn) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed++
	return nil
}

// finish ends one request (what the real conn does when an exchange is over).
func (c *fakeConn) finish() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.inflight == 0 {
		panic("fake: finish with nothing in flight")
	}
	c.inflight--
}

func (c *fakeConn) setErr(err error) {
	c.mu.Lock()
	c.err = err
	c.mu.Unlock()
}

func (c *fakeConn) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed > 0
}

func (c *fakeConn) errChecks() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.errCalls
}

// dialer makes fakeConns numbered from 1.
type dialer struct {
	mu    sync.Mutex
	slots int           // slots of each new conn; 0 means 1
	hold  chan struct{} // if set, each dial waits for a receive from it (or its ctx)
	err   error         // if set, dials fail with it
	conns []*fakeConn
	ctxs  []context.Context
}

func (d *dialer) dial(ctx context.Context) (*fakeConn, error) {
	d.mu.Lock()
	hold := d.hold
	d.ctxs = append(d.ctxs, ctx)
	d.mu.Unlock()
	if hold != nil {
		select {
		case <-hold:
		case <-ctx.Done():
			return nil, context.Cause(ctx)
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.err != nil {
		return nil, d.err
	}
	c := &fakeConn{id: len(d.conns) + 1, slots: max(d.slots, 1)}
	d.conns = append(d.conns, c)
	return c, nil
}

func (d *dialer) set(f func(d *dialer)) {
	d.mu.Lock()
	f(d)
	d.mu.Unlock()
}

func (d *dialer) dialed() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.conns)
}

type got struct {
	c    *fakeConn
	info GetInfo
	err  error
}

// goGet runs Get on its own goroutine.
func goGet(p *Pool[*fakeConn], ctx context.Context, key Key, d *dialer, force bool) <-chan got {
	ch := make(chan got, 1)
	go func() {
		c, info, err := p.Get(ctx, key, d.dial, force)
		ch <- got{c, info, err}
	}()
	return ch
}

func mustGet(t *testing.T, p *Pool[*fakeConn], key Key, d *dialer) (*fakeConn, GetInfo) {
	t.Helper()
	c, info, err := p.Get(context.Background(), key, d.dial, false)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	return c, info
}

// done finishes c's request and puts it back as reusable.
func done(p *Pool[*fakeConn], key Key, c *fakeConn) {
	c.finish()
	p.Put(key, c, true, 0)
}

func hostStats(p *Pool[*fakeConn], key Key) HostStats { return p.Stats().Hosts[key] }

func checkNow(t *testing.T, s HostStats, active, idle, dialing, waiting int) {
	t.Helper()
	if s.Active != active || s.Idle != idle || s.Dialing != dialing || s.Waiting != waiting {
		t.Errorf("active/idle/dialing/waiting = %d/%d/%d/%d, want %d/%d/%d/%d",
			s.Active, s.Idle, s.Dialing, s.Waiting, active, idle, dialing, waiting)
	}
}

func recv[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	default:
		t.Fatal("no result yet")
	}
	panic("unreachable")
}

func pending[T any](t *testing.T, ch <-chan T) {
	t.Helper()
	select {
	case v := <-ch:
		t.Fatalf("unexpected result %+v", v)
	default:
	}
}

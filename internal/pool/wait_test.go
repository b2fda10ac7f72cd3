package pool

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/spoolhttp/spool/internal/errs"
)

func checkWaitErr(t *testing.T, err, want error) {
	t.Helper()
	var e *errs.Error
	if !errors.Is(err, want) || !errors.As(err, &e) || e.Op != errs.OpPoolWait {
		t.Fatalf("err = %v, want %v in a %q *errs.Error", err, want, errs.OpPoolWait)
	}
}

func TestMaxConnsPerHostFIFO(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := New[*fakeConn](Config{MaxConnsPerHost: 1})
		defer p.Close()
		d := &dialer{}
		c1, _ := mustGet(t, p, "a", d)
		var chs []<-chan got
		for range 3 {
			chs = append(chs, goGet(p, t.Context(), "a", d, false))
			synctest.Wait() // queue in a known order
		}
		checkNow(t, hostStats(p, "a"), 1, 0, 0, 3)
		time.Sleep(time.Second)
		cur := c1
		for i, ch := range chs {
			done(p, "a", cur)
			synctest.Wait()
			g := recv(t, ch)
			if g.err != nil || g.c != c1 || !g.info.Reused || g.info.WasIdle {
				t.Fatalf("waiter %d: %+v", i, g)
			}
			if g.info.Waited != time.Second {
				t.Errorf("waiter %d waited %v", i, g.info.Waited)
			}
			for _, later := range chs[i+1:] {
				pending(t, later)
			}
			cur = g.c
		}
		done(p, "a", cur)
		s := hostStats(p, "a")
		checkNow(t, s, 0, 1, 0, 0)
		// 4 waits: the first Get blocked for its (instant) dial.
		if s.Dials != 1 || s.WaitCount != 4 || s.WaitDuration != 3*time.Second {
			t.Errorf("dials %d waits %d %v", s.Dials, s.WaitCount, s.WaitDuration)
		}
	})
}

func TestWaitQueueFull(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := New[*fakeConn](Config{MaxConnsPerHost: 1, MaxWaitPerHost: 1})
		defer p.Close()
		d := &dialer{}
		c1, _ := mustGet(t, p, "a", d)
		ch := goGet(p, t.Context(), "a", d, false)
		synctest.Wait()
		_, _, err := p.Get(t.Context(), "a", d.dial, false)
		checkWaitErr(t, err, ErrWaitQueueFull)
		done(p, "a", c1)
		synctest.Wait()
		if g := recv(t, ch); g.err != nil {
			t.Fatal(g.err)
		}
		checkNow(t, hostStats(p, "a"), 1, 0, 0, 0)
	})
}

func TestWaitCtxTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := New[*fakeConn](Config{MaxConnsPerHost: 1})
		defer p.Close()
		d := &dialer{}
		c1, _ := mustGet(t, p, "a", d)
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		defer cancel()
		start := time.Now()
		_, _, err := p.Get(ctx, "a", d.dial, false)
		checkWaitErr(t, err, context.DeadlineExceeded)
		if e := err.(*errs.Error); !e.Timeout() {
			t.Error("not a Timeout()")
		}
		if el := time.Since(start); el != 5*time.Second {
			t.Errorf("returned after %v", el)
		}
		s := hostStats(p, "a")
		checkNow(t, s, 1, 0, 0, 0)
		if s.WaitCount != 2 || s.WaitDuration != 5*time.Second {
			t.Errorf("waits %d %v", s.WaitCount, s.WaitDuration)
		}
		done(p, "a", c1)
		// A cancelled ctx never queues.
		cctx, ccancel := context.WithCancelCause(t.Context())
		ccancel(errBoom)
		p.Remove("a", c1, ReasonBroken)
		_, _, err = p.Get(cctx, "a", d.dial, false)
		checkWaitErr(t, err, errBoom)
		if d.dialed() != 1 {
			t.Error("dialed for a cancelled ctx")
		}
	})
}

// A conn put back while a waiter's dial runs goes to the waiter; the dial
// then lands idle.
func TestFreedConnBeatsDial(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := New[*fakeConn](Config{})
		defer p.Close()
		d := &dialer{}
		c1, _ := mustGet(t, p, "a", d)
		hold := make(chan struct{})
		d.set(func(d *dialer) { d.hold = hold })
		ch := goGet(p, t.Context(), "a", d, false)
		synctest.Wait()
		checkNow(t, hostStats(p, "a"), 1, 0, 1, 1)
		done(p, "a", c1)
		synctest.Wait()
		if g := recv(t, ch); g.c != c1 || !g.info.Reused {
			t.Fatalf("waiter got %+v, want conn 1", g)
		}
		checkNow(t, hostStats(p, "a"), 1, 0, 1, 0)
		hold <- struct{}{}
		synctest.Wait()
		s := hostStats(p, "a")
		checkNow(t, s, 1, 1, 0, 0)
		if s.Dials != 2 {
			t.Errorf("dials %d", s.Dials)
		}
		c2, info := mustGet(t, p, "a", d)
		if c2.id != 2 || !info.WasIdle || info.Reused {
			t.Errorf("got %d %+v, want the dialed conn 2, idle and unused", c2.id, info)
		}
	})
}

// A caller giving up does not cancel its dial; the conn lands idle.
func TestCancelledWaiterDialLandsIdle(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := New[*fakeConn](Config{})
		defer p.Close()
		hold := make(chan struct{})
		d := &dialer{hold: hold}
		leaveDial(t, p, d)
		checkNow(t, hostStats(p, "a"), 0, 0, 1, 0)
		hold <- struct{}{}
		synctest.Wait()
		checkNow(t, hostStats(p, "a"), 0, 1, 0, 0)
	})
}

// A dial left over from a caller who gave up does not stand in for the
// next caller's: that one starts its own dial (net/http's
// TestTransportPoolCancelRequestReusesConn). The first dial to finish
// serves it; the other lands idle.
func TestNewCallerDialsBesideLeftoverDial(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := New[*fakeConn](Config{})
		defer p.Close()
		hold := make(chan struct{})
		d := &dialer{hold: hold}
		leaveDial(t, p, d)

		ch2 := goGet(p, t.Context(), "a", d, false)
		synctest.Wait()
		checkNow(t, hostStats(p, "a"), 0, 0, 2, 1)
		hold <- struct{}{} // the leftover dial finishes first
		synctest.Wait()
		g := recv(t, ch2)
		if g.err != nil || g.c.id != 1 {
			t.Fatalf("second caller got %+v, want the leftover conn 1", g)
		}
		hold <- struct{}{}
		synctest.Wait()
		checkNow(t, hostStats(p, "a"), 1, 1, 0, 0)
		if s := hostStats(p, "a"); s.Dials != 2 {
			t.Errorf("dials %d, want 2", s.Dials)
		}
	})
}

// At MaxConnsPerHost the leftover dial holds the one slot: the next caller
// waits for it instead of dialing past the limit.
func TestLeftoverDialServesCallerAtLimit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := New[*fakeConn](Config{MaxConnsPerHost: 1})
		defer p.Close()
		hold := make(chan struct{})
		d := &dialer{hold: hold}
		leaveDial(t, p, d)
		ch2 := goGet(p, t.Context(), "a", d, false)
		synctest.Wait()
		checkNow(t, hostStats(p, "a"), 0, 0, 1, 1)
		hold <- struct{}{}
		synctest.Wait()
		if g := recv(t, ch2); g.err != nil || g.c.id != 1 {
			t.Fatalf("second caller got %+v, want conn 1", g)
		}
	})
}

func TestDialErrorToItsWaiter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := New[*fakeConn](Config{MaxConnsPerHost: 1})
		defer p.Close()
		hold := make(chan struct{})
		d := &dialer{hold: hold, err: errBoom}
		ch1 := goGet(p, t.Context(), "a", d, false)
		synctest.Wait()
		ch2 := goGet(p, t.Context(), "a", d, false) // no slot: waits behind ch1's dial
		synctest.Wait()
		checkNow(t, hostStats(p, "a"), 0, 0, 1, 2)
		hold <- struct{}{}
		synctest.Wait()
		if g := recv(t, ch1); g.err != errBoom {
			t.Fatalf("owner got %v, want the dial error as is", g.err)
		}
		pending(t, ch2) // its own dial started in the freed slot
		checkNow(t, hostStats(p, "a"), 0, 0, 1, 1)
		d.set(func(d *dialer) { d.err = nil })
		hold <- struct{}{}
		synctest.Wait()
		if g := recv(t, ch2); g.err != nil || g.c.id != 1 {
			t.Fatalf("second waiter: %+v", g)
		}
		s := hostStats(p, "a")
		if s.Dials != 2 || s.DialErrors != 1 {
			t.Errorf("dials %d errors %d", s.Dials, s.DialErrors)
		}
	})
}

func TestRemoveLetsWaiterDial(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := New[*fakeConn](Config{MaxConnsPerHost: 1})
		defer p.Close()
		d := &dialer{}
		c1, _ := mustGet(t, p, "a", d)
		ch := goGet(p, t.Context(), "a", d, false)
		synctest.Wait()
		checkNow(t, hostStats(p, "a"), 1, 0, 0, 1)
		p.Remove("a", c1, ReasonLeaked)
		synctest.Wait()
		if g := recv(t, ch); g.err != nil || g.c.id != 2 {
			t.Fatalf("waiter: %+v", g)
		}
		if s := hostStats(p, "a"); s.Closes[ReasonLeaked] != 1 || s.Dials != 2 {
			t.Errorf("%+v", s)
		}
	})
}

// A fresh multiplexed conn serves every waiter it has room for; a key known to
// be multiplexed dials once for a crowd, not once per caller.
func TestMultiplexedDialServesWaiters(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := New[*fakeConn](Config{})
		defer p.Close()
		hold := make(chan struct{})
		d := &dialer{slots: 2, hold: hold}
		// Unknown protocol: each caller dials; the first conn serves both.
		ch1 := goGet(p, t.Context(), "a", d, false)
		ch2 := goGet(p, t.Context(), "a", d, false)
		synctest.Wait()
		checkNow(t, hostStats(p, "a"), 0, 0, 2, 2)
		hold <- struct{}{}
		synctest.Wait()
		g1, g2 := recv(t, ch1), recv(t, ch2)
		if g1.c != g2.c || g1.c.InFlight() != 2 {
			t.Fatalf("got conns %d and %d", g1.c.id, g2.c.id)
		}
		hold <- struct{}{} // the other dial lands idle
		synctest.Wait()
		checkNow(t, hostStats(p, "a"), 1, 1, 0, 0)
		// Take the idle one's two slots too; now every conn is full.
		g3, _ := mustGet(t, p, "a", d)
		g4, _ := mustGet(t, p, "a", d)
		if g3 != g4 || g3 == g1.c {
			t.Fatal("idle multiplexed conn not shared")
		}
		// Known multiplexed: three callers, one dial, one conn with room for all.
		d.set(func(d *dialer) { d.slots = 3 })
		var chs []<-chan got
		for range 3 {
			chs = append(chs, goGet(p, t.Context(), "a", d, false))
		}
		synctest.Wait()
		checkNow(t, hostStats(p, "a"), 2, 0, 1, 3)
		hold <- struct{}{}
		synctest.Wait()
		for i, ch := range chs {
			if g := recv(t, ch); g.err != nil || g.c.id != 3 {
				t.Fatalf("waiter %d: %+v", i, g)
			}
		}
		if s := hostStats(p, "a"); s.Dials != 3 {
			t.Errorf("dials %d, want 3", s.Dials)
		}
	})
}

func TestCloseFailsWaitersAndCancelsDials(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := New[*fakeConn](Config{MaxConnsPerHost: 1})
		d := &dialer{hold: make(chan struct{})}
		ch1 := goGet(p, t.Context(), "a", d, false)
		synctest.Wait()
		ch2 := goGet(p, t.Context(), "a", d, false)
		synctest.Wait()
		p.Close()
		synctest.Wait()
		checkWaitErr(t, recv(t, ch1).err, ErrPoolClosed)
		checkWaitErr(t, recv(t, ch2).err, ErrPoolClosed)
		d.mu.Lock()
		dctx := d.ctxs[0]
		d.mu.Unlock()
		if !errors.Is(context.Cause(dctx), ErrPoolClosed) {
			t.Errorf("dial ctx cause %v", context.Cause(dctx))
		}
		s := hostStats(p, "a")
		checkNow(t, s, 0, 0, 0, 0)
		if s.DialErrors != 1 {
			t.Errorf("dial errors %d", s.DialErrors)
		}
		p.Close() // twice is fine
	})
}

// A dial that succeeds after Close is closed, not pooled.
func TestDialAfterClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := New[*fakeConn](Config{})
		started := make(chan struct{})
		finish := make(chan struct{})
		var c *fakeConn
		slow := func(ctx context.Context) (*fakeConn, error) {
			close(started)
			<-finish // ignores ctx
			c = &fakeConn{id: 1, slots: 1}
			return c, nil
		}
		ch := make(chan error, 1)
		go func() { _, _, err := p.Get(t.Context(), "a", slow, false); ch <- err }()
		<-started
		synctest.Wait()
		p.Close()
		close(finish)
		synctest.Wait()
		checkWaitErr(t, <-ch, ErrPoolClosed)
		if !c.isClosed() {
			t.Error("conn dialed after Close kept open")
		}
		if s := hostStats(p, "a"); s.Closes[ReasonPoolClosed] != 1 {
			t.Errorf("closes %v", s.Closes)
		}
	})
}

// forceNew waiters are served by fresh dials only, never by a conn put back.
func TestForceNewWaiterGetsFreshConn(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := New[*fakeConn](Config{MaxConnsPerHost: 1})
		defer p.Close()
		d := &dialer{}
		c1, _ := mustGet(t, p, "a", d)
		ch := goGet(p, t.Context(), "a", d, true)
		synctest.Wait()
		done(p, "a", c1) // idles, then makes room for the forced dial
		synctest.Wait()
		g := recv(t, ch)
		if g.err != nil || g.c.id != 2 || g.info.Reused {
			t.Fatalf("forceNew waiter: %+v", g)
		}
		if !c1.isClosed() {
			t.Error("idle conn not evicted for the forced dial")
		}
	})
}

// leaveDial has a caller on "a" start a dial with d (held) and give up:
// the dial is left over, with nobody waiting for it.
func leaveDial(t *testing.T, p *Pool[*fakeConn], d *dialer) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	ch := goGet(p, ctx, "a", d, false)
	synctest.Wait()
	cancel()
	synctest.Wait()
	checkWaitErr(t, recv(t, ch).err, context.Canceled)
}

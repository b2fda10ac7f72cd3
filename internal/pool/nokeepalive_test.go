package pool

import (
	"testing"
	"testing/synctest"
)

// With no idle conns kept (the Transport's DisableKeepAlives, MaxIdle<0),
// a conn serves only the Get it was dialed for: a leftover dial whose
// caller gave up is closed, not handed to the caller waiting for its own
// dial.
func TestNoIdleKeptLeftoverDialNotHandedOn(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := New[*fakeConn](Config{MaxIdle: -1})
		defer p.Close()
		hold := make(chan struct{})
		d := &dialer{hold: hold}
		leaveDial(t, p, d)
		ch2 := goGet(p, t.Context(), "a", d, false)
		synctest.Wait()
		hold <- struct{}{} // the leftover dial finishes first
		synctest.Wait()
		pending(t, ch2)
		if c1 := d.conns[0]; !c1.isClosed() {
			t.Fatal("leftover conn 1 kept")
		}
		checkNow(t, hostStats(p, "a"), 0, 0, 1, 1)
		hold <- struct{}{}
		synctest.Wait()
		if g := recv(t, ch2); g.err != nil || g.c.id != 2 {
			t.Fatalf("second caller got %+v, want its own conn 2", g)
		}
	})
}

// A conn put back reusable when no idle conns are kept (MaxIdlePerHost<0,
// which net/http treats as keep-alives off) is closed; the caller waiting
// at MaxConnsPerHost dials its own instead of reusing it.
func TestNoIdleKeptPutNotHandedOn(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := New[*fakeConn](Config{MaxIdlePerHost: -1, MaxConnsPerHost: 1})
		defer p.Close()
		d := &dialer{}
		c1, _ := mustGet(t, p, "a", d)
		ch := goGet(p, t.Context(), "a", d, false)
		synctest.Wait()
		checkNow(t, hostStats(p, "a"), 1, 0, 0, 1)
		done(p, "a", c1)
		synctest.Wait()
		g := recv(t, ch)
		if g.err != nil || g.c.id != 2 || g.info.Reused {
			t.Fatalf("waiter got %+v, want a fresh conn 2", g)
		}
		if !c1.isClosed() {
			t.Fatal("conn 1 kept")
		}
	})
}

// Multiplexed conns are shared while in use whatever the idle limits: the
// rule is about reuse after a request, not concurrency.
func TestNoIdleKeptMultiplexedStillShared(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := New[*fakeConn](Config{MaxIdle: -1, MaxConnsPerHost: 1})
		defer p.Close()
		d := &dialer{slots: 2}
		c1, _ := mustGet(t, p, "a", d)
		c2, _ := mustGet(t, p, "a", d)
		if c1 != c2 || d.dialed() != 1 {
			t.Fatalf("second Get on conn %d after %d dials, want conn 1 shared", c2.id, d.dialed())
		}
	})
}

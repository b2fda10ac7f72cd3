package pool

import (
	"testing"
	"testing/synctest"
	"time"
)

// idleAt puts a fresh conn of key idle at the current (fake) time.
func idleAt(t *testing.T, p *Pool[*fakeConn], key Key, d *dialer) *fakeConn {
	t.Helper()
	c, _ := mustGet(t, p, key, d)
	done(p, key, c)
	return c
}

// advance moves the bubble's clock and lets due timers finish their work.
func advance(d time.Duration) {
	time.Sleep(d)
	synctest.Wait()
}

func closedIDs(cs []*fakeConn) []int {
	var ids []int
	for _, c := range cs {
		if c.isClosed() {
			ids = append(ids, c.id)
		}
	}
	return ids
}

func eqInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// evictLocked is a function of the pool's state and now: call it directly.
func TestEvictPure(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := New[*fakeConn](Config{IdleTimeout: 10 * time.Second, MaxLifetime: 25 * time.Second})
		defer p.Close()
		d := &dialer{}
		t0 := time.Now()
		a := idleAt(t, p, "a", d) // created t0, idle t0
		advance(4 * time.Second)
		b := idleAt(t, p, "b", d) // created t0+4, idle t0+4
		// c: created t0+4, used until t0+20 so it is idle late but old.
		c, _ := mustGet(t, p, "c", d)
		advance(16 * time.Second) // t0+20; the timer fires at +10 and +14 for a and b
		done(p, "c", c)
		if got := closedIDs([]*fakeConn{a, b, c}); !eqInts(got, []int{1, 2}) {
			t.Fatalf("closed by timer %v, want [1 2]", got)
		}

		p.mu.Lock()
		defer p.mu.Unlock()
		evict := func(now time.Time) ([]*fakeConn, time.Time) {
			var b closeBatch[*fakeConn]
			next := p.evictLocked(now, &b)
			return b.conns(), next
		}
		toClose, next := evict(t0.Add(20 * time.Second))
		// The earliest lifetime is remembered, not tracked: a's (+25) is
		// still the hint although a is gone. Early is fine, late is not.
		if len(toClose) != 0 || !next.Equal(t0.Add(25*time.Second)) {
			t.Fatalf("at +20: close %d, next %v; want none, +25", len(toClose), next.Sub(t0))
		}
		toClose, next = evict(t0.Add(25 * time.Second))
		if len(toClose) != 0 || !next.Equal(t0.Add(29*time.Second)) {
			t.Fatalf("at +25: close %d, next %v; want none, +29 (c's lifetime)", len(toClose), next.Sub(t0))
		}
		toClose, next = evict(t0.Add(29 * time.Second))
		if len(toClose) != 1 || toClose[0] != c || !next.IsZero() {
			t.Fatalf("at +29: close %v, next %v; want c, none", toClose, next)
		}
		if s := p.recs["c"].s; s.Closes[ReasonLifetime] != 1 {
			t.Errorf("c closes %v", s.Closes)
		}
		if s := p.recs["a"].s; s.Closes[ReasonIdleTimeout] != 1 {
			t.Errorf("a closes %v", s.Closes)
		}
		if len(p.hosts) != 0 || p.lru.n != 0 {
			t.Errorf("hosts %d idle %d after evicting all", len(p.hosts), p.lru.n)
		}
	})
}

// One timer for the whole pool closes exactly the conns that are due.
func TestIdleTimeoutTimer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := New[*fakeConn](Config{IdleTimeout: 10 * time.Second})
		defer p.Close()
		d := &dialer{}
		var cs []*fakeConn
		keys := []Key{"a", "b", "c", "d"}
		for _, k := range keys { // idle at +0, +3, +6, +9
			cs = append(cs, idleAt(t, p, k, d))
			advance(3 * time.Second)
		}
		// Now +12: conn 1 (idle since +0) is gone, not yet conn 2 (+3 → due +13).
		if got := closedIDs(cs); !eqInts(got, []int{1}) {
			t.Fatalf("at +12 closed %v", got)
		}
		// Reusing conn 4 moves its deadline; conn 3 goes at +16.
		c4, info := mustGet(t, p, "d", d)
		if c4 != cs[3] || info.IdleTime != 3*time.Second {
			t.Fatalf("got %d idle %v", c4.id, info.IdleTime)
		}
		done(p, "d", c4)         // idle again at +12, due +22
		advance(4 * time.Second) // +16
		if got := closedIDs(cs); !eqInts(got, []int{1, 2, 3}) {
			t.Fatalf("at +16 closed %v", got)
		}
		advance(5 * time.Second) // +21
		if cs[3].isClosed() {
			t.Fatal("conn 4 closed before its reset deadline")
		}
		advance(time.Second) // +22
		if !cs[3].isClosed() {
			t.Fatal("conn 4 not closed at its deadline")
		}
		st := p.Stats()
		if st.Total.Closes[ReasonIdleTimeout] != 4 || st.Total.Idle != 0 || len(p.hosts) != 0 {
			t.Errorf("closes %v idle %d live hosts %d", st.Total.Closes, st.Total.Idle, len(p.hosts))
		}
	})
}

// An idle conn whose deadline passed but whose timer has not run yet is not
// handed out.
func TestExpiredAtCheckout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := New[*fakeConn](Config{IdleTimeout: 10 * time.Second})
		defer p.Close()
		d := &dialer{}
		c1 := idleAt(t, p, "a", d)
		p.mu.Lock()
		p.timer.Stop() // the timer is late
		p.mu.Unlock()
		advance(10 * time.Second)
		c2, _ := mustGet(t, p, "a", d)
		if c2 == c1 || !c1.isClosed() {
			t.Fatal("expired idle conn reused")
		}
		if s := hostStats(p, "a"); s.Closes[ReasonIdleTimeout] != 1 {
			t.Errorf("closes %v", s.Closes)
		}
	})
}

func TestMaxLifetime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := New[*fakeConn](Config{IdleTimeout: -1, MaxLifetime: 30 * time.Second})
		defer p.Close()
		d := &dialer{}
		// At checkin: too old, closed instead of going idle.
		c1, _ := mustGet(t, p, "a", d)
		advance(31 * time.Second)
		done(p, "a", c1)
		if !c1.isClosed() {
			t.Fatal("old conn went idle")
		}
		// Idle: closed by the timer when it comes of age (no idle timeout).
		c2 := idleAt(t, p, "a", d)
		advance(29 * time.Second)
		if c2.isClosed() {
			t.Fatal("closed early")
		}
		advance(time.Second)
		if !c2.isClosed() {
			t.Fatal("idle conn outlived MaxLifetime")
		}
		// Multiplexed and in use: no new requests after its lifetime, closed
		// when the last one ends.
		d.set(func(d *dialer) { d.slots = 10 })
		m, _ := mustGet(t, p, "a", d)
		advance(30 * time.Second)
		m2, _ := mustGet(t, p, "a", d)
		if m2 == m {
			t.Fatal("old multiplexed conn took a new request")
		}
		done(p, "a", m)
		if !m.isClosed() {
			t.Error("old multiplexed conn kept")
		}
		if s := hostStats(p, "a"); s.Closes[ReasonLifetime] != 3 {
			t.Errorf("closes %v", s.Closes)
		}
	})
}

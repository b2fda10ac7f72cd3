package pool

import (
	"context"
	"fmt"
	"testing"
	"testing/synctest"
)

// getN checks out n conns of key at once (n dials), in order of id.
func getN(t *testing.T, p *Pool[*fakeConn], key Key, d *dialer, n int) []*fakeConn {
	t.Helper()
	cs := make([]*fakeConn, n)
	for i := range cs {
		cs[i], _ = mustGet(t, p, key, d)
	}
	return cs
}

func TestLIFOReuse(t *testing.T) {
	p := New[*fakeConn](Config{})
	defer p.Close()
	d := &dialer{}
	cs := getN(t, p, "a", d, 3)
	for _, c := range cs {
		done(p, "a", c)
	}
	checkNow(t, hostStats(p, "a"), 0, 3, 0, 0)

	for _, want := range []int{3, 2, 1} {
		c, info := mustGet(t, p, "a", d)
		if c.id != want || !info.Reused || !info.WasIdle {
			t.Fatalf("got conn %d %+v, want %d reused from idle", c.id, info, want)
		}
	}
	s := hostStats(p, "a")
	checkNow(t, s, 3, 0, 0, 0)
	if s.Dials != 3 || s.Reuses != 3 {
		t.Errorf("dials %d reuses %d, want 3 3", s.Dials, s.Reuses)
	}
	if d.dialed() != 3 {
		t.Errorf("dialed %d", d.dialed())
	}
}

func TestIdleLimitPerHost(t *testing.T) {
	p := New[*fakeConn](Config{MaxIdlePerHost: 2})
	defer p.Close()
	d := &dialer{}
	cs := getN(t, p, "a", d, 3)
	for _, c := range cs {
		done(p, "a", c)
	}
	// The least recently idled (conn 1) made room, not the conn just put
	// back (net/http's rule, a documented difference): the conn idle
	// longest is the nearest a server's idle timeout.
	if !cs[0].isClosed() || cs[1].isClosed() || cs[2].isClosed() {
		t.Fatalf("closed: %v %v %v", cs[0].isClosed(), cs[1].isClosed(), cs[2].isClosed())
	}
	s := hostStats(p, "a")
	checkNow(t, s, 0, 2, 0, 0)
	if s.Closes[ReasonEvicted] != 1 {
		t.Errorf("evicted %d", s.Closes[ReasonEvicted])
	}
}

func TestIdleLimitGlobalLRU(t *testing.T) {
	p := New[*fakeConn](Config{MaxIdle: 2})
	defer p.Close()
	d := &dialer{}
	a, _ := mustGet(t, p, "a", d)
	b, _ := mustGet(t, p, "b", d)
	c, _ := mustGet(t, p, "c", d)
	done(p, "a", a)
	done(p, "b", b)
	b2, _ := mustGet(t, p, "b", d) // touch b: a is now least recently idled
	done(p, "b", b2)
	done(p, "c", c)
	if !a.isClosed() || b.isClosed() || c.isClosed() {
		t.Fatalf("closed a=%v b=%v c=%v, want only a", a.isClosed(), b.isClosed(), c.isClosed())
	}
	st := p.Stats()
	if st.Total.Idle != 2 || st.Total.Closes[ReasonEvicted] != 1 {
		t.Errorf("total %+v", st.Total)
	}
	// Key a has no conns left: its live state is gone, its counters are not.
	if _, live := p.hosts["a"]; live {
		t.Error("quiet key a still has live state")
	}
	if s := st.Hosts["a"]; s.Dials != 1 || s.Closes[ReasonEvicted] != 1 || s.Idle != 0 {
		t.Errorf("a: %+v", s)
	}
}

func TestNoIdleKept(t *testing.T) {
	p := New[*fakeConn](Config{MaxIdle: -1})
	defer p.Close()
	d := &dialer{}
	c, _ := mustGet(t, p, "a", d)
	done(p, "a", c)
	if !c.isClosed() {
		t.Fatal("conn kept idle with MaxIdle<0")
	}
}

// checkBadIdleSkipped: of idle conns cs, 2 (server closed) and 1
// (broken) were closed and counted at the checkout that took cs[0], which
// had its Err checked once (checks: its count before) and is counted reused.
func checkBadIdleSkipped(t *testing.T, p *Pool[*fakeConn], cs []*fakeConn, checks int) {
	t.Helper()
	if !cs[2].isClosed() || !cs[1].isClosed() {
		t.Error("failed conns not closed")
	}
	if n := cs[0].errChecks() - checks; n != 1 {
		t.Errorf("Err called %d times on the checkout, want 1", n)
	}
	s := hostStats(p, "a")
	checkNow(t, s, 1, 0, 0, 0)
	if s.Closes[ReasonServerClosed] != 1 || s.Closes[ReasonBroken] != 1 || s.Reuses != 1 {
		t.Errorf("closes %v reuses %d", s.Closes, s.Reuses)
	}
}

func TestErrAtCheckoutTriesNext(t *testing.T) {
	p := New[*fakeConn](Config{})
	defer p.Close()
	d := &dialer{}
	cs := getN(t, p, "a", d, 3)
	for _, c := range cs {
		done(p, "a", c)
	}
	checks := cs[0].errChecks()
	cs[2].setErr(fmt.Errorf("peek: %w", ErrServerClosed))
	cs[1].setErr(errBoom)
	c, info := mustGet(t, p, "a", d)
	if c != cs[0] || !info.Reused {
		t.Fatalf("got conn %d, want 1", c.id)
	}
	checkBadIdleSkipped(t, p, cs, checks)
	// All idle conns bad: a new one is dialed.
	done(p, "a", c)
	c.setErr(errBoom)
	c2, info := mustGet(t, p, "a", d)
	if c2.id != 4 || info.Reused {
		t.Errorf("got %d %+v, want fresh conn 4", c2.id, info)
	}
}

// The same for multiplexed conns, whose checkout checks run under the
// pool's lock (reserveIdleLocked): the failed idle conns are closed and
// counted, the good one is checked once, counted reused and shared again
// at once, and the events come in the order HTTP/1's checkout gives them.
func TestErrAtCheckoutTriesNextMux(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := &recorder{}
		p := New[*fakeConn](Config{Events: r})
		defer p.Close()
		d := &dialer{slots: 100}
		cs := make([]*fakeConn, 3)
		for i := range cs {
			c, _, err := p.Get(context.Background(), "a", d.dial, true) // forceNew: a conn each
			if err != nil {
				t.Fatal(err)
			}
			cs[i] = c
		}
		for _, c := range cs {
			done(p, "a", c)
		}
		synctest.Wait()
		r.take()
		checks := cs[0].errChecks()
		cs[2].setErr(fmt.Errorf("goaway: %w", ErrServerClosed))
		cs[1].setErr(errBoom)
		c, info := mustGet(t, p, "a", d)
		if c != cs[0] || !info.Reused || !info.WasIdle {
			t.Fatalf("got conn %d %+v, want conn 1, reused, from idle", c.id, info)
		}
		expectLines(t, r, "active a #3", "closed a #3 server closed idle=false uses=1",
			"active a #2", "closed a #2 broken idle=false uses=1", "active a #1")
		checkBadIdleSkipped(t, p, cs, checks)
		c2, info := mustGet(t, p, "a", d)
		if c2 != c || info.WasIdle || len(d.conns) != 3 {
			t.Errorf("second Get: conn %d %+v, %d dials; want conn 1 shared", c2.id, info, len(d.conns))
		}
		done(p, "a", c2)
		done(p, "a", c)
		expectLines(t, r, "idle a #1")
		// The last idle conn bad: a new one is dialed.
		c.setErr(errBoom)
		c3, info := mustGet(t, p, "a", d)
		if c3.id != 4 || info.Reused {
			t.Errorf("got %d %+v, want fresh conn 4", c3.id, info)
		}
		done(p, "a", c3)
	})
}

func TestPutNotReusable(t *testing.T) {
	p := New[*fakeConn](Config{})
	defer p.Close()
	d := &dialer{}
	c1, _ := mustGet(t, p, "a", d)
	c2, _ := mustGet(t, p, "a", d)
	c1.finish()
	p.Put("a", c1, false, ReasonNotReusable)
	c2.finish()
	c2.setErr(fmt.Errorf("x: %w", ErrServerClosed))
	p.Put("a", c2, true, 0)
	s := hostStats(p, "a")
	if !c1.isClosed() || !c2.isClosed() || s.Closes[ReasonNotReusable] != 1 || s.Closes[ReasonServerClosed] != 1 {
		t.Errorf("closes %v", s.Closes)
	}
	checkNow(t, s, 0, 0, 0, 0)
}

func TestForceNewSkipsIdle(t *testing.T) {
	p := New[*fakeConn](Config{})
	defer p.Close()
	d := &dialer{}
	c1, _ := mustGet(t, p, "a", d)
	done(p, "a", c1)
	c2, info, err := p.Get(context.Background(), "a", d.dial, true)
	if err != nil || c2.id != 2 || info.Reused {
		t.Fatalf("forceNew got %v %+v %v", c2, info, err)
	}
	checkNow(t, hostStats(p, "a"), 1, 1, 0, 0)
}

func TestForceNewAtLimitEvictsIdle(t *testing.T) {
	p := New[*fakeConn](Config{MaxConnsPerHost: 1})
	defer p.Close()
	d := &dialer{}
	c1, _ := mustGet(t, p, "a", d)
	done(p, "a", c1)
	c2, _, err := p.Get(context.Background(), "a", d.dial, true)
	if err != nil || c2.id != 2 {
		t.Fatalf("forceNew got %v %v", c2, err)
	}
	s := hostStats(p, "a")
	if !c1.isClosed() || s.Closes[ReasonEvicted] != 1 {
		t.Errorf("idle conn 1 not evicted for the fresh dial: %v", s.Closes)
	}
	checkNow(t, s, 1, 0, 0, 0)
}

func TestRemoveAndDetach(t *testing.T) {
	p := New[*fakeConn](Config{MaxConnsPerHost: 2})
	defer p.Close()
	d := &dialer{}
	c1, _ := mustGet(t, p, "a", d)
	c2, _ := mustGet(t, p, "a", d)
	p.Remove("a", c1, ReasonBroken)
	p.Detach("a", c2)
	if !c1.isClosed() || c2.isClosed() {
		t.Fatalf("closed c1=%v c2=%v", c1.isClosed(), c2.isClosed())
	}
	s := hostStats(p, "a")
	checkNow(t, s, 0, 0, 0, 0)
	if s.Closes[ReasonBroken] != 1 {
		t.Errorf("closes %v", s.Closes)
	}
	// Both slots free again.
	getN(t, p, "a", d, 2)
	// A detached conn put back is not ours: it is closed, not pooled.
	c2.finish()
	p.Put("a", c2, true, 0)
	if !c2.isClosed() {
		t.Error("unknown conn put back was not closed")
	}
}

func TestMaxRequestsPerConn(t *testing.T) {
	p := New[*fakeConn](Config{MaxRequestsPerConn: 2})
	defer p.Close()
	d := &dialer{}
	c, _ := mustGet(t, p, "a", d)
	done(p, "a", c)
	c2, _ := mustGet(t, p, "a", d)
	if c2 != c {
		t.Fatal("second request did not reuse")
	}
	done(p, "a", c2)
	if !c.isClosed() {
		t.Fatal("conn not retired after 2 requests")
	}
	c3, _ := mustGet(t, p, "a", d)
	if c3.id != 2 {
		t.Errorf("third request on conn %d", c3.id)
	}
	if s := hostStats(p, "a"); s.Closes[ReasonMaxRequests] != 1 {
		t.Errorf("closes %v", s.Closes)
	}
}

func TestMultiplexedSharedAndCountedOnce(t *testing.T) {
	p := New[*fakeConn](Config{MaxConnsPerHost: 1})
	defer p.Close()
	d := &dialer{slots: 100}
	var cs []*fakeConn
	for range 50 {
		c, _ := mustGet(t, p, "a", d)
		cs = append(cs, c)
	}
	for _, c := range cs {
		if c != cs[0] {
			t.Fatalf("conn %d, want all on conn 1", c.id)
		}
	}
	s := hostStats(p, "a")
	checkNow(t, s, 1, 0, 0, 0)
	if s.Dials != 1 || s.Reuses != 49 || cs[0].InFlight() != 50 {
		t.Errorf("dials %d reuses %d inflight %d", s.Dials, s.Reuses, cs[0].InFlight())
	}
	for _, c := range cs[1:] {
		done(p, "a", c)
	}
	checkNow(t, hostStats(p, "a"), 1, 0, 0, 0)
	done(p, "a", cs[0])
	checkNow(t, hostStats(p, "a"), 0, 1, 0, 0)
	// An idle multiplexed conn is shared again after checkout.
	c1, _ := mustGet(t, p, "a", d)
	c2, _ := mustGet(t, p, "a", d)
	if c1 != cs[0] || c2 != c1 {
		t.Error("idle multiplexed conn not shared after checkout")
	}
}

func TestPoolClosedGet(t *testing.T) {
	p := New[*fakeConn](Config{})
	d := &dialer{}
	c1, _ := mustGet(t, p, "a", d)
	c2, _ := mustGet(t, p, "a", d)
	done(p, "a", c1)
	p.Close()
	if !c1.isClosed() || c2.isClosed() {
		t.Fatal("Close must close idle conns only")
	}
	done(p, "a", c2) // in use at Close: closed when back
	if !c2.isClosed() {
		t.Error("conn put after Close kept")
	}
	_, _, err := p.Get(context.Background(), "a", d.dial, false)
	checkWaitErr(t, err, ErrPoolClosed)
	if s := hostStats(p, "a"); s.Closes[ReasonPoolClosed] != 2 {
		t.Errorf("closes %v", s.Closes)
	}
}

func TestCloseIdle(t *testing.T) {
	p := New[*fakeConn](Config{})
	defer p.Close()
	d := &dialer{}
	cs := getN(t, p, "a", d, 2)
	done(p, "a", cs[0])
	p.CloseIdle()
	if !cs[0].isClosed() || cs[1].isClosed() {
		t.Fatal("CloseIdle closed the wrong conns")
	}
	done(p, "a", cs[1])
	if cs[1].isClosed() {
		t.Error("conn put after CloseIdle closed; it should go idle")
	}
	if s := hostStats(p, "a"); s.Closes[ReasonCloseIdle] != 1 {
		t.Errorf("closes %v", s.Closes)
	}
}

func TestStatsManyKeys(t *testing.T) {
	const n = 10000
	p := New[*fakeConn](Config{MaxIdle: 2 * n})
	defer p.Close()
	d := &dialer{}
	for i := range n {
		k := Key(fmt.Sprintf("h%d", i))
		c, _ := mustGet(t, p, k, d)
		done(p, k, c)
	}
	p.Count("h7", func(s *HostStats) { s.Requests += 5 }) // on top of the one Get counted
	st := p.Stats()
	if len(st.Hosts) != n || st.Total.Idle != n || st.Total.Dials != n || st.Hosts["h7"].Requests != 1+5 || st.Total.Requests != n+5 {
		t.Errorf("hosts %d total %+v", len(st.Hosts), st.Total)
	}
}

func TestCloseReasonString(t *testing.T) {
	for r := range NumReasons {
		if s := r.String(); s == "" || s == "unknown" {
			t.Errorf("reason %d has no name", r)
		}
	}
	if ReasonDetached.String() != "detached" || (ReasonDetached+1).String() != "unknown" {
		t.Error("out of range reason")
	}
}

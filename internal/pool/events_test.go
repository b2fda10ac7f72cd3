package pool

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// recorder is an Events that logs each event as a line and keeps the
// sums a metrics observer would.
type recorder struct {
	mu     sync.Mutex
	lines  []string
	dials  int64
	errs   int64
	closes [NumReasons + 1]int64
	open   int // +1 per conn dialed, -1 per conn closed
	idle   int // +1 per conn gone idle, -1 per conn taken from idle or closed while idle
}

func (r *recorder) log(format string, args ...any) {
	r.lines = append(r.lines, fmt.Sprintf(format, args...))
}

func (r *recorder) Dialed(key Key, c Conn, id uint64, d time.Duration, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.dials++
	if err != nil {
		r.errs++
		r.log("dial-error %s %v", key, err)
		return
	}
	r.open++
	r.log("dialed %s #%d", key, id)
}

func (r *recorder) Closed(key Key, c Conn, ev CloseEvent) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closes[ev.Reason]++
	r.open--
	if ev.Idle {
		r.idle--
	}
	r.log("closed %s #%d %s idle=%v uses=%d", key, ev.ID, ev.Reason, ev.Idle, ev.Uses)
}

func (r *recorder) Idle(key Key, c Conn, id uint64, idle bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if idle {
		r.idle++
		r.log("idle %s #%d", key, id)
		return
	}
	r.idle--
	r.log("active %s #%d", key, id)
}

// diff lists where the recorder's sums and s disagree.
func (r *recorder) diff(s HostStats) (diffs []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.dials != s.Dials || r.errs != s.DialErrors {
		diffs = append(diffs, fmt.Sprintf("events: %d dials, %d errors; stats %d, %d", r.dials, r.errs, s.Dials, s.DialErrors))
	}
	for why := range NumReasons {
		if r.closes[why] != s.Closes[why] {
			diffs = append(diffs, fmt.Sprintf("closes %s: events %d, stats %d", why, r.closes[why], s.Closes[why]))
		}
	}
	if r.open != s.Active+s.Idle || r.idle != s.Idle {
		diffs = append(diffs, fmt.Sprintf("events: %d open, %d idle; stats %d active, %d idle", r.open, r.idle, s.Active, s.Idle))
	}
	return diffs
}

func (r *recorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	l := r.lines
	r.lines = nil
	return l
}

// expectLines, inside a synctest bubble, waits for the bubble's other
// goroutines (a dial's emits after its Get returned) and compares.
func expectLines(t *testing.T, r *recorder, want ...string) {
	t.Helper()
	synctest.Wait()
	got := r.take()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("events:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

// The pool's events for a conn's life, in order: dialed (active), idle,
// taken from idle, idle, closed by the idle timer while idle.
func TestEventsConnLife(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := &recorder{}
		p := New[*fakeConn](Config{IdleTimeout: 10 * time.Second, Events: r})
		defer p.Close()
		d := &dialer{}
		c, info := mustGet(t, p, "a", d)
		if info.Conn != 1 || !info.Queued {
			t.Fatalf("first Get: %+v, want conn 1, queued (it waited for the dial)", info)
		}
		expectLines(t, r, "dialed a #1")
		done(p, "a", c)
		expectLines(t, r, "idle a #1")
		c2, info := mustGet(t, p, "a", d)
		if c2 != c || info.Conn != 1 || info.Queued || !info.Reused {
			t.Fatalf("second Get: %+v", info)
		}
		expectLines(t, r, "active a #1")
		done(p, "a", c)
		advance(11 * time.Second)
		expectLines(t, r, "idle a #1", "closed a #1 idle timeout idle=true uses=2")

		d.set(func(d *dialer) { d.err = errBoom })
		if _, _, err := p.Get(context.Background(), "b", d.dial, false); err == nil {
			t.Fatal("Get with a failing dial succeeded")
		}
		expectLines(t, r, "dial-error b boom")
		d.set(func(d *dialer) { d.err = nil })

		c3, _ := mustGet(t, p, "c", d)
		p.Detach("c", c3)
		expectLines(t, r, "dialed c #2", "closed c #2 detached idle=false uses=1")
		c4, _ := mustGet(t, p, "c", d)
		p.Remove("c", c4, ReasonBroken)
		expectLines(t, r, "dialed c #3", "closed c #3 broken idle=false uses=1")
	})
}

// The events and Stats count the same things: after random traffic, the
// sums an observer keeps equal the pool's counters and its state now.
func TestEventsAgreeWithStats(t *testing.T) {
	r := &recorder{}
	p := New[*fakeConn](Config{MaxIdlePerHost: 2, MaxConnsPerHost: 3, MaxRequestsPerConn: 4, Events: r})
	d := &dialer{}
	rng := rand.New(rand.NewPCG(1, 2))
	var held []*fakeConn
	var keys []Key
	for i := range 400 {
		key := Key(fmt.Sprintf("k%d", rng.IntN(3)))
		switch op := rng.IntN(10); {
		case op < 5 && len(held) < 3:
			c, _, err := p.Get(context.Background(), key, d.dial, false)
			if err == nil {
				held, keys = append(held, c), append(keys, key)
			}
		case op < 8 && len(held) > 0:
			j := rng.IntN(len(held))
			held[j].finish()
			p.Put(keys[j], held[j], rng.IntN(4) > 0, ReasonNotReusable)
			held, keys = append(held[:j], held[j+1:]...), append(keys[:j], keys[j+1:]...)
		case op == 8:
			p.CloseIdle()
		default:
			if i%7 == 0 {
				d.set(func(d *dialer) { d.err = errBoom })
				p.Get(context.Background(), "bad", d.dial, false) // no conn of its own to take
				d.set(func(d *dialer) { d.err = nil })
			}
		}
	}
	// check compares once the dial goroutines have emitted what they
	// counted (a Get returns before its dial's goroutine flushes).
	check := func() {
		t.Helper()
		var diffs []string
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
			if diffs = r.diff(p.Stats().Total); diffs == nil || time.Now().After(deadline) {
				break
			}
		}
		for _, d := range diffs {
			t.Error(d)
		}
	}
	check()
	for j := range held {
		held[j].finish()
		p.Put(keys[j], held[j], true, 0)
	}
	check()
	p.Close()
	check()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.dials < 10 || r.closes[ReasonCloseIdle] == 0 || r.closes[ReasonMaxRequests] == 0 || r.errs == 0 {
		t.Fatalf("the traffic missed a case: %d dials, %d errors, closes %v", r.dials, r.errs, r.closes)
	}
}

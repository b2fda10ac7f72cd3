package pool

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"
)

// Get+Put of an idle conn is the hot path: it must not allocate.
func TestGetPutIdleAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	p := New[*fakeConn](Config{})
	defer p.Close()
	d := &dialer{}
	ctx := context.Background()
	c, _ := mustGet(t, p, "a", d)
	done(p, "a", c)
	// Bind the DialFunc once: a method value or closure made per call is
	// one allocation (it escapes into a waiter when Get has to queue).
	dial := d.dial
	n := testing.AllocsPerRun(1000, func() {
		c, _, err := p.Get(ctx, "a", dial, false)
		if err != nil {
			panic(err)
		}
		c.finish()
		p.Put("a", c, true, 0)
	})
	if n != 0 {
		t.Errorf("Get+Put of an idle conn: %v allocs, want 0", n)
	}
}

// The same on a multiplexed conn (HTTP/2 at one stream): it goes idle at
// each Put and is checked, reserved and shared again at each Get.
func TestGetPutMuxAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	p := New[*fakeConn](Config{})
	defer p.Close()
	d := &dialer{slots: 100}
	ctx := context.Background()
	dial := d.dial
	c, _ := mustGet(t, p, "a", d)
	done(p, "a", c)
	n := testing.AllocsPerRun(1000, func() {
		c, _, err := p.GetTagged(ctx, "a", dial, false, false, nil)
		if err != nil {
			panic(err)
		}
		c.finish()
		p.Put("", c, true, ReasonNotReusable)
	})
	if n != 0 || len(d.conns) != 1 {
		t.Errorf("Get+Put of a multiplexed conn: %v allocs, %d conns; want 0, 1", n, len(d.conns))
	}
}

// stressWorker runs rounds of random Get/Put/Remove on p.
func stressWorker(p *Pool[*fakeConn], ds map[Key]*dialer, seed uint64, rounds, maxPer int) {
	keys := []Key{"a", "b", "c"}
	r := rand.New(rand.NewPCG(seed, 1))
	for range rounds {
		k := keys[r.IntN(len(keys))]
		ctx, cancel := context.WithCancel(context.Background())
		if r.IntN(10) == 0 {
			cancel()
		}
		c, _, err := p.Get(ctx, k, ds[k].dial, r.IntN(20) == 0)
		cancel()
		if err != nil {
			continue
		}
		if n := p.Stats().Hosts[k]; n.Active+n.Idle+n.Dialing > maxPer {
			panic(fmt.Sprintf("key %s over MaxConnsPerHost: %+v", k, n))
		}
		c.finish()
		switch r.IntN(10) {
		case 0:
			p.Remove(k, c, ReasonBroken)
		case 1:
			p.Put(k, c, false, ReasonNotReusable)
		default:
			p.Put(k, c, true, 0)
		}
	}
}

// Many goroutines on few keys with tight limits; afterwards every conn is
// either idle in the pool or closed, and the numbers add up.
func TestStress(t *testing.T) {
	const workers, rounds, maxPer = 16, 300, 3
	p := New[*fakeConn](Config{MaxConnsPerHost: maxPer, MaxIdlePerHost: 2, MaxIdle: 4, MaxRequestsPerConn: 7})
	ds := map[Key]*dialer{"a": {}, "b": {slots: 4}, "c": {}}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() { stressWorker(p, ds, uint64(w), rounds, maxPer) })
	}
	wg.Wait()
	// A dial started for a waiter that gave up lands on its own time.
	for i := 0; i < 1000 && p.Stats().Total.Dialing > 0; i++ {
		time.Sleep(time.Millisecond)
	}
	st := p.Stats()
	if st.Total.Active != 0 || st.Total.Dialing != 0 || st.Total.Waiting != 0 || st.Total.Idle > 4 {
		t.Errorf("after: %+v", st.Total)
	}
	open := 0
	for _, d := range ds {
		for _, c := range d.conns {
			if !c.isClosed() {
				open++
			}
		}
	}
	if open != st.Total.Idle {
		t.Errorf("%d conns open, %d idle", open, st.Total.Idle)
	}
	p.Close()
	for k, d := range ds {
		for _, c := range d.conns {
			// A multiplexed conn removed while other requests ran on it is
			// closed again when they come back (idempotent on real conns).
			if !c.isClosed() || (c.closed != 1 && k != "b") {
				t.Fatalf("%s conn %d closed %d times", k, c.id, c.closed)
			}
		}
	}
}

func BenchmarkGetPut(b *testing.B) {
	for _, keys := range []int{1, 64} {
		b.Run(fmt.Sprintf("keys=%d", keys), func(b *testing.B) {
			p := New[*fakeConn](Config{})
			defer p.Close()
			d := &dialer{}
			ks := make([]Key, keys)
			for i := range ks {
				ks[i] = Key(fmt.Sprintf("host%d:443", i))
			}
			ctx := context.Background()
			dial := d.dial
			var next sync.Mutex
			i := 0
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				next.Lock()
				k := ks[i%keys]
				i++
				next.Unlock()
				for pb.Next() {
					c, _, err := p.Get(ctx, k, dial, false)
					if err != nil {
						panic(err)
					}
					c.finish()
					p.Put(k, c, true, 0)
				}
			})
		})
	}
}

// BenchmarkGetPutMux is one caller's request cycle on a multiplexed conn
// (HTTP/2): GetTagged, the exchange ends, Put, as the root's tryH2 and
// OnStreamDone do. streams-1 other checkouts stay open on the same conn:
// at 1 the conn goes idle after each Put and comes off the idle list at
// the next Get; at 16 it stays on the shared list.
func BenchmarkGetPutMux(b *testing.B) {
	for _, streams := range []int{1, 16} {
		b.Run(fmt.Sprintf("streams=%d", streams), func(b *testing.B) {
			p := New[*fakeConn](Config{})
			defer p.Close()
			d := &dialer{slots: 100}
			ctx := context.Background()
			dial := d.dial
			for range streams - 1 {
				if _, _, err := p.GetTagged(ctx, "a", dial, false, false, nil); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			for b.Loop() {
				c, _, err := p.GetTagged(ctx, "a", dial, false, false, nil)
				if err != nil {
					b.Fatal(err)
				}
				c.finish()
				p.Put("", c, true, ReasonNotReusable)
			}
			if n := len(d.conns); n != 1 {
				b.Fatalf("%d conns dialed, want 1", n)
			}
		})
	}
}

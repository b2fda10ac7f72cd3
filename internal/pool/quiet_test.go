package pool

import (
	"fmt"
	"testing"
)

// A crawler meets millions of hosts: the pool keeps records for live keys
// and the maxQuietKeys most recently quiet ones, and Total stays exact.
func TestQuietRecordsAreBounded(t *testing.T) {
	p := New[*fakeConn](Config{})
	defer p.Close()
	d := &dialer{}

	// A live key: one idle conn. It must survive however many keys follow.
	live := Key("http://live.test:80")
	c, _ := mustGet(t, p, live, d)
	done(p, live, c)

	const n = 3 * maxQuietKeys
	for i := range n {
		k := Key(fmt.Sprintf("http://h%d.test:80", i))
		c, _ := mustGet(t, p, k, d)
		c.finish()
		p.Put(k, c, false, ReasonNotReusable) // closed: the key goes quiet
		p.Count(k, func(s *HostStats) { s.LeakedBodies++ })
	}
	st := p.Stats()
	if len(st.Hosts) != maxQuietKeys+1 {
		t.Errorf("%d host records after %d quiet keys, want %d (the quiet bound and the live key)", len(st.Hosts), n, maxQuietKeys+1)
	}
	if s, ok := st.Hosts[live]; !ok || s.Idle != 1 {
		t.Errorf("live key: %+v (present %v), want its idle conn", s, ok)
	}
	newest := Key(fmt.Sprintf("http://h%d.test:80", n-1))
	oldest := Key("http://h0.test:80")
	if _, ok := st.Hosts[newest]; !ok {
		t.Error("the most recently quiet key was dropped")
	}
	if _, ok := st.Hosts[oldest]; ok {
		t.Error("the oldest quiet key is still kept")
	}
	tot := st.Total
	if tot.Requests != n+1 || tot.Dials != n+1 || tot.LeakedBodies != n || tot.Closes[ReasonNotReusable] != n || tot.Idle != 1 {
		t.Errorf("Total requests %d dials %d leaked %d closes %d idle %d, want %d %d %d %d 1",
			tot.Requests, tot.Dials, tot.LeakedBodies, tot.Closes[ReasonNotReusable], tot.Idle, n+1, n+1, n, n)
	}

	// A dropped key that comes back starts a fresh record; Total goes on.
	c, _ = mustGet(t, p, oldest, d)
	done(p, oldest, c)
	st = p.Stats()
	if s := st.Hosts[oldest]; s.Requests != 1 || s.Idle != 1 {
		t.Errorf("returning key: %+v", s)
	}
	if st.Total.Requests != n+2 {
		t.Errorf("Total requests %d, want %d", st.Total.Requests, n+2)
	}
}

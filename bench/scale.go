package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spoolhttp/spool"
)

// Settings of the scale benchmark, each with its reason.
const (
	// scaleWorkers is the concurrency of the scale passes: enough to
	// overlap dials, few enough that idle conns dominate the pool.
	scaleWorkers = 32
	// scalePasses: memory must stay flat from the first pass on.
	scalePasses = 3
	// sampleEvery is how often a sampler checks Stats().Total.Idle and the
	// fd count during the passes.
	sampleEvery = 25 * time.Millisecond
	// statsCalls is how many Stats() calls are timed.
	statsCalls = 200
	// hostsPerOctet keeps 127.0.x.y away from .0 and .255.
	hostsPerOctet = 250
)

// scaleHost returns the i-th host address, 127.0.x.y with y in 1..250.
func scaleHost(i int, port string) string {
	return net.JoinHostPort(fmt.Sprintf("127.0.%d.%d", i/hostsPerOctet, 1+i%hostsPerOctet), port)
}

// scaleRun is one pass over hosts through tr.
type scaleRun struct {
	name           string
	reqs           int
	elapsed        time.Duration
	idle, maxIdle  int
	dials, evicted int64
	fds, maxFDs    int
	heap           uint64
	err            error
}

// sampler tracks the largest Stats().Total.Idle and fd count seen.
type sampler struct {
	mu              sync.Mutex // held while sampling; held by pause so a measurement sees no Stats() garbage
	maxIdle, maxFDs atomic.Int64
	stop            chan struct{}
	done            sync.WaitGroup
}

func startSampler(tr *spool.Transport) *sampler {
	s := &sampler{stop: make(chan struct{})}
	s.done.Add(1)
	go func() {
		defer s.done.Done()
		tick := time.NewTicker(sampleEvery)
		defer tick.Stop()
		for {
			s.mu.Lock()
			if idle := int64(tr.Stats().Total.Idle); idle > s.maxIdle.Load() {
				s.maxIdle.Store(idle)
			}
			if fds := int64(countFDs()); fds > s.maxFDs.Load() {
				s.maxFDs.Store(fds)
			}
			s.mu.Unlock()
			select {
			case <-s.stop:
				return
			case <-tick.C:
			}
		}
	}()
	return s
}

func (s *sampler) finish() { close(s.stop); s.done.Wait() }

// pass requests hosts[order[i]] for every i with workers concurrent callers.
func pass(tr *spool.Transport, urls []string, order []int, workers int) (int, error) {
	var next atomic.Int64
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	var done atomic.Int64
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(order) {
					return
				}
				if err := get(tr, urls[order[i]]); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
					continue
				}
				done.Add(1)
			}
		}()
	}
	wg.Wait()
	return int(done.Load()), first
}

func get(tr http.RoundTripper, url string) error {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := tr.RoundTrip(req)
	if err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("%s: status %d", url, resp.StatusCode)
	}
	return err
}

func seq(from, to int) []int {
	out := make([]int, 0, to-from)
	for i := from; i < to; i++ {
		out = append(out, i)
	}
	return out
}

// runScale is `-scale`: cfg.hosts distinct hosts through one Transport with
// MaxIdleConns cfg.maxIdle.
func runScale(out, log io.Writer, cfg config, srv *server) error {
	_, port, err := net.SplitHostPort(srv.ScaleAddr)
	if err != nil {
		return fmt.Errorf("scale listener: %w", err)
	}
	urls := make([]string, cfg.hosts)
	for i := range urls {
		urls[i] = "http://" + scaleHost(i, port) + "/"
	}
	tr := &spool.Transport{MaxIdleConns: cfg.maxIdle}
	g0, m0, fd0 := settle(-1)
	smp := startSampler(tr)
	var runs []scaleRun
	step := func(name string, order []int, workers int) {
		fmt.Fprintf(log, "scale: %s …\n", name)
		t0 := time.Now()
		n, err := pass(tr, urls, order, workers)
		r := scaleRun{name: name, reqs: n, elapsed: time.Since(t0), err: err}
		smp.mu.Lock()
		_, m, fds := settle(-1)
		smp.mu.Unlock()
		st := tr.Stats()
		r.idle, r.dials, r.evicted, r.fds, r.heap = st.Total.Idle, st.Total.Dials, st.Total.Closes.Evicted, fds, m.HeapAlloc
		r.maxIdle, r.maxFDs = int(smp.maxIdle.Load()), int(smp.maxFDs.Load())
		runs = append(runs, r)
	}
	for p := range scalePasses {
		step(fmt.Sprintf("pass %d: all hosts, %d workers", p+1, scaleWorkers), seq(0, cfg.hosts), scaleWorkers)
	}
	// LRU: after a sequential pass the idle conns are exactly the last
	// maxIdle hosts; touching the oldest of them and then a new host must
	// evict the second oldest, not the one just touched.
	step("sequential pass, 1 worker", seq(0, cfg.hosts), 1)
	lruSet := idleHosts(tr)
	wantSet := map[string]bool{}
	for i := cfg.hosts - cfg.maxIdle; i < cfg.hosts; i++ {
		wantSet["http://"+scaleHost(i, port)] = true
	}
	oldest, second := cfg.hosts-cfg.maxIdle, cfg.hosts-cfg.maxIdle+1
	step("touch the oldest idle host, then host 0", []int{oldest, 0}, 1)
	after := idleHosts(tr)
	smp.finish()
	lruExact := sameSet(lruSet, wantSet)
	lruRefresh := after["http://"+scaleHost(oldest, port)] && !after["http://"+scaleHost(second, port)] && after["http://"+scaleHost(0, port)]

	// Stats() cost with every host known to the Transport.
	runtime.GC()
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	t0 := time.Now()
	var nHosts int
	for range statsCalls {
		nHosts = len(tr.Stats().Hosts)
	}
	perCall := time.Since(t0) / statsCalls
	runtime.ReadMemStats(&ms1)

	tr.CloseIdleConnections()
	g2, m2, fd2 := settle(g0)
	for range 50 { // closes are synchronous, but give the runtime a moment
		if fd2 <= fd0 {
			break
		}
		time.Sleep(20 * time.Millisecond)
		fd2 = countFDs()
	}
	runtime.KeepAlive(tr)

	t := &table{
		title: fmt.Sprintf("%s distinct hosts (127.0.x.y) through one spool.Transport, MaxIdleConns %s",
			fmtInt(float64(cfg.hosts)), fmtInt(float64(cfg.maxIdle))),
		header: []string{"phase", "requests", "time", "req/s", "idle after", "max idle seen", "dials (total)",
			"LRU evictions (total)", "open fds after", "max fds seen", "heap after (2×GC)"},
		left: 1,
	}
	for _, r := range runs {
		t.add(r.name, fmtInt(float64(r.reqs)), fmtDur(r.elapsed), fmtInt(float64(r.reqs)/r.elapsed.Seconds()),
			fmtInt(float64(r.idle)), fmtInt(float64(r.maxIdle)), fmtInt(float64(r.dials)), fmtInt(float64(r.evicted)),
			fmtInt(float64(r.fds)), fmtInt(float64(r.maxFDs)), fmtBytes(float64(r.heap)))
		if r.err != nil {
			t.notes = append(t.notes, fmt.Sprintf("%s: error: %v", r.name, r.err))
		}
	}
	t.add("after CloseIdleConnections", "", "", "", fmtInt(float64(tr.Stats().Total.Idle)), "", "", "",
		fmtInt(float64(fd2)), "", fmtBytes(float64(m2.HeapAlloc)))
	maxIdle := 0
	for _, r := range runs {
		maxIdle = max(maxIdle, r.maxIdle)
	}
	first, last := runs[0].heap, runs[scalePasses-1].heap
	flat := float64(last) <= 1.25*float64(first)+256<<10
	heaps := ""
	for i, r := range runs[:scalePasses] {
		if i > 0 {
			heaps += " → "
		}
		heaps += fmtBytes(float64(r.heap))
	}
	t.notes = append(t.notes,
		"- idle never above the limit: "+yesNo(maxIdle <= cfg.maxIdle, fmt.Sprintf("max Stats().Total.Idle sampled every %v: %d", sampleEvery, maxIdle)),
		"- LRU: after a sequential pass the idle conns are exactly the last hosts used: "+yesNo(lruExact, fmt.Sprintf("%d idle hosts, %d expected", len(lruSet), len(wantSet))),
		"- LRU: reusing the oldest idle conn refreshes it; the next dial evicts the second oldest: "+yesNo(lruRefresh, "host 0 dialed"),
		"- fds back to baseline after CloseIdleConnections: "+yesNo(fd2 <= fd0, fmt.Sprintf("baseline %d, after %d", fd0, fd2)),
		fmt.Sprintf("- goroutines: %d before, %d after", g0, g2),
		"- memory flat over the passes (last ≤ 1.25× first + 256 KiB): "+yesNo(flat, "heap after pass 1…"+fmt.Sprint(scalePasses)+": "+heaps)+
			fmt.Sprintf("; baseline %s, after CloseIdleConnections %s (per-host records kept for Stats)",
				fmtBytes(float64(m0.HeapAlloc)), fmtBytes(float64(m2.HeapAlloc))),
		fmt.Sprintf("- Stats() with %s hosts in Stats().Hosts: %s per call, %s allocations and %s per call",
			fmtInt(float64(nHosts)), fmtDur(perCall), fmtFloat(float64(ms1.Mallocs-ms0.Mallocs)/statsCalls),
			fmtBytes(float64(ms1.TotalAlloc-ms0.TotalAlloc)/statsCalls)),
	)
	t.render(out)
	return nil
}

// idleHosts returns the pool keys that have idle conns.
func idleHosts(tr *spool.Transport) map[string]bool {
	out := map[string]bool{}
	for k, h := range tr.Stats().Hosts {
		if h.Idle > 0 {
			out[k] = true
		}
	}
	return out
}

func sameSet(a, b map[string]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if !b[k] {
			return false
		}
	}
	return true
}

package main

import (
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// figures are one cell's results: one run, or the median of a cell's runs.
type figures struct {
	rps      float64 // requests (or transfers) per second
	cpuUS    float64 // this process's user+sys CPU per request, µs (the server is another process)
	allocs   float64 // heap allocations per request
	bytes    float64 // bytes allocated per request
	p50, p99 time.Duration
	reqs     int64
	err      error
}

// crew is a client's workers for one worker count, kept across rounds so
// their connections stay warm.
type crew struct {
	name  string
	c     client
	ws    []worker
	hists []hist
}

func newCrew(name string, workers int, r request) (*crew, error) {
	return newCrewOf(name, newClient(name, workers), workers, r)
}

// newCrewOf is newCrew with a client built by the caller (the -h2 mode's
// TLS clients).
func newCrewOf(name string, c client, workers int, r request) (*crew, error) {
	cr := &crew{name: name, c: c, hists: make([]hist, workers)}
	for range workers {
		w, err := c.newWorker(r)
		if err != nil {
			c.closeIdle()
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		cr.ws = append(cr.ws, w)
	}
	return cr, nil
}

func (cr *crew) close() { cr.c.closeIdle() }

// run drives every worker as fast as it goes for d and measures the whole
// process around it: requests, CPU, allocations and latency.
func (cr *crew) run(d time.Duration) figures {
	var (
		stop   atomic.Bool
		start  = make(chan struct{})
		wg     sync.WaitGroup
		counts = make([]int64, len(cr.ws))
		errMu  sync.Mutex
		first  error
	)
	for i, w := range cr.ws {
		h := &cr.hists[i]
		h.reset()
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			var n int64
			for !stop.Load() {
				t0 := time.Now()
				if err := w.do(); err != nil {
					errMu.Lock()
					if first == nil {
						first = err
					}
					errMu.Unlock()
					break
				}
				h.add(time.Since(t0))
				n++
			}
			counts[i] = n
		}()
	}
	runtime.GC()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	cpu0 := cpuTime()
	t0 := time.Now()
	close(start)
	time.Sleep(d)
	stop.Store(true)
	wg.Wait()
	elapsed, cpu := time.Since(t0), cpuTime()-cpu0
	runtime.ReadMemStats(&m1)
	var all hist
	var reqs int64
	for i := range cr.hists {
		all.merge(&cr.hists[i])
		reqs += counts[i]
	}
	f := figures{reqs: reqs, err: first, p50: all.quantile(0.50), p99: all.quantile(0.99)}
	if reqs > 0 {
		n := float64(reqs)
		f.rps = n / elapsed.Seconds()
		f.cpuUS = float64(cpu.Nanoseconds()) / 1e3 / n
		f.allocs = float64(m1.Mallocs-m0.Mallocs) / n
		f.bytes = float64(m1.TotalAlloc-m0.TotalAlloc) / n
	}
	return f
}

// median returns, metric by metric, the median of the runs (the runs of a
// cell are few and short; one disturbed run should not move the figure).
func median(runs []figures) figures {
	var out figures
	for _, r := range runs {
		out.reqs += r.reqs
		if r.err != nil && out.err == nil {
			out.err = r.err
		}
	}
	pick := func(f func(figures) float64) float64 {
		v := make([]float64, 0, len(runs))
		for _, r := range runs {
			v = append(v, f(r))
		}
		if len(v) == 0 {
			return 0
		}
		slices.Sort(v)
		if len(v)%2 == 0 {
			return (v[len(v)/2-1] + v[len(v)/2]) / 2
		}
		return v[len(v)/2]
	}
	out.rps = pick(func(f figures) float64 { return f.rps })
	out.cpuUS = pick(func(f figures) float64 { return f.cpuUS })
	out.allocs = pick(func(f figures) float64 { return f.allocs })
	out.bytes = pick(func(f figures) float64 { return f.bytes })
	out.p50 = time.Duration(pick(func(f figures) float64 { return float64(f.p50) }))
	out.p99 = time.Duration(pick(func(f figures) float64 { return float64(f.p99) }))
	return out
}

// rotate returns names starting at position k (the run order of a round).
func rotate(names []string, k int) []string {
	k %= len(names)
	return append(slices.Clone(names[k:]), names[:k]...)
}

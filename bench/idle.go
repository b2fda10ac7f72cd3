package main

import (
	"fmt"
	"io"
	"net/http"
	"runtime"
	"sync"
	"time"

	"github.com/spoolhttp/spool"
	"github.com/valyala/fasthttp"
)

// idleFigures is what n idle keep-alive connections cost a client.
type idleFigures struct {
	conns      int     // connections opened (fd count delta)
	goroutines float64 // per idle conn
	heap       float64 // HeapAlloc per idle conn, bytes
	stack      float64 // StackInuse per idle conn, bytes
	elapsed    time.Duration
	err        error
}

// measureIdle makes client name open n connections at once (n requests to
// /slow fired together, so none can reuse another's connection), lets them
// all go idle, and measures goroutines and heap against a baseline taken
// before the client existed, after two GCs each time.
func measureIdle(name, slowURL string, n int) idleFigures {
	warmGoroutines(3 * n)
	g0, m0, fd0 := settle(-1)
	t0 := time.Now()
	var fire func() error
	var closeIdle func()
	switch name {
	case nameSpool, nameNetHTTP:
		var rt closeIdler = &http.Transport{MaxIdleConnsPerHost: n}
		if name == nameSpool {
			rt = &spool.Transport{MaxIdleConnsPerHost: n, MaxIdleConns: n}
		}
		closeIdle = rt.CloseIdleConnections
		fire = func() error {
			req, err := http.NewRequest(http.MethodGet, slowURL, nil)
			if err != nil {
				return err
			}
			resp, err := rt.RoundTrip(req)
			if err != nil {
				return err
			}
			_, err = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			return err
		}
	case nameFast:
		c := &fasthttp.Client{MaxConnsPerHost: n, MaxIdleConnDuration: 10 * time.Minute,
			MaxConnWaitTimeout: time.Minute}
		closeIdle = c.CloseIdleConnections
		fire = func() error {
			_, _, err := c.Get(nil, slowURL)
			return err
		}
	default:
		return idleFigures{err: fmt.Errorf("no idle test for %s", name)}
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	start := make(chan struct{})
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			if err := fire(); err != nil {
				mu.Lock()
				if first == nil {
					first = err
				}
				mu.Unlock()
			}
		}()
	}
	close(start)
	wg.Wait()
	elapsed := time.Since(t0)
	g1, m1, fd1 := settle(g0)
	f := idleFigures{conns: fd1 - fd0, elapsed: elapsed, err: first}
	if f.conns > 0 {
		c := float64(f.conns)
		f.goroutines = float64(g1-g0) / c
		f.heap = (float64(m1.HeapAlloc) - float64(m0.HeapAlloc)) / c
		f.stack = (float64(m1.StackInuse) - float64(m0.StackInuse)) / c
	}
	runtime.KeepAlive(fire)
	closeIdle()
	settle(g0) // let the closed conns' goroutines (net/http) exit before the next client
	return f
}

// warmGoroutines runs n goroutines at once and lets them exit. The runtime
// never frees a goroutine descriptor (about 480 B of heap); it keeps it for
// the next goroutine. Without this, the first client measured would pay for
// the descriptors of the request goroutines the harness starts and the
// clients after it would not. Goroutines are counted in their own column.
func warmGoroutines(n int) {
	var wg sync.WaitGroup
	release := make(chan struct{})
	for range n {
		wg.Add(1)
		go func() { defer wg.Done(); <-release }()
	}
	close(release)
	wg.Wait()
}

// settle waits until the goroutine count stops changing (the request
// goroutines have exited; with want ≥ 0, until it is back to want or for
// at most 3 s), runs two GCs and returns the goroutine count, the memory
// statistics and the open file descriptors.
func settle(want int) (int, runtime.MemStats, int) {
	deadline := time.Now().Add(3 * time.Second)
	last, stable := -1, 0
	for time.Now().Before(deadline) {
		g := runtime.NumGoroutine()
		if g == want {
			break
		}
		if g == last {
			if stable++; stable >= 5 {
				break
			}
		} else {
			last, stable = g, 0
		}
		time.Sleep(20 * time.Millisecond)
	}
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return runtime.NumGoroutine(), m, countFDs()
}

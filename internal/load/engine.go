// Package load is the load-generation engine behind `spool bench`: it
// drives any http.RoundTripper with a closed loop (N workers back to back)
// or an open loop (a fixed start rate), and measures latency, status codes,
// errors by class and the client's own cost. Rendering is in render_*.go;
// nothing here knows about terminals.
package load

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Config describes one run. Requests and Duration may both be set: the run
// stops at whichever comes first; one of them is required.
type Config struct {
	URL         string
	Method      string // "" → GET
	Header      http.Header
	Body        []byte
	Concurrency int           // workers (at most in flight); 0 → 1
	Requests    int           // requests to send; 0 → no limit
	Duration    time.Duration // no request starts after this; 0 → no limit
	Rate        float64       // open loop: starts per second; 0 → closed loop
	Timeout     time.Duration // per request, through the end of the body; 0 → none
}

// progressInterval paces Snapshot callbacks: smooth enough for a bar,
// rare enough to cost nothing.
const progressInterval = 200 * time.Millisecond

// run is the state shared by one Run's workers.
type run struct {
	cfg   Config
	rt    http.RoundTripper
	tmpl  *http.Request
	pacer Pacer
	start time.Time

	next    atomic.Int64 // next slot to take
	started atomic.Int64
	done    atomic.Int64 // finished, errors included
	errors  atomic.Int64
}

// Run sends cfg's load through rt and returns what it measured. Every
// response body is read to EOF and closed. When ctx ends first, Run stops
// early and returns the partial Result with ctx's error; requests cut short
// by it are not counted. progress, if not nil, is called from one goroutine.
func Run(ctx context.Context, rt http.RoundTripper, cfg Config, progress func(Snapshot)) (*Result, error) {
	tmpl, err := cfg.template()
	if err != nil {
		return nil, err
	}
	r := &run{cfg: cfg, rt: rt, tmpl: tmpl, pacer: Pacer{Rate: cfg.Rate}}
	workers := max(cfg.Concurrency, 1)
	if cfg.Requests > 0 {
		workers = min(workers, cfg.Requests)
	}
	tallies := make([]*tally, workers)
	for i := range tallies {
		tallies[i] = newTally()
	}

	before := readUsage()
	r.start = time.Now()
	stopProgress := r.report(progress)
	var wg sync.WaitGroup
	for _, t := range tallies {
		wg.Go(func() { r.work(ctx, t) })
	}
	wg.Wait()
	elapsed := time.Since(r.start)
	after := readUsage()
	stopProgress()

	total := newTally()
	for _, t := range tallies {
		total.merge(t)
	}
	return r.result(total, elapsed, before, after), ctx.Err()
}

func (cfg Config) template() (*http.Request, error) {
	if cfg.Requests <= 0 && cfg.Duration <= 0 {
		return nil, errors.New("load: set Requests or Duration")
	}
	if cfg.Requests < 0 || cfg.Duration < 0 || cfg.Rate < 0 || cfg.Timeout < 0 {
		return nil, errors.New("load: negative Requests, Duration, Rate or Timeout")
	}
	method := orDefault(cfg.Method, http.MethodGet)
	req, err := http.NewRequest(method, cfg.URL, nil)
	if err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	if req.URL.Host == "" {
		return nil, fmt.Errorf("load: URL %q has no host", cfg.URL)
	}
	req.Header = cfg.Header.Clone()
	if req.Header == nil {
		req.Header = make(http.Header)
	}
	if h := req.Header.Get("Host"); h != "" {
		req.Host = h
		req.Header.Del("Host")
	}
	if len(cfg.Body) > 0 {
		body := cfg.Body
		req.ContentLength = int64(len(body))
		req.GetBody = func() (io.ReadCloser, error) {
			return io.NopCloser(bytes.NewReader(body)), nil
		}
	}
	return req, nil
}

func orDefault(s, def string) string {
	if s = strings.TrimSpace(s); s == "" {
		return def
	}
	return s
}

// work is one worker: take the next slot, wait for its time when pacing,
// send, repeat until a limit is reached.
func (r *run) work(ctx context.Context, t *tally) {
	var timer *time.Timer
	w := &watchdog{parent: ctx, timeout: r.cfg.Timeout}
	defer func() {
		if timer != nil {
			timer.Stop()
		}
		w.stop()
	}()
	for ctx.Err() == nil {
		slot := r.next.Add(1) - 1
		if r.cfg.Requests > 0 && slot >= int64(r.cfg.Requests) {
			return
		}
		intended, waited, ok := r.schedule(ctx, slot, &timer)
		if !ok {
			return
		}
		// A slot waited for is on schedule and goes even if the timer fired
		// just past the Duration; otherwise nothing starts after it.
		if !waited && r.cfg.Duration > 0 && time.Since(r.start) >= r.cfg.Duration {
			return
		}
		r.one(ctx, w, t, intended)
	}
}

// schedule returns when slot should start and, in an open loop, waits for
// that time on the worker's timer. ok is false when the slot is past the
// Duration or ctx ended.
func (r *run) schedule(ctx context.Context, slot int64, timer **time.Timer) (intended time.Time, waited, ok bool) {
	if r.cfg.Rate <= 0 {
		return time.Now(), false, true
	}
	at := r.pacer.At(slot)
	if r.cfg.Duration > 0 && at >= r.cfg.Duration {
		return time.Time{}, false, false
	}
	intended = r.start.Add(at)
	wait := time.Until(intended)
	if wait <= 0 {
		return intended, false, true // running behind: send at once
	}
	if *timer == nil {
		*timer = time.NewTimer(wait)
	} else {
		(*timer).Reset(wait)
	}
	select {
	case <-(*timer).C:
		return intended, true, true
	case <-ctx.Done():
		return time.Time{}, false, false
	}
}

// one sends one request and reads its body to EOF. Latency runs from
// intended: the slot's start in an open loop, now in a closed one.
func (r *run) one(ctx context.Context, w *watchdog, t *tally, intended time.Time) {
	r.started.Add(1)
	req := w.request(r.tmpl)
	if r.tmpl.GetBody != nil {
		req.Body, _ = r.tmpl.GetBody()
	}
	resp, err := r.rt.RoundTrip(req)
	if err == nil {
		var n int64
		n, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		t.bytes += n
	}
	w.done()
	latency := time.Since(intended)
	switch {
	case err != nil && ctx.Err() != nil:
		return // the run was stopped, not the server's doing
	case err != nil:
		t.fail(err)
		r.errors.Add(1)
	default:
		t.hist.Record(latency)
		t.status[resp.StatusCode]++
	}
	r.done.Add(1)
}

// report starts the one goroutine that calls progress; the returned func
// sends the final Snapshot and waits for the goroutine to end.
func (r *run) report(progress func(Snapshot)) (stop func()) {
	if progress == nil {
		return func() {}
	}
	quit, exited := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(exited)
		tick := time.NewTicker(progressInterval)
		defer tick.Stop()
		lastDone, lastAt := int64(0), r.start
		for {
			select {
			case <-quit:
				s := r.snapshot(time.Now())
				s.Final = true
				if s.Elapsed > 0 {
					s.RPS = float64(s.Done) / s.Elapsed.Seconds()
				}
				progress(s)
				return
			case now := <-tick.C:
				s := r.snapshot(now)
				if dt := now.Sub(lastAt); dt > 0 {
					s.RPS = float64(s.Done-lastDone) / dt.Seconds()
				}
				lastDone, lastAt = s.Done, now
				progress(s)
			}
		}
	}()
	return func() { close(quit); <-exited }
}

func (r *run) snapshot(now time.Time) Snapshot {
	return Snapshot{
		Done:     r.done.Load(),
		Errors:   r.errors.Load(),
		Elapsed:  now.Sub(r.start),
		Requests: int64(r.cfg.Requests),
		Duration: r.cfg.Duration,
	}
}

func (r *run) result(t *tally, elapsed time.Duration, before, after usage) *Result {
	res := &Result{
		URL: r.cfg.URL, Method: r.tmpl.Method, Concurrency: max(r.cfg.Concurrency, 1),
		Threads: runtime.GOMAXPROCS(0), Rate: r.cfg.Rate,
		Requests: r.done.Load(), Errors: r.errors.Load(), Duration: elapsed, Bytes: t.bytes,
		Latency: summarize(t.hist), Histogram: t.hist,
		Status: t.status, ErrorClasses: t.classes, ErrorSamples: t.samples,
	}
	if elapsed > 0 {
		res.Throughput = float64(res.Requests) / elapsed.Seconds()
	}
	if r.cfg.Rate > 0 && r.cfg.Duration > 0 {
		due := r.pacer.Due(r.cfg.Duration - 1)
		if r.cfg.Requests > 0 {
			due = min(due, int64(r.cfg.Requests))
		}
		res.Backlog = max(0, due-r.started.Load())
	}
	if n := res.Requests; n > 0 {
		res.AllocsPerRequest = float64(after.mallocs-before.mallocs) / float64(n)
		res.AllocBytesPerRequest = float64(after.allocBytes-before.allocBytes) / float64(n)
		res.CPUPerRequest = (after.cpu - before.cpu) / time.Duration(n)
	}
	return res
}

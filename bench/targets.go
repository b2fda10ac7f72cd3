package main

import (
	"fmt"
	"slices"
)

// allocSlack is the precision of an allocations-per-request figure: a
// sync.Pool emptied by a GC refills with a few allocations that show up as
// hundredths per request, for every pooled client alike.
const allocSlack = 0.05

// pickWorkers returns want when it was measured, else the nearest count.
func pickWorkers(cfg config, want int) int {
	if slices.Contains(cfg.workers, want) {
		return want
	}
	best := cfg.workers[0]
	for _, w := range cfg.workers {
		if abs(w-want) < abs(best-want) {
			best = w
		}
	}
	return best
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

func yesNo(ok bool, detail string) string {
	if ok {
		return "yes (" + detail + ")"
	}
	return "**no** (" + detail + ")"
}

// targetTable sets the figures against the targets it gives spool.
func targetTable(res map[cellKey]figures, idle map[string]idleFigures, cfg config) *table {
	t := &table{
		title:  "spool's targets",
		header: []string{"figure", "net/http", "fasthttp", "raw floor", "spool", "target", "met"},
		left:   1,
	}
	w16, w128 := pickWorkers(cfg, 16), pickWorkers(cfg, 128)
	get := func(w int) (s, n, f, r figures) {
		return res[cellKey{w, nameSpool}], res[cellKey{w, nameNetHTTP}], res[cellKey{w, nameFast}], res[cellKey{w, nameRaw}]
	}
	s, n, f, r := get(w16)
	t.add(fmt.Sprintf("allocations per request (%d workers)", w16), fmtFloat(n.allocs), fmtFloat(f.allocs), fmtFloat(r.allocs),
		fmtFloat(s.allocs), "≤ 8", yesNo(s.allocs <= 8+allocSlack, fmtRatio(s.allocs, n.allocs)+" net/http"))
	t.add(fmt.Sprintf("bytes allocated per request (%d workers)", w16), fmtBytes(n.bytes), fmtBytes(f.bytes), fmtBytes(r.bytes),
		fmtBytes(s.bytes), "≤ 1 KiB", yesNo(s.bytes <= 1024, fmtRatio(s.bytes, n.bytes)+" net/http"))
	t.add(fmt.Sprintf("client CPU per request, %d workers", w16), fmtFloat(n.cpuUS)+" µs", fmtFloat(f.cpuUS)+" µs",
		fmtFloat(r.cpuUS)+" µs", fmtFloat(s.cpuUS)+" µs", "≤ fasthttp",
		yesNo(s.cpuUS <= f.cpuUS, fmtRatio(s.cpuUS, f.cpuUS)+" fasthttp"))
	rpsOK := s.rps >= f.rps && s.rps >= 2.2*n.rps
	t.add(fmt.Sprintf("requests/s, %d workers", w16), fmtInt(n.rps), fmtInt(f.rps), fmtInt(r.rps), fmtInt(s.rps),
		"≥ fasthttp, ≥ 2.2× net/http", yesNo(rpsOK, fmtRatio(s.rps, f.rps)+" fasthttp, "+fmtRatio(s.rps, n.rps)+" net/http"))
	s, n, f, _ = get(w128)
	t.add(fmt.Sprintf("p99 latency, %d workers", w128), fmtDur(n.p99), fmtDur(f.p99), "—", fmtDur(s.p99), "≤ fasthttp",
		yesNo(s.p99 <= f.p99, fmtRatio(float64(s.p99), float64(f.p99))+" fasthttp"))
	if idle != nil {
		si, ni, fi := idle[nameSpool], idle[nameNetHTTP], idle[nameFast]
		t.add("goroutines per idle conn", fmtFloat(ni.goroutines), fmtFloat(fi.goroutines), "—", fmtFloat(si.goroutines),
			"0", yesNo(si.goroutines < 0.01, fmtFloat(si.goroutines)))
		t.add(fmt.Sprintf("heap per idle conn (%s idle)", fmtInt(float64(cfg.idleConns))), fmtBytes(ni.heap), fmtBytes(fi.heap), "—",
			fmtBytes(si.heap), "≤ 1 KiB", yesNo(si.heap <= 1024, fmtRatio(si.heap, ni.heap)+" net/http, "+fmtRatio(si.heap, fi.heap)+" fasthttp"))
	}
	return t
}

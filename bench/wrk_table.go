package main

// The -wrk mode's results: medians, ranges, ratios and the lines that
// print them (wrk.go runs the tools).

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// medianOf is the median of v, NaN when v is empty.
func medianOf(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := slices.Sorted(slices.Values(v))
	if len(s)%2 == 0 {
		return (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return s[len(s)/2]
}

// wrkResults are the runs of both tools and of the raw Go floor:
// [thread index][round].
type wrkResults struct {
	threads         []int
	wrk, spool, raw [][]loadRun
}

func newWrkResults(threads []int) *wrkResults {
	n := len(threads)
	return &wrkResults{threads: threads, wrk: make([][]loadRun, n), spool: make([][]loadRun, n), raw: make([][]loadRun, n)}
}

// rates are the throughputs of the runs that count.
func rates(runs []loadRun) []float64 {
	var v []float64
	for _, r := range runs {
		if r.ok() {
			v = append(v, r.rps)
		}
	}
	return v
}

// roundRatios are spool_i ÷ wrk_i of the rounds where both runs count: the
// two ran back to back, so machine noise that lasts a round cancels out.
func roundRatios(w, s []loadRun) []float64 {
	var v []float64
	for i := range min(len(w), len(s)) {
		if w[i].ok() && s[i].ok() && w[i].rps > 0 {
			v = append(v, s[i].rps/w[i].rps)
		}
	}
	return v
}

// minMax renders the range of v: "min..max" with f, or "—".
func minMax(v []float64, f func(float64) string) (lo, hi string) {
	if len(v) == 0 {
		return "—", "—"
	}
	return f(slices.Min(v)), f(slices.Max(v))
}

func fmtX(v float64) string { return fmt.Sprintf("%.2f×", v) }

// table renders the medians, ranges and ratios per thread count.
func (r *wrkResults) table(c wrkConfig) *table {
	t := &table{
		title: fmt.Sprintf("spool bench vs wrk: GET %s (12-byte body), keep-alive, -c %d, median of %d runs of %v",
			wrkPath, c.conns, c.rounds, c.dur),
		header: []string{"-t", "wrk req/s", "wrk min", "wrk max", "spool req/s", "spool min", "spool max",
			"spool ÷ wrk", "per-round ÷", "Go floor req/s", "floor ÷ wrk", "runs left out"},
		left: 1,
	}
	var left []string
	for i, th := range r.threads {
		w, s := rates(r.wrk[i]), rates(r.spool[i])
		wlo, whi := minMax(w, fmtInt)
		slo, shi := minMax(s, fmtInt)
		rlo, rhi := minMax(roundRatios(r.wrk[i], r.spool[i]), fmtX)
		span := rlo + ".." + rhi
		if rlo == "—" {
			span = "—"
		}
		var raw []float64
		if i < len(r.raw) {
			raw = rates(r.raw[i])
		}
		floor, floorX := "—", "—"
		if len(raw) > 0 {
			floor, floorX = fmtInt(medianOf(raw)), fmtRatio(medianOf(raw), medianOf(w))
		}
		out := len(r.wrk[i]) - len(w) + len(r.spool[i]) - len(s)
		if i < len(r.raw) {
			out += len(r.raw[i]) - len(raw)
		}
		t.add(fmt.Sprint(th), fmtInt(medianOf(w)), wlo, whi, fmtInt(medianOf(s)), slo, shi,
			fmtRatio(medianOf(s), medianOf(w)), span, floor, floorX, fmt.Sprint(out))
		tools := map[string][]loadRun{"wrk": r.wrk[i], "spool": r.spool[i]}
		if i < len(r.raw) {
			tools["Go floor"] = r.raw[i]
		}
		for tool, runs := range tools {
			for round, run := range runs {
				if !run.ok() {
					left = append(left, fmt.Sprintf("- -t %d round %d %s: %s", th, round+1, tool, run.problem))
				}
			}
		}
	}
	t.notes = append(t.notes, "-t is wrk's thread count and spool bench's GOMAXPROCS; "+
		"per-round ÷ is the range of spool ÷ wrk over runs made back to back in one round.",
		"Go floor: this process at GOMAXPROCS -t, one goroutine per connection writing a fixed request and "+
			"reading the known response length (no HTTP parsing): what any Go client on blocking conns can reach here.")
	if len(left) > 0 {
		slices.Sort(left)
		t.notes = append(t.notes, "Left out of the figures (errors or non-2xx responses):")
		t.notes = append(t.notes, left...)
	}
	return t
}

// best is the closing line: each tool's best thread count and their ratio.
func (r *wrkResults) best() string {
	pick := func(runs [][]loadRun) (int, float64) {
		bt, bm := 0, math.NaN()
		for i, th := range r.threads {
			if m := medianOf(rates(runs[i])); !math.IsNaN(m) && (math.IsNaN(bm) || m > bm) {
				bt, bm = th, m
			}
		}
		return bt, bm
	}
	wt, wm := pick(r.wrk)
	st, sm := pick(r.spool)
	if math.IsNaN(wm) || math.IsNaN(sm) {
		return "Best: — (no run of one of the tools counts)"
	}
	return fmt.Sprintf("Best: wrk %s req/s at -t %d, spool bench %s req/s at -t %d: spool ÷ wrk %s",
		fmtInt(wm), wt, fmtInt(sm), st, fmtRatio(sm, wm))
}

// roundLine is the progress line of one round, every thread count.
func (r *wrkResults) roundLine(round, rounds int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "  round %d/%d:", round+1, rounds)
	for i, th := range r.threads {
		w, s := r.wrk[i][round], r.spool[i][round]
		if i > 0 {
			b.WriteString(" |")
		}
		fmt.Fprintf(&b, " -t %d wrk %s%s spool %s%s", th, fmtInt(w.rps), flagText(w), fmtInt(s.rps), flagText(s))
		if w.ok() && s.ok() {
			fmt.Fprintf(&b, " (%s)", fmtRatio(s.rps, w.rps))
		}
		if i < len(r.raw) && round < len(r.raw[i]) {
			fmt.Fprintf(&b, " floor %s%s", fmtInt(r.raw[i][round].rps), flagText(r.raw[i][round]))
		}
	}
	return b.String()
}

func flagText(r loadRun) string {
	if r.ok() {
		return ""
	}
	return " [left out: " + r.problem + "]"
}

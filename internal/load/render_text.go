package load

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
)

// histogramBins and barWidth size the latency histogram drawn by WriteText.
const (
	histogramBins = 10
	barWidth      = 40
)

// WriteText prints res for a person: throughput, percentiles, a latency
// histogram, status and error tallies, the client's cost, and a transport
// block from stats. stats may be nil, a fmt.Stringer, or a func(io.Writer)
// that writes lines; either way its lines are indented under "Transport".
func WriteText(w io.Writer, res *Result, stats any) error {
	p := &printer{w: w}
	mode := "closed loop"
	if res.Rate > 0 {
		mode = fmt.Sprintf("open loop at %s req/s", trimFloat(res.Rate))
	}
	p.f("%s %s · %d workers · %s · %s\n", res.Method, res.URL, res.Concurrency, plural(res.Threads, "thread"), mode)
	p.f("  requests    %s in %s (%s errors)\n", FormatCount(res.Requests), FormatDuration(res.Duration), FormatCount(res.Errors))
	p.f("  throughput  %s req/s\n", FormatCount(int64(res.Throughput+0.5)))
	p.f("  body read   %s\n", FormatBytes(float64(res.Bytes)))
	if res.Backlog > 0 {
		p.f("  backlog     %s requests were due but never started: the server is slower than the rate\n", FormatCount(res.Backlog))
	}
	l := res.Latency
	p.f("Latency\n  p50 %s  p90 %s  p99 %s  p99.9 %s  max %s  mean %s\n",
		FormatDuration(l.P50), FormatDuration(l.P90), FormatDuration(l.P99),
		FormatDuration(l.P999), FormatDuration(l.Max), FormatDuration(l.Mean))
	if res.Histogram != nil && res.Histogram.Count() > 0 {
		p.f("Histogram\n")
		writeBins(p, res.Histogram.Bins(histogramBins), res.Histogram.Count())
	}
	p.f("Status\n")
	if len(res.Status) == 0 {
		p.f("  none\n")
	}
	for _, code := range slices.Sorted(maps.Keys(res.Status)) {
		p.f("  %d  %s\n", code, FormatCount(res.Status[code]))
	}
	if len(res.ErrorClasses) > 0 {
		p.f("Errors\n")
		for _, class := range slices.Sorted(maps.Keys(res.ErrorClasses)) {
			p.f("  %-8s %s  (first: %v)\n", class, FormatCount(res.ErrorClasses[class]), res.ErrorSamples[class])
		}
	}
	p.f("Client cost per request (whole process)\n  %.1f allocs · %s allocated · %s CPU\n",
		res.AllocsPerRequest, FormatBytes(res.AllocBytesPerRequest), FormatDuration(res.CPUPerRequest))
	writeStats(p, stats)
	return p.err
}

func writeBins(p *printer, bins []Bin, total uint64) {
	var most uint64
	for _, b := range bins {
		most = max(most, b.Count)
	}
	for _, b := range bins {
		p.f("  %8s – %-8s %-*s %s  %5.1f%%\n", FormatDuration(b.Lo), FormatDuration(b.Hi),
			barWidth, Bar(float64(b.Count), float64(most), barWidth),
			FormatCount(int64(b.Count)), 100*float64(b.Count)/float64(total))
	}
}

func writeStats(p *printer, stats any) {
	var text string
	switch s := stats.(type) {
	case nil:
		return
	case func(io.Writer):
		var b strings.Builder
		s(&b)
		text = b.String()
	case fmt.Stringer:
		text = s.String()
	default:
		text = fmt.Sprint(s)
	}
	p.f("Transport\n")
	for line := range strings.Lines(text) {
		p.f("  %s", line)
		if !strings.HasSuffix(line, "\n") {
			p.f("\n")
		}
	}
}

// printer keeps the first write error so render code reads straight.
type printer struct {
	w   io.Writer
	err error
}

func (p *printer) f(format string, args ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, format, args...)
	}
}

func trimFloat(f float64) string {
	return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.2f", f), "0"), ".")
}

package load

import (
	"fmt"
	"io"
	"time"
)

// WriteComparison prints a and b side by side with the ratio a/b of each
// row: throughput, latency percentiles, errors and the client's cost.
func WriteComparison(w io.Writer, a, b *Result, nameA, nameB string) error {
	p := &printer{w: w}
	ratioHead := nameA + "/" + nameB
	p.f("%-12s %14s %14s %16s\n", "", nameA, nameB, ratioHead)
	row := func(label, va, vb string, ra, rb float64) {
		p.f("%-12s %14s %14s %16s\n", label, va, vb, ratio(ra, rb))
	}
	dur := func(label string, da, db time.Duration) {
		row(label, FormatDuration(da), FormatDuration(db), float64(da), float64(db))
	}
	row("req/s", FormatCount(int64(a.Throughput+0.5)), FormatCount(int64(b.Throughput+0.5)), a.Throughput, b.Throughput)
	dur("p50", a.Latency.P50, b.Latency.P50)
	dur("p90", a.Latency.P90, b.Latency.P90)
	dur("p99", a.Latency.P99, b.Latency.P99)
	dur("p99.9", a.Latency.P999, b.Latency.P999)
	dur("max", a.Latency.Max, b.Latency.Max)
	row("errors", FormatCount(a.Errors), FormatCount(b.Errors), float64(a.Errors), float64(b.Errors))
	row("allocs/req", fmt.Sprintf("%.1f", a.AllocsPerRequest), fmt.Sprintf("%.1f", b.AllocsPerRequest),
		a.AllocsPerRequest, b.AllocsPerRequest)
	row("bytes/req", FormatBytes(a.AllocBytesPerRequest), FormatBytes(b.AllocBytesPerRequest),
		a.AllocBytesPerRequest, b.AllocBytesPerRequest)
	dur("CPU/req", a.CPUPerRequest, b.CPUPerRequest)
	return p.err
}

// ratio prints a/b as "1.23x", or "–" when b is zero.
func ratio(a, b float64) string {
	if b == 0 {
		if a == 0 {
			return "="
		}
		return "–"
	}
	return fmt.Sprintf("%.2fx", a/b)
}

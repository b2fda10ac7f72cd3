package load

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// FormatDuration prints d with three significant digits in the largest
// unit under which it is ≥ 1: 912µs, 1.25ms, 12.3s.
func FormatDuration(d time.Duration) string {
	if d < 0 {
		return "-" + FormatDuration(-d)
	}
	units := []struct {
		name string
		size time.Duration
	}{{"s", time.Second}, {"ms", time.Millisecond}, {"µs", time.Microsecond}}
	for i, u := range units {
		if d < u.size {
			continue
		}
		v := float64(d) / float64(u.size)
		s := strconv.FormatFloat(v, 'f', sigDecimals(v), 64)
		if s == "1000" && i > 0 { // rounded up into the next unit
			return "1.00" + units[i-1].name
		}
		return s + u.name
	}
	return strconv.FormatInt(int64(d), 10) + "ns"
}

func sigDecimals(v float64) int {
	switch {
	case v < 9.995:
		return 2
	case v < 99.95:
		return 1
	}
	return 0
}

// FormatCount prints n with thousands separators: 12,345.
func FormatCount(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// FormatBytes prints a byte count in B, KiB, MiB or GiB.
func FormatBytes(n float64) string {
	units := []string{"B", "KiB", "MiB", "GiB"}
	i := 0
	for n >= 1024 && i < len(units)-1 {
		n /= 1024
		i++
	}
	if i == 0 {
		// Whole bytes: a per-request average like 969.2262327 reads as 969 B.
		return strconv.FormatFloat(math.Round(n), 'f', 0, 64) + " B"
	}
	return strconv.FormatFloat(n, 'f', sigDecimals(n), 64) + " " + units[i]
}

// Bar draws value/full of width cells with full blocks and one eighth-block
// remainder, so close values still look different.
func Bar(value, full float64, width int) string {
	if full <= 0 || value <= 0 {
		return ""
	}
	eighths := int(value / full * float64(width*8))
	eighths = max(min(eighths, width*8), 1)
	partial := []string{"", "▏", "▎", "▍", "▌", "▋", "▊", "▉"}
	return strings.Repeat("█", eighths/8) + partial[eighths%8]
}

// plural is "1 thread", "2 threads".
func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.Itoa(n) + " " + unit + "s"
}

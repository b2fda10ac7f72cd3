package main

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// table is a markdown table. Columns are left-aligned up to left, the rest
// right-aligned (numbers); cells are padded so the text reads as a table too.
type table struct {
	title  string
	header []string
	left   int // number of leading left-aligned columns
	rows   [][]string
	notes  []string
}

func (t *table) add(cells ...string) { t.rows = append(t.rows, cells) }

func (t *table) render(w io.Writer) {
	if t.title != "" {
		fmt.Fprintf(w, "### %s\n\n", t.title)
	}
	width := make([]int, len(t.header))
	for i, h := range t.header {
		width[i] = max(3, utf8.RuneCountInString(h))
	}
	for _, r := range t.rows {
		for i := range width {
			if i < len(r) {
				width[i] = max(width[i], utf8.RuneCountInString(r[i]))
			}
		}
	}
	line := func(cells []string, sep bool) {
		var b strings.Builder
		b.WriteString("|")
		for i, wd := range width {
			c := ""
			if i < len(cells) {
				c = cells[i]
			}
			pad := strings.Repeat(" ", wd-utf8.RuneCountInString(c))
			switch {
			case sep && i < t.left:
				c, pad = strings.Repeat("-", wd), ""
			case sep:
				c, pad = strings.Repeat("-", wd-1)+":", ""
			}
			if i < t.left || sep {
				b.WriteString(" " + c + pad + " |")
			} else {
				b.WriteString(" " + pad + c + " |")
			}
		}
		fmt.Fprintln(w, b.String())
	}
	line(t.header, false)
	line(nil, true)
	for _, r := range t.rows {
		line(r, false)
	}
	fmt.Fprintln(w)
	for _, n := range t.notes {
		fmt.Fprintln(w, n)
	}
	if len(t.notes) > 0 {
		fmt.Fprintln(w)
	}
}

// fmtInt renders n rounded, with thousands separators: 39,120.
func fmtInt(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "—"
	}
	n := int64(math.Round(v))
	neg := n < 0
	if neg {
		n = -n
	}
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// fmtFloat renders v with one decimal below 100, none above.
func fmtFloat(v float64) string {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return "—"
	case math.Abs(v) < 0.005:
		return "0.00"
	case math.Abs(v) >= 100:
		return fmtInt(v)
	case math.Abs(v) >= 10 || v == 0:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.2f", v)
	}
}

// fmtBytes renders a byte count: 40 B, 3.7 KiB, 24 MiB.
func fmtBytes(v float64) string {
	switch a := math.Abs(v); {
	case math.IsNaN(v):
		return "—"
	case a < 1024:
		return fmt.Sprintf("%.0f B", v)
	case a < 1<<20:
		return fmtFloat(v/1024) + " KiB"
	default:
		return fmtFloat(v/(1<<20)) + " MiB"
	}
}

// fmtDur renders a latency: 850 µs, 1.42 ms, 14.2 ms.
func fmtDur(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%.0f µs", float64(d)/1e3)
	case d < time.Second:
		return fmtFloat(float64(d)/1e6) + " ms"
	default:
		return fmtFloat(d.Seconds()) + " s"
	}
}

// fmtRatio renders a/b as 2.21×, or — when b is zero.
func fmtRatio(a, b float64) string {
	if b == 0 || math.IsNaN(a) || math.IsNaN(b) {
		return "—"
	}
	return fmt.Sprintf("%.2f×", a/b)
}

// parseCPUModel returns the first "model name" of /proc/cpuinfo's text.
func parseCPUModel(cpuinfo string) string {
	for _, line := range strings.Split(cpuinfo, "\n") {
		k, v, ok := strings.Cut(line, ":")
		if ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

// parseSyscw returns the syscw field of /proc/<pid>/io's text, or -1.
func parseSyscw(io string) int64 {
	for _, line := range strings.Split(io, "\n") {
		if v, ok := strings.CutPrefix(line, "syscw:"); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err == nil {
				return n
			}
		}
	}
	return -1
}

func nan() float64 { return math.NaN() }

package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spoolhttp/spool/internal/load"
)

// isTerminal reports whether w is a character device, where a progress bar
// can redraw itself.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

const progressWidth = 30

// newProgress returns the progress callback of a bench run: a bar redrawn
// in place on a terminal, a plain line each second otherwise.
func newProgress(w io.Writer, tty bool, label string) func(load.Snapshot) {
	lastSecond := time.Duration(0)
	return func(s load.Snapshot) {
		switch {
		case tty && s.Final:
			io.WriteString(w, "\r\033[K")
		case tty:
			fmt.Fprintf(w, "\r\033[K%s", progressLine(s, label))
		case !s.Final && s.Elapsed.Truncate(time.Second) > lastSecond:
			lastSecond = s.Elapsed.Truncate(time.Second)
			fmt.Fprintf(w, "%s %3ds  %s done  %s req/s  %s errors\n", label, int(lastSecond/time.Second),
				load.FormatCount(s.Done), load.FormatCount(int64(s.RPS)), load.FormatCount(s.Errors))
		}
	}
}

// progressLine is one redraw of the terminal bar.
func progressLine(s load.Snapshot, label string) string {
	frac := 0.0
	if s.Requests > 0 {
		frac = float64(s.Done) / float64(s.Requests)
	}
	if s.Duration > 0 {
		frac = max(frac, float64(s.Elapsed)/float64(s.Duration))
	}
	frac = min(frac, 1)
	filled := int(frac * progressWidth)
	return fmt.Sprintf("%s [%s%s] %3.0f%%  %s done  %s req/s  %s errors  %s", label,
		strings.Repeat("█", filled), strings.Repeat("░", progressWidth-filled), 100*frac,
		load.FormatCount(s.Done), load.FormatCount(int64(s.RPS)), load.FormatCount(s.Errors),
		load.FormatDuration(s.Elapsed.Truncate(100*time.Millisecond)))
}

const phaseWidth = 40

// writePhases draws the phases of one request as a waterfall: each bar
// starts at its offset from the request's start, all scaled to the total.
func writePhases(w io.Writer, phases []Phase, total time.Duration, reused bool) {
	fmt.Fprintln(w)
	for _, p := range phases {
		fmt.Fprintf(w, "  %-18s %9s  |%s|\n", p.Name, phaseDuration(p), waterfall(p, total))
	}
	fmt.Fprintf(w, "  %-18s %9s\n", "total", load.FormatDuration(total))
	yes := map[bool]string{true: "yes", false: "no"}[reused]
	fmt.Fprintf(w, "  connection reused: %s\n", yes)
}

func phaseDuration(p Phase) string {
	if p.Skipped {
		return "-"
	}
	return load.FormatDuration(p.Dur)
}

func waterfall(p Phase, total time.Duration) string {
	if total <= 0 {
		return strings.Repeat(" ", phaseWidth)
	}
	cell := func(d time.Duration) int { return int(float64(d) / float64(total) * phaseWidth) }
	start := min(cell(p.Start), phaseWidth)
	n := 0
	if !p.Skipped && p.Dur > 0 {
		n = max(1, cell(p.Dur)) // a phase that happened is never invisible
	}
	n = min(n, phaseWidth-start)
	if n == 0 && !p.Skipped && p.Dur > 0 && start == phaseWidth {
		start, n = phaseWidth-1, 1
	}
	return strings.Repeat(" ", start) + strings.Repeat("█", n) + strings.Repeat(" ", phaseWidth-start-n)
}

package main

// -h2 mode's tables: figures per cell and client, spool's ratios, and the
// targets of issue 10 with PASS/MISS.

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// h2Clients are the rows of a cell, in the tables' order.
var h2Clients = []string{nameSpool, nameNetHTTP, nameH2load, nameFloor}

// rateText is a cell's rate with its unit: MiB/s for the 1 MiB cells.
func rateText(c h2Cell, rps float64) string {
	if c.transfer() {
		return fmtFloat(rps) + " MiB/s"
	}
	return fmtInt(rps) + " req/s"
}

func cellCols(c h2Cell) []string { return []string{c.proto, c.test, fmt.Sprint(c.streams)} }

// orNA renders a figure the client has none of (h2load's allocations).
// Write syscalls need none: every client has them but the floor, whose
// NaN renders as "—" too.
func orNA(name string, v string) string {
	if name == nameH2load || name == nameFloor {
		return "—"
	}
	return v
}

func h2Table(res map[h2Key]h2Figures, cells []h2Cell) *table {
	t := &table{
		title: "HTTPS against nginx: spool, net/http and h2load",
		header: []string{"proto", "test", "conc.", "client", "conns", "rate", "CPU µs/req", "server CPU µs/req", "allocs/req", "bytes/req",
			"socket writes/req", "write syscalls/req", "socket reads/req", "p50", "p99"},
		left: 4,
	}
	for _, c := range cells {
		for _, name := range h2Clients {
			f, ok := res[h2Key{c, name}]
			if !ok {
				continue
			}
			row := append(cellCols(c), name)
			if f.err != nil {
				t.notes = append(t.notes, fmt.Sprintf("%s %s ×%d, %s: %v", c.proto, c.test, c.streams, name, f.err))
			}
			if f.rps == 0 {
				t.add(append(row, "—", "error")...)
				continue
			}
			t.add(append(row, fmtInt(float64(f.conns)), rateText(c, f.rps), fmtFloat(f.cpuUS), fmtFloat(f.srvUS),
				orNA(name, fmtFloat(f.allocs)), orNA(name, fmtBytes(f.bytes)), orNA(name, fmtFloat(f.writes)),
				fmtFloat(f.syscw), orNA(name, fmtFloat(f.reads)), orNA(name, fmtDur(f.p50)), orNA(name, fmtDur(f.p99)))...)
		}
	}
	t.notes = append(t.notes, "conc.: concurrent requests; h2: streams on one conn, HTTPS/1.1: one conn each. "+
		"conns: conns the client dialed in the cell. 1 MiB cells: one request at a time, rate in MiB/s "+
		"(= transfers/s); the download reads /big to EOF through a 32 KiB buffer, the upload POSTs 1 MiB "+
		"(Content-Length) that nginx reads whole (a mirror location) before it answers. h2load's CPU includes its "+
		"process start and handshakes, its warm-up requests counted at its measured rate.")
	return t
}

func h2RatioTable(res map[h2Key]h2Figures, cells []h2Cell) *table {
	t := &table{
		title: "spool ÷ net/http, and both ÷ h2load (rate: higher is better; the rest: lower is better)",
		header: []string{"proto", "test", "conc.", "rate ÷ net/http", "per round", "CPU ÷ net/http", "per round", "allocs ÷ net/http",
			"socket writes ÷ net/http", "write syscalls ÷ net/http", "spool ÷ h2load", "net/http ÷ h2load"},
		left: 3,
	}
	for _, c := range cells {
		s, n, h := res[h2Key{c, nameSpool}], res[h2Key{c, nameNetHTTP}], res[h2Key{c, nameH2load}]
		t.add(append(cellCols(c), fmtRatio(s.rps, n.rps), fmtRatio(s.roundRate, 1), fmtRatio(s.cpuUS, n.cpuUS),
			fmtRatio(s.roundCPU, 1), fmtRatio(s.allocs, n.allocs),
			fmtRatio(s.writes, n.writes), fmtRatio(s.syscw, n.syscw), fmtRatio(s.rps, h.rps), fmtRatio(n.rps, h.rps))...)
	}
	t.notes = append(t.notes, "÷ net/http: ratio of the medians; per round: median of the ratios of the runs of one round "+
		"(spool and net/http back to back, so load from other processes that lasts a round cancels out).")
	return t
}

// verdict is a target's PASS or MISS, or n/a when a figure is missing.
func verdict(ok bool, have ...float64) string {
	for _, v := range have {
		if v == 0 || math.IsNaN(v) {
			return "n/a"
		}
	}
	if ok {
		return "PASS"
	}
	return "MISS"
}

// h2TargetTable sets the h2 cells against issue 10's targets. A target
// whose cell was not run (another -h2-streams) is left out.
func h2TargetTable(res map[h2Key]h2Figures, streams []int) *table {
	t := &table{
		title:  "Issue 10's targets (h2 cells)",
		header: []string{"figure", "cell", "net/http", "spool", "spool ÷ net/http", "target", "result"},
		left:   2,
	}
	var ceil []string // h2load's write syscalls per request at the socket-writes target's cells
	get := func(c h2Cell) (s, n h2Figures, ok bool) {
		s, ok1 := res[h2Key{c, nameSpool}]
		n, ok2 := res[h2Key{c, nameNetHTTP}]
		return s, n, ok1 && ok2
	}
	for _, st := range streams {
		c := h2Cell{protoH2, testGet, st}
		s, n, ok := get(c)
		if !ok {
			continue
		}
		cell := fmt.Sprintf("h2 GET / ×%d", st)
		t.add("allocs per request", cell, fmtFloat(n.allocs), fmtFloat(s.allocs), fmtRatio(s.allocs, n.allocs),
			"≤ 8", verdict(s.allocs <= 8+allocSlack, s.rps))
		if want, ok := map[int]float64{1: 1.1, 100: 1.5}[st]; ok {
			t.add("requests/s", cell, fmtInt(n.rps), fmtInt(s.rps), fmtRatio(s.rps, n.rps),
				fmt.Sprintf("≥ %.1f× net/http", want), verdict(s.rps >= want*n.rps, s.rps, n.rps))
		}
		t.add("CPU per request", cell, fmtFloat(n.cpuUS)+" µs", fmtFloat(s.cpuUS)+" µs", fmtRatio(s.cpuUS, n.cpuUS),
			"≤ 0.7× net/http", verdict(s.cpuUS <= 0.7*n.cpuUS, s.cpuUS, n.cpuUS))
		if st >= 16 {
			t.add("socket writes per request", cell, fmtFloat(n.writes), fmtFloat(s.writes), fmtRatio(s.writes, n.writes),
				"< 0.2", verdict(s.writes < 0.2, s.rps))
			if h, ok := res[h2Key{c, nameH2load}]; ok && h.rps > 0 && !math.IsNaN(h.syscw) {
				ceil = append(ceil, fmt.Sprintf("%s at %d streams (spool %s)", fmtFloat(h.syscw), st, fmtFloat(s.syscw)))
			}
		}
	}
	if len(ceil) > 0 {
		t.notes = append(t.notes, "Write syscalls per request (the kernel's count, whole process) in the cells of the "+
			"socket-writes target: h2load, the ceiling, made "+strings.Join(ceil, ", ")+".")
	}
	if s, n, ok := get(h2Cell{protoH2, testDownload, 1}); ok {
		t.add("1 MiB download", "h2 ×1", fmtFloat(n.rps)+" MiB/s", fmtFloat(s.rps)+" MiB/s", fmtRatio(s.rps, n.rps),
			"≥ 1.5× net/http", verdict(s.rps >= 1.5*n.rps, s.rps, n.rps))
		if note := serverCap(s, n); note != "" {
			t.notes = append(t.notes, note)
		}
		if fl, ok := res[h2Key{h2Cell{protoH2, testDownload, 1}, nameFloor}]; ok && fl.rps > 0 {
			t.notes = append(t.notes, fmt.Sprintf("1 MiB download: the Go floor (-h2-floor: one goroutine, x/net's Framer over "+
				"crypto/tls, no pool) got %s MiB/s, %s net/http's rate, at %s µs of client CPU per MiB (%s net/http's).",
				fmtFloat(fl.rps), fmtRatio(fl.rps, n.rps), fmtFloat(fl.cpuUS), fmtRatio(fl.cpuUS, n.cpuUS)))
		}
	}
	t.notes = append(t.notes, "Socket writes: Write calls reaching the socket, below TLS (the counting conn); "+
		"the figure table's write syscalls column is the kernel's count (/proc/self/io) for the whole process.")
	if !slices.Contains(streams, 1) || !slices.Contains(streams, 100) {
		t.notes = append(t.notes, "The req/s targets are at 1 and 100 streams; this run measured "+fmt.Sprint(streams)+".")
	}
	return t
}

// serverCap states the bounds of the download cell: nginx's one worker
// serves no client more than 1/(its CPU per MiB) MiB/s; and where client
// and server share about one core's worth of CPU (a loaded 2-CPU machine),
// the rate follows 1/(client + server CPU per MiB), which makes the ratio
// of those sums the ratio a client can reach. "" when the server's CPU is
// unknown.
func serverCap(s, n h2Figures) string {
	if !(s.srvUS > 0) || !(n.rps > 0) {
		return ""
	}
	limit := 1e6 / s.srvUS
	note := fmt.Sprintf("1 MiB download: nginx spent %s µs of CPU per MiB serving spool; on its one core it cannot serve "+
		"more than about %s MiB/s to any client, %s net/http's rate here.", fmtFloat(s.srvUS), fmtInt(limit), fmtRatio(limit, n.rps))
	if sumS, sumN := s.cpuUS+s.srvUS, n.cpuUS+n.srvUS; sumS > 0 && sumN > 0 {
		note += fmt.Sprintf(" Client + nginx CPU per MiB: spool %s µs, net/http %s µs; if the two share one core's worth, "+
			"they get %s and %s MiB/s (%s).", fmtInt(sumS), fmtInt(sumN), fmtInt(1e6/sumS), fmtInt(1e6/sumN), fmtRatio(sumN, sumS))
	}
	return note
}

package main

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// loadClients are the clients of the GET / table, in its order.
var loadClients = []string{nameSpool, nameNetHTTP, nameFast, nameRaw}

// cellKey names a cell: one client at one worker count.
type cellKey struct {
	workers int
	client  string
}

// warmFor bounds the unmeasured warm-up of a crew (connections dialed,
// pools and caches filled) before its first measured run.
const warmFor = 200 * time.Millisecond

// runInterleaved measures each client in names for each worker count:
// rounds runs per cell, the clients in a rotating order in each round.
func runInterleaved(log io.Writer, cfg config, names []string, workers []int, r request) map[cellKey]figures {
	runs := map[cellKey][]figures{}
	per := cfg.cellDur / time.Duration(cfg.rounds)
	for wi, w := range workers {
		crews := map[string]*crew{}
		for _, name := range names {
			cr, err := newCrew(name, w, r)
			if err != nil {
				runs[cellKey{w, name}] = []figures{{err: err}}
				continue
			}
			crews[name] = cr
			cr.run(min(warmFor, per))
		}
		for round := range cfg.rounds {
			for _, name := range rotate(names, round+wi) {
				cr := crews[name]
				if cr == nil {
					continue
				}
				f := cr.run(per)
				fmt.Fprintf(log, "  %-8s %s workers=%-3d round %d: %s req/s\n", r.method, r.url[strings.LastIndex(r.url, "/"):], w, round+1, fmtInt(f.rps))
				runs[cellKey{w, name}] = append(runs[cellKey{w, name}], f)
			}
		}
		for _, cr := range crews {
			cr.close()
		}
	}
	out := map[cellKey]figures{}
	for k, v := range runs {
		out[k] = median(v)
	}
	return out
}

func runLoad(log io.Writer, cfg config, srv *server) map[cellKey]figures {
	fmt.Fprintln(log, "GET / …")
	return runInterleaved(log, cfg, loadClients, cfg.workers, request{method: http.MethodGet, url: srv.url("/")})
}

func loadTable(res map[cellKey]figures, cfg config) *table {
	t := &table{
		title:  "GET / (12-byte body), keep-alive",
		header: []string{"workers", "client", "req/s", "client CPU µs/req", "allocs/req", "bytes/req", "p50", "p99"},
		left:   2,
	}
	for _, w := range cfg.workers {
		for _, name := range loadClients {
			f, ok := res[cellKey{w, name}]
			if !ok {
				continue
			}
			if f.err != nil && f.rps == 0 {
				t.add(fmt.Sprint(w), name, "error: "+f.err.Error())
				continue
			}
			t.add(fmt.Sprint(w), name, fmtInt(f.rps), fmtFloat(f.cpuUS), fmtFloat(f.allocs),
				fmtBytes(f.bytes), fmtDur(f.p50), fmtDur(f.p99))
		}
	}
	t.notes = append(t.notes, "raw floor: one write and one read per request on a private socket per worker, no parsing.")
	for k, f := range res {
		if f.err != nil {
			t.notes = append(t.notes, fmt.Sprintf("error in %s at %d workers: %v", k.client, k.workers, f.err))
		}
	}
	return t
}

func ratioTable(res map[cellKey]figures, cfg config) *table {
	t := &table{
		title: "spool ÷ peer (req/s: higher is better; the rest: lower is better)",
		header: []string{"workers", "req/s ÷ net/http", "req/s ÷ fasthttp", "req/s ÷ raw floor",
			"CPU ÷ net/http", "CPU ÷ fasthttp", "allocs ÷ net/http", "bytes ÷ net/http", "p99 ÷ net/http", "p99 ÷ fasthttp"},
		left: 1,
	}
	for _, w := range cfg.workers {
		s, n, f, r := res[cellKey{w, nameSpool}], res[cellKey{w, nameNetHTTP}], res[cellKey{w, nameFast}], res[cellKey{w, nameRaw}]
		t.add(fmt.Sprint(w), fmtRatio(s.rps, n.rps), fmtRatio(s.rps, f.rps), fmtRatio(s.rps, r.rps),
			fmtRatio(s.cpuUS, n.cpuUS), fmtRatio(s.cpuUS, f.cpuUS), fmtRatio(s.allocs, n.allocs),
			fmtRatio(s.bytes, n.bytes), fmtRatio(float64(s.p99), float64(n.p99)), fmtRatio(float64(s.p99), float64(f.p99)))
	}
	return t
}

// idleClients are the clients of the idle-connection figures.
var idleClients = []string{nameSpool, nameNetHTTP, nameFast}

func runIdle(log io.Writer, cfg config, srv *server) map[string]idleFigures {
	out := map[string]idleFigures{}
	for _, name := range idleClients {
		fmt.Fprintf(log, "idle: %s, %d conns …\n", name, cfg.idleConns)
		out[name] = measureIdle(name, srv.url("/slow"), cfg.idleConns)
	}
	return out
}

func idleTable(res map[string]idleFigures, cfg config) *table {
	t := &table{
		title: fmt.Sprintf("Idle keep-alive connections (%s opened at once, then idle)", fmtInt(float64(cfg.idleConns))),
		header: []string{"client", "conns opened", "goroutines / idle conn", "heap / idle conn",
			"stack / idle conn", "heap ÷ spool's"},
		left: 1,
	}
	s := res[nameSpool]
	for _, name := range idleClients {
		f := res[name]
		if f.err != nil {
			t.notes = append(t.notes, fmt.Sprintf("%s: error: %v", name, f.err))
		}
		t.add(name, fmtInt(float64(f.conns)), fmtFloat(f.goroutines), fmtBytes(f.heap),
			fmtBytes(f.stack), fmtRatio(f.heap, s.heap))
	}
	t.notes = append(t.notes, "Heap is runtime.MemStats.HeapAlloc and stack StackInuse, after 2×GC, minus the same before the client "+
		"existed, over the connections opened (the process's fd count delta); goroutine descriptors come from a pre-warmed free list (the runtime never frees them), so heap excludes them; net/http: MaxIdleConnsPerHost 5000, "+
		"fasthttp: MaxConnsPerHost 5000, spool: MaxIdleConnsPerHost and MaxIdleConns 5000.")
	return t
}

// transferCase is one row group of the transfer table.
type transferCase struct {
	name string
	req  request
	unit string // "MiB/s" (one MiB per request) or "req/s"
}

func transfers(log io.Writer, cfg config, srv *server) *table {
	big := bigBody()
	cases := []transferCase{
		{"1 MiB download", request{method: http.MethodGet, url: srv.url("/big")}, "MiB/s"},
		{"1 MiB upload", request{method: http.MethodPost, url: srv.url("/upload"), body: big}, "MiB/s"},
		{"chunked response", request{method: http.MethodGet, url: srv.url("/chunked")}, "req/s"},
	}
	var workers []int
	for _, w := range cfg.workers {
		if w <= 16 && (!cfg.quick || len(workers) == 0) {
			workers = append(workers, w)
		}
	}
	names := []string{nameSpool, nameNetHTTP, nameFast}
	t := &table{
		title:  "Transfers",
		header: []string{"test", "workers", "client", "rate", "÷ net/http", "client CPU µs/op", "allocs/op", "bytes/op"},
		left:   3,
	}
	for _, c := range cases {
		fmt.Fprintf(log, "%s …\n", c.name)
		res := runInterleaved(log, cfg, names, workers, c.req)
		for _, w := range workers {
			n := res[cellKey{w, nameNetHTTP}]
			for _, name := range names {
				f := res[cellKey{w, name}]
				if f.err != nil {
					t.notes = append(t.notes, fmt.Sprintf("%s, %s at %d workers: error: %v", c.name, name, w, f.err))
				}
				t.add(c.name, fmt.Sprint(w), name, fmtInt(f.rps)+" "+c.unit, fmtRatio(f.rps, n.rps),
					fmtFloat(f.cpuUS), fmtFloat(f.allocs), fmtBytes(f.bytes))
			}
		}
	}
	t.notes = append(t.notes, "Downloads read /big (1 MiB) to EOF through a 32 KiB buffer; uploads POST 1 MiB "+
		"(Content-Length) that the server reads and discards; /chunked is a 12-byte chunked body.")
	return t
}

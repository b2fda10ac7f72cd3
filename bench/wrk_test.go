package main

import (
	"bytes"
	"flag"
	"io"
	"math"
	"strings"
	"testing"
)

// wrk 4.1.0's reports, as printed: a clean run, one with error statuses,
// one whose every connection was closed by the server.
const (
	wrkClean = `Running 1s test @ http://127.0.0.1:18088/
  1 threads and 4 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   143.35us  312.59us   4.80ms   95.69%
    Req/Sec    39.94k     5.58k   46.63k    72.73%
  43573 requests in 1.10s, 5.36MB read
Requests/sec:  39620.35
Transfer/sec:      4.87MB
`
	wrkNon2xx = `Running 1s test @ http://127.0.0.1:18088/404
  1 threads and 4 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   190.76us  502.97us   5.34ms   95.06%
    Req/Sec    41.20k     8.00k   57.24k    81.82%
  45022 requests in 1.10s, 3.52MB read
  Non-2xx or 3xx responses: 45022
Requests/sec:  40953.37
Transfer/sec:      3.20MB
`
	wrkSocketErrors = `Running 1s test @ http://127.0.0.1:18088/close
  1 threads and 4 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     0.00us    0.00us   0.00us    -nan%
    Req/Sec     0.00      0.00     0.00      -nan%
  0 requests in 1.10s, 0.00B read
  Socket errors: connect 0, read 10870, write 0, timeout 0
Requests/sec:      0.00
Transfer/sec:       0.00B
`
)

func TestParseWrk(t *testing.T) {
	for _, c := range []struct {
		name, out string
		want      loadRun
	}{
		{"clean", wrkClean, loadRun{rps: 39620.35, reqs: 43573}},
		{"non-2xx", wrkNon2xx, loadRun{rps: 40953.37, reqs: 45022, problem: "non-2xx 45022"}},
		{"socket errors", wrkSocketErrors, loadRun{problem: "socket errors: connect 0, read 10870, write 0, timeout 0"}},
	} {
		got, err := parseWrk(c.out)
		if err != nil || got != c.want {
			t.Errorf("%s: got %+v, %v; want %+v", c.name, got, err, c.want)
		}
	}
	if _, err := parseWrk("unable to connect to 127.0.0.1:18089 Connection refused\n"); err == nil {
		t.Error("no Requests/sec line: want an error")
	}
}

func TestParseSpool(t *testing.T) {
	// Trimmed from `spool bench --json` (histogram and latency dropped).
	clean := `{
  "url": "http://127.0.0.1:38727/", "method": "GET", "concurrency": 16, "threads": 1,
  "requests": 120000, "errors": 0, "duration_s": 3.0001, "throughput_rps": 39998.7,
  "body_bytes": 1440000, "status": {"200": 120000}, "error_classes": {},
  "allocs_per_request": 3.01, "alloc_bytes_per_request": 212, "cpu_per_request_us": 18.6
}`
	bad := `{"requests": 100, "errors": 3, "throughput_rps": 1000.5,
  "status": {"200": 90, "404": 5, "503": 2}, "error_classes": {"timeout": 1, "reset": 2}}`
	for _, c := range []struct {
		name, out string
		want      loadRun
	}{
		{"clean", clean, loadRun{rps: 39998.7, reqs: 120000}},
		{"errors and non-2xx", bad, loadRun{rps: 1000.5, reqs: 100,
			problem: "errors 3 (reset 2, timeout 1); non-2xx 7 (404 5, 503 2)"}},
	} {
		got, err := parseSpool([]byte(c.out))
		if err != nil || got != c.want {
			t.Errorf("%s: got %+v, %v; want %+v", c.name, got, err, c.want)
		}
	}
	if _, err := parseSpool([]byte("spool: bench: all 20 requests failed")); err == nil {
		t.Error("not JSON: want an error")
	}
}

func TestMedianOf(t *testing.T) {
	for _, c := range []struct {
		v    []float64
		want float64
	}{{[]float64{3}, 3}, {[]float64{5, 1, 3}, 3}, {[]float64{4, 1, 3, 2}, 2.5}} {
		if got := medianOf(c.v); got != c.want {
			t.Errorf("medianOf(%v) = %v, want %v", c.v, got, c.want)
		}
	}
	if !math.IsNaN(medianOf(nil)) {
		t.Error("medianOf(nil): want NaN")
	}
}

func TestWrkFlags(t *testing.T) {
	cfg, err := parseFlags([]string{"-wrk", "-wrk-rounds", "2", "-wrk-d", "2s", "-wrk-threads", "1, 2,4"})
	if err != nil || !cfg.wrk.on || cfg.wrk.rounds != 2 || cfg.wrk.conns != 16 || len(cfg.wrk.threads) != 3 || cfg.wrk.threads[2] != 4 {
		t.Errorf("got %+v, %v", cfg.wrk, err)
	}
	for _, bad := range [][]string{{"-wrk-d", "1500ms"}, {"-wrk-threads", "1,x"}, {"-wrk-c", "2", "-wrk-threads", "4"}, {"-wrk-rounds", "0"}} {
		fs := flag.NewFlagSet("", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		var w wrkConfig
		w.register(fs)
		if err := fs.Parse(bad); err != nil || w.finish() == nil {
			t.Errorf("%v: want an error", bad)
		}
	}
}

func TestWrkTable(t *testing.T) {
	r := newWrkResults([]int{1, 2})
	r.wrk[0] = []loadRun{{rps: 40000}, {rps: 42000}, {rps: 41000}}
	r.spool[0] = []loadRun{{rps: 38000}, {rps: 42000}, {rps: 40000}}
	r.wrk[1] = []loadRun{{rps: 50000}, {rps: 52000}, {rps: 51000}}
	r.spool[1] = []loadRun{{rps: 45000}, {rps: 1000, problem: "errors 3 (reset 3)"}, {rps: 47000}}
	r.raw[0] = []loadRun{{rps: 44000}, {rps: 46000}, {rps: 45000}}
	r.raw[1] = []loadRun{{rps: 48000}, {rps: 49000}, {rps: 0, problem: "EOF"}}
	if got, want := r.roundLine(1, 3), "  round 2/3: -t 1 wrk 42,000 spool 42,000 (1.00×) floor 46,000 |"+
		" -t 2 wrk 52,000 spool 1,000 [left out: errors 3 (reset 3)] floor 49,000"; got != want {
		t.Errorf("round line:\n got %q\nwant %q", got, want)
	}
	var b bytes.Buffer
	r.table(wrkConfig{rounds: 3, dur: 3e9, conns: 16}).render(&b)
	want := "### spool bench vs wrk: GET / (12-byte body), keep-alive, -c 16, median of 3 runs of 3s\n\n" +
		"| -t  | wrk req/s | wrk min | wrk max | spool req/s | spool min | spool max | spool ÷ wrk |  per-round ÷ | Go floor req/s | floor ÷ wrk | runs left out |\n" +
		"| --- | --------: | ------: | ------: | ----------: | --------: | --------: | ----------: | -----------: | -------------: | ----------: | ------------: |\n" +
		"| 1   |    41,000 |  40,000 |  42,000 |      40,000 |    38,000 |    42,000 |       0.98× | 0.95×..1.00× |         45,000 |       1.10× |             0 |\n" +
		"| 2   |    51,000 |  50,000 |  52,000 |      46,000 |    45,000 |    47,000 |       0.90× | 0.90×..0.92× |         48,500 |       0.95× |             2 |\n" +
		"\n" +
		"-t is wrk's thread count and spool bench's GOMAXPROCS; per-round ÷ is the range of spool ÷ wrk over runs made back to back in one round.\n" +
		"Go floor: this process at GOMAXPROCS -t, one goroutine per connection writing a fixed request and reading the known response length (no HTTP parsing): what any Go client on blocking conns can reach here.\n" +
		"Left out of the figures (errors or non-2xx responses):\n" +
		"- -t 2 round 2 spool: errors 3 (reset 3)\n" +
		"- -t 2 round 3 Go floor: EOF\n\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
	if got, want := r.best(), "Best: wrk 51,000 req/s at -t 2, spool bench 46,000 req/s at -t 2: spool ÷ wrk 0.90×"; got != want {
		t.Errorf("best:\n got %q\nwant %q", got, want)
	}
	empty := newWrkResults([]int{1})
	empty.wrk[0] = []loadRun{{problem: "socket errors: connect 16"}}
	empty.spool[0] = []loadRun{{rps: 100}}
	if got := empty.best(); !strings.HasPrefix(got, "Best: —") {
		t.Errorf("best with no wrk run: %q", got)
	}
}

func TestParseWrkVersion(t *testing.T) {
	if got := parseWrkVersion("wrk debian/4.1.0-3+b2 [epoll] Copyright (C) 2012 Will Glozer\nUsage: wrk <options> <url>\n"); got != "wrk debian/4.1.0-3+b2 [epoll]" {
		t.Errorf("got %q", got)
	}
	if got := parseWrkVersion(""); got != "wrk" {
		t.Errorf("empty: got %q", got)
	}
}

package main

// -h2: spool, net/http and h2load over TLS against nginx (one worker), on
// HTTP/2 (every stream on one conn) and HTTPS/1.1: GET / at 1, 16 and 100
// concurrent requests, a 1 MiB download and a 1 MiB upload. Per cell:
// req/s, client CPU, allocations and socket writes per request.

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// h2Config is the -h2 part of the command line; -d, -rounds and -quick
// are shared with the default run.
type h2Config struct {
	on      bool
	list    string // -h2-streams as given
	streams []int
	h1      bool            // also the HTTPS/1.1 cells
	testArg string          // -h2-tests as given
	tests   map[string]bool // get, download, upload: which cells run
	tuned   bool            // -h2-tuned: nginx with tunedNginx's directives
	floor   bool            // -h2-floor: the Go floor's row in the h2 download cell
}

// h2TestNames maps -h2-tests' words to the tests.
var h2TestNames = map[string]string{"get": testGet, "download": testDownload, "upload": testUpload}

func (h *h2Config) register(fs *flag.FlagSet) {
	fs.BoolVar(&h.on, "h2", false, "HTTP/2 and HTTPS/1.1 cells over TLS against nginx, with net/http and h2load (needs nginx; h2load optional)")
	fs.StringVar(&h.list, "h2-streams", "1,16,100", "-h2: concurrent streams of the GET / cells (h2: on one conn; HTTPS/1.1: that many conns)")
	fs.BoolVar(&h.h1, "h2-https1", true, "-h2: run the HTTPS/1.1 cells too")
	fs.StringVar(&h.testArg, "h2-tests", "get,download,upload", "-h2: which tests run (get: GET / at each -h2-streams; download, upload: the 1 MiB cells)")
	fs.BoolVar(&h.floor, "h2-floor", false, "-h2: add the Go floor to the h2 download cell (one goroutine, x/net's Framer over crypto/tls, no pool: what a Go client can do at best)")
	fs.BoolVar(&h.tuned, "h2-tuned", false, "-h2: nginx with the tuned TLS and HTTP/2 buffers (the server line lists them), the same for every client")
}

func (h *h2Config) finish() error {
	h.streams = nil
	for _, f := range strings.Split(h.list, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return fmt.Errorf("-h2-streams: bad count %q", f)
		}
		h.streams = append(h.streams, n)
	}
	h.tests = map[string]bool{}
	for _, f := range strings.Split(h.testArg, ",") {
		t, ok := h2TestNames[strings.TrimSpace(f)]
		if !ok {
			return fmt.Errorf("-h2-tests: unknown test %q (get, download, upload)", f)
		}
		h.tests[t] = true
	}
	return nil
}

// The tests of the -h2 cells.
const (
	testGet      = "GET /"
	testDownload = "1 MiB download"
	testUpload   = "1 MiB upload"
)

// h2Cell is one row group: a protocol, a test and its concurrency.
type h2Cell struct {
	proto   string // protoH2 or protoH1
	test    string
	streams int // concurrent requests: h2 streams on one conn, or HTTPS/1.1 conns
}

func (c h2Cell) path() string {
	switch c.test {
	case testDownload:
		return "/big"
	case testUpload:
		return "/upload"
	}
	return "/"
}

// transfer reports a 1 MiB cell: its rate is MiB/s (one MiB per request).
func (c h2Cell) transfer() bool { return c.test != testGet }

func (c h2Cell) request(t tlsTarget, big []byte) request {
	r := request{method: http.MethodGet, url: "https://" + t.addr(c.proto) + c.path()}
	if c.test == testUpload {
		r.method, r.body = http.MethodPost, big
	}
	return r
}

// h2Cells lists the cells in the tables' order: h2 first, transfers at one
// stream after each protocol's GET cells.
func h2Cells(h h2Config) []h2Cell {
	protos := []string{protoH2}
	if h.h1 {
		protos = append(protos, protoH1)
	}
	var cells []h2Cell
	for _, p := range protos {
		if h.tests[testGet] {
			for _, s := range h.streams {
				cells = append(cells, h2Cell{p, testGet, s})
			}
		}
		for _, t := range []string{testDownload, testUpload} {
			if h.tests[t] {
				cells = append(cells, h2Cell{p, t, 1})
			}
		}
	}
	return cells
}

// nameH2load is the ceiling's row in the tables.
const nameH2load = "h2load"

// h2Figures are one client's figures in one cell.
type h2Figures struct {
	figures
	writes float64 // socket Write calls per request (counting conn, below TLS)
	reads  float64 // socket Read calls per request
	syscw  float64 // write syscalls per request, whole process (/proc/self/io syscw)
	srvUS  float64 // the server's CPU per request, µs (NaN: unknown)
	conns  int64   // conns the client dialed in the cell
	proto  string  // the protocol every response came over
	// roundRate and roundCPU, on spool's figures only: the medians of the
	// per-round ratios spool ÷ net/http. The two ran back to back in each
	// round, so load from other processes that lasts a round cancels out.
	roundRate, roundCPU float64
}

// h2Key names one client's figures in one cell.
type h2Key struct {
	cell   h2Cell
	client string
}

// tlsCrew is a crew whose conns count their socket calls.
type tlsCrew struct {
	*crew
	counts *ioCounts
	proto  string
}

func newTLSCrew(name string, c h2Cell, t tlsTarget, big []byte) (*tlsCrew, error) {
	counts := &ioCounts{}
	cl, err := newTLSClient(name, c, t, counts)
	if err != nil {
		return nil, err
	}
	cr, err := newCrewOf(name, cl, c.streams, c.request(t, big))
	if err != nil {
		return nil, err
	}
	return &tlsCrew{crew: cr, counts: counts, proto: alpnName(c.proto)}, nil
}

// run is crew.run plus the socket and syscall counts of the same window.
func (tc *tlsCrew) run(d time.Duration) h2Figures {
	s0, w0 := tc.counts.snap(), procSyscw()
	f := tc.crew.run(d)
	ds, w1 := tc.counts.snap().sub(s0), procSyscw()
	out := h2Figures{figures: f, conns: tc.counts.dials.Load(), proto: tc.proto, syscw: nan()}
	if f.reqs > 0 {
		n := float64(f.reqs)
		out.writes, out.reads = float64(ds.writes)/n, float64(ds.reads)/n
		if w0 >= 0 && w1 >= 0 {
			out.syscw = float64(w1-w0) / n
		}
	}
	return out
}

// medianH2 is median, metric by metric, with the counts' medians too.
func medianH2(runs []h2Figures) h2Figures {
	fs := make([]figures, len(runs))
	var w, r, sc, sv []float64
	out := h2Figures{syscw: nan(), srvUS: nan()}
	for i, f := range runs {
		fs[i] = f.figures
		if f.reqs > 0 {
			w, r = append(w, f.writes), append(r, f.reads)
			if f.syscw == f.syscw { // not NaN
				sc = append(sc, f.syscw)
			}
			if f.srvUS == f.srvUS {
				sv = append(sv, f.srvUS)
			}
		}
		out.conns = max(out.conns, f.conns)
		if out.proto == "" {
			out.proto = f.proto
		}
	}
	out.figures = median(fs)
	out.writes, out.reads = medianOf(w), medianOf(r)
	if len(sc) > 0 {
		out.syscw = medianOf(sc)
	}
	if len(sv) > 0 {
		out.srvUS = medianOf(sv)
	}
	return out
}

// runH2Cells measures every cell: for each, the Go clients' crews are
// built and warmed, then rounds runs of per each, the clients (h2load
// included) in a rotating order.
func runH2Cells(log io.Writer, cells []h2Cell, t tlsTarget, per time.Duration, rounds int) map[h2Key]h2Figures {
	big := bigBody()
	runs := map[h2Key][]h2Figures{}
	for ci, c := range cells {
		names, runners, done := cellRunners(c, t, per, big, runs)
		for round := range rounds {
			for _, name := range rotate(names, round+ci) {
				run := runners[name]
				if run == nil {
					continue // it failed to start: its error is in runs
				}
				srv0 := t.serverNow()
				f := run(per)
				f.srvUS = serverPerReq(srv0, t.serverNow(), f, name == nameH2load, per)
				fmt.Fprintf(log, "  %-9s %-14s ×%-3d %-8s round %d: %s req/s\n", c.proto, c.test, c.streams, name, round+1, fmtInt(f.rps))
				runs[h2Key{c, name}] = append(runs[h2Key{c, name}], f)
			}
		}
		done()
	}
	out := map[h2Key]h2Figures{}
	for k, v := range runs {
		out[k] = medianH2(v)
	}
	for _, c := range cells {
		sk, nk := h2Key{c, nameSpool}, h2Key{c, nameNetHTTP}
		if f, ok := out[sk]; ok {
			f.roundRate = roundRatio(runs[sk], runs[nk], func(f h2Figures) float64 { return f.rps })
			f.roundCPU = roundRatio(runs[sk], runs[nk], func(f h2Figures) float64 { return f.cpuUS })
			out[sk] = f
		}
	}
	return out
}

// cellRunners builds and warms cell c's clients: spool's and net/http's
// crews, h2load when installed, and the Go floor in the h2 download cell
// when asked for. A client that fails to start has its error in runs and
// no runner; done closes the others' conns.
func cellRunners(c h2Cell, t tlsTarget, per time.Duration, big []byte, runs map[h2Key][]h2Figures) (
	names []string, runners map[string]func(time.Duration) h2Figures, done func()) {
	names = []string{nameSpool, nameNetHTTP}
	runners = map[string]func(time.Duration) h2Figures{}
	var closers []func()
	fail := func(name string, err error) { runs[h2Key{c, name}] = []h2Figures{{figures: figures{err: err}}} }
	for _, name := range names {
		tc, err := newTLSCrew(name, c, t, big)
		if err == nil {
			if f := tc.run(min(warmFor, per)); f.err != nil {
				tc.close()
				err = f.err
			}
		}
		if err != nil {
			fail(name, err)
			continue
		}
		runners[name], closers = tc.run, append(closers, tc.close)
	}
	if t.h2load != "" {
		names = append(names, nameH2load)
		runners[nameH2load] = func(d time.Duration) h2Figures { return runH2load(c, t, d) }
	}
	if t.floor && c == (h2Cell{protoH2, testDownload, 1}) {
		names = append(names, nameFloor)
		fc, err := newFloorClient(t, c.path())
		if err == nil {
			if f := fc.run(min(warmFor, per)); f.err != nil {
				fc.close()
				err = f.err
			}
		}
		if err != nil {
			fail(nameFloor, err)
		} else {
			runners[nameFloor], closers = fc.run, append(closers, fc.close)
		}
	}
	return names, runners, func() {
		for _, f := range closers {
			f()
		}
	}
}

// serverPerReq is the server's CPU per request of one run, from its CPU
// before (a) and after (b); NaN when unknown. h2load's requests are scaled
// as its own CPU is (its warm-up's at the measured rate): the server's
// figure then includes h2load's handshakes, a few µs per request at most.
func serverPerReq(a, b time.Duration, f h2Figures, isH2load bool, per time.Duration) float64 {
	if a < 0 || b < a || f.reqs <= 0 {
		return nan()
	}
	n := float64(f.reqs)
	if isH2load {
		n = h2loadRequests(f.reqs, per)
	}
	return float64((b - a).Nanoseconds()) / 1e3 / n
}

// roundRatio is the median over rounds of metric(a_i) ÷ metric(b_i), the
// rounds where both runs count; NaN when none does.
func roundRatio(a, b []h2Figures, metric func(h2Figures) float64) float64 {
	var v []float64
	for i := range min(len(a), len(b)) {
		if a[i].err == nil && b[i].err == nil && a[i].reqs > 0 && b[i].reqs > 0 && metric(b[i]) > 0 {
			v = append(v, metric(a[i])/metric(b[i]))
		}
	}
	return medianOf(v)
}

// runH2 is the -h2 mode: nginx with its TLS listeners, the cells, the
// tables and the targets.
func runH2(out, log io.Writer, cfg config) error {
	bin := findNginx()
	if bin == "" {
		return errors.New("-h2: nginx not found (apt-get install nginx nghttp2-client)")
	}
	var tuning []string
	if cfg.h2.tuned {
		tuning = tunedNginx
	}
	srv, err := startNginx(bin, false, true, tuning...)
	if err != nil {
		return err
	}
	defer srv.stop()
	sig := make(chan os.Signal, 1) // as run: stop nginx on ^C (its own process group)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sig)
	go func() {
		if _, ok := <-sig; ok {
			srv.stop()
			os.Exit(130)
		}
	}()
	t := tlsTarget{h1Addr: srv.TLSAddr, h2Addr: srv.H2Addr, pool: srv.cert.Pool,
		uploadFile: srv.dir + "/www/big.bin", serverCPU: srv.cpu, floor: cfg.h2.floor}
	t.h2load, _ = exec.LookPath("h2load")
	cells := h2Cells(cfg.h2)
	h2Header(out, cfg, srv, t)
	res := runH2Cells(log, cells, t, cfg.cellDur/time.Duration(cfg.rounds), cfg.rounds)
	h2Table(res, cells).render(out)
	h2RatioTable(res, cells).render(out)
	h2TargetTable(res, cfg.h2.streams).render(out)
	fmt.Fprintf(out, "Load average after the run: %s\n", loadAvg())
	return nil
}

// h2Header prints the machine, server and method, as printHeader does.
func h2Header(w io.Writer, cfg config, srv *server, t tlsTarget) {
	cmd := "cd bench && go run ."
	if len(cfg.args) > 0 {
		cmd += " " + strings.Join(cfg.args, " ")
	}
	h2load := "not installed (apt-get install nghttp2-client): no ceiling rows"
	if t.h2load != "" {
		v, _ := exec.Command(t.h2load, "--version").Output()
		h2load = strings.TrimSpace(string(v)) + " (" + t.h2load + ")"
	}
	fmt.Fprintf(w, "## spool over TLS: HTTP/2 and HTTPS/1.1\n\n")
	fmt.Fprintf(w, "- date: %s\n", time.Now().UTC().Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(w, "- machine: %s/%s, %d CPUs (%s), %s; load average at the start: %s\n", runtime.GOOS, runtime.GOARCH,
		runtime.NumCPU(), cpuModel(), runtime.Version(), loadAvg())
	fmt.Fprintf(w, "- command: `%s`\n", cmd)
	fmt.Fprintf(w, "- server: %s, its own process, worker_processes 1, TLS 1.2/1.3 with a fresh P-256 "+
		"certificate signed by a run-time CA (internal/testcert); HTTPS/1.1 on %s, h2 (`listen … ssl http2`) on %s; %s\n",
		srv.Kind, t.h1Addr, t.h2Addr, tuningText(srv.tuning))
	fmt.Fprintf(w, "- ceiling: %s, `-t 1`; h2: `-c 1 -m N`; HTTPS/1.1: `--h1 -c N -m 1`\n", h2load)
	fmt.Fprintf(w, "- method: each cell is the median of %d interleaved runs of %v (spool, net/http, h2load rotate "+
		"order every round). h2: N concurrent requests on ONE conn (MaxConnsPerHost 1, ForceAttemptHTTP2); "+
		"HTTPS/1.1: N workers, a conn each. CPU is getrusage user+sys of the client process (h2load: of its child "+
		"process); server CPU is nginx's (master and worker, /proc/PID/schedstat) over the same run, so a 1 MiB "+
		"cell shows which side bounds it: nginx has one core; allocations are runtime.MemStats Mallocs deltas; socket writes are Write calls on the conn "+
		"returned by DialContext, below TLS (a counting wrapper, both Transports dial through it); write syscalls "+
		"are /proc/self/io syscw deltas (write and writev of the whole process, the runtime's wake-ups included; "+
		"h2load's: its process's syscw from start to exit, /proc/PID/io read before it is reaped, so its "+
		"handshakes and warm-up are in, its warm-up requests counted at its measured rate as for its CPU); "+
		"all per request\n\n", cfg.rounds, cfg.cellDur/time.Duration(cfg.rounds))
}

// tuningText states the TLS servers' config beyond the defaults.
func tuningText(tuning []string) string {
	if len(tuning) == 0 {
		return "nginx's defaults for buffers (http2_chunk_size 8k, output_buffers 2 32k, ssl_buffer_size 16k)"
	}
	return "tuned (-h2-tuned), the same for every client: `" + strings.Join(tuning, "; ") + "`"
}

// loadAvg is /proc/loadavg's first three fields: how busy the shared
// machine was (the figures are read as ratios for that reason).
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

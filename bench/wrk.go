package main

// -wrk: the `spool bench` CLI against the wrk load tool, same nginx, same
// connection count, interleaved runs. It answers whether spool bench, as a
// load generator, reaches wrk's throughput.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// wrkConfig is the -wrk part of the command line.
type wrkConfig struct {
	on      bool
	rounds  int
	dur     time.Duration // per run; whole seconds, wrk's -d takes no fractions
	conns   int
	threads []int
	list    string // -wrk-threads as given
}

func (w *wrkConfig) register(fs *flag.FlagSet) {
	fs.BoolVar(&w.on, "wrk", false, "compare `spool bench` with wrk against nginx instead (needs nginx and wrk)")
	fs.IntVar(&w.rounds, "wrk-rounds", 5, "-wrk: rounds; each runs wrk then spool bench at every thread count")
	fs.DurationVar(&w.dur, "wrk-d", 3*time.Second, "-wrk: duration of one run, whole seconds")
	fs.IntVar(&w.conns, "wrk-c", 16, "-wrk: connections (wrk -c, spool bench -c)")
	fs.StringVar(&w.list, "wrk-threads", "1,2", "-wrk: thread counts (wrk -t, spool bench -t), comma-separated")
}

// finish parses and checks the -wrk flags after fs.Parse.
func (w *wrkConfig) finish() error {
	w.threads = nil
	for _, f := range strings.Split(w.list, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return fmt.Errorf("-wrk-threads: bad count %q", f)
		}
		w.threads = append(w.threads, n)
	}
	switch {
	case w.rounds < 1 || w.conns < 1:
		return errors.New("-wrk-rounds and -wrk-c must be positive")
	case w.dur < time.Second || w.dur%time.Second != 0:
		return fmt.Errorf("-wrk-d %v: want whole seconds (wrk's -d takes no fractions)", w.dur)
	case w.conns < slices.Max(w.threads):
		return fmt.Errorf("-wrk-c %d: wrk wants at least one connection per thread", w.conns)
	}
	return nil
}

// wrkPath is the URL path of both tools: the GET / figures' 12-byte body.
const wrkPath = "/"

// wrkRunSlack bounds a run beyond its -d: process start, connecting, and
// wrk's own shutdown. A run that takes longer is stuck.
const wrkRunSlack = 30 * time.Second

// loadRun is one run of one tool.
type loadRun struct {
	rps  float64
	reqs int64
	// problem is why the run does not count: transport errors, non-2xx
	// responses, a failed exit. Such a run is printed, never averaged.
	problem string
}

func (r loadRun) ok() bool { return r.problem == "" }

var (
	wrkRPSRE    = regexp.MustCompile(`(?m)^Requests/sec:\s+([0-9.]+)`)
	wrkReqsRE   = regexp.MustCompile(`(?m)^\s*(\d+) requests in `)
	wrkNon2xxRE = regexp.MustCompile(`(?m)^\s*Non-2xx or 3xx responses:\s*(\d+)`)
	wrkSockRE   = regexp.MustCompile(`(?m)^\s*Socket errors:\s*(.*)$`)
)

// parseWrk reads wrk's report. wrk prints the "Non-2xx or 3xx responses"
// and "Socket errors" lines only when there are some.
func parseWrk(out string) (loadRun, error) {
	m := wrkRPSRE.FindStringSubmatch(out)
	if m == nil {
		return loadRun{}, fmt.Errorf("no Requests/sec line in wrk's output:\n%s", out)
	}
	var r loadRun
	r.rps, _ = strconv.ParseFloat(m[1], 64)
	if m := wrkReqsRE.FindStringSubmatch(out); m != nil {
		r.reqs, _ = strconv.ParseInt(m[1], 10, 64)
	}
	var p []string
	if m := wrkNon2xxRE.FindStringSubmatch(out); m != nil {
		p = append(p, "non-2xx "+m[1])
	}
	if m := wrkSockRE.FindStringSubmatch(out); m != nil {
		p = append(p, "socket errors: "+strings.TrimSpace(m[1]))
	}
	r.problem = strings.Join(p, "; ")
	return r, nil
}

// spoolJSON is the part of `spool bench --json` read here.
type spoolJSON struct {
	Requests     int64            `json:"requests"`
	Errors       int64            `json:"errors"`
	Throughput   float64          `json:"throughput_rps"`
	Status       map[string]int64 `json:"status"`
	ErrorClasses map[string]int64 `json:"error_classes"`
}

// parseSpool reads `spool bench --json`'s report.
func parseSpool(out []byte) (loadRun, error) {
	var j spoolJSON
	if err := json.Unmarshal(out, &j); err != nil {
		return loadRun{}, fmt.Errorf("spool bench --json: %v in:\n%s", err, out)
	}
	r := loadRun{rps: j.Throughput, reqs: j.Requests}
	var p []string
	if j.Errors > 0 {
		p = append(p, fmt.Sprintf("errors %d%s", j.Errors, countsText(j.ErrorClasses)))
	}
	bad := map[string]int64{}
	var nBad int64
	for code, n := range j.Status {
		if !strings.HasPrefix(code, "2") && n > 0 {
			bad[code] = n
			nBad += n
		}
	}
	if nBad > 0 {
		p = append(p, fmt.Sprintf("non-2xx %d%s", nBad, countsText(bad)))
	}
	r.problem = strings.Join(p, "; ")
	return r, nil
}

// countsText renders {"timeout": 3, "reset": 1} as " (reset 1, timeout 3)".
func countsText(m map[string]int64) string {
	if len(m) == 0 {
		return ""
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

// runWrk is the -wrk mode: nginx, the spool CLI built once, then rounds of
// wrk and spool bench back to back at each thread count.
func runWrk(out, log io.Writer, cfg config) error {
	c := cfg.wrk
	if findNginx() == "" {
		return errors.New("-wrk: nginx not found (apt-get install nginx wrk)")
	}
	wrkBin, err := exec.LookPath("wrk")
	if err != nil {
		return errors.New("-wrk: wrk not found (apt-get install nginx wrk)")
	}
	root, err := repoRoot()
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "spool-bench-wrk-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	spoolBin := filepath.Join(tmp, "spool")
	fmt.Fprintf(log, "building %s/cmd/spool …\n", root)
	build := exec.Command("go", "build", "-o", spoolBin, "./cmd/spool")
	build.Dir = root
	if b, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("go build ./cmd/spool: %v\n%s", err, b)
	}

	srv, err := startServer("nginx", false)
	if err != nil {
		return err
	}
	defer srv.stop()
	sig := make(chan os.Signal, 1) // as run: stop nginx on ^C (it is in its own process group)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sig)
	go func() {
		if _, ok := <-sig; ok {
			srv.stop()
			os.RemoveAll(tmp)
			os.Exit(130)
		}
	}()

	wrkHeader(out, cfg, srv, wrkBin)
	url := srv.url(wrkPath)
	secs := strconv.Itoa(int(c.dur / time.Second))
	conns := strconv.Itoa(c.conns)
	res := newWrkResults(c.threads)
	fmt.Fprintf(log, "spool bench vs wrk, GET %s, -c %d, %d rounds …\n", wrkPath, c.conns, c.rounds)
	for round := range c.rounds {
		for i, th := range c.threads {
			t := strconv.Itoa(th)
			w, err := runTool(c.dur, parseWrk, wrkBin, "-t"+t, "-c"+conns, "-d"+secs+"s", url)
			if err != nil {
				return err
			}
			s, err := runTool(c.dur, func(o string) (loadRun, error) { return parseSpool([]byte(o)) },
				spoolBin, "bench", "-t", t, "-c", conns, "-d", secs+"s", "--json", url)
			if err != nil {
				return err
			}
			res.wrk[i] = append(res.wrk[i], w)
			res.spool[i] = append(res.spool[i], s)
			res.raw[i] = append(res.raw[i], rawFloor(th, c.conns, c.dur, url))
		}
		fmt.Fprintln(log, res.roundLine(round, c.rounds))
	}
	res.table(c).render(out)
	fmt.Fprintln(out, res.best())
	return nil
}

// rawFloor runs the bench's raw-socket client at GOMAXPROCS threads: the
// ceiling a Go client with a goroutine per connection has on this machine.
func rawFloor(threads, conns int, d time.Duration, url string) loadRun {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(threads))
	cr, err := newCrew(nameRaw, conns, request{method: http.MethodGet, url: url})
	if err != nil {
		return loadRun{problem: err.Error()}
	}
	defer cr.close()
	f := cr.run(d)
	if f.err != nil {
		return loadRun{rps: f.rps, problem: f.err.Error()}
	}
	return loadRun{rps: f.rps}
}

// runTool runs one load run and parses its stdout. A tool that exits with
// a failure is a run left out (with its stderr as the reason), not the end
// of the benchmark; a tool that does not start, or hangs, is.
func runTool(d time.Duration, parse func(string) (loadRun, error), bin string, args ...string) (loadRun, error) {
	ctx, cancel := context.WithTimeout(context.Background(), d+wrkRunSlack)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	what := filepath.Base(bin) + " " + strings.Join(args, " ")
	if ctx.Err() != nil {
		return loadRun{}, fmt.Errorf("%s: did not finish in %v", what, d+wrkRunSlack)
	}
	var exitErr *exec.ExitError
	if runErr != nil && !errors.As(runErr, &exitErr) {
		return loadRun{}, fmt.Errorf("%s: %w", what, runErr)
	}
	r, err := parse(stdout.String())
	if runErr != nil {
		reason := strings.TrimSpace(stderr.String() + " " + stdout.String())
		if i := strings.IndexByte(reason, '\n'); i >= 0 {
			reason = reason[:i]
		}
		p := fmt.Sprintf("%v: %s", runErr, reason)
		if r.problem != "" {
			p = r.problem + "; " + p
		}
		r.problem = p
		return r, nil
	}
	if err != nil {
		return loadRun{}, fmt.Errorf("%s: %w", what, err)
	}
	return r, nil
}

// repoRoot is the spool module's directory: the parent of the bench
// module's. `go env GOMOD` names the bench go.mod wherever under bench/
// the command runs.
func repoRoot() (string, error) {
	b, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %v", err)
	}
	gomod := strings.TrimSpace(string(b))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("-wrk: not inside the bench module (run it as: cd bench && go run . -wrk)")
	}
	root := filepath.Dir(filepath.Dir(gomod))
	mod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil || !bytes.Contains(mod, []byte("module github.com/spoolhttp/spool\n")) {
		return "", fmt.Errorf("-wrk: %s is not the spool repository (run it as: cd bench && go run . -wrk)", root)
	}
	return root, nil
}

// parseWrkVersion returns wrk's version from `wrk -v`'s first line:
// "wrk debian/4.1.0-3+b2 [epoll] Copyright (C) 2012 Will Glozer".
func parseWrkVersion(out string) string {
	line, _, _ := strings.Cut(out, "\n")
	line, _, _ = strings.Cut(line, " Copyright")
	if !strings.HasPrefix(line, "wrk ") {
		return "wrk"
	}
	return strings.TrimSpace(line)
}

// wrkHeader prints the machine facts, as printHeader does for the other tables.
func wrkHeader(w io.Writer, cfg config, srv *server, wrkBin string) {
	cmd := "cd bench && go run ."
	if len(cfg.args) > 0 {
		cmd += " " + strings.Join(cfg.args, " ")
	}
	v, _ := exec.Command(wrkBin, "-v").CombinedOutput() // exits 1 after printing
	fmt.Fprintf(w, "## spool bench vs wrk\n\n")
	fmt.Fprintf(w, "- date: %s\n", time.Now().UTC().Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(w, "- machine: %s/%s, %d CPUs (%s), %s\n", runtime.GOOS, runtime.GOARCH,
		runtime.NumCPU(), cpuModel(), runtime.Version())
	fmt.Fprintf(w, "- command: `%s`\n", cmd)
	fmt.Fprintf(w, "- server: %s at %s, its own process (generated config: worker_processes 1, "+
		"keepalive_requests 100000, access_log off)\n", srv.Kind, srv.Addr)
	fmt.Fprintf(w, "- load: %s (%s) and `spool bench` (built from ./cmd/spool with the same Go)\n",
		parseWrkVersion(string(v)), wrkBin)
	fmt.Fprintf(w, "- method: %d rounds; in each, for each -t, `wrk -t T -c %d -d %v` then "+
		"`spool bench -t T -c %d -d %v --json`, back to back on one nginx; figures are req/s as each tool reports it\n\n",
		cfg.wrk.rounds, cfg.wrk.conns, cfg.wrk.dur, cfg.wrk.conns, cfg.wrk.dur)
}

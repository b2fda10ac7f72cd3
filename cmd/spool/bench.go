package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/spoolhttp/spool"
	"github.com/spoolhttp/spool/internal/load"
)

const benchUsage = `Usage: spool bench [flags] [URL]

Sends load through spool.Transport and reports throughput, latency
percentiles and histogram, status codes, errors by class, the client's
allocations and CPU per request, and the transport's pool statistics.
Without a URL it benchmarks an embedded loopback server.

Flags:
  -c N                 concurrent workers (default 16)
  -t, --threads N      OS threads running Go code (GOMAXPROCS), as wrk's -t.
                       Default: one per CPU, or half the CPUs for a loopback
                       URL, whose server needs the other half
  -n N                 requests to send (default 5000 when -d is not given)
  -d, --duration D     run for D, e.g. 10s (with -n: whichever comes first)
  --rate R             open loop: start R requests/s, latency counted from
                       each request's scheduled start (default: closed loop)
  -m METHOD            request method (default GET)
  -H 'Key: Value'      request header, repeatable
  -b, --body BODY      request body, or @file
  --timeout D          per-request timeout, through the body (default 10s)
  --http2              attempt HTTP/2 (ALPN over TLS)
  -k, --insecure       skip TLS certificate verification
  --proxy URL          send through this proxy
  --json               print the result as JSON, no progress
  --compare net/http   run the same load through net/http.Transport
                       afterwards and print both side by side
  --no-progress        no progress output
  --debug-addr ADDR    serve the pool's live debug page (spool.DebugHandler)
                       on ADDR, e.g. 127.0.0.1:6060, while the load runs

Examples:
  spool bench
  spool bench -c 64 -d 10s http://127.0.0.1:8080/
  spool bench -t 4 -c 256 -d 30s https://api.example.com/health
  spool bench --rate 2000 -d 5s -c 128 http://127.0.0.1:8080/
  spool bench -m POST -H 'Content-Type: application/json' -b @req.json http://127.0.0.1:8080/api
  spool bench --compare net/http -n 20000
  spool bench --debug-addr 127.0.0.1:6060 -d 60s http://127.0.0.1:8080/
`

// benchOpts is `spool bench`'s command line.
type benchOpts struct {
	cfg        load.Config
	transport  transportOpts
	json       bool
	compare    string
	noProgress bool
	debugAddr  string // serve the debug page there during the run
	embedded   bool   // no URL: start the embedded server
	threads    int    // GOMAXPROCS for the run; -1 (not given) leaves it alone
}

func parseBench(args []string) (*benchOpts, error) {
	o := &benchOpts{}
	var headers headerFlag
	var body string
	pos, err := parseInterspersed(o.flags(&headers, &body), args)
	if err != nil {
		return nil, err
	}
	return o, o.finish(pos, headers, body)
}

func (o *benchOpts) flags(headers *headerFlag, body *string) *flag.FlagSet {
	fs := newFlagSet("bench")
	fs.IntVar(&o.cfg.Concurrency, "c", 16, "")
	fs.IntVar(&o.threads, "t", -1, "")
	fs.IntVar(&o.threads, "threads", -1, "")
	fs.IntVar(&o.cfg.Requests, "n", 0, "")
	fs.DurationVar(&o.cfg.Duration, "d", 0, "")
	fs.DurationVar(&o.cfg.Duration, "duration", 0, "")
	fs.Float64Var(&o.cfg.Rate, "rate", 0, "")
	fs.StringVar(&o.cfg.Method, "m", "GET", "")
	fs.Var(headers, "H", "")
	fs.StringVar(body, "b", "", "")
	fs.StringVar(body, "body", "", "")
	fs.DurationVar(&o.cfg.Timeout, "timeout", 10*time.Second, "")
	fs.BoolVar(&o.json, "json", false, "")
	fs.StringVar(&o.compare, "compare", "", "")
	fs.BoolVar(&o.noProgress, "no-progress", false, "")
	fs.StringVar(&o.debugAddr, "debug-addr", "", "")
	o.transport.register(fs)
	return fs
}

// finish checks the parsed flags and fills in what they imply.
func (o *benchOpts) finish(pos []string, headers headerFlag, body string) (err error) {
	switch {
	case len(pos) > 1:
		return fmt.Errorf("one URL at most, got %d arguments", len(pos))
	case o.cfg.Concurrency < 1:
		return fmt.Errorf("-c %d: want at least 1", o.cfg.Concurrency)
	case o.threads == 0 || o.threads < -1:
		return fmt.Errorf("-t %d: want at least 1", o.threads)
	case o.cfg.Requests < 0 || o.cfg.Duration < 0 || o.cfg.Rate < 0 || o.cfg.Timeout < 0:
		return errors.New("-n, -d, --rate and --timeout cannot be negative")
	case o.compare != "" && o.compare != "net/http":
		return fmt.Errorf("--compare %q: only net/http is known", o.compare)
	}
	if _, err := o.transport.proxyFunc(); err != nil {
		return err
	}
	if o.cfg.Requests == 0 && o.cfg.Duration == 0 {
		o.cfg.Requests = 5000
	}
	if len(pos) == 1 {
		u, err := parseURL(pos[0])
		if err != nil {
			return err
		}
		o.cfg.URL = u.String()
	} else {
		o.embedded = true
	}
	if o.cfg.Body, err = readBody(body, os.Stdin); err != nil {
		return err
	}
	o.cfg.Header = headers.h
	o.transport.conns = o.cfg.Concurrency
	return nil
}

func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parseBench(args)
	if errors.Is(err, flag.ErrHelp) {
		io.WriteString(stdout, benchUsage)
		return exitOK
	}
	if err != nil {
		return usageError(stderr, "bench", err)
	}
	if os.Getenv("GOGC") == "" {
		// A load generator's heap is small and short-lived; collecting it
		// less often leaves more CPU for the requests (GOGC overrides).
		defer debug.SetGCPercent(debug.SetGCPercent(benchGCPercent))
	}
	if n := benchThreads(o, runtime.GOMAXPROCS(0), os.Getenv("GOMAXPROCS") != ""); n > 0 {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(n))
	}
	_, code := bench(ctx, o, stdout, stderr)
	return code
}

// benchThreads is the GOMAXPROCS for the run, or 0 to leave it: -t when
// given; else half the processors when the URL is a loopback address and
// GOMAXPROCS is not set in the environment. A server on this machine
// needs cores too, and Go threads beyond what the client can keep busy
// spin and wake each other on the cores the server needs (on 2 cores
// against one nginx worker, 1 thread does 10-30% more requests than 2).
func benchThreads(o *benchOpts, procs int, envSet bool) int {
	switch {
	case o.threads > 0:
		return o.threads
	case o.embedded || envSet || !isLoopbackURL(o.cfg.URL):
		return 0 // the embedded server runs in this process: it needs the threads
	}
	return max(1, procs/2)
}

func isLoopbackURL(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	host := u.Hostname()
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// benchGCPercent is the GC target while spool bench runs (Go's default is 100).
const benchGCPercent = 400

// mainJobArgs is what `spool` alone runs: a short bench of the embedded server.
var mainJobArgs = []string{"-n", "5000", "-c", "16"}

// mainJob is `spool` alone: a short bench against the embedded server and
// one closing line with goroutines and pool counters.
func mainJob(ctx context.Context, stdout, stderr io.Writer) int {
	o, err := parseBench(mainJobArgs)
	if err != nil {
		return usageError(stderr, "", err)
	}
	after, code := bench(ctx, o, stdout, stderr)
	if code == exitOK {
		fmt.Fprintln(stdout, after.line())
	}
	return code
}

// bench runs o's load (and the comparison) and prints the report.
func bench(ctx context.Context, o *benchOpts, stdout, stderr io.Writer) (afterRun, int) {
	info := stdout
	if o.json {
		info = stderr
	}
	var srv *embeddedServer
	if o.embedded {
		var err error
		if srv, err = startEmbedded(); err != nil {
			return afterRun{}, failure(stderr, "embedded server", err)
		}
		defer srv.Close()
		o.cfg.URL = srv.URL
		fmt.Fprintf(info, "no URL: benchmarking the embedded server at %s (same process: its work counts in the client cost)\n", srv.URL)
	}
	tr := newTransport(o.transport)
	if o.debugAddr != "" {
		stop, err := serveDebugPage(o.debugAddr, tr, info)
		if err != nil {
			return afterRun{}, failure(stderr, "--debug-addr "+o.debugAddr, err)
		}
		defer stop()
	}
	res, after, err := measure(ctx, tr, o, stdout, srv, "spool")
	if res == nil || (err == nil && res.Errors == res.Requests) {
		return after, runFailed(stderr, o.cfg, res, err)
	}
	var base *load.Result
	var baseAfter afterRun
	if o.compare != "" && err == nil {
		base, baseAfter, err = measure(ctx, newNetHTTP(o.transport), o, stdout, srv, "net/http")
	}
	switch {
	case o.json && base != nil:
		load.WriteJSONComparison(stdout, res, base, "spool", "net/http")
	case o.json:
		load.WriteJSON(stdout, res)
	default:
		load.WriteText(stdout, res, after.write)
		if base != nil {
			fmt.Fprintf(stdout, "\nSame load through net/http.Transport (MaxIdleConnsPerHost %d)\n", o.cfg.Concurrency)
			load.WriteComparison(stdout, res, base, "spool", "net/http")
			fmt.Fprintf(stdout, "%-12s %14d %14d   %s\n", "goroutines", after.goroutines, baseAfter.goroutines, after.serverNote())
		}
	}
	if err != nil { // interrupted: the partial report is printed
		fmt.Fprintf(stderr, "spool: bench %s: %s\n", o.cfg.URL, brief(err))
		return after, exitFailure
	}
	return after, exitOK
}

// measure runs the load once through rt with progress output, records the
// state the run leaves behind and closes rt's idle connections.
func measure(ctx context.Context, rt http.RoundTripper, o *benchOpts, stdout io.Writer, srv *embeddedServer, label string) (*load.Result, afterRun, error) {
	var progress func(load.Snapshot)
	if !o.json && !o.noProgress {
		progress = newProgress(stdout, isTerminal(stdout), label)
	}
	res, err := load.Run(ctx, rt, o.cfg, progress)
	after := snapshotAfter(rt, srv)
	closeIdle(rt)
	return res, after, err
}

func runFailed(stderr io.Writer, cfg load.Config, res *load.Result, err error) int {
	what := "bench " + cfg.URL
	switch {
	case err != nil:
		return failure(stderr, what, err)
	case res.Requests == 0:
		return failure(stderr, what, errors.New("no request finished"))
	}
	var sample error
	for _, e := range res.ErrorSamples {
		sample = e
		break
	}
	fmt.Fprintf(stderr, "spool: %s: %s (all %d requests failed)\n", what, brief(sample), res.Requests)
	return exitFailure
}

// afterRun is the state a run leaves: goroutines alive while the
// transport still holds its idle connections, and spool's pool counters.
type afterRun struct {
	goroutines  int
	serverConns int // of them, the embedded server's connection goroutines
	stats       *spool.Stats
}

func snapshotAfter(rt http.RoundTripper, srv *embeddedServer) afterRun {
	a := afterRun{goroutines: runtime.NumGoroutine()}
	if srv != nil {
		a.serverConns = srv.Conns()
	}
	if s, ok := rt.(interface{ Stats() spool.Stats }); ok {
		st := s.Stats()
		a.stats = &st
	}
	return a
}

func (a afterRun) serverNote() string {
	if a.serverConns == 0 {
		return ""
	}
	return fmt.Sprintf(" (%d serve the embedded server's connections)", a.serverConns)
}

// write prints the transport block of the text report.
func (a afterRun) write(w io.Writer) {
	fmt.Fprintf(w, "goroutines %d while the idle connections are held%s\n", a.goroutines, a.serverNote())
	if a.stats == nil {
		return
	}
	t := a.stats.Total
	fmt.Fprintf(w, "requests %s · dials %s (%s failed) · reuses %s\n", load.FormatCount(t.Requests),
		load.FormatCount(t.Dials), load.FormatCount(t.DialErrors), load.FormatCount(t.Reuses))
	fmt.Fprintf(w, "now: %d active · %d idle · %d dialing · %d waiting\n", t.Active, t.Idle, t.Dialing, t.Waiting)
	if t.WaitCount > 0 {
		fmt.Fprintf(w, "waited for a connection: %s times, %s in all\n", load.FormatCount(t.WaitCount), load.FormatDuration(t.WaitDuration))
	}
	if t.LeakedBodies > 0 {
		fmt.Fprintf(w, "leaked bodies reclaimed: %d\n", t.LeakedBodies)
	}
	fmt.Fprintf(w, "closes: %s\n", closeReasons(t.Closes))
}

func closeReasons(c spool.CloseCounts) string {
	var parts []string
	for _, r := range []struct {
		name string
		n    int64
	}{
		{"idle timeout", c.IdleTimeout}, {"evicted", c.Evicted}, {"server closed", c.ServerClosed},
		{"broken", c.Broken}, {"lifetime", c.Lifetime}, {"max requests", c.MaxRequests},
		{"leaked", c.Leaked}, {"early close", c.EarlyClose}, {"not reusable", c.NotReusable},
	} {
		if r.n > 0 {
			parts = append(parts, fmt.Sprintf("%s %s", r.name, load.FormatCount(r.n)))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, " · ")
}

// line is the main job's closing summary.
func (a afterRun) line() string {
	s := fmt.Sprintf("goroutines %d", a.goroutines)
	if a.serverConns > 0 {
		s += fmt.Sprintf(" (%d server)", a.serverConns)
	}
	if a.stats == nil {
		return s
	}
	t := a.stats.Total
	return fmt.Sprintf("%s · dials %d · reuses %d · idle %d · closes: %s", s, t.Dials, t.Reuses, t.Idle, closeReasons(t.Closes))
}

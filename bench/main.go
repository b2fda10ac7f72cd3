// Command bench measures spool side by side with net/http, fasthttp and a
// raw-socket floor, in one run against one server in another process, and
// prints markdown tables ready for the README.
//
//	cd bench && go run .            # full run (about 3 minutes)
//	cd bench && go run . -quick     # a smoke run (about 20 s)
//	cd bench && go run . -scale     # 10,000 distinct hosts through one Transport
//	cd bench && go run . -wrk       # spool bench vs wrk, same nginx, same connections
//	cd bench && go run . -h2        # HTTP/2 and HTTPS/1.1 vs net/http and h2load (about 2 minutes)
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// config is the command line.
type config struct {
	cellDur   time.Duration // per cell, split over rounds runs
	rounds    int
	workers   []int
	idleConns int
	server    string // auto, nginx, go
	scale     bool
	hosts     int
	maxIdle   int
	quick     bool
	parts     map[string]bool // load, idle, transfers
	wrk       wrkConfig       // -wrk: spool bench vs wrk (wrk.go)
	h2        h2Config        // -h2: HTTP/2 and HTTPS/1.1 cells (h2.go)
	args      []string        // as given, for the header
}

func parseFlags(args []string) (config, error) {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	var c config
	var workers string
	fs.DurationVar(&c.cellDur, "d", 3*time.Second, "measured time per cell (client × workers), split over -rounds interleaved runs")
	fs.IntVar(&c.rounds, "rounds", 3, "interleaved runs per cell; the table shows their median")
	fs.StringVar(&workers, "workers", "1,16,128", "worker counts (concurrent callers), comma-separated")
	fs.IntVar(&c.idleConns, "idle", 5000, "idle connections for the idle-cost figures (0 skips them)")
	fs.StringVar(&c.server, "server", "auto", "server: auto (nginx when installed, else the Go fallback), nginx or go")
	fs.BoolVar(&c.scale, "scale", false, "run the 10,000-distinct-hosts benchmark instead")
	fs.IntVar(&c.hosts, "hosts", 10000, "-scale: distinct hosts (127.0.x.y)")
	fs.IntVar(&c.maxIdle, "maxidle", 1000, "-scale: the Transport's MaxIdleConns")
	parts := fs.String("parts", "load,idle,transfers", "which parts to run, comma-separated")
	fs.BoolVar(&c.quick, "quick", false, "smoke run: -d 600ms -workers 1,16 -idle 500, transfers at 1 worker")
	c.wrk.register(fs)
	c.h2.register(fs)
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if err := c.wrk.finish(); err != nil {
		return c, err
	}
	if err := c.h2.finish(); err != nil {
		return c, err
	}
	c.args = args
	if c.quick {
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		if !set["d"] {
			c.cellDur = 600 * time.Millisecond
		}
		if !set["workers"] {
			workers = "1,16"
		}
		if !set["idle"] {
			c.idleConns = 500
		}
		if !set["hosts"] {
			c.hosts = 2000
		}
		if !set["maxidle"] {
			c.maxIdle = 200
		}
	}
	for _, f := range strings.Split(workers, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return c, fmt.Errorf("-workers: bad count %q", f)
		}
		c.workers = append(c.workers, n)
	}
	c.parts = map[string]bool{}
	for _, p := range strings.Split(*parts, ",") {
		switch p = strings.TrimSpace(p); p {
		case "load", "idle", "transfers":
			c.parts[p] = true
		default:
			return c, fmt.Errorf("-parts: unknown part %q", p)
		}
	}
	if c.rounds < 1 || c.cellDur <= 0 {
		return c, errors.New("-rounds and -d must be positive")
	}
	return c, nil
}

func main() {
	if mode := os.Getenv(serveEnv); mode != "" {
		serveFallback(mode)
		return
	}
	cfg, err := parseFlags(os.Args[1:])
	if err == flag.ErrHelp {
		return
	}
	if err == nil {
		err = run(os.Stdout, os.Stderr, cfg)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// run starts the server, runs the benchmarks and writes the tables to out,
// progress to log.
func run(out, log io.Writer, cfg config) error {
	if cfg.wrk.on {
		return runWrk(out, log, cfg) // starts its own nginx
	}
	if cfg.h2.on {
		return runH2(out, log, cfg) // starts its own nginx, with TLS
	}
	srv, err := startServer(cfg.server, cfg.scale)
	if err != nil {
		return err
	}
	defer srv.stop()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sig)
	go func() {
		if _, ok := <-sig; ok {
			srv.stop()
			os.Exit(130)
		}
	}()
	printHeader(out, cfg, srv)
	if cfg.scale {
		return runScale(out, log, cfg, srv)
	}
	var res map[cellKey]figures
	if cfg.parts["load"] {
		res = runLoad(log, cfg, srv)
		loadTable(res, cfg).render(out)
		ratioTable(res, cfg).render(out)
	}
	var idle map[string]idleFigures
	if cfg.parts["idle"] && cfg.idleConns > 0 {
		idle = runIdle(log, cfg, srv)
		idleTable(idle, cfg).render(out)
	}
	if cfg.parts["transfers"] {
		transfers(log, cfg, srv).render(out)
	}
	if res != nil {
		targetTable(res, idle, cfg).render(out)
	}
	return nil
}

func printHeader(w io.Writer, cfg config, srv *server) {
	cmd := "cd bench && go run ."
	if len(cfg.args) > 0 {
		cmd += " " + strings.Join(cfg.args, " ")
	}
	fmt.Fprintf(w, "## spool benchmarks\n\n")
	fmt.Fprintf(w, "- date: %s\n", time.Now().UTC().Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(w, "- machine: %s/%s, %d CPUs (%s), %s\n", runtime.GOOS, runtime.GOARCH,
		runtime.NumCPU(), cpuModel(), runtime.Version())
	fmt.Fprintf(w, "- command: `%s`\n", cmd)
	fmt.Fprintf(w, "- server: %s at %s, its own process", srv.Kind, srv.Addr)
	if strings.HasPrefix(srv.Kind, "nginx") {
		fmt.Fprintf(w, " (generated config: worker_processes 1, keepalive_requests 100000, access_log off)")
	}
	fmt.Fprintln(w)
	if !cfg.scale {
		fmt.Fprintf(w, "- method: each cell is the median of %d interleaved runs of %v (clients rotate order every round); "+
			"CPU is getrusage(RUSAGE_SELF) user+sys of the client process; allocations are runtime.MemStats "+
			"Mallocs/TotalAlloc deltas; spool and net/http are driven through Transport.RoundTrip with a reused "+
			"*http.Request, fasthttp through Client.Do with a reused Request/Response; every body is read to EOF\n",
			cfg.rounds, cfg.cellDur/time.Duration(cfg.rounds))
	}
	fmt.Fprintln(w)
}

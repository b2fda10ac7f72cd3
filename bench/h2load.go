package main

// h2load (nghttp2-client) runs the -h2 cells' ceiling: the same streams on
// the same server by a C client that is built for load.

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// h2loadSlack bounds an h2load run beyond its -D and warm-up: process
// start, the TLS handshakes and its shutdown. A run that takes longer is
// stuck (seen once with 100 HTTP/1.1 clients and a short -D).
const h2loadSlack = 10 * time.Second

// h2loadWarmUp is h2load's --warm-up-time: its conns are dialed and their
// TLS handshakes done before the measured period (100 handshakes take
// h2load's one thread 150-330 ms on the 2-core VM, which would otherwise
// eat a run of a second).
const h2loadWarmUp = 400 * time.Millisecond

var (
	h2loadRPSRE   = regexp.MustCompile(`(?m)^finished in [^,]+, ([0-9.]+) req/s`)
	h2loadReqsRE  = regexp.MustCompile(`(?m)^requests: (\d+) total, \d+ started, \d+ done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout`)
	h2loadProtoRE = regexp.MustCompile(`(?m)^Application protocol: (\S+)`)
)

// h2loadResult is what is read from one h2load report.
type h2loadResult struct {
	rps       float64
	succeeded int64
	proto     string // ALPN result, "h2" or "http/1.1"
	problem   string // failures, errors, timeouts: the run does not count
}

// parseH2load reads h2load's report. It counts requests of the measured
// period only (-D), "failed" includes "errored" and "timeout".
func parseH2load(out string) (h2loadResult, error) {
	m := h2loadRPSRE.FindStringSubmatch(out)
	q := h2loadReqsRE.FindStringSubmatch(out)
	if m == nil || q == nil {
		return h2loadResult{}, fmt.Errorf("no req/s or requests line in h2load's output:\n%s", out)
	}
	var r h2loadResult
	r.rps, _ = strconv.ParseFloat(m[1], 64)
	r.succeeded, _ = strconv.ParseInt(q[2], 10, 64)
	if p := h2loadProtoRE.FindStringSubmatch(out); p != nil {
		r.proto = p[1]
	}
	if q[3] != "0" {
		r.problem = fmt.Sprintf("%s failed (%s errored, %s timeout)", q[3], q[4], q[5])
	}
	return r, nil
}

// h2loadArgs are the arguments for cell c: h2 puts c.streams streams on
// one conn (-c 1 -m N); HTTPS/1.1 opens c.streams conns, one request in
// flight on each (-m 1: no pipelining, as the Go clients).
func h2loadArgs(c h2Cell, t tlsTarget, d time.Duration) []string {
	args := []string{"-t", "1", "-D", fmt.Sprintf("%dms", d.Milliseconds()),
		"--warm-up-time", fmt.Sprintf("%dms", h2loadWarmUp.Milliseconds())}
	if c.proto == protoH2 {
		args = append(args, "-c", "1", "-m", strconv.Itoa(c.streams))
	} else {
		args = append(args, "--h1", "-c", strconv.Itoa(c.streams), "-m", "1")
	}
	if c.test == testUpload {
		args = append(args, "-d", t.uploadFile)
	}
	return append(args, "https://"+t.addr(c.proto)+c.path())
}

// h2loadRequests is how many requests an h2load run of measured period d
// made in all: the measured period's succeeded, plus its warm-up's counted
// at the measured rate (h2load reports only the former). Its whole
// process's figures, CPU and syscalls, are per one of these.
func h2loadRequests(succeeded int64, d time.Duration) float64 {
	return float64(succeeded) * float64(d+h2loadWarmUp) / float64(d)
}

// runH2load runs h2load for one run of cell c. Its CPU per request is the
// child's rusage, its write syscalls per request its /proc/PID/io syscw
// read after it exited, both over h2loadRequests: they include the
// process start and TLS handshakes.
func runH2load(c h2Cell, t tlsTarget, d time.Duration) h2Figures {
	limit := d + h2loadWarmUp + h2loadSlack
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, t.h2load, h2loadArgs(c, t, d)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	fail := func(err error) h2Figures { return h2Figures{figures: figures{err: fmt.Errorf("h2load: %w", err)}} }
	if err := cmd.Start(); err != nil {
		return fail(err)
	}
	// Start's watcher still kills h2load at ctx's deadline while this waits.
	syscw := exitedSyscw(cmd.Process.Pid)
	runErr := cmd.Wait()
	if ctx.Err() != nil {
		return fail(fmt.Errorf("did not finish in %v", limit))
	}
	r, err := parseH2load(stdout.String())
	if err != nil {
		if runErr != nil {
			err = fmt.Errorf("%v: %s", runErr, strings.TrimSpace(stderr.String()))
		}
		return fail(err)
	}
	f := h2Figures{figures: figures{rps: r.rps, reqs: r.succeeded}, proto: r.proto, conns: int64(h2loadConns(c)),
		syscw: nan()}
	if r.succeeded > 0 {
		all := h2loadRequests(r.succeeded, d)
		if ps := cmd.ProcessState; ps != nil {
			f.cpuUS = float64((ps.UserTime() + ps.SystemTime()).Nanoseconds()) / 1e3 / all
		}
		if syscw >= 0 {
			f.syscw = float64(syscw) / all
		}
	}
	switch want := alpnName(c.proto); {
	case r.problem != "":
		f.err = fmt.Errorf("h2load: %s", r.problem)
	case runErr != nil:
		f.err = fmt.Errorf("h2load: %v", runErr)
	case r.proto != want:
		f.err = fmt.Errorf("h2load negotiated %q, the cell wants %q", r.proto, want)
	}
	return f
}

func h2loadConns(c h2Cell) int {
	if c.proto == protoH2 {
		return 1
	}
	return c.streams
}

// alpnName is the ALPN protocol ID of a cell's protocol.
func alpnName(proto string) string {
	if proto == protoH2 {
		return "h2"
	}
	return "http/1.1"
}

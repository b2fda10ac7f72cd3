package conformance

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Defaults of the runner, overridable by environment for a slow machine.
const (
	defaultTestTimeout = 30 * time.Second // one test function, all its modes
	defaultJobs        = 2                // test processes at once (CI has 2 cores)
	killGrace          = 15 * time.Second // past -test.timeout, the process is killed
)

// shortEnv=1 runs net/http's tests in -short mode: quicker, but several
// tests (TestTransportCancelRequest's cases among them) skip their body
// there, so the suite runs them in full by default.
const shortEnv = "SPOOL_CONFORMANCE_SHORT"

// modes are the subtest names net/http's run helper gives each mode.
var modes = []string{"h1", "https1", "h2", "h2unencrypted"}

// status of a unit on one transport.
const (
	stPass    = "pass"
	stFail    = "FAIL"
	stSkip    = "skip"
	stTimeout = "TIMEOUT" // the process ran past the per-test timeout
	stCrash   = "CRASH"   // the process died without reporting the unit
	stNoBuild = "NOBUILD" // the test does not compile with this transport
)

func passed(s string) bool { return s == stPass }

var resultLine = regexp.MustCompile(`^\s*--- (PASS|FAIL|SKIP): (\S+) \(`)

// testRun is one test function run in its own process.
type testRun struct {
	units  map[string]string // unit → status
	top    string            // the function's own status ("" if never reported)
	output string
}

// runOne runs test name from binary bin in its own process.
func runOne(bin, dir, name string, timeout time.Duration) testRun {
	ctx, cancel := context.WithTimeout(context.Background(), timeout+killGrace)
	defer cancel()
	args := []string{"-test.run", "^" + name + "$", "-test.v", "-test.count=1", "-test.timeout=" + timeout.String()}
	if os.Getenv(shortEnv) == "1" {
		args = append(args, "-test.short")
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	r := testRun{units: map[string]string{}, output: string(out)}
	for _, line := range strings.Split(r.output, "\n") {
		m := resultLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		st := map[string]string{"PASS": stPass, "FAIL": stFail, "SKIP": stSkip}[m[1]]
		if m[2] == name {
			r.top = st
			continue
		}
		parts := strings.Split(m[2], "/")
		if len(parts) == 2 && parts[0] == name && isMode(parts[1]) {
			r.units[m[2]] = st
		}
	}
	if r.top == "" {
		r.top = stCrash
		var ee *exec.ExitError
		if ctx.Err() != nil || strings.Contains(r.output, "panic: test timed out") ||
			(errors.As(err, &ee) && strings.Contains(r.output, "test timed out")) {
			r.top = stTimeout
		}
	}
	if len(r.units) == 0 {
		r.units[name] = r.top
	}
	return r
}

func isMode(s string) bool {
	for _, m := range modes {
		if s == m {
			return true
		}
	}
	return false
}

// job is one test on one transport.
type job struct {
	tag, name string
}

// runAll runs every test of every transport, jobs at a time.
func runAll(root string, tests map[string][]string, timeout time.Duration, jobs int) map[string]map[string]testRun {
	var (
		mu  sync.Mutex
		res = map[string]map[string]testRun{}
		ch  = make(chan job)
		wg  sync.WaitGroup
	)
	for range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range ch {
				r := runOne(root+"/"+j.tag+".test", root+"/"+j.tag+"/"+testDir, j.name, timeout)
				mu.Lock()
				res[j.tag][j.name] = r
				mu.Unlock()
			}
		}()
	}
	longest := 0
	for _, tr := range transports {
		res[tr.Tag] = map[string]testRun{}
		longest = max(longest, len(tests[tr.Tag]))
	}
	for i := range longest { // interleave transports, so both finish together
		for _, tr := range transports {
			if i < len(tests[tr.Tag]) {
				ch <- job{tr.Tag, tests[tr.Tag][i]}
			}
		}
	}
	close(ch)
	wg.Wait()
	return res
}

// listTests lists the Test functions of a built binary.
func listTests(bin, dir string) ([]string, error) {
	cmd := exec.Command(bin, "-test.list", "^Test")
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		return nil, err
	}
	var names []string
	for _, l := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(l, "Test") {
			names = append(names, l)
		}
	}
	return names, nil
}

func envDuration(name string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(os.Getenv(name)); err == nil && d > 0 {
		return d
	}
	return def
}

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

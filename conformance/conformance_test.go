package conformance

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite known_failures.txt and internals.txt from this run")

// enableEnv turns the suite on; plain `go test ./...` skips it.
const enableEnv = "SPOOL_CONFORMANCE"

// The lists, next to this file.
const (
	differencesFile = "differences.txt"
	internalsFile   = "internals.txt"
	knownFile       = "known_failures.txt"
)

func TestConformance(t *testing.T) {
	if os.Getenv(enableEnv) != "1" || testing.Short() {
		t.Skipf("set %s=1 (without -short) to run net/http's client tests against spool (minutes)", enableEnv)
	}
	start := time.Now()
	root := setup(t)
	tests := map[string][]string{}
	for _, tr := range transports {
		names, err := listTests(filepath.Join(root, tr.Tag+".test"), filepath.Join(root, tr.Tag, testDir))
		if err != nil {
			t.Fatal(err)
		}
		tests[tr.Tag] = filterTests(t, names)
	}
	timeout := envDuration("SPOOL_CONFORMANCE_TIMEOUT", defaultTestTimeout)
	jobs := envInt("SPOOL_CONFORMANCE_JOBS", defaultJobs)
	built := time.Now()
	res := runAll(root, tests, timeout, jobs)
	rows := mergeUnits(tests[netTag], res)
	diffs, known := mustList(t, differencesFile), mustList(t, knownFile)
	if v := baselineGoVersion(knownFile); v != runtime.Version() && !*update {
		t.Logf("note: %s was made with %s's tests, this is %s: new or renamed tests may show as new failures", knownFile, v, runtime.Version())
	}
	if *update {
		if err := writeKnown(knownFile, rows, diffs); err != nil {
			t.Fatal(err)
		}
		known = mustList(t, knownFile)
	}
	confirmNew(t, root, rows, diffs, known, timeout)
	s := summarize(rows, diffs, known)
	tab := table(rows, diffs, known)
	t.Logf("\n%s", tab)
	if out := os.Getenv("SPOOL_CONFORMANCE_OUT"); out != "" {
		os.WriteFile(out, []byte(tab), 0o644)
	}
	t.Logf("units: %d; pass on net/http: %d; of those pass on spool: %d; accepted differences: %d; known failures: %d; new failures: %d",
		s.Units, s.NetPass, s.SpoolPass, s.Differences, s.Known, s.New)
	t.Logf("time: generate+build %v, run %v (%d tests per transport, %d at a time, %v per test)",
		built.Sub(start).Round(time.Second), time.Since(built).Round(time.Second), len(tests[netTag]), jobs, timeout)
	if os.Getenv(runEnv) != "" {
		return // a partial run: the baseline checks need every test
	}
	for _, u := range s.Fixed {
		t.Logf("now passes on spool: %s (remove it from %s, or run with -update)", u, knownFile)
	}
	for _, u := range s.NewUnits {
		t.Errorf("NEW FAILURE: %s passes on net/http and fails on spool; it is not in %s nor %s", u, differencesFile, knownFile)
		logOutput(t, res, u)
	}
}

// setup generates and builds both test binaries, and checks the tests
// that had to be dropped against internals.txt.
func setup(t *testing.T) string {
	goroot, err := goEnv("GOROOT")
	if err != nil {
		t.Fatal(err)
	}
	repo, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	if r := os.Getenv("SPOOL_CONFORMANCE_REPO"); r != "" {
		repo = r // measure another checkout of spool (a branch) with this suite
	}
	root := t.TempDir()
	if d := os.Getenv("SPOOL_CONFORMANCE_DIR"); d != "" {
		root = d
	}
	prunedBy, err := generate(root, repo, goroot)
	if err != nil {
		t.Fatal(err)
	}
	got := internalsFrom(prunedBy[netTag])
	if *update {
		if err := writeInternals(internalsFile, got); err != nil {
			t.Fatal(err)
		}
	}
	want := mustList(t, internalsFile)
	for name, why := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("%s no longer compiles outside net/http (%s): a stand-in is missing, or list it in %s", name, why, internalsFile)
		}
	}
	for name := range want {
		if _, ok := got[name]; !ok {
			t.Logf("%s is listed in %s but compiles now: remove it (or run with -update)", name, internalsFile)
		}
	}
	t.Logf("%d tests need net/http internals (%s)", len(got), internalsFile)
	return root
}

// confirmNew reruns, once, each test with a new failure on spool, so a
// flake on a loaded machine does not fail CI; a unit that passes on the
// rerun is reported but not failed.
func confirmNew(t *testing.T, root string, rows []unitRow, diffs, known list, timeout time.Duration) {
	s := summarize(rows, diffs, known)
	rerun := map[string]testRun{}
	for _, u := range s.NewUnits {
		test, _, _ := strings.Cut(u, "/")
		if _, done := rerun[test]; !done {
			rerun[test] = runOne(filepath.Join(root, spoolTag+".test"), filepath.Join(root, spoolTag, testDir), test, timeout)
		}
	}
	for i, r := range rows {
		if !slices.Contains(s.NewUnits, r.Unit) {
			continue
		}
		if st := rerun[r.Test].units[r.Unit]; passed(st) {
			t.Logf("flaky on spool: %s failed, then passed on a rerun", r.Unit)
			rows[i].St[spoolTag] = st
		}
	}
}

func logOutput(t *testing.T, res map[string]map[string]testRun, unit string) {
	test, _, _ := strings.Cut(unit, "/")
	out := res[spoolTag][test].output
	const maxLog = 4000
	if len(out) > maxLog {
		out = out[:maxLog] + fmt.Sprintf("\n... (%d bytes more)", len(out)-maxLog)
	}
	t.Logf("spool output of %s:\n%s", test, out)
}

// runEnv, a regexp, runs only the matching test functions (to debug one).
const runEnv = "SPOOL_CONFORMANCE_RUN"

func filterTests(t *testing.T, names []string) []string {
	pat := os.Getenv(runEnv)
	if pat == "" {
		return names
	}
	if *update {
		t.Fatalf("-update needs the whole suite: unset %s", runEnv)
	}
	re, err := regexp.Compile(pat)
	if err != nil {
		t.Fatal(err)
	}
	return slices.DeleteFunc(names, func(n string) bool { return !re.MatchString(n) })
}

func mustList(t *testing.T, path string) list {
	l, err := readList(path)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

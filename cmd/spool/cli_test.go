package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spoolhttp/spool/internal/load"
)

func runCLI(args ...string) (code int, stdout, stderr string) {
	var out, errw strings.Builder
	code = run(args, &out, &errw)
	return code, out.String(), errw.String()
}

func TestUsageErrorsAreOneLine(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"frob"}, `spool: unknown command "frob" (see spool --help)`},
		{[]string{"bench", "--bogus"}, "spool bench: flag provided but not defined: -bogus (see spool bench --help)"},
		{[]string{"bench", "-c", "x"}, `spool bench: invalid value "x" for flag -c: parse error (see spool bench --help)`},
		{[]string{"bench", "-c", "0"}, "spool bench: -c 0: want at least 1 (see spool bench --help)"},
		{[]string{"bench", "-d", "-1s"}, "spool bench: -n, -d, --rate and --timeout cannot be negative (see spool bench --help)"},
		{[]string{"bench", "a", "b"}, "spool bench: one URL at most, got 2 arguments (see spool bench --help)"},
		{[]string{"bench", "--compare", "curl"}, `spool bench: --compare "curl": only net/http is known (see spool bench --help)`},
		{[]string{"bench", "ftp://x/"}, `spool bench: URL "ftp://x/": scheme must be http or https (see spool bench --help)`},
		{[]string{"bench", "-H", "novalue"}, `spool bench: invalid value "novalue" for flag -H: want "Key: Value" (see spool bench --help)`},
		{[]string{"bench", "--proxy", "nohost"}, `spool bench: --proxy "nohost": want a URL like http://host:3128 (see spool bench --help)`},
		{[]string{"get"}, "spool get: want one URL, got 0 arguments (see spool get --help)"},
		{[]string{"get", "-o"}, "spool get: flag needs an argument: -o (see spool get --help)"},
		{[]string{"get", "-d", "@/nonexistent/x", "http://x/"}, "spool get: open /nonexistent/x: no such file or directory (see spool get --help)"},
	} {
		code, stdout, stderr := runCLI(tc.args...)
		if code != exitUsage || stdout != "" || stderr != tc.want+"\n" {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want 2 and %q", tc.args, code, stdout, stderr, tc.want)
		}
	}
}

func TestHelpListsEveryFlag(t *testing.T) {
	for _, tc := range []struct {
		cmd   string
		usage string
		fs    *flag.FlagSet
	}{
		{"bench", benchUsage, new(benchOpts).flags(new(headerFlag), new(string))},
		{"get", getUsage, new(getOpts).flags(new(headerFlag), new(string))},
	} {
		for _, help := range []string{"-h", "--help"} {
			code, stdout, stderr := runCLI(tc.cmd, help)
			if code != exitOK || stdout != tc.usage || stderr != "" {
				t.Errorf("%s %s: exit %d stderr %q", tc.cmd, help, code, stderr)
			}
		}
		tc.fs.VisitAll(func(f *flag.Flag) {
			dash := "-"
			if len(f.Name) > 1 {
				dash = "--"
			}
			if !strings.Contains(tc.usage, dash+f.Name+" ") && !strings.Contains(tc.usage, dash+f.Name+",") {
				t.Errorf("%s --help does not mention %s%s", tc.cmd, dash, f.Name)
			}
		})
	}
	if !strings.Contains(benchUsage, "spool bench -c 64 -d 10s http://127.0.0.1:8080/") ||
		!strings.Contains(getUsage, "spool get -v https://example.com/") {
		t.Error("examples missing")
	}
	if code, stdout, _ := runCLI("--help"); code != exitOK || !strings.Contains(stdout, "spool bench [flags] [URL]") {
		t.Errorf("spool --help: %d %q", code, stdout)
	}
	if code, stdout, _ := runCLI("version"); code != exitOK || !strings.HasPrefix(stdout, "spool 0.") {
		t.Errorf("spool version: %d %q", code, stdout)
	}
}

func TestParseInterspersed(t *testing.T) {
	o, err := parseBench([]string{"http://h:1/x", "-c", "3", "--duration", "2s", "-H", "A: 1", "-H", "A: 2", "--rate=50"})
	if err != nil {
		t.Fatal(err)
	}
	c := o.cfg
	if c.URL != "http://h:1/x" || c.Concurrency != 3 || c.Duration != 2*time.Second || c.Requests != 0 ||
		c.Rate != 50 || len(c.Header["A"]) != 2 || o.transport.conns != 3 || o.embedded {
		t.Errorf("parsed %+v", o)
	}
	o, err = parseBench([]string{"-b", "x=1", "127.0.0.1:8080"})
	if err != nil || o.cfg.URL != "http://127.0.0.1:8080" || string(o.cfg.Body) != "x=1" || o.cfg.Requests != 5000 || o.threads != -1 {
		t.Errorf("parsed %+v, %v", o, err)
	}
	if o, err = parseBench([]string{"-t", "1", "h:1"}); err != nil || o.threads != 1 {
		t.Errorf("-t 1: parsed %+v, %v", o, err)
	}
	for _, bad := range []string{"0", "-2"} {
		if _, err := parseBench([]string{"--threads", bad, "h:1"}); err == nil {
			t.Errorf("--threads %s accepted", bad)
		}
	}
	fs := newFlagSet("t")
	v := fs.Bool("v", false, "")
	pos, err := parseInterspersed(fs, []string{"a", "-v", "--", "-b"})
	if err != nil || !*v || strings.Join(pos, " ") != "a -b" {
		t.Errorf("pos %q v %v err %v", pos, *v, err)
	}
}

func closedPortURL(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return "http://" + ln.Addr().String() + "/"
}

func TestUnreachableIsOneLine(t *testing.T) {
	useNetHTTP(t)
	u := closedPortURL(t)
	code, stdout, stderr := runCLI("get", u)
	if code != exitFailure || stdout != "" || stderr != "spool: get "+u+": connection refused\n" {
		t.Errorf("get: exit %d stdout %q stderr %q", code, stdout, stderr)
	}
	code, stdout, stderr = runCLI("bench", "-n", "5", "--no-progress", u)
	if code != exitFailure || stdout != "" || stderr != "spool: bench "+u+": connection refused (all 5 requests failed)\n" {
		t.Errorf("bench: exit %d stdout %q stderr %q", code, stdout, stderr)
	}
}

func TestGetVerboseFollowsRedirect(t *testing.T) {
	useNetHTTP(t)
	mux := http.NewServeMux()
	mux.HandleFunc("/a", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/b", http.StatusFound) })
	mux.HandleFunc("/b", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Test", "yes")
		fmt.Fprintf(w, "%s %s %s", r.Method, r.Header.Get("X-K"), r.UserAgent())
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	code, stdout, stderr := runCLI("get", "-v", "-L", "-H", "X-K: v", srv.URL+"/a")
	if code != exitOK || stdout != "GET v spool/0.1.0" {
		t.Fatalf("exit %d stdout %q stderr %s", code, stdout, stderr)
	}
	for _, want := range []string{
		"> GET /a HTTP/1.1\n", "> X-K: v\n", "< HTTP/1.1 302 Found\n", "* following redirect to " + srv.URL + "/b\n",
		"> GET /b HTTP/1.1\n", "< HTTP/1.1 200 OK\n", "< X-Test: yes\n",
		"  server processing  ", "  content transfer  ", "connection reused: yes\n",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("missing %q in stderr:\n%s", want, stderr)
		}
	}
	// Without -L the redirect itself is the answer.
	code, stdout, stderr = runCLI("get", srv.URL+"/a")
	if code != exitOK || !strings.Contains(stdout, "Found") || stderr != "" {
		t.Errorf("no -L: exit %d stdout %q stderr %q", code, stdout, stderr)
	}
}

func TestGetPostFromFileToFile(t *testing.T) {
	useNetHTTP(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "%s %d %s", r.Method, r.ContentLength, b)
	}))
	defer srv.Close()
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.json"), filepath.Join(dir, "out")
	os.WriteFile(in, []byte(`{"a":1}`), 0o600)
	code, stdout, stderr := runCLI("get", "-d", "@"+in, "-o", out, srv.URL)
	got, _ := os.ReadFile(out)
	if code != exitOK || stdout != "" || stderr != "" || string(got) != `POST 7 {"a":1}` {
		t.Errorf("exit %d stdout %q stderr %q file %q", code, stdout, stderr, got)
	}
}

func TestBenchJSONAgainstEmbedded(t *testing.T) {
	useNetHTTP(t)
	procs := runtime.GOMAXPROCS(0)
	code, stdout, stderr := runCLI("bench", "-n", "300", "-c", "4", "-t", "1", "--json")
	if code != exitOK || !strings.HasPrefix(stderr, "no URL: benchmarking the embedded server at http://127.0.0.1:") {
		t.Fatalf("exit %d stderr %q", code, stderr)
	}
	var res struct {
		Requests  int64            `json:"requests"`
		Threads   int              `json:"threads"`
		Status    map[string]int64 `json:"status"`
		BodyBytes int64            `json:"body_bytes"`
	}
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("%v: %s", err, stdout)
	}
	if res.Requests != 300 || res.Threads != 1 || res.Status["200"] != 300 || res.BodyBytes != 300*int64(len(helloBody)) {
		t.Errorf("result %+v", res)
	}
	if got := runtime.GOMAXPROCS(0); got != procs {
		t.Errorf("GOMAXPROCS %d after the run, was %d: -t must not outlive it", got, procs)
	}
}

func TestBenchCompareText(t *testing.T) {
	useNetHTTP(t)
	code, stdout, stderr := runCLI("bench", "-n", "200", "-c", "4", "--no-progress", "--compare", "net/http")
	if code != exitOK || stderr != "" {
		t.Fatalf("exit %d stderr %q", code, stderr)
	}
	for _, want := range []string{
		"no URL: benchmarking the embedded server", "requests    200 in ", "Histogram\n", "Status\n  200  200\n",
		"Transport\n  goroutines ", "Same load through net/http.Transport (MaxIdleConnsPerHost 4)\n",
		"spool/net/http\n", "\nreq/s ", "\ngoroutines ",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("missing %q in:\n%s", want, stdout)
		}
	}
}

// TestMainJob runs `spool` alone through spool.Transport itself, as a
// user would, on a smaller load.
func TestMainJob(t *testing.T) {
	saved := mainJobArgs
	mainJobArgs = []string{"-n", "500", "-c", "8"}
	t.Cleanup(func() { mainJobArgs = saved })
	code, stdout, stderr := runCLI()
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	last := lines[len(lines)-1]
	if code != exitOK || stderr != "" || !strings.Contains(stdout, "requests    500 in ") ||
		!strings.Contains(stdout, "Transport\n  goroutines ") || !strings.Contains(stdout, "  requests 500 · dials ") ||
		!strings.HasPrefix(last, "goroutines ") || !strings.Contains(last, " · dials ") {
		t.Errorf("exit %d stderr %q stdout:\n%s", code, stderr, stdout)
	}
}

func TestProgressOutput(t *testing.T) {
	var b strings.Builder
	p := newProgress(&b, false, "spool")
	for _, ms := range []int{200, 400, 1000, 1200, 2100} {
		p(load.Snapshot{Done: int64(ms), RPS: 1000, Elapsed: time.Duration(ms) * time.Millisecond})
	}
	p(load.Snapshot{Done: 2500, Final: true})
	want := "spool   1s  1,000 done  1,000 req/s  0 errors\nspool   2s  2,100 done  1,000 req/s  0 errors\n"
	if b.String() != want {
		t.Errorf("plain progress:\n%q\nwant\n%q", b.String(), want)
	}
	b.Reset()
	p = newProgress(&b, true, "spool")
	p(load.Snapshot{Done: 500, Requests: 1000, RPS: 2500, Elapsed: 200 * time.Millisecond})
	p(load.Snapshot{Done: 1000, Requests: 1000, Final: true})
	want = "\r\033[Kspool [" + strings.Repeat("█", 15) + strings.Repeat("░", 15) + "]  50%  500 done  2,500 req/s  0 errors  200ms\r\033[K"
	if b.String() != want {
		t.Errorf("terminal progress:\n%q\nwant\n%q", b.String(), want)
	}
	if isTerminal(&b) {
		t.Error("a strings.Builder is not a terminal")
	}
}

// `spool URL` fetches the URL through spool and prints the body.
func TestBareURLFetches(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "body of "+r.URL.Path)
	}))
	defer srv.Close()
	code, stdout, stderr := runCLI(srv.URL + "/x")
	if code != exitOK || stdout != "body of /x" || stderr != "" {
		t.Errorf("exit %d stdout %q stderr %q", code, stdout, stderr)
	}
}

// -t wins; otherwise a loopback URL gets half the processors (the server
// shares the machine) unless GOMAXPROCS is set; the embedded server and
// remote URLs keep them all.
func TestBenchThreads(t *testing.T) {
	cases := []struct {
		args   []string
		procs  int
		envSet bool
		want   int
	}{
		{[]string{"-t", "3", "http://127.0.0.1:8080/"}, 8, false, 3},
		{[]string{"-t", "3", "http://127.0.0.1:8080/"}, 8, true, 3},
		{[]string{"http://127.0.0.1:8080/"}, 8, false, 4},
		{[]string{"http://127.0.0.2:8080/"}, 2, false, 1},
		{[]string{"http://[::1]:8080/"}, 1, false, 1},
		{[]string{"http://localhost:8080/"}, 4, false, 2},
		{[]string{"http://127.0.0.1:8080/"}, 8, true, 0},
		{[]string{"http://10.0.0.1:8080/"}, 8, false, 0},
		{[]string{"https://example.com/"}, 8, false, 0},
		{[]string{}, 8, false, 0}, // embedded server
	}
	for _, tc := range cases {
		o, err := parseBench(tc.args)
		if err != nil {
			t.Fatalf("%q: %v", tc.args, err)
		}
		if got := benchThreads(o, tc.procs, tc.envSet); got != tc.want {
			t.Errorf("%q with %d procs (GOMAXPROCS set: %v): %d threads, want %d", tc.args, tc.procs, tc.envSet, got, tc.want)
		}
	}
}

// lockedBuffer is a Writer the test reads while the command writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// --debug-addr serves the debug page while the load runs: the JSON shows
// the request held in flight, and the page is gone once the run ends.
func TestBenchDebugAddr(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release
		io.WriteString(w, "ok")
	}))
	defer srv.Close()
	var stdout, stderr lockedBuffer
	exit := make(chan int, 1)
	go func() {
		exit <- run([]string{"bench", "-n", "1", "-c", "1", "--no-progress", "--debug-addr", "127.0.0.1:0", srv.URL}, &stdout, &stderr)
	}()
	c := &http.Client{Transport: &http.Transport{}}
	defer c.CloseIdleConnections()
	var page string
	deadline := time.Now().Add(10 * time.Second)
	for page == "" {
		if _, rest, ok := strings.Cut(stdout.String(), "debug page: "); ok {
			page, _, _ = strings.Cut(rest, " ")
		} else if time.Now().After(deadline) {
			close(release)
			t.Fatalf("no debug page announced: stdout %q stderr %q", stdout.String(), stderr.String())
		} else {
			time.Sleep(5 * time.Millisecond)
		}
	}
	var snap struct {
		Hosts map[string]struct {
			Active   int   `json:"active"`
			Requests int64 `json:"requests"`
		} `json:"hosts"`
	}
	for deadline := time.Now().Add(10 * time.Second); snap.Hosts[srv.URL].Active != 1; {
		if time.Now().After(deadline) {
			close(release)
			t.Fatalf("the page never showed the request in flight: %+v", snap)
		}
		resp, err := c.Get(page + "?format=json")
		if err != nil {
			close(release)
			t.Fatal(err)
		}
		json.NewDecoder(resp.Body).Decode(&snap)
		resp.Body.Close()
	}
	resp, err := c.Get(page)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "<title>spool pool</title>") || !strings.Contains(string(body), srv.URL) {
		t.Errorf("the page does not show the host: %s", body)
	}
	close(release)
	if code := <-exit; code != exitOK {
		t.Fatalf("exit %d, stderr %q", code, stderr.String())
	}
	if resp, err := c.Get(page); err == nil {
		resp.Body.Close()
		t.Fatal("the debug page is still served after the run")
	}
}

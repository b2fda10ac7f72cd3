package spool_test

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/spoolhttp/spool"
	"github.com/spoolhttp/spool/internal/testutil"
)

// browserTimeout bounds one headless Chromium run: it starts in about a
// second; a loaded CI machine gets much more.
const browserTimeout = 90 * time.Second

// chromium finds the browser. Outside CI a machine without it skips the
// test; in CI (.ci/install-peers.sh installs it) its absence fails.
func chromium(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("chromium is not installed; CI installs it in .ci/install-peers.sh")
		}
		t.Skip("chromium is not installed")
	}
	return p
}

// runChromium loads url headless, lets its script run for 3 s of virtual
// time, and returns the DOM it dumps (or, with shot set, writes a
// screenshot there).
func runChromium(t *testing.T, bin, url, shot string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), browserTimeout)
	defer cancel()
	args := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir=" + t.TempDir(), "--virtual-time-budget=3000"}
	if shot != "" {
		args = append(args, "--screenshot="+shot, "--window-size=1200,800", "--hide-scrollbars")
	} else {
		args = append(args, "--dump-dom")
	}
	cmd := exec.CommandContext(ctx, bin, append(args, url)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, stderr.String())
	}
	return stdout.String()
}

// domRow is a host row of the dumped page: its cells by data-col.
type domRow map[string]string

// parseDebugDOM reads the host rows the script wrote (data-src="json"),
// the totals and how many refreshes the script made.
func parseDebugDOM(t *testing.T, dom string) (rows map[string]domRow, totals map[string]string, updates int) {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(dom))
	if err != nil {
		t.Fatal(err)
	}
	rows, totals = map[string]domRow{}, map[string]string{}
	var walk func(n *html.Node, row domRow)
	walk = func(n *html.Node, row domRow) {
		if n.Type == html.ElementNode {
			a := attrs(n)
			switch {
			case n.Data == "body":
				updates, _ = strconv.Atoi(a["data-updates"])
			case n.Data == "tr" && a["data-host"] != "":
				if a["data-src"] != "json" {
					t.Errorf("row %s was not written by the script", a["data-host"])
				}
				row = domRow{}
				rows[a["data-host"]] = row
			case n.Data == "td" && a["data-total"] != "":
				totals[a["data-total"]] = text(n)
			case n.Data == "td" && row != nil && a["data-col"] != "":
				row[a["data-col"]] = text(n)
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, row)
		}
	}
	walk(doc, nil)
	return rows, totals, updates
}

func attrs(n *html.Node) map[string]string {
	m := map[string]string{}
	for _, a := range n.Attr {
		m[a.Key] = a.Val
	}
	return m
}

func text(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return strings.TrimSpace(b.String())
}

// serveOn starts an HTTP server on ip (127.0.0.1, .2, .3 are all the
// loopback interface on Linux), with TLS and HTTP/2 if h2 is set. A
// request for /hold waits for hold to be closed.
func serveOn(t *testing.T, ip string, h2 bool, hold <-chan struct{}) *httptest.Server {
	t.Helper()
	ln, err := net.Listen("tcp", ip+":0")
	if err != nil {
		t.Skipf("cannot listen on %s: %v", ip, err)
	}
	s := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/hold" {
			<-hold
		}
		io.WriteString(w, "hello from "+r.Host)
	}))
	s.Listener.Close()
	s.Listener = ln
	if h2 {
		s.EnableHTTP2 = true
		s.StartTLS()
	} else {
		s.Start()
	}
	t.Cleanup(s.Close)
	return s
}

// The debug page in a real browser: a Transport with traffic to three
// hosts, the page loaded headless, the DOM dumped after its script ran
// (host rows it wrote from the JSON, counters), then more traffic and a
// second load shows the counts changed. SPOOL_SCREENSHOT=path also writes
// the README's screenshot there.
func TestDebugPageInChromium(t *testing.T) {
	bin := chromium(t)
	hold := make(chan struct{})
	servers := []*httptest.Server{
		serveOn(t, "127.0.0.1", false, hold),
		serveOn(t, "127.0.0.2", false, hold),
		serveOn(t, "127.0.0.3", true, hold), // HTTP/2 over TLS
	}
	tlsConf := servers[2].Client().Transport.(*http.Transport).TLSClientConfig.Clone()
	tlsConf.ServerName = "example.com" // httptest's certificate names 127.0.0.1 and example.com
	tr := testutil.NewTransport(t, &spool.Transport{MaxConnsPerHost: 2, TLSClientConfig: tlsConf, ForceAttemptHTTP2: true})
	c := &http.Client{Transport: tr}
	getN := func(s *httptest.Server, n int) {
		for range n {
			testutil.Get(t, c, s.URL+"/")
		}
	}
	getN(servers[0], 3)
	getN(servers[1], 2)
	getN(servers[2], 1)
	page := httptest.NewServer(spool.DebugHandler(tr))
	defer page.Close()
	key := func(s *httptest.Server) string { return s.URL } // http://127.0.0.N:port, the pool key

	rows, totals, updates := parseDebugDOM(t, runChromium(t, bin, page.URL+"/debug/spool", ""))
	if updates < 1 {
		t.Fatalf("the page's script never refreshed it (data-updates=%d)", updates)
	}
	want := map[string]domRow{
		key(servers[0]): {"requests": "3", "dials": "1", "reuses": "2", "idle": "1", "active": "0"},
		key(servers[1]): {"requests": "2", "dials": "1", "reuses": "1", "idle": "1", "active": "0"},
		key(servers[2]): {"requests": "1", "dials": "1", "reuses": "0", "idle": "1", "active": "0", "h2_conns": "1"},
	}
	checkRows(t, "first load", rows, want)
	if totals["requests"] != "6" || totals["dials"] != "3" || totals["idle"] != "3" {
		t.Fatalf("first load: totals %v", totals)
	}

	// More traffic, then the idle conns closed.
	getN(servers[0], 2)
	getN(servers[1], 4)
	tr.CloseIdleConnections()

	rows, totals, _ = parseDebugDOM(t, runChromium(t, bin, page.URL+"/debug/spool", ""))
	want[key(servers[0])]["requests"] = "5"
	want[key(servers[1])]["requests"] = "6"
	want[key(servers[0])]["reuses"] = "4"
	want[key(servers[1])]["reuses"] = "5"
	for _, r := range want {
		r["idle"], r["closes"] = "0", "evicted 1"
	}
	want[key(servers[2])]["h2_conns"] = "0"
	checkRows(t, "second load", rows, want)
	if totals["requests"] != "12" || totals["idle"] != "0" || !strings.HasPrefix(totals["closes"], "evicted ") {
		t.Fatalf("second load: totals %v", totals)
	}

	shot := os.Getenv("SPOOL_SCREENSHOT")
	if shot == "" {
		shot = filepath.Join(t.TempDir(), "debug-page.png")
	}
	// For the screenshot, something going on: three requests held on
	// host 1 (two conns at MaxConnsPerHost, one waiting) and two streams
	// on the HTTP/2 conn.
	getN(servers[1], 1)
	var wg sync.WaitGroup
	for _, s := range []*httptest.Server{servers[0], servers[0], servers[0], servers[2], servers[2]} {
		wg.Add(1)
		go func() { defer wg.Done(); testutil.Get(t, c, s.URL+"/hold") }()
	}
	defer wg.Wait()
	defer close(hold)
	testutil.WaitFor(t, "the held requests", func() bool {
		st := tr.Stats().Total
		return st.Waiting == 1 && st.Streams == 2
	})
	runChromium(t, bin, page.URL+"/debug/spool", shot)
	if b, err := os.ReadFile(shot); err != nil || !bytes.HasPrefix(b, []byte("\x89PNG")) {
		t.Fatalf("screenshot %s: %v (%d bytes)", shot, err, len(b))
	}
}

func checkRows(t *testing.T, when string, rows map[string]domRow, want map[string]domRow) {
	t.Helper()
	if len(rows) != len(want) {
		t.Errorf("%s: %d host rows, want %d: %v", when, len(rows), len(want), rows)
	}
	for k, w := range want {
		r, ok := rows[k]
		if !ok {
			t.Errorf("%s: no row for %s (rows %v)", when, k, rows)
			continue
		}
		for col, v := range w {
			if r[col] != v {
				t.Errorf("%s: %s %s = %q, want %q (row %v)", when, k, col, r[col], v, r)
			}
		}
	}
}

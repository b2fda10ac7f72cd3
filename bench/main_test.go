package main

import (
	"bytes"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

// TestMain lets the test binary be the fallback server, as the bench
// binary is: startFallback re-executes os.Executable().
func TestMain(m *testing.M) {
	if mode := os.Getenv(serveEnv); mode != "" {
		serveFallback(mode)
		return
	}
	os.Exit(m.Run())
}

func TestTableRender(t *testing.T) {
	tb := &table{title: "T", header: []string{"name", "req/s", "p99"}, left: 1, notes: []string{"a note"}}
	tb.add("spool", fmtInt(39120.4), fmtDur(14200*time.Microsecond))
	tb.add("net/http", fmtInt(17700), fmtDur(850*time.Microsecond))
	var b bytes.Buffer
	tb.render(&b)
	want := "### T\n\n" +
		"| name     |  req/s |     p99 |\n" +
		"| -------- | -----: | ------: |\n" +
		"| spool    | 39,120 | 14.2 ms |\n" +
		"| net/http | 17,700 |  850 µs |\n" +
		"\na note\n\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}

func TestFormat(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{fmtInt(1234567), "1,234,567"},
		{fmtInt(-999), "-999"},
		{fmtFloat(8.012), "8.01"},
		{fmtFloat(-0.0001), "0.00"},
		{fmtFloat(57.25), "57.2"},
		{fmtFloat(1404.4), "1,404"},
		{fmtBytes(40), "40 B"},
		{fmtBytes(3.7 * 1024), "3.70 KiB"},
		{fmtBytes(24 * 1024), "24.0 KiB"},
		{fmtBytes(1 << 20), "1.00 MiB"},
		{fmtDur(1420 * time.Microsecond), "1.42 ms"},
		{fmtRatio(2.21, 1), "2.21×"},
		{fmtRatio(1, 0), "—"},
		{parseCPUModel("processor\t: 0\nmodel name\t: AMD EPYC 7B13\n"), "AMD EPYC 7B13"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

func TestHistQuantile(t *testing.T) {
	var h hist
	for i := 1; i <= 1000; i++ {
		h.add(time.Duration(i) * time.Microsecond)
	}
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 500 * time.Microsecond}, {0.99, 990 * time.Microsecond}} {
		got := h.quantile(c.q)
		if d := float64(got-c.want) / float64(c.want); d < -0.04 || d > 0.04 {
			t.Errorf("q%.2f = %v, want %v ± 4%%", c.q, got, c.want)
		}
	}
	for v := uint64(0); v < 1<<20; v += 7 {
		if i := histIndex(v); histValue(i) > 0 && (float64(histValue(i))-float64(v))/float64(v+1) > 0.04 {
			t.Fatalf("bucket of %d is %d (value %d)", v, i, histValue(i))
		}
	}
}

func TestResponseSize(t *testing.T) {
	resp := "HTTP/1.1 200 OK\r\nServer: x\r\ncontent-length:  12 \r\n\r\nhello, world"
	if n, ok := responseSize([]byte(resp)); !ok || n != len(resp) {
		t.Errorf("responseSize = %d, %v; want %d", n, ok, len(resp))
	}
	if _, ok := responseSize([]byte(resp[:20])); ok {
		t.Error("a partial head has no size yet")
	}
}

// startTestServer starts the Go fallback server, in its own process.
func startTestServer(t *testing.T, kind string) *server {
	t.Helper()
	srv, err := startServer(kind, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.stop)
	return srv
}

func TestRawFloorAgainstFallback(t *testing.T) {
	srv := startTestServer(t, "go")
	c := newClient(nameRaw, 1)
	defer c.closeIdle()
	w, err := c.newWorker(request{method: http.MethodGet, url: srv.url("/")})
	if err != nil {
		t.Fatal(err)
	}
	rw := w.(*rawWorker)
	for range 100 {
		if err := w.do(); err != nil {
			t.Fatal(err)
		}
		if !bytes.HasSuffix(rw.buf[:rw.size], []byte(helloBody)) {
			t.Fatalf("response %q does not end with the body", rw.buf[:rw.size])
		}
	}
	if _, err := c.newWorker(request{method: http.MethodPost, url: srv.url("/"), body: []byte("x")}); err == nil {
		t.Error("the raw floor sends GETs only")
	}
}

// TestQuickRound runs one tiny interleaved round of every client against
// the fallback server and renders the tables.
func TestQuickRound(t *testing.T) {
	testRound(t, "go")
}

// TestQuickRoundNginx does the same against nginx, skipped without it.
func TestQuickRoundNginx(t *testing.T) {
	if findNginx() == "" {
		t.Skip("nginx not installed")
	}
	testRound(t, "nginx")
}

func testRound(t *testing.T, kind string) {
	srv := startTestServer(t, kind)
	cfg, err := parseFlags([]string{"-quick", "-d", "60ms", "-rounds", "1", "-workers", "1,4"})
	if err != nil {
		t.Fatal(err)
	}
	res := runInterleaved(t.Output(), cfg, loadClients, cfg.workers, request{method: http.MethodGet, url: srv.url("/")})
	for _, w := range cfg.workers {
		for _, name := range loadClients {
			f, ok := res[cellKey{w, name}]
			if !ok || f.err != nil || f.rps <= 0 || f.p99 <= 0 {
				t.Errorf("%s at %d workers: %+v", name, w, f)
			}
		}
	}
	if f := res[cellKey{1, nameRaw}]; f.allocs > 0.5 {
		t.Errorf("raw floor allocates %.2f per request; the harness must not allocate per request", f.allocs)
	}
	var b strings.Builder
	loadTable(res, cfg).render(&b)
	ratioTable(res, cfg).render(&b)
	targetTable(res, nil, cfg).render(&b)
	for _, want := range []string{"| 4       | fasthttp", "req/s ÷ net/http", "requests/s, 4 workers"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("tables lack %q:\n%s", want, b.String())
		}
	}
	// The other endpoints answer as the transfer tables expect.
	for _, r := range []request{
		{method: http.MethodGet, url: srv.url("/big")},
		{method: http.MethodPost, url: srv.url("/upload"), body: bigBody()},
		{method: http.MethodGet, url: srv.url("/chunked")},
	} {
		for _, name := range []string{nameSpool, nameNetHTTP, nameFast} {
			c := newClient(name, 1)
			w, err := c.newWorker(r)
			if err == nil {
				err = w.do()
			}
			if err == nil {
				err = w.do() // and again, on the kept-alive conn
			}
			if err != nil {
				t.Errorf("%s %s with %s: %v", r.method, r.url, name, err)
			}
			c.closeIdle()
		}
	}
}

func TestIdleSmall(t *testing.T) {
	srv := startTestServer(t, "go")
	f := measureIdle(nameNetHTTP, srv.url("/slow"), 20)
	if f.err != nil || f.conns != 20 || f.goroutines < 1.9 {
		t.Errorf("net/http with 20 idle conns: %+v (want 20 conns, 2 goroutines each)", f)
	}
}

func TestParseFlags(t *testing.T) {
	c, err := parseFlags([]string{"-quick", "-workers", "2,8"})
	if err != nil || c.cellDur != 600*time.Millisecond || len(c.workers) != 2 || c.workers[1] != 8 || c.idleConns != 500 {
		t.Errorf("parseFlags: %+v, %v", c, err)
	}
	if _, err := parseFlags([]string{"-workers", "0"}); err == nil {
		t.Error("-workers 0 accepted")
	}
	if _, err := parseFlags([]string{"-parts", "nope"}); err == nil {
		t.Error("-parts nope accepted")
	}
}

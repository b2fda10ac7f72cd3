package spool_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/spoolhttp/spool"
	"github.com/spoolhttp/spool/internal/testutil"
)

// fetchDebug GETs the debug page (or its JSON with query "format=json").
func fetchDebug(t *testing.T, h http.Handler, query string) (*http.Response, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/debug/spool?"+query, nil))
	return rec.Result(), rec.Body.String()
}

// The JSON is Stats with the documented names, plus the slowest waits: a
// request queued behind MaxConnsPerHost shows as a wait for a freed conn.
func TestDebugJSON(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			<-release
		}
		io.WriteString(w, "ok")
	}))
	defer srv.Close()
	tr := testutil.NewTransport(t, &spool.Transport{MaxConnsPerHost: 1})
	h := spool.DebugHandler(tr)
	c := &http.Client{Transport: tr}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); testutil.Get(t, c, srv.URL+"/slow") }()
	testutil.WaitFor(t, "the slow request on the one conn", func() bool { return tr.Stats().Total.Active == 1 })
	wg.Add(1)
	go func() { defer wg.Done(); testutil.Get(t, c, srv.URL+"/") }()
	testutil.WaitFor(t, "a request queued", func() bool { return tr.Stats().Total.Waiting == 1 })
	close(release)
	wg.Wait()

	resp, body := fetchDebug(t, h, "format=json")
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("Content-Type %q", ct)
	}
	var snap struct {
		Time      string                    `json:"time"`
		Total     map[string]any            `json:"total"`
		Hosts     map[string]map[string]any `json:"hosts"`
		SlowWaits []map[string]any          `json:"slow_waits"`
	}
	if err := json.Unmarshal([]byte(body), &snap); err != nil {
		t.Fatalf("%v in %s", err, body)
	}
	for _, name := range []string{"active", "idle", "dialing", "waiting", "h2_conns", "streams", "requests", "dials",
		"dial_errors", "reuses", "leaked_bodies", "wait_count", "wait_ns", "closes"} {
		if _, ok := snap.Total[name]; !ok {
			t.Errorf("total has no %q: %s", name, body)
		}
	}
	closes, _ := snap.Total["closes"].(map[string]any)
	for _, name := range []string{"idle_timeout", "evicted", "server_closed", "broken", "lifetime", "max_requests", "leaked", "early_close", "not_reusable"} {
		if _, ok := closes[name]; !ok {
			t.Errorf("closes has no %q: %s", name, body)
		}
	}
	key := "http://" + srv.Listener.Addr().String()
	host := snap.Hosts[key]
	if host["requests"] != 2.0 || host["dials"] != 1.0 || host["reuses"] != 1.0 || host["wait_count"] != 2.0 {
		t.Fatalf("host %s: %v", key, host)
	}
	// Both requests waited: the first for its dial, the second for the
	// conn the first freed.
	if len(snap.SlowWaits) != 2 {
		t.Fatalf("slow_waits %v, want 2", snap.SlowWaits)
	}
	for _, w := range snap.SlowWaits {
		if w["host"] != key || w["wait_ns"].(float64) <= 0 || w["at"] == "" {
			t.Errorf("slow wait %v", w)
		}
	}
	if snap.SlowWaits[0]["wait_ns"].(float64) < snap.SlowWaits[1]["wait_ns"].(float64) {
		t.Errorf("slow waits not slowest first: %v", snap.SlowWaits)
	}
	if snap.SlowWaits[0]["reused"] == snap.SlowWaits[1]["reused"] { // one fresh dial, one conn freed
		t.Errorf("slow waits %v: want one for a fresh dial, one for the freed conn", snap.SlowWaits)
	}
}

// Host names are data: a proxy user name full of markup is escaped in the
// page, and the script writes cells with textContent.
func TestDebugHTMLEscapes(t *testing.T) {
	evil := `"><script>alert(1)</script>`
	tr := testutil.NewTransport(t, &spool.Transport{
		Proxy: func(*http.Request) (*url.URL, error) {
			return &url.URL{Scheme: "http", User: url.User(evil), Host: "proxy.test:3128"}, nil
		},
		DialContext: func(context.Context, string, string) (net.Conn, error) {
			return nil, errors.New("no dial in this test")
		},
	})
	tr.RoundTrip(testutil.NewRequest(t, "GET", "http://origin.test/", nil))
	h := spool.DebugHandler(tr)
	resp, page := fetchDebug(t, h, "")
	if ct := resp.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Fatalf("Content-Type %q", ct)
	}
	if strings.Contains(page, "<script>alert") {
		t.Fatalf("markup from a host name reached the page:\n%s", page)
	}
	if !strings.Contains(page, "&lt;script&gt;alert(1)&lt;/script&gt;@proxy.test:3128|http://origin.test:80") {
		t.Fatalf("the escaped key is not on the page:\n%s", page)
	}
	if !strings.Contains(page, `<td data-total="dial_errors">1</td>`) {
		t.Fatalf("totals do not show the failed dial:\n%s", page)
	}
	for _, external := range []string{" src=", "<link", "@import", "url("} {
		if strings.Contains(page, external) {
			t.Fatalf("the page loads something external (%q)", external)
		}
	}
	if strings.Contains(page, ".innerHTML") {
		t.Fatal("the script writes markup")
	}
}

// Many hosts: the table shows the busiest maxDebugRows (100) and says how
// many there are; CloseIdleConnections leaves a page that still renders.
func TestDebugManyHosts(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	defer srv.Close()
	var d net.Dialer
	tr := testutil.NewTransport(t, &spool.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return d.DialContext(ctx, network, srv.Listener.Addr().String()) // every host is the one server
		},
	})
	c := &http.Client{Transport: tr}
	const hosts = 150
	for i := range hosts {
		testutil.Get(t, c, fmt.Sprintf("http://h%03d.test/", i))
	}
	testutil.Get(t, c, "http://h007.test/") // all hosts have one idle conn; h007 has the most requests
	h := spool.DebugHandler(tr)
	_, page := fetchDebug(t, h, "")
	if n := strings.Count(page, "<tr data-host="); n != 100 {
		t.Fatalf("%d host rows, want 100", n)
	}
	if !strings.Contains(page, "150 keys, the 100 busiest shown") {
		t.Fatal("the page does not say how many hosts there are")
	}
	first := page[strings.Index(page, "<tr data-host="):]
	if !strings.HasPrefix(first, `<tr data-host="http://h007.test:80"`) {
		t.Fatalf("the busiest host is not first: %.80s", first)
	}
	tr.CloseIdleConnections()
	_, page = fetchDebug(t, h, "")
	if !strings.Contains(page, `<td data-total="idle">0</td>`) || !strings.Contains(page, "evicted 150") {
		t.Fatalf("after CloseIdleConnections the totals show no closes: %s", page[:min(len(page), 3000)])
	}
	if n := strings.Count(page, `class="quiet"`); n != 100 {
		t.Fatalf("%d quiet rows after CloseIdleConnections, want 100", n)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/debug/spool", nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Fatalf("POST: %d", rec.Code)
	}
}

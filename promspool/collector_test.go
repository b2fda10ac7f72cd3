package promspool_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/spoolhttp/spool"
	"github.com/spoolhttp/spool/promspool"
)

func hello(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/close" {
		w.Header().Set("Connection", "close")
	}
	io.WriteString(w, "hello")
}

func get(t *testing.T, c *http.Client, url string) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
}

// statsNames are the metrics read from Stats but spool_pool_wait_seconds_total,
// whose real-time value is checked exactly in a synctest bubble.
var statsNames = []string{
	"spool_connections", "spool_dials_in_progress", "spool_requests_waiting",
	"spool_http2_connections", "spool_http2_streams", "spool_requests_total",
	"spool_dials_total", "spool_dial_errors_total", "spool_connection_reuses_total",
	"spool_leaked_bodies_total", "spool_pool_waits_total",
	"spool_connection_closes_total",
}

// TestCollectorStatsGolden compares the exposition after scripted
// HTTP/1.1 traffic (three requests on one conn, CloseIdleConnections, one
// request the server ends with Connection: close) with golden text.
func TestCollectorStatsGolden(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(hello))
	defer ts.Close()
	tr := &spool.Transport{}
	defer tr.Close()
	c := promspool.NewCollector(tr)
	client := &http.Client{Transport: tr}
	for range 3 {
		get(t, client, ts.URL)
	}
	tr.CloseIdleConnections()
	get(t, client, ts.URL+"/close")
	get(t, client, ts.URL)

	want := strings.ReplaceAll(goldenStats, "HOST", ts.URL)
	if err := testutil.CollectAndCompare(c, strings.NewReader(want), statsNames...); err != nil {
		t.Error(err)
	}
}

const goldenStats = `# HELP spool_connection_closes_total Connections closed, by reason.
# TYPE spool_connection_closes_total counter
spool_connection_closes_total{host="HOST",reason="broken"} 0
spool_connection_closes_total{host="HOST",reason="early_close"} 0
spool_connection_closes_total{host="HOST",reason="evicted"} 1
spool_connection_closes_total{host="HOST",reason="idle_timeout"} 0
spool_connection_closes_total{host="HOST",reason="leaked"} 0
spool_connection_closes_total{host="HOST",reason="lifetime"} 0
spool_connection_closes_total{host="HOST",reason="max_requests"} 0
spool_connection_closes_total{host="HOST",reason="not_reusable"} 1
spool_connection_closes_total{host="HOST",reason="server_closed"} 0
# HELP spool_connection_reuses_total Requests served by a connection that had served one before.
# TYPE spool_connection_reuses_total counter
spool_connection_reuses_total{host="HOST"} 2
# HELP spool_connections Open connections by state: active (carrying a request) or idle.
# TYPE spool_connections gauge
spool_connections{host="HOST",state="active"} 0
spool_connections{host="HOST",state="idle"} 1
# HELP spool_dial_errors_total Dials that failed.
# TYPE spool_dial_errors_total counter
spool_dial_errors_total{host="HOST"} 0
# HELP spool_dials_in_progress Dials in progress (TCP, proxy tunnel, TLS handshake).
# TYPE spool_dials_in_progress gauge
spool_dials_in_progress{host="HOST"} 0
# HELP spool_dials_total Dials started.
# TYPE spool_dials_total counter
spool_dials_total{host="HOST"} 3
# HELP spool_http2_connections Open HTTP/2 connections (also counted in spool_connections).
# TYPE spool_http2_connections gauge
spool_http2_connections{host="HOST"} 0
# HELP spool_http2_streams HTTP/2 streams in flight.
# TYPE spool_http2_streams gauge
spool_http2_streams{host="HOST"} 0
# HELP spool_leaked_bodies_total Response bodies never closed, reclaimed after garbage collection.
# TYPE spool_leaked_bodies_total counter
spool_leaked_bodies_total{host="HOST"} 0
# HELP spool_pool_waits_total Requests that found no idle connection and waited for a dial or a freed one.
# TYPE spool_pool_waits_total counter
spool_pool_waits_total{host="HOST"} 3
# HELP spool_requests_total Round trips started.
# TYPE spool_requests_total counter
spool_requests_total{host="HOST"} 5
# HELP spool_requests_waiting Requests queued for a connection at MaxConnsPerHost.
# TYPE spool_requests_waiting gauge
spool_requests_waiting{host="HOST"} 0
`

// TestCollectorLint runs promlint over a scrape: names, units, suffixes
// and help texts follow Prometheus conventions.
func TestCollectorLint(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(hello))
	defer ts.Close()
	tr := &spool.Transport{}
	defer tr.Close()
	c := promspool.NewCollector(tr)
	get(t, &http.Client{Transport: tr}, ts.URL)
	problems, err := testutil.CollectAndLint(c)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("%s: %s", p.Metric, p.Text)
	}
}

// valueOf is a gauge's or a counter's value.
func valueOf(m *dto.Metric) float64 {
	if g := m.GetGauge(); g != nil {
		return g.GetValue()
	}
	return m.GetCounter().GetValue()
}

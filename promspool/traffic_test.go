package promspool_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/spoolhttp/spool"
	"github.com/spoolhttp/spool/internal/testnet"
	"github.com/spoolhttp/spool/promspool"
)

// TestCollectorGoldenExact runs scripted traffic over spool's in-memory
// network in a synctest bubble, where fake time makes every duration
// exact, and compares the whole exposition, histograms included, with
// golden text: one request of 50ms; two at once on a host limited to one
// conn (the second waits 50ms for the first, so lasts 100ms); the conn
// closed by CloseIdleConnections 10s later (lifetime 10.15s); one request
// to a host nobody listens on (a wait in spool_pool_waits_total, which
// counts waits however they ended, but none in the wait histogram, which
// has the waits that got a conn).
func TestCollectorGoldenExact(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var n testnet.Network
		l, err := n.Listen("api.test:80")
		if err != nil {
			t.Fatal(err)
		}
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			time.Sleep(50 * time.Millisecond)
			hello(w, r)
		})}
		go srv.Serve(l)
		defer srv.Close()

		tr := &spool.Transport{DialContext: n.Dial, MaxConnsPerHost: 1}
		defer tr.Close()
		c := promspool.NewCollector(tr)
		client := &http.Client{Transport: tr}

		get(t, client, "http://api.test/")
		var wg sync.WaitGroup
		for range 2 {
			wg.Go(func() { get(t, client, "http://api.test/") })
		}
		wg.Wait()
		time.Sleep(10 * time.Second)
		tr.CloseIdleConnections()
		if resp, err := client.Get("http://down.test/"); err == nil {
			resp.Body.Close()
			t.Fatal("no error from a host nobody listens on")
		}
		synctest.Wait()

		if err := testutil.CollectAndCompare(c, strings.NewReader(goldenExact)); err != nil {
			t.Error(err)
		}
	})
}

// goldenExact: see TestCollectorGoldenExact. Metrics are sorted by name,
// series by labels.
var goldenExact = strings.ReplaceAll(`# HELP spool_connection_closes_total Connections closed, by reason.
# TYPE spool_connection_closes_total counter
`+closes("http://api.test:80", "evicted")+closes("http://down.test:80", "")+`# HELP spool_connection_duration_seconds Lifetime of closed connections, from the end of the dial.
# TYPE spool_connection_duration_seconds histogram
spool_connection_duration_seconds_bucket{host="API",le="0.01"} 0
spool_connection_duration_seconds_bucket{host="API",le="0.02"} 0
spool_connection_duration_seconds_bucket{host="API",le="0.05"} 0
spool_connection_duration_seconds_bucket{host="API",le="0.1"} 0
spool_connection_duration_seconds_bucket{host="API",le="0.2"} 0
spool_connection_duration_seconds_bucket{host="API",le="0.5"} 0
spool_connection_duration_seconds_bucket{host="API",le="1"} 0
spool_connection_duration_seconds_bucket{host="API",le="2"} 0
spool_connection_duration_seconds_bucket{host="API",le="5"} 0
spool_connection_duration_seconds_bucket{host="API",le="10"} 0
spool_connection_duration_seconds_bucket{host="API",le="30"} 1
spool_connection_duration_seconds_bucket{host="API",le="60"} 1
spool_connection_duration_seconds_bucket{host="API",le="120"} 1
spool_connection_duration_seconds_bucket{host="API",le="300"} 1
spool_connection_duration_seconds_bucket{host="API",le="+Inf"} 1
spool_connection_duration_seconds_sum{host="API"} 10.15
spool_connection_duration_seconds_count{host="API"} 1
# HELP spool_connection_reuses_total Requests served by a connection that had served one before.
# TYPE spool_connection_reuses_total counter
spool_connection_reuses_total{host="API"} 2
spool_connection_reuses_total{host="DOWN"} 0
# HELP spool_connections Open connections by state: active (carrying a request) or idle.
# TYPE spool_connections gauge
spool_connections{host="API",state="active"} 0
spool_connections{host="API",state="idle"} 0
spool_connections{host="DOWN",state="active"} 0
spool_connections{host="DOWN",state="idle"} 0
# HELP spool_dial_errors_total Dials that failed.
# TYPE spool_dial_errors_total counter
spool_dial_errors_total{host="API"} 0
spool_dial_errors_total{host="DOWN"} 1
# HELP spool_dials_in_progress Dials in progress (TCP, proxy tunnel, TLS handshake).
# TYPE spool_dials_in_progress gauge
spool_dials_in_progress{host="API"} 0
spool_dials_in_progress{host="DOWN"} 0
# HELP spool_dials_total Dials started.
# TYPE spool_dials_total counter
spool_dials_total{host="API"} 1
spool_dials_total{host="DOWN"} 1
# HELP spool_http2_connections Open HTTP/2 connections (also counted in spool_connections).
# TYPE spool_http2_connections gauge
spool_http2_connections{host="API"} 0
spool_http2_connections{host="DOWN"} 0
# HELP spool_http2_streams HTTP/2 streams in flight.
# TYPE spool_http2_streams gauge
spool_http2_streams{host="API"} 0
spool_http2_streams{host="DOWN"} 0
# HELP spool_leaked_bodies_total Response bodies never closed, reclaimed after garbage collection.
# TYPE spool_leaked_bodies_total counter
spool_leaked_bodies_total{host="API"} 0
spool_leaked_bodies_total{host="DOWN"} 0
# HELP spool_pool_wait_duration_seconds Time a request waited for a connection (a dial or a freed one), for requests that waited.
# TYPE spool_pool_wait_duration_seconds histogram
`+buckets("spool_pool_wait_duration_seconds", "API", "", 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2)+`spool_pool_wait_duration_seconds_sum{host="API"} 0.05
spool_pool_wait_duration_seconds_count{host="API"} 2
# HELP spool_pool_wait_seconds_total Time requests spent waiting for a connection.
# TYPE spool_pool_wait_seconds_total counter
spool_pool_wait_seconds_total{host="API"} 0.05
spool_pool_wait_seconds_total{host="DOWN"} 0
# HELP spool_pool_waits_total Requests that found no idle connection and waited for a dial or a freed one.
# TYPE spool_pool_waits_total counter
spool_pool_waits_total{host="API"} 2
spool_pool_waits_total{host="DOWN"} 1
# HELP spool_request_duration_seconds Time from the request entering the pool to the response head, or to the error (code="error").
# TYPE spool_request_duration_seconds histogram
`+buckets("spool_request_duration_seconds", "API", `code="200",`, 0, 0, 0, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3)+`spool_request_duration_seconds_sum{code="200",host="API",method="GET"} 0.2
spool_request_duration_seconds_count{code="200",host="API",method="GET"} 3
`+buckets("spool_request_duration_seconds", "DOWN", `code="error",`, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1)+`spool_request_duration_seconds_sum{code="error",host="DOWN",method="GET"} 0
spool_request_duration_seconds_count{code="error",host="DOWN",method="GET"} 1
# HELP spool_requests_total Round trips started.
# TYPE spool_requests_total counter
spool_requests_total{host="API"} 3
spool_requests_total{host="DOWN"} 1
# HELP spool_requests_waiting Requests queued for a connection at MaxConnsPerHost.
# TYPE spool_requests_waiting gauge
spool_requests_waiting{host="API"} 0
spool_requests_waiting{host="DOWN"} 0
`, "API", "http://api.test:80")

func init() { goldenExact = strings.ReplaceAll(goldenExact, "DOWN", "http://down.test:80") }

// closes writes the nine close-reason series of host, reason at 1.
func closes(host, reason string) string {
	var b strings.Builder
	for _, r := range []string{"broken", "early_close", "evicted", "idle_timeout", "leaked", "lifetime", "max_requests", "not_reusable", "server_closed"} {
		v := "0"
		if r == reason {
			v = "1"
		}
		b.WriteString(`spool_connection_closes_total{host="` + host + `",reason="` + r + `"} ` + v + "\n")
	}
	return b.String()
}

// buckets writes the cumulative buckets of one series of the
// request-duration bounds (OpenTelemetry's advice).
func buckets(name, host, codeLabel string, counts ...int) string {
	bounds := []string{"0.005", "0.01", "0.025", "0.05", "0.075", "0.1", "0.25", "0.5", "0.75", "1", "2.5", "5", "7.5", "10", "+Inf"}
	method := ""
	if codeLabel != "" {
		method = `,method="GET"`
	}
	var b strings.Builder
	for i, le := range bounds {
		b.WriteString(name + "_bucket{" + codeLabel + `host="` + host + `"` + method + `,le="` + le + `"} ` + itoa(counts[i]) + "\n")
	}
	return b.String()
}

func itoa(n int) string { return string(rune('0' + n)) }

package promspool_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/spoolhttp/spool"
	"github.com/spoolhttp/spool/internal/testnet"
	"github.com/spoolhttp/spool/promspool"
)

// TestCollectorBoundedHosts: a crawler's hosts. After 1,030 hosts went
// quiet, Stats keeps the 1,024 most recent; the collector's series, the
// event histograms included, are bounded the same way.
func TestCollectorBoundedHosts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var n testnet.Network
		l, err := n.Listen("any.test:80")
		if err != nil {
			t.Fatal(err)
		}
		srv := &http.Server{Handler: http.HandlerFunc(hello)}
		go srv.Serve(l)
		defer srv.Close()
		tr := &spool.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return n.Dial(ctx, network, "any.test:80") // every host is served by the one server
		}}
		defer tr.Close()
		c := promspool.NewCollector(tr)
		client := &http.Client{Transport: tr}
		const hosts = 1030
		for i := range hosts {
			get(t, client, fmt.Sprintf("http://h%d.test/", i))
			if i == 0 {
				testutil.CollectAndCount(c) // a scrape while h0 is live keeps its series
			}
		}
		tr.CloseIdleConnections()
		kept := len(tr.Stats().Hosts)
		if kept >= hosts {
			t.Fatalf("Stats holds %d hosts: the bound did not apply", kept)
		}
		for _, name := range []string{"spool_requests_total", "spool_request_duration_seconds", "spool_connection_duration_seconds"} {
			if got := testutil.CollectAndCount(c, name); got != kept {
				t.Errorf("%s: %d series, want %d (the hosts Stats holds)", name, got, kept)
			}
		}
	})
}

// TestCollectorConstLabels: two Transports in one registry, told apart by
// a constant label.
func TestCollectorConstLabels(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var n testnet.Network
		l, err := n.Listen("api.test:80")
		if err != nil {
			t.Fatal(err)
		}
		srv := &http.Server{Handler: http.HandlerFunc(hello)}
		go srv.Serve(l)
		defer srv.Close()
		reg := prometheus.NewPedanticRegistry()
		for i, name := range []string{"a", "b"} {
			tr := &spool.Transport{DialContext: n.Dial}
			defer tr.Close()
			reg.MustRegister(promspool.NewCollector(tr, promspool.WithConstLabels(prometheus.Labels{"transport": name})))
			for range i + 1 {
				get(t, &http.Client{Transport: tr}, "http://api.test/")
			}
		}
		want := `# HELP spool_requests_total Round trips started.
# TYPE spool_requests_total counter
spool_requests_total{host="http://api.test:80",transport="a"} 1
spool_requests_total{host="http://api.test:80",transport="b"} 2
`
		if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "spool_requests_total"); err != nil {
			t.Error(err)
		}
	})
}

package promspool_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spoolhttp/spool"
	"github.com/spoolhttp/spool/promspool"
)

// Register a Transport's collector, send three requests, and read a few
// series from the registry. A service serves the registry instead:
//
//	http.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
func ExampleNewCollector() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hello")
	}))
	defer srv.Close()

	tr := &spool.Transport{}
	defer tr.Close()
	reg := prometheus.NewRegistry()
	reg.MustRegister(promspool.NewCollector(tr)) // the whole setup

	client := &http.Client{Transport: tr}
	for range 3 {
		resp, err := client.Get(srv.URL)
		if err != nil {
			panic(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}

	families, err := reg.Gather()
	if err != nil {
		panic(err)
	}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			labels := ""
			for _, l := range m.GetLabel() {
				if l.GetName() != "host" { // the host label is the test server's random port
					labels += l.GetName() + "=" + l.GetValue() + " "
				}
			}
			switch f.GetName() {
			case "spool_connections", "spool_requests_total", "spool_dials_total", "spool_connection_reuses_total":
				fmt.Printf("%s %s%v\n", f.GetName(), labels, valueOf(m))
			case "spool_request_duration_seconds":
				fmt.Printf("%s %scount %d\n", f.GetName(), labels, m.GetHistogram().GetSampleCount())
			}
		}
	}
	// Output:
	// spool_connection_reuses_total 2
	// spool_connections state=active 0
	// spool_connections state=idle 1
	// spool_dials_total 1
	// spool_request_duration_seconds code=200 method=GET count 3
	// spool_requests_total 3
}

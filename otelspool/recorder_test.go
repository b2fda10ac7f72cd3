package otelspool_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"
	"time"

	"github.com/spoolhttp/spool"
	"github.com/spoolhttp/spool/otelspool"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// The recorder is checked here with events made up by the test, so the
// attribute mapping is pinned down whatever traffic produced them; the
// traffic tests check the events the Transport really sends.

var apiTarget = spool.Target{Key: "https://api.test:443", Scheme: "https", Host: "api.test", Port: 443}

func checkHists(t *testing.T, name string, got, want map[string]hist) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d points, want %d:\n got %v\nwant %v", name, len(got), len(want), got, want)
	}
	for k, w := range want {
		g, ok := got[k]
		if !ok {
			t.Errorf("%s: no point {%s}; have %v", name, k, got)
			continue
		}
		if g.count != w.count || g.sum != w.sum || (w.buckets != nil && !reflect.DeepEqual(g.buckets, w.buckets)) {
			t.Errorf("%s {%s}: got %+v, want %+v", name, k, g, w)
		}
	}
}

func TestRecorderRequestAttributes(t *testing.T) {
	h := instrument(t, &spool.Transport{})
	o := h.tr.Observer
	const srv = "server.address=api.test,server.port=443"

	for i, r := range []struct {
		method string
		status int
		proto  string
		err    error
		d      time.Duration
	}{
		{"GET", 200, spool.ProtoHTTP2, nil, 20 * time.Millisecond},
		{"GET", 200, spool.ProtoHTTP2, nil, 30 * time.Millisecond},
		{"POST", 503, spool.ProtoHTTP1, nil, time.Second},
		{"BREW", 200, "HTTP/1.0", nil, 2 * time.Second},
		{"GET", 0, "", context.DeadlineExceeded, 3 * time.Second},
	} {
		o.RequestStarted(spool.RequestEvent{Target: apiTarget, Method: r.method})
		o.Response(spool.ResponseEvent{Target: apiTarget, Method: r.method, Conn: uint64(i + 1),
			Proto: r.proto, Status: r.status, Duration: r.d, Err: r.err})
	}
	o.RequestStarted(spool.RequestEvent{Target: apiTarget, Method: "GET"}) // still in flight

	ms := h.collect(t)
	checkHists(t, "request.duration", hists(t, ms, "http.client.request.duration"), map[string]hist{
		"http.request.method=GET,http.response.status_code=200,network.protocol.version=2," + srv + ",url.scheme=https":                   {count: 2, sum: 0.05},
		"error.type=503,http.request.method=POST,http.response.status_code=503,network.protocol.version=1.1," + srv + ",url.scheme=https": {count: 1, sum: 1},
		"http.request.method=_OTHER,http.response.status_code=200,network.protocol.version=1.0," + srv + ",url.scheme=https":              {count: 1, sum: 2},
		"error.type=timeout,http.request.method=GET," + srv + ",url.scheme=https":                                                         {count: 1, sum: 3},
	})
	checkInts(t, "active_requests", ints(t, ms, "http.client.active_requests"), map[string]int64{
		"http.request.method=GET," + srv + ",url.scheme=https":    1,
		"http.request.method=POST," + srv + ",url.scheme=https":   0,
		"http.request.method=_OTHER," + srv + ",url.scheme=https": 0,
	})
}

func TestRecorderQueueConnDial(t *testing.T) {
	h := instrument(t, &spool.Transport{})
	o := h.tr.Observer
	proxied := spool.Target{Key: "http://bob@proxy.test:3128|https://api.test:443",
		Scheme: "https", Host: "api.test", Port: 443, Proxy: "http://bob@proxy.test:3128"}

	o.GotConn(spool.GotConnEvent{Target: apiTarget, Method: "GET", Proto: spool.ProtoHTTP1}) // not queued: no measurement
	o.GotConn(spool.GotConnEvent{Target: apiTarget, Method: "GET", Proto: spool.ProtoHTTP1, Queued: true, Wait: 250 * time.Millisecond})
	o.GotConn(spool.GotConnEvent{Target: proxied, Method: "PUT", Proto: spool.ProtoHTTP2, Queued: true, Wait: time.Second})
	o.Dialed(spool.DialEvent{Target: apiTarget, Conn: 1, Proto: spool.ProtoHTTP1, Duration: 40 * time.Millisecond})
	o.Dialed(spool.DialEvent{Target: apiTarget, Duration: 10 * time.Millisecond, Err: errors.New("refused")})
	o.ConnClosed(spool.ConnClosedEvent{Target: apiTarget, Conn: 1, Proto: spool.ProtoHTTP1,
		Reason: spool.CloseIdleTimeout, Idle: true, Lifetime: 90 * time.Second})

	ms := h.collect(t)
	checkHists(t, "time_in_queue", hists(t, ms, "http.client.request.time_in_queue"), map[string]hist{
		"http.request.method=GET,network.protocol.version=1.1,server.address=api.test,server.port=443,url.scheme=https":                                  {count: 1, sum: 0.25},
		"http.request.method=PUT,network.protocol.version=2,server.address=api.test,server.port=443,spool.proxy=http://proxy.test:3128,url.scheme=https": {count: 1, sum: 1},
	})
	checkHists(t, "connection.duration", hists(t, ms, "http.client.connection.duration"), map[string]hist{
		"network.protocol.version=1.1,server.address=api.test,server.port=443,url.scheme=https": {
			count: 1, sum: 90, buckets: []uint64{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0}},
	})
	checkHists(t, "dial.duration", hists(t, ms, "spool.client.connection.dial.duration"), map[string]hist{
		"server.address=api.test,server.port=443,spool.dial.outcome=success,url.scheme=https": {count: 1, sum: 0.04},
		"server.address=api.test,server.port=443,spool.dial.outcome=error,url.scheme=https":   {count: 1, sum: 0.01},
	})
}

// TestInstrumentKinds pins each instrument's kind and unit as the
// conventions give them.
func TestInstrumentKinds(t *testing.T) {
	h := instrument(t, &spool.Transport{})
	o := h.tr.Observer
	o.RequestStarted(spool.RequestEvent{Target: apiTarget, Method: "GET"})
	o.GotConn(spool.GotConnEvent{Target: apiTarget, Method: "GET", Queued: true})
	o.Response(spool.ResponseEvent{Target: apiTarget, Method: "GET", Status: 200})
	o.Dialed(spool.DialEvent{Target: apiTarget})
	o.ConnClosed(spool.ConnClosedEvent{Target: apiTarget})
	ts := httptest.NewServer(http.HandlerFunc(hello))
	defer ts.Close()
	get(t, &http.Client{Transport: h.tr}, ts.URL) // a host in Stats: the pool instruments report
	ms := h.collect(t)
	for _, w := range []struct{ name, kind, unit string }{
		{"http.client.open_connections", "updowncounter", "{connection}"},
		{"http.client.active_requests", "updowncounter", "{request}"},
		{"http.client.request.duration", "histogram", "s"},
		{"http.client.request.time_in_queue", "histogram", "s"},
		{"http.client.connection.duration", "histogram", "s"},
		{"spool.client.connection.dial.duration", "histogram", "s"},
		{"spool.client.connection.dialing", "updowncounter", "{connection}"},
		{"spool.client.connection.pending_requests", "updowncounter", "{request}"},
		{"spool.client.http2.streams", "updowncounter", "{stream}"},
		{"spool.client.connection.dials", "counter", "{dial}"},
		{"spool.client.connection.reuses", "counter", "{request}"},
		{"spool.client.leaked_bodies", "counter", "{body}"},
	} {
		m, ok := ms[w.name]
		if !ok {
			t.Errorf("no %s", w.name)
			continue
		}
		if k := kind(m.Data); k != w.kind || m.Unit != w.unit {
			t.Errorf("%s: %s in %q, want %s in %q", w.name, k, m.Unit, w.kind, w.unit)
		}
	}
}

func kind(a metricdata.Aggregation) string {
	switch d := a.(type) {
	case metricdata.Sum[int64]:
		if d.IsMonotonic {
			return "counter"
		}
		return "updowncounter"
	case metricdata.Histogram[float64]:
		return "histogram"
	case metricdata.Gauge[float64]:
		return "gauge"
	}
	return fmt.Sprintf("%T", a)
}

// TestStop: after stop, the pool instruments are no longer observed and
// events are dropped; the Transport keeps working.
func TestStop(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(hello))
	defer ts.Close()
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer mp.Shutdown(context.Background())
	tr := &spool.Transport{}
	defer tr.Close()
	stop, err := otelspool.Instrument(tr, mp)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{tr: tr, reader: reader}
	c := &http.Client{Transport: tr}
	get(t, c, ts.URL)
	if n := len(ints(t, h.collect(t), "http.client.open_connections")); n == 0 {
		t.Fatal("no open_connections before stop")
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if err := stop(); err != nil { // a second stop is a no-op
		t.Fatal(err)
	}
	get(t, c, ts.URL)
	ms := h.collect(t)
	if _, ok := ms["http.client.open_connections"]; ok {
		t.Error("open_connections still observed after stop")
	}
	reqs := hists(t, ms, "http.client.request.duration")
	if len(reqs) != 1 {
		t.Fatalf("request.duration %v, want the one point from before stop", reqs)
	}
	for _, p := range reqs {
		if p.count != 1 {
			t.Errorf("request.duration count %d after stop, want the 1 from before", p.count)
		}
	}
}

package load

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// hello serves the 12-byte body the CLI's embedded server serves.
func hello(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello, world") }

func serve(t *testing.T, h http.HandlerFunc) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

// transport is net/http's, standing in for spool's; its idle connections
// are closed at the end so goleak sees no reader goroutines.
func transport(t *testing.T, conc int) *http.Transport {
	tr := &http.Transport{MaxIdleConnsPerHost: conc}
	t.Cleanup(tr.CloseIdleConnections)
	return tr
}

func TestClosedLoopCounts(t *testing.T) {
	var served atomic.Int64
	u := serve(t, func(w http.ResponseWriter, r *http.Request) { served.Add(1); hello(w, r) })
	var calls, overlap atomic.Int64
	var last Snapshot
	progress := func(s Snapshot) {
		if calls.Add(1) != 1 {
			overlap.Add(1)
		}
		last = s
		calls.Add(-1)
	}
	res, err := Run(context.Background(), transport(t, 8), Config{URL: u, Concurrency: 8, Requests: 500}, progress)
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests != 500 || served.Load() != 500 || res.Status[200] != 500 || res.Errors != 0 {
		t.Errorf("requests %d served %d status %v errors %d", res.Requests, served.Load(), res.Status, res.Errors)
	}
	if res.Bytes != 500*12 || res.Histogram.Count() != 500 {
		t.Errorf("bytes %d, latencies %d", res.Bytes, res.Histogram.Count())
	}
	if res.Throughput <= 0 || res.Latency.P50 <= 0 || res.Latency.Max < res.Latency.P99 {
		t.Errorf("latency %+v throughput %v", res.Latency, res.Throughput)
	}
	if res.AllocsPerRequest <= 0 || res.AllocBytesPerRequest <= 0 {
		t.Errorf("allocs not measured: %v, %v", res.AllocsPerRequest, res.AllocBytesPerRequest)
	}
	if !last.Final || last.Done != 500 || last.Requests != 500 || overlap.Load() != 0 {
		t.Errorf("last snapshot %+v, overlapping calls %d", last, overlap.Load())
	}
}

func TestDurationStopsRun(t *testing.T) {
	u := serve(t, hello)
	start := time.Now()
	res, err := Run(context.Background(), transport(t, 4), Config{URL: u, Concurrency: 4, Duration: 300 * time.Millisecond}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took < 300*time.Millisecond || took > 2*time.Second {
		t.Errorf("run took %v for a 300ms duration", took)
	}
	if res.Requests == 0 || res.Status[200] != res.Requests {
		t.Errorf("requests %d status %v", res.Requests, res.Status)
	}
	// Both limits: the count comes first.
	res, err = Run(context.Background(), transport(t, 4), Config{URL: u, Concurrency: 4, Requests: 10, Duration: time.Minute}, nil)
	if err != nil || res.Requests != 10 {
		t.Errorf("requests %d, err %v", res.Requests, err)
	}
}

func TestBodyMethodAndHeaders(t *testing.T) {
	var bad atomic.Int64
	u := serve(t, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if r.Method != "POST" || string(b) != `{"a":1}` || r.Host != "example.test" || r.Header.Get("X-K") != "v" {
			bad.Add(1)
		}
		w.WriteHeader(201)
	})
	cfg := Config{URL: u, Method: "POST", Body: []byte(`{"a":1}`), Concurrency: 3, Requests: 30,
		Header: http.Header{"X-K": {"v"}, "Host": {"example.test"}}}
	res, err := Run(context.Background(), transport(t, 3), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status[201] != 30 || bad.Load() != 0 || res.Method != "POST" {
		t.Errorf("status %v, %d bad requests", res.Status, bad.Load())
	}
}

// closedPort returns a loopback address nobody listens on.
func closedPort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func TestErrorsByClass(t *testing.T) {
	stall := make(chan struct{})
	t.Cleanup(func() { close(stall) })
	for _, tc := range []struct {
		name  string
		url   string
		class string
	}{
		{"refused", "http://" + closedPort(t) + "/", ClassRefused},
		{"timeout", serve(t, func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-stall:
			case <-r.Context().Done():
			}
		}), ClassTimeout},
		{"EOF", serve(t, func(w http.ResponseWriter, r *http.Request) {
			c, _, _ := http.NewResponseController(w).Hijack()
			c.Close()
		}), ClassEOF},
		{"reset", serve(t, func(w http.ResponseWriter, r *http.Request) {
			c, _, _ := http.NewResponseController(w).Hijack()
			c.(*net.TCPConn).SetLinger(0) // close with RST
			c.Close()
		}), ClassReset},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := Config{URL: tc.url, Concurrency: 2, Requests: 6, Timeout: 50 * time.Millisecond}
			res, err := Run(context.Background(), transport(t, 2), cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			if res.Errors != 6 || res.ErrorClasses[tc.class] != 6 || len(res.Status) != 0 {
				t.Errorf("errors %d classes %v (samples %v)", res.Errors, res.ErrorClasses, res.ErrorSamples)
			}
			if res.ErrorSamples[tc.class] == nil {
				t.Error("no sample error kept")
			}
		})
	}
}

func TestErrorClass(t *testing.T) {
	op := func(err error) error {
		return &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", err)}
	}
	for _, tc := range []struct {
		err  error
		want string
	}{
		{op(syscall.ECONNREFUSED), ClassRefused},
		{&url.Error{Op: "Get", URL: "x", Err: op(syscall.ECONNRESET)}, ClassReset},
		{fmt.Errorf("write: %w", syscall.EPIPE), ClassReset},
		{fmt.Errorf("read body: %w", context.DeadlineExceeded), ClassTimeout},
		{op(os.ErrDeadlineExceeded), ClassTimeout},
		{fmt.Errorf("conn broken: %w", io.ErrUnexpectedEOF), ClassEOF},
		{io.EOF, ClassEOF},
		{timeoutErr{}, ClassTimeout},
		{errors.New("connection refused"), ClassOther}, // strings mean nothing
	} {
		if got := ErrorClass(tc.err); got != tc.want {
			t.Errorf("ErrorClass(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}

type timeoutErr struct{}

func (timeoutErr) Error() string { return "awaiting headers" }
func (timeoutErr) Timeout() bool { return true }

func TestOpenLoopPacesStarts(t *testing.T) {
	var served atomic.Int64
	u := serve(t, func(w http.ResponseWriter, r *http.Request) { served.Add(1); hello(w, r) })
	start := time.Now()
	res, err := Run(context.Background(), transport(t, 4), Config{URL: u, Concurrency: 4, Requests: 40, Rate: 200}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if took, want := time.Since(start), (Pacer{Rate: 200}).At(39); took < want {
		t.Errorf("40 requests at 200/s took %v, under the schedule's %v", took, want)
	}
	if res.Requests != 40 || served.Load() != 40 || res.Rate != 200 {
		t.Errorf("requests %d served %d", res.Requests, served.Load())
	}
}

// TestOpenLoopCountsQueueing: one worker, 10ms slots, a 50ms server. The
// later slots wait for the worker and that wait is latency: a closed loop
// would report ~50ms, the schedule says the 5th request is ~210ms late.
func TestOpenLoopCountsQueueing(t *testing.T) {
	u := serve(t, func(w http.ResponseWriter, r *http.Request) { time.Sleep(50 * time.Millisecond) })
	res, err := Run(context.Background(), transport(t, 1), Config{URL: u, Concurrency: 1, Requests: 5, Rate: 100}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Latency.Max < 180*time.Millisecond || res.Latency.Min < 50*time.Millisecond {
		t.Errorf("latency %+v: queueing behind a slow server was hidden", res.Latency)
	}
	// With a Duration, the slots the worker never reached are reported.
	res, err = Run(context.Background(), transport(t, 1), Config{URL: u, Concurrency: 1, Duration: 200 * time.Millisecond, Rate: 100}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Backlog < 10 || res.Requests+res.Backlog > 20 {
		t.Errorf("requests %d backlog %d, want ~4 + ~16", res.Requests, res.Backlog)
	}
}

func TestCancelStopsEarly(t *testing.T) {
	u := serve(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(20 * time.Millisecond):
		case <-r.Context().Done():
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	start := time.Now()
	res, err := Run(ctx, transport(t, 4), Config{URL: u, Concurrency: 4, Duration: 10 * time.Second}, nil)
	if !errors.Is(err, context.DeadlineExceeded) || res == nil {
		t.Fatalf("err %v, res %v", err, res)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("cancel took %v to stop the run", took)
	}
	if res.Errors != 0 {
		t.Errorf("requests cut by the cancel counted as errors: %v", res.ErrorClasses)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, cfg := range []Config{
		{URL: "http://x/"},                             // no limit
		{URL: "http://x/", Requests: -1},               // negative
		{URL: "::bad", Requests: 1},                    // parse
		{URL: "/relative", Requests: 1},                // no host
		{URL: "http://x/", Requests: 1, Method: "B D"}, // bad method
	} {
		if _, err := Run(context.Background(), http.DefaultTransport, cfg, nil); err == nil || !strings.HasPrefix(err.Error(), "load: ") {
			t.Errorf("%+v: err %v", cfg, err)
		}
	}
}

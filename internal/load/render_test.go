package load

import (
	"encoding/json"
	"errors"
	"io"
	"strings"
	"syscall"
	"testing"
	"time"
)

// fixture is a Result as Run would build it: 1000 OK requests of 1…10ms
// and 2 refused ones.
func fixture() *Result {
	h := NewHistogram()
	for i := range 1000 {
		h.Record(time.Millisecond + time.Duration(i%10)*time.Millisecond)
	}
	return &Result{
		URL: "http://127.0.0.1:8080/", Method: "GET", Concurrency: 16, Threads: 2,
		Requests: 1002, Errors: 2, Duration: 500 * time.Millisecond, Throughput: 2004, Bytes: 12000,
		Latency: summarize(h), Histogram: h,
		Status:               map[int]int64{200: 990, 503: 10},
		ErrorClasses:         map[string]int64{ClassRefused: 2},
		ErrorSamples:         map[string]error{ClassRefused: syscall.ECONNREFUSED},
		AllocsPerRequest:     42.5,
		AllocBytesPerRequest: 5120,
		CPUPerRequest:        38 * time.Microsecond,
	}
}

func TestWriteText(t *testing.T) {
	var b strings.Builder
	stats := func(w io.Writer) { io.WriteString(w, "dials 16 · reuses 984\ncloses: none") }
	if err := WriteText(&b, fixture(), stats); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"GET http://127.0.0.1:8080/ · 16 workers · 2 threads · closed loop\n",
		"  requests    1,002 in 500ms (2 errors)\n",
		"  throughput  2,004 req/s\n",
		"  body read   11.7 KiB\n",
		"  p50 5.01ms  p90 9.04ms  p99 10.0ms  p99.9 10.0ms  max 10.0ms  mean 5.50ms\n",
		"  200  990\n  503  10\n",
		"  refused  2  (first: connection refused)\n",
		"  42.5 allocs · 5.00 KiB allocated · 38.0µs CPU\n",
		"Transport\n  dials 16 · reuses 984\n  closes: none\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
	// Ten histogram rows; the fullest bar is barWidth blocks.
	var rows int
	for line := range strings.Lines(out) {
		if strings.Contains(line, " – ") {
			rows++
			if strings.Contains(line, strings.Repeat("█", barWidth+1)) {
				t.Errorf("bar longer than %d: %q", barWidth, line)
			}
		}
	}
	if rows != histogramBins || !strings.Contains(out, strings.Repeat("█", barWidth)) {
		t.Errorf("%d histogram rows or no full bar:\n%s", rows, out)
	}
}

type stringer string

func (s stringer) String() string { return string(s) }

func TestWriteTextStatsKinds(t *testing.T) {
	var b strings.Builder
	WriteText(&b, fixture(), stringer("goroutines 3\n"))
	if !strings.HasSuffix(b.String(), "Transport\n  goroutines 3\n") {
		t.Errorf("Stringer stats: %q", b.String()[len(b.String())-40:])
	}
	b.Reset()
	WriteText(&b, fixture(), nil)
	if strings.Contains(b.String(), "Transport") {
		t.Error("nil stats printed a Transport block")
	}
	empty := &Result{Method: "GET", URL: "http://x/", Concurrency: 1, Rate: 50, Backlog: 3, Status: map[int]int64{}}
	b.Reset()
	WriteText(&b, empty, nil)
	for _, want := range []string{"open loop at 50 req/s", "backlog     3 requests", "Status\n  none\n"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("missing %q in:\n%s", want, b.String())
		}
	}
}

func TestWriteTextReportsWriteError(t *testing.T) {
	if err := WriteText(failWriter{}, fixture(), nil); err == nil {
		t.Error("write error lost")
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriteJSON(t *testing.T) {
	var b strings.Builder
	if err := WriteJSON(&b, fixture()); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Requests     int64              `json:"requests"`
		Throughput   float64            `json:"throughput_rps"`
		Latency      map[string]float64 `json:"latency_ms"`
		Status       map[string]int64   `json:"status"`
		ErrorClasses map[string]int64   `json:"error_classes"`
		Histogram    []jsonBin          `json:"histogram"`
		CPU          float64            `json:"cpu_per_request_us"`
	}
	if err := json.Unmarshal([]byte(b.String()), &got); err != nil {
		t.Fatalf("%v in %s", err, b.String())
	}
	if got.Requests != 1002 || got.Throughput != 2004 || got.Status["503"] != 10 ||
		got.ErrorClasses["refused"] != 2 || got.Latency["max"] != 10 || len(got.Histogram) != histogramBins || got.CPU != 38 {
		t.Errorf("decoded %+v", got)
	}
}

func TestWriteComparison(t *testing.T) {
	a, b := fixture(), fixture()
	b.Throughput, b.AllocsPerRequest, b.Errors = 1002, 85, 0
	var out strings.Builder
	if err := WriteComparison(&out, a, b, "spool", "net/http"); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"                      spool       net/http   spool/net/http\n",
		"req/s                 2,004          1,002            2.00x\n",
		"p50                  5.01ms         5.01ms            1.00x\n",
		"errors                    2              0                –\n",
		"allocs/req             42.5           85.0            0.50x\n",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("missing %q in:\n%s", want, out.String())
		}
	}
}

func TestFormat(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "0ns", 999: "999ns", 1500: "1.50µs", 912 * time.Microsecond: "912µs",
		1250 * time.Microsecond: "1.25ms", 12340 * time.Millisecond: "12.3s", 999999: "1.00ms", 90 * time.Second: "90.0s",
	} {
		if got := FormatDuration(d); got != want {
			t.Errorf("FormatDuration(%d) = %q, want %q", d, got, want)
		}
	}
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -1234: "-1,234"} {
		if got := FormatCount(n); got != want {
			t.Errorf("FormatCount(%d) = %q, want %q", n, got, want)
		}
	}
	if got := FormatBytes(12); got != "12 B" {
		t.Errorf("FormatBytes(12) = %q", got)
	}
	if got := FormatBytes(969.2262327); got != "969 B" {
		t.Errorf("FormatBytes(969.2262327) = %q, want whole bytes", got)
	}
	if got := Bar(1, 2, 4); got != "██" {
		t.Errorf("Bar(1,2,4) = %q", got)
	}
	if got := Bar(1, 1000, 4); got != "▏" {
		t.Errorf("a tiny nonzero value still shows: %q", got)
	}
}

func TestWriteJSONComparison(t *testing.T) {
	var b strings.Builder
	if err := WriteJSONComparison(&b, fixture(), fixture(), "spool", "net/http"); err != nil {
		t.Fatal(err)
	}
	var got map[string]struct {
		Requests int64 `json:"requests"`
	}
	if err := json.Unmarshal([]byte(b.String()), &got); err != nil || got["spool"].Requests != 1002 || got["net/http"].Requests != 1002 {
		t.Errorf("decoded %+v, err %v", got, err)
	}
}

package load

import (
	"encoding/json"
	"io"
	"strconv"
	"time"
)

// jsonResult is Result for machines: units in the field names, status
// codes as object keys.
type jsonResult struct {
	URL         string  `json:"url"`
	Method      string  `json:"method"`
	Concurrency int     `json:"concurrency"`
	Threads     int     `json:"threads"`
	Rate        float64 `json:"rate,omitempty"`

	Requests    int64   `json:"requests"`
	Errors      int64   `json:"errors"`
	DurationSec float64 `json:"duration_s"`
	Throughput  float64 `json:"throughput_rps"`
	BodyBytes   int64   `json:"body_bytes"`
	Backlog     int64   `json:"backlog,omitempty"`

	LatencyMs map[string]float64 `json:"latency_ms"`
	Histogram []jsonBin          `json:"histogram,omitempty"`

	Status       map[string]int64 `json:"status"`
	ErrorClasses map[string]int64 `json:"error_classes"`

	AllocsPerRequest     float64 `json:"allocs_per_request"`
	AllocBytesPerRequest float64 `json:"alloc_bytes_per_request"`
	CPUPerRequestUs      float64 `json:"cpu_per_request_us"`
}

type jsonBin struct {
	LoMs  float64 `json:"lo_ms"`
	HiMs  float64 `json:"hi_ms"`
	Count uint64  `json:"count"`
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// WriteJSON writes res as one indented JSON object.
func WriteJSON(w io.Writer, res *Result) error { return encode(w, toJSON(res)) }

// WriteJSONComparison writes {nameA: a, nameB: b} as one JSON object.
func WriteJSONComparison(w io.Writer, a, b *Result, nameA, nameB string) error {
	return encode(w, map[string]jsonResult{nameA: toJSON(a), nameB: toJSON(b)})
}

func encode(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func toJSON(res *Result) jsonResult {
	l := res.Latency
	out := jsonResult{
		URL: res.URL, Method: res.Method, Concurrency: res.Concurrency, Threads: res.Threads, Rate: res.Rate,
		Requests: res.Requests, Errors: res.Errors, DurationSec: res.Duration.Seconds(),
		Throughput: res.Throughput, BodyBytes: res.Bytes, Backlog: res.Backlog,
		LatencyMs: map[string]float64{
			"min": ms(l.Min), "mean": ms(l.Mean), "p50": ms(l.P50), "p90": ms(l.P90),
			"p99": ms(l.P99), "p99.9": ms(l.P999), "max": ms(l.Max),
		},
		Status:               make(map[string]int64, len(res.Status)),
		ErrorClasses:         res.ErrorClasses,
		AllocsPerRequest:     res.AllocsPerRequest,
		AllocBytesPerRequest: res.AllocBytesPerRequest,
		CPUPerRequestUs:      float64(res.CPUPerRequest) / float64(time.Microsecond),
	}
	if out.ErrorClasses == nil {
		out.ErrorClasses = map[string]int64{}
	}
	for code, n := range res.Status {
		out.Status[strconv.Itoa(code)] = n
	}
	if res.Histogram != nil {
		for _, b := range res.Histogram.Bins(histogramBins) {
			out.Histogram = append(out.Histogram, jsonBin{ms(b.Lo), ms(b.Hi), b.Count})
		}
	}
	return out
}

package load

import "time"

// Result is what a run measured.
type Result struct {
	// The load that was asked for.
	URL         string
	Method      string
	Concurrency int
	Threads     int     // GOMAXPROCS during the run
	Rate        float64 // 0: closed loop

	Requests   int64         // finished: responses + errors
	Errors     int64         // no response, or its body failed
	Duration   time.Duration // start to the last request's end
	Throughput float64       // Requests per second of Duration
	Bytes      int64         // response body bytes read
	// Backlog counts open-loop requests that were due before the
	// Duration ended but never started: every worker was busy.
	Backlog int64

	Latency   Latency    // successful requests, body read to EOF
	Histogram *Histogram // the same, in full

	Status       map[int]int64    // by status code
	ErrorClasses map[string]int64 // by ErrorClass
	ErrorSamples map[string]error // the first error of each class

	// Process cost per finished request, measured around the run; it
	// includes the server's when the server runs in this process.
	AllocsPerRequest     float64
	AllocBytesPerRequest float64
	CPUPerRequest        time.Duration // user + system
}

// Latency summarizes a Histogram.
type Latency struct {
	Min, Mean, P50, P90, P99, P999, Max time.Duration
}

func summarize(h *Histogram) Latency {
	return Latency{
		Min: h.Min(), Mean: h.Mean(), Max: h.Max(),
		P50: h.Percentile(50), P90: h.Percentile(90),
		P99: h.Percentile(99), P999: h.Percentile(99.9),
	}
}

// Snapshot is a run's progress, handed to the progress callback about five
// times a second and once more, with Final set, when the run ends.
type Snapshot struct {
	Done     int64 // finished requests, errors included
	Errors   int64
	Elapsed  time.Duration
	RPS      float64       // since the previous snapshot; whole run when Final
	Requests int64         // the run's request limit, 0 if none
	Duration time.Duration // the run's time limit, 0 if none
	Final    bool
}

// tally is one worker's share of a Result.
type tally struct {
	hist    *Histogram
	status  map[int]int64
	classes map[string]int64
	samples map[string]error
	bytes   int64
}

func newTally() *tally {
	return &tally{
		hist:    NewHistogram(),
		status:  make(map[int]int64),
		classes: make(map[string]int64),
		samples: make(map[string]error),
	}
}

func (t *tally) fail(err error) {
	c := ErrorClass(err)
	if t.classes[c] == 0 {
		t.samples[c] = err
	}
	t.classes[c]++
}

func (t *tally) merge(o *tally) {
	t.hist.Merge(o.hist)
	for k, v := range o.status {
		t.status[k] += v
	}
	for k, v := range o.classes {
		if t.classes[k] == 0 {
			t.samples[k] = o.samples[k]
		}
		t.classes[k] += v
	}
	t.bytes += o.bytes
}

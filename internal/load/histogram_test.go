package load

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// precision is the relative error a bucket may add: one bucket width.
const precision = 1.0 / subCount

func TestBucketIndexRoundTrip(t *testing.T) {
	for _, v := range []int64{0, 1, 127, 128, 255, 256, 257, 511, 512, 1000, 1e6, 123456789, int64(MaxValue)} {
		lo, hi := bucketBounds(bucketIndex(v))
		if v < lo || v > hi {
			t.Errorf("value %d in bucket [%d, %d]", v, lo, hi)
		}
		if v >= 2*subCount && float64(hi-lo+1)/float64(lo) > precision+1e-12 {
			t.Errorf("bucket [%d, %d] wider than %.4f relative", lo, hi, precision)
		}
	}
	// Buckets tile the range without gaps.
	for i := bucketIndex(0); i < bucketIndex(int64(MaxValue)); i++ {
		_, hi := bucketBounds(i)
		if lo, _ := bucketBounds(i + 1); lo != hi+1 {
			t.Fatalf("gap after bucket %d: hi %d, next lo %d", i, hi, lo)
		}
	}
}

func TestPercentilesOnKnownData(t *testing.T) {
	h := NewHistogram()
	for i := 1; i <= 10000; i++ { // 1µs … 10ms, uniform
		h.Record(time.Duration(i) * time.Microsecond)
	}
	for _, tc := range []struct {
		q    float64
		want time.Duration
	}{
		{0, time.Microsecond}, {50, 5 * time.Millisecond}, {90, 9 * time.Millisecond},
		{99, 9900 * time.Microsecond}, {99.9, 9990 * time.Microsecond}, {100, 10 * time.Millisecond},
	} {
		got := h.Percentile(tc.q)
		if got < tc.want || float64(got-tc.want) > precision*float64(tc.want) {
			t.Errorf("p%v = %v, want %v within +%.2f%%", tc.q, got, tc.want, 100*precision)
		}
	}
	if h.Min() != time.Microsecond || h.Max() != 10*time.Millisecond || h.Count() != 10000 {
		t.Errorf("min %v max %v count %d", h.Min(), h.Max(), h.Count())
	}
	if want := 5000500 * time.Nanosecond; h.Mean() != want {
		t.Errorf("mean %v, want %v", h.Mean(), want)
	}
}

func TestPercentileAgainstSort(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	h := NewHistogram()
	var vals []time.Duration
	for range 50000 { // log-normal-ish: 10µs … 1s
		v := time.Duration(float64(10*time.Microsecond) * (1 + r.ExpFloat64()*r.ExpFloat64()*50))
		vals = append(vals, v)
		h.Record(v)
	}
	slices.Sort(vals)
	for _, q := range []float64{1, 25, 50, 75, 90, 99, 99.9} {
		exact := vals[int(q/100*float64(len(vals)))-1]
		got := h.Percentile(q)
		if rel := float64(got-exact) / float64(exact); rel < -precision || rel > precision {
			t.Errorf("p%v = %v, exact %v (%.3f%% off)", q, got, exact, 100*rel)
		}
	}
}

func TestMergeEqualsOneHistogram(t *testing.T) {
	one, a, b := NewHistogram(), NewHistogram(), NewHistogram()
	for i := 1; i <= 1000; i++ {
		d := time.Duration(i*i) * time.Microsecond
		one.Record(d)
		if i%2 == 0 {
			a.Record(d)
		} else {
			b.Record(d)
		}
	}
	a.Merge(b)
	a.Merge(NewHistogram())
	if summarize(a) != summarize(one) || !slices.Equal(a.counts, one.counts) {
		t.Errorf("merged %+v, want %+v", summarize(a), summarize(one))
	}
}

func TestClampAndEmpty(t *testing.T) {
	h := NewHistogram()
	if h.Percentile(50) != 0 || h.Mean() != 0 || h.Bins(10) != nil {
		t.Error("empty histogram should report zeros")
	}
	h.Record(10 * time.Nanosecond)
	h.Record(2 * time.Minute)
	if h.Min() != 10*time.Nanosecond || h.Max() != 2*time.Minute {
		t.Errorf("min/max not exact: %v %v", h.Min(), h.Max())
	}
	if p := h.Percentile(50); p < MinValue || float64(p-MinValue) > precision*float64(MinValue) {
		t.Errorf("p50 = %v, want the clamped %v within a bucket", p, MinValue)
	}
	if p := h.Percentile(100); p != 2*time.Minute {
		t.Errorf("p100 = %v, want the exact max", p)
	}
}

func TestBins(t *testing.T) {
	h := NewHistogram()
	for i := range 1000 {
		h.Record(time.Millisecond + time.Duration(i%10)*time.Millisecond) // 1ms … 10ms
	}
	bins := h.Bins(10)
	if len(bins) != 10 || bins[0].Lo != time.Millisecond || bins[9].Hi != 10*time.Millisecond {
		t.Fatalf("bins %+v", bins)
	}
	var sum uint64
	for i, b := range bins {
		sum += b.Count
		if i > 0 && b.Lo != bins[i-1].Hi {
			t.Errorf("bin %d starts at %v, previous ends at %v", i, b.Lo, bins[i-1].Hi)
		}
	}
	if sum != 1000 {
		t.Errorf("bins hold %d values, want 1000", sum)
	}
	single := NewHistogram()
	single.Record(time.Millisecond)
	if b := single.Bins(10); len(b) != 1 || b[0].Count != 1 {
		t.Errorf("one value: %+v", b)
	}
}

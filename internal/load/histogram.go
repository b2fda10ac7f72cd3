package load

import (
	"math"
	"math/bits"
	"time"
)

// Histogram records durations in log-linear buckets, the layout of
// HdrHistogram: every power of two is split into subCount equal buckets, so
// a value's bucket is at most 1/subCount ≈ 0.8% wide relative to the value.
// Values are clamped to [MinValue, MaxValue]; min, max and the sum are kept
// exactly. The zero value is not usable: call NewHistogram. A Histogram is
// not safe for concurrent use: give each worker its own and Merge them.
type Histogram struct {
	counts []uint64 // counts[i] is bucket minIndex+i
	total  uint64
	sum    time.Duration
	min    time.Duration
	max    time.Duration
}

const (
	subBits  = 7
	subCount = 1 << subBits // buckets per power of two: ≤ 0.78% relative width

	// MinValue and MaxValue bound what a Histogram resolves; a latency
	// outside is counted in the first or last bucket.
	MinValue = time.Microsecond
	MaxValue = 60 * time.Second
)

var (
	minIndex   = bucketIndex(int64(MinValue))
	numBuckets = bucketIndex(int64(MaxValue)) - minIndex + 1
)

// bucketIndex maps v ≥ 0 nanoseconds to its bucket: exact below
// 2·subCount, then subCount buckets per power of two.
func bucketIndex(v int64) int {
	shift := max(0, bits.Len64(uint64(v))-(subBits+1))
	return shift<<subBits + int(v>>shift)
}

// bucketBounds is the inverse of bucketIndex: the range [lo, hi] of values
// that land in bucket idx.
func bucketBounds(idx int) (lo, hi int64) {
	shift := 0
	if idx >= 2*subCount {
		shift = idx>>subBits - 1
	}
	mant := int64(idx - shift<<subBits)
	return mant << shift, (mant+1)<<shift - 1
}

// NewHistogram returns an empty histogram.
func NewHistogram() *Histogram {
	return &Histogram{counts: make([]uint64, numBuckets)}
}

// Record adds one value.
func (h *Histogram) Record(d time.Duration) {
	v := min(max(d, MinValue), MaxValue)
	h.counts[bucketIndex(int64(v))-minIndex]++
	if h.total == 0 || d < h.min {
		h.min = d
	}
	if d > h.max {
		h.max = d
	}
	h.total++
	h.sum += d
}

// Merge adds all of o's values to h.
func (h *Histogram) Merge(o *Histogram) {
	if o.total == 0 {
		return
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	if h.total == 0 || o.min < h.min {
		h.min = o.min
	}
	h.max = max(h.max, o.max)
	h.total += o.total
	h.sum += o.sum
}

// Count is the number of recorded values.
func (h *Histogram) Count() uint64 { return h.total }

// Min, Max and Mean are exact.
func (h *Histogram) Min() time.Duration { return h.min }
func (h *Histogram) Max() time.Duration { return h.max }
func (h *Histogram) Mean() time.Duration {
	if h.total == 0 {
		return 0
	}
	return h.sum / time.Duration(h.total)
}

// Percentile returns the value at or below which q percent (0–100) of the
// recorded values fall: the upper bound of the bucket holding that rank,
// clipped to the exact min and max, so it overstates by at most one bucket
// width. 0 for an empty histogram.
func (h *Histogram) Percentile(q float64) time.Duration {
	if h.total == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q / 100 * float64(h.total)))
	rank = min(max(rank, 1), h.total)
	if rank == h.total {
		return h.max // exact, and the top bucket holds everything above MaxValue
	}
	var cum uint64
	for i, c := range h.counts {
		cum += c
		if cum >= rank {
			_, hi := bucketBounds(i + minIndex)
			return min(max(time.Duration(hi), h.min), h.max)
		}
	}
	return h.max
}

// Bin is one bar of a coarse view of the histogram: Count values in [Lo, Hi].
type Bin struct {
	Lo, Hi time.Duration
	Count  uint64
}

// Bins regroups the histogram into n bins spaced geometrically from Min to
// Max (latency spreads over orders of magnitude). Each fine bucket goes
// whole into the bin that holds its midpoint.
func (h *Histogram) Bins(n int) []Bin {
	if h.total == 0 || n < 1 {
		return nil
	}
	lo, hi := float64(max(h.min, 1)), float64(max(h.max, 1))
	if hi <= lo || n == 1 {
		return []Bin{{Lo: h.min, Hi: h.max, Count: h.total}}
	}
	ratio := math.Pow(hi/lo, 1/float64(n))
	bins := make([]Bin, n)
	edge := lo
	for i := range bins {
		bins[i].Lo = time.Duration(edge)
		edge *= ratio
		bins[i].Hi = time.Duration(edge)
	}
	bins[0].Lo, bins[n-1].Hi = h.min, h.max
	for i, c := range h.counts {
		if c == 0 {
			continue
		}
		blo, bhi := bucketBounds(i + minIndex)
		mid := min(max(float64(blo+bhi)/2, lo), hi)
		k := int(math.Log(mid/lo) / math.Log(ratio))
		bins[min(max(k, 0), n-1)].Count += c
	}
	return bins
}

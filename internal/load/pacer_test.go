package load

import (
	"testing"
	"time"
)

func TestPacerDue(t *testing.T) {
	p := Pacer{Rate: 1000} // one per millisecond
	for _, tc := range []struct {
		elapsed time.Duration
		want    int64
	}{
		{-1, 0}, {0, 1}, {999 * time.Microsecond, 1}, {time.Millisecond, 2},
		{time.Second - 1, 1000}, {time.Second, 1001}, {10 * time.Second, 10001},
	} {
		if got := p.Due(tc.elapsed); got != tc.want {
			t.Errorf("Due(%v) = %d, want %d", tc.elapsed, got, tc.want)
		}
	}
}

func TestPacerAtInvertsDue(t *testing.T) {
	for _, rate := range []float64{0.5, 1, 3, 7.3, 1000, 12345.678, 1e6} {
		p := Pacer{Rate: rate}
		for i := int64(0); i < 5000; i++ {
			at := p.At(i)
			if got := p.Due(at); got != i+1 {
				t.Fatalf("rate %v: Due(At(%d)=%v) = %d, want %d", rate, i, at, got, i+1)
			}
			if at > 0 {
				if got := p.Due(at - 1); got != i {
					t.Fatalf("rate %v: Due(At(%d)-1ns) = %d, want %d", rate, i, got, i)
				}
			}
		}
	}
}

func TestPacerIsMonotonicAndEven(t *testing.T) {
	p := Pacer{Rate: 250}
	var last int64
	for e := time.Duration(0); e <= 2*time.Second; e += 137 * time.Microsecond {
		n := p.Due(e)
		if n < last {
			t.Fatalf("Due went back from %d to %d at %v", last, n, e)
		}
		last = n
	}
	if got := p.At(250) - p.At(0); got != time.Second {
		t.Errorf("250 slots span %v, want 1s", got)
	}
	if (Pacer{}).Due(time.Hour) != 0 {
		t.Error("a zero rate schedules nothing")
	}
}

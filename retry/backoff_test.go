package retry

import (
	"math"
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	exp := Exponential(100*time.Millisecond, 2)
	for attempt, want := range map[int]time.Duration{0: 100 * time.Millisecond, 1: 100 * time.Millisecond, 2: 200 * time.Millisecond, 4: 800 * time.Millisecond} {
		if got := exp.Next(attempt); got != want {
			t.Errorf("Exponential attempt %d: %v, want %v", attempt, got, want)
		}
	}
	if got := exp.Next(10000); got != math.MaxInt64 {
		t.Errorf("Exponential overflow: %v", got)
	}
	if got := Exponential(time.Second, 0.5).Next(3); got != time.Second {
		t.Errorf("factor below 1: %v", got)
	}
	capped := Capped(exp, time.Second)
	if capped.Next(3) != 400*time.Millisecond || capped.Next(60) != time.Second {
		t.Errorf("Capped: %v %v", capped.Next(3), capped.Next(60))
	}
	if Constant(time.Second).Next(9) != time.Second {
		t.Error("Constant")
	}
	j := Jittered(Constant(time.Second))
	var sum time.Duration
	const n = 2000
	for range n {
		d := j.Next(1)
		if d < 0 || d > time.Second {
			t.Fatalf("Jittered out of range: %v", d)
		}
		sum += d
	}
	// Full jitter averages half the pause.
	if mean := sum / n; mean < 400*time.Millisecond || mean > 600*time.Millisecond {
		t.Errorf("Jittered mean %v", mean)
	}
	if Jittered(Constant(0)).Next(1) != 0 || Jittered(Constant(-1)).Next(1) != 0 {
		t.Error("Jittered of nothing")
	}
	if d := Jittered(Constant(math.MaxInt64)).Next(1); d < 0 {
		t.Error("Jittered of the maximum")
	}
	def := DefaultBackoff()
	for attempt := 1; attempt < 70; attempt++ {
		if d := def.Next(attempt); d < 0 || d > defaultBackoffMax {
			t.Fatalf("DefaultBackoff attempt %d: %v", attempt, d)
		}
	}
}

package retry

import (
	"errors"
	"math"
	"testing"
	"testing/synctest"
	"time"
)

func TestBudgetWindow(t *testing.T) {
	b := NewBudget(0.5, 1, 10*time.Second)
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	for range 4 {
		b.recordRequest("a", t0)
	}
	// 1 + 0.5×4 = 3 retries.
	for i := range 3 {
		if !b.allowRetry("a", t0.Add(time.Duration(i)*time.Second)) {
			t.Fatalf("retry %d refused", i+1)
		}
	}
	if b.allowRetry("a", t0.Add(3*time.Second)) {
		t.Fatal("fourth retry allowed")
	}
	if !b.allowRetry("b", t0) {
		t.Fatal("budgets are per host")
	}
	// At t0+10s the requests at t0 have left the window but the retries
	// at t0+1s, t0+2s have not: 2 retries against 1 + 0 allowed.
	if b.allowRetry("a", t0.Add(10*time.Second)) {
		t.Fatal("allowed while recent retries exceed the minimum")
	}
	// At t0+12.5s nothing remains: the minimum applies again.
	if !b.allowRetry("a", t0.Add(12500*time.Millisecond)) {
		t.Fatal("budget did not recover")
	}
}

func TestBudgetSweepsIdleHosts(t *testing.T) {
	b := NewBudget(0.2, 3, time.Second)
	t0 := time.Unix(1000, 0)
	b.recordRequest("a", t0)
	b.recordRequest("b", t0)
	b.recordRequest("c", t0.Add(5*time.Second))
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.hosts) != 1 || b.hosts["c"] == nil {
		t.Fatalf("hosts %v", b.hosts)
	}
}

func TestBudgetBeforeEpoch(t *testing.T) {
	b := NewBudget(0, 1, time.Second)
	t0 := time.Unix(-5, -300)
	if !b.allowRetry("a", t0) || b.allowRetry("a", t0.Add(500*time.Millisecond)) {
		t.Fatal("negative times bucket wrongly")
	}
	if !b.allowRetry("a", t0.Add(1100*time.Millisecond)) {
		t.Fatal("did not recover")
	}
}

func TestBudgetUnlimited(t *testing.T) {
	b := NewBudget(math.Inf(1), 0, 0)
	for range 100 {
		if !b.allowRetry("a", time.Now()) {
			t.Fatal("refused")
		}
	}
}

// A backend that always fails: with the defaults (3 + 20% per 10s) the
// first request gets its 2 retries, the second 1, the third none; after
// the window the budget is back.
func TestBudgetExhausted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeRT{steps: []step{{err: errRefused}}}
		tr := &Transport{Next: f, Backoff: Constant(10 * time.Millisecond)}
		check := func(wantAttempts int, exhausted bool) {
			t.Helper()
			before := f.attempts()
			_, err := tr.RoundTrip(newReq(t, "GET", nil))
			if got := f.attempts() - before; got != wantAttempts {
				t.Fatalf("%d attempts, want %d", got, wantAttempts)
			}
			if errors.Is(err, ErrBudgetExhausted) != exhausted || !errors.Is(err, errRefused) {
				t.Fatalf("err %v, want exhausted=%v", err, exhausted)
			}
		}
		check(3, false)
		check(2, true)
		check(1, true)
		if s := tr.Stats(); s.BudgetExhausted != 2 || s.GaveUp != 3 || s.Retries != 3 || s.Attempts != 6 || s.Requests != 3 {
			t.Fatalf("stats %+v", s)
		}
		time.Sleep(DefaultBudgetWindow)
		check(3, false)
	})
}

// Budgets are per host: one failing host does not stop retries to another.
func TestBudgetPerHost(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeRT{steps: []step{{err: errRefused}}}
		tr := &Transport{Next: f, Backoff: Constant(0), Budget: NewBudget(0, 2, time.Minute)}
		tr.RoundTrip(newReq(t, "GET", nil))
		_, err := tr.RoundTrip(newReq(t, "GET", nil))
		if !errors.Is(err, ErrBudgetExhausted) {
			t.Fatalf("err %v", err)
		}
		other := newReq(t, "GET", nil)
		other.URL.Host = "other.test"
		if _, err := tr.RoundTrip(other); errors.Is(err, ErrBudgetExhausted) {
			t.Fatalf("other host refused: %v", err)
		}
	})
}

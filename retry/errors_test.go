package retry

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

func TestErrorMessageAndTimeout(t *testing.T) {
	e := &Error{Attempts: 2, Errs: []error{&StatusError{StatusCode: 503}, timeoutErr{}}, Stop: ErrBudgetExhausted}
	const want = "retry: 2 attempts, stopped: retry budget exhausted; attempt 1: response 503 Service Unavailable; attempt 2: i/o timeout"
	if e.Error() != want {
		t.Fatalf("%q", e.Error())
	}
	if !e.Timeout() {
		t.Fatal("last attempt timed out")
	}
	one := &Error{Attempts: 1, Errs: []error{&StatusError{StatusCode: 503, Status: "503 Busy"}}, Stop: context.Canceled}
	if one.Error() != "retry: 1 attempt, stopped: context canceled; attempt 1: response 503 Busy" || one.Timeout() {
		t.Fatalf("%q %v", one.Error(), one.Timeout())
	}
	if (&Error{}).Timeout() || !(&Error{Stop: context.DeadlineExceeded}).Timeout() {
		t.Fatal("Timeout")
	}
	if !errors.Is(e, ErrBudgetExhausted) {
		t.Fatal("Stop not unwrapped")
	}
}

// Concurrent RoundTrips share the budget and counters (run with -race).
func TestConcurrent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeRT{steps: []step{{status: 503}, {status: 200}}}
		tr := &Transport{Next: f, Budget: NewBudget(1, 100, time.Minute)}
		var wg sync.WaitGroup
		for range 20 {
			wg.Go(func() {
				req, _ := http.NewRequest("GET", "http://example.test/", nil)
				resp, err := tr.RoundTrip(req)
				if err != nil {
					t.Error(err)
					return
				}
				resp.Body.Close()
			})
		}
		wg.Wait()
		if s := tr.Stats(); s.Requests != 20 || s.Attempts != 21 || s.Retries != 1 {
			t.Fatalf("stats %+v", s)
		}
	})
}

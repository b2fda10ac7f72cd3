package retry

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/spoolhttp/spool/internal/errs"
)

var errRefused = &errs.Error{Op: errs.OpDial, Addr: "example.test:80", Err: &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}}

func Test503Then200(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeRT{steps: []step{{status: 503}, {status: 200}}}
		tr := &Transport{Next: f}
		resp, err := tr.RoundTrip(newReq(t, "GET", nil))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != 200 || f.attempts() != 2 {
			t.Fatalf("status %d after %d attempts", resp.StatusCode, f.attempts())
		}
		first := f.resps[0]
		if !first.drained() || first.closes.Load() != 1 {
			t.Fatalf("first body: drained %v, closes %d", first.drained(), first.closes.Load())
		}
		if f.resps[1].closes.Load() != 0 {
			t.Fatal("returned body closed by the transport")
		}
		want := Stats{Requests: 1, Attempts: 2, Retries: 1}
		if got := tr.Stats(); got != want {
			t.Fatalf("stats %+v, want %+v", got, want)
		}
	})
}

func TestRetryAfter(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		value  func(now time.Time) string
		want   time.Duration
	}{
		{"seconds 503", 503, func(time.Time) string { return "7" }, 7 * time.Second},
		{"seconds 429", 429, func(time.Time) string { return "2" }, 2 * time.Second},
		{"http-date", 503, func(now time.Time) string {
			return now.Add(12 * time.Second).UTC().Format(http.TimeFormat)
		}, 12 * time.Second},
		{"date in the past", 503, func(now time.Time) string {
			return now.Add(-time.Hour).UTC().Format(http.TimeFormat)
		}, 0},
		{"zero", 429, func(time.Time) string { return "0" }, 0},
		{"exactly the cap", 503, func(time.Time) string { return "30" }, 30 * time.Second},
		// Retry-After on a 502 means nothing (§10.2.3): the backoff applies.
		{"ignored on 502", 502, func(time.Time) string { return "20" }, time.Second},
		{"malformed: backoff", 503, func(time.Time) string { return "soon" }, time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				start := time.Now()
				h := http.Header{"Retry-After": {tc.value(start)}}
				f := &fakeRT{steps: []step{{status: tc.status, header: h}, {status: 200}}}
				tr := &Transport{Next: f, Backoff: Constant(time.Second)}
				resp, err := tr.RoundTrip(newReq(t, "GET", nil))
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if got := time.Since(start); got != tc.want || resp.StatusCode != 200 {
					t.Fatalf("waited %v (status %d), want %v", got, resp.StatusCode, tc.want)
				}
			})
		})
	}
}

func TestRetryAfterBeyondCap(t *testing.T) {
	for _, tc := range []struct {
		name  string
		value string
		max   time.Duration
	}{
		{"default cap", "31", 0},
		{"custom cap", "6", 5 * time.Second},
		{"overflowing seconds", "99999999999999999999999", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				start := time.Now()
				h := http.Header{"Retry-After": {tc.value}}
				f := &fakeRT{steps: []step{{status: 503, header: h}, {status: 200}}}
				tr := &Transport{Next: f, MaxRetryAfter: tc.max}
				resp, err := tr.RoundTrip(newReq(t, "GET", nil))
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				if resp.StatusCode != 503 || f.attempts() != 1 || time.Since(start) != 0 {
					t.Fatalf("status %d, attempts %d, waited %v", resp.StatusCode, f.attempts(), time.Since(start))
				}
				if f.resps[0].closes.Load() != 0 || f.resps[0].drained() {
					t.Fatal("the returned response's body was consumed")
				}
				if s := tr.Stats(); s.GaveUp != 1 || s.Retries != 0 {
					t.Fatalf("stats %+v", s)
				}
			})
		})
	}
}

func TestPOSTNotRetried(t *testing.T) {
	f := &fakeRT{steps: []step{{status: 503}, {status: 200}}}
	tr := &Transport{Next: f}
	resp, err := tr.RoundTrip(newReq(t, "POST", strings.NewReader("data")))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 503 || f.attempts() != 1 {
		t.Fatalf("status %d after %d attempts", resp.StatusCode, f.attempts())
	}
	// A reset connection mid-request may have reached the server: not retried either.
	reset := &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}
	f = &fakeRT{steps: []step{{err: reset}, {status: 200}}}
	tr = &Transport{Next: f}
	_, err = tr.RoundTrip(newReq(t, "POST", strings.NewReader("data")))
	if err != reset || f.attempts() != 1 {
		t.Fatalf("err %v after %d attempts; want the attempt's error unchanged", err, f.attempts())
	}
}

// A dial failure proves the request was never sent (RFC 9110 §9.2.2), so
// even a POST is retried.
func TestPOSTRetriedWhenNotSent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeRT{steps: []step{{err: errRefused}, {status: 201}}}
		tr := &Transport{Next: f}
		resp, err := tr.RoundTrip(newReq(t, "POST", strings.NewReader("data")))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 201 || f.attempts() != 2 || string(f.bodies[1]) != "data" {
			t.Fatalf("status %d after %d attempts, body %q", resp.StatusCode, f.attempts(), f.bodies[1])
		}
	})
}

func TestIdempotencyKeyRetriedWithSameBody(t *testing.T) {
	for _, key := range []string{"Idempotency-Key", "X-Idempotency-Key"} {
		t.Run(key, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := &fakeRT{steps: []step{{status: 503}, {status: 502}, {status: 200}}}
				tr := &Transport{Next: f}
				req := newReq(t, "POST", bytes.NewReader([]byte(`{"amount":5}`)))
				req.Header.Set(key, "abc-123")
				resp, err := tr.RoundTrip(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != 200 || f.attempts() != 3 {
					t.Fatalf("status %d after %d attempts", resp.StatusCode, f.attempts())
				}
				for i, b := range f.bodies {
					if string(b) != `{"amount":5}` {
						t.Errorf("attempt %d sent %q", i+1, b)
					}
					if f.reqs[i].Header.Get(key) != "abc-123" {
						t.Errorf("attempt %d lost the key", i+1)
					}
				}
			})
		})
	}
}

func TestBodyWithoutGetBodyNotRetried(t *testing.T) {
	reset := &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}
	f := &fakeRT{steps: []step{{err: reset}, {status: 200}}}
	tr := &Transport{Next: f}
	body := &countingCloser{Reader: strings.NewReader("payload")}
	req := newReq(t, "PUT", body) // an unknown reader type: no GetBody
	if req.GetBody != nil {
		t.Fatal("test needs a request without GetBody")
	}
	_, err := tr.RoundTrip(req)
	if f.attempts() != 1 {
		t.Fatalf("%d attempts", f.attempts())
	}
	if !errors.Is(err, ErrBodyNotRewindable) || !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("err %v: want ErrBodyNotRewindable and the attempt's error", err)
	}
	var e *Error
	if !errors.As(err, &e) || e.Attempts != 1 || e.Stop != ErrBodyNotRewindable {
		t.Fatalf("err %#v", err)
	}
	if body.closes.Load() != 1 {
		t.Fatalf("body closed %d times", body.closes.Load())
	}
	// A retryable response is still returned as it is.
	f = &fakeRT{steps: []step{{status: 503}, {status: 200}}}
	tr = &Transport{Next: f}
	resp, err := tr.RoundTrip(newReq(t, "PUT", &countingCloser{Reader: strings.NewReader("payload")}))
	if err != nil || resp.StatusCode != 503 || f.attempts() != 1 {
		t.Fatalf("resp %v, err %v, attempts %d", resp, err, f.attempts())
	}
	resp.Body.Close()
	if s := tr.Stats(); s.GaveUp != 1 {
		t.Fatalf("stats %+v", s)
	}
}

func TestFinalErrorWrapsEveryAttempt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e1 := &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}
		e2 := &errs.Error{Op: errs.OpAwaitHeaders, Err: io.ErrUnexpectedEOF}
		f := &fakeRT{steps: []step{{err: e1}, {err: e2}, {err: errRefused}}}
		tr := &Transport{Next: f}
		resp, err := tr.RoundTrip(newReq(t, "GET", nil))
		if resp != nil {
			t.Fatal("response with an error")
		}
		var e *Error
		if !errors.As(err, &e) || e.Attempts != 3 || len(e.Errs) != 3 || e.Stop != nil {
			t.Fatalf("err %#v", err)
		}
		for _, want := range []error{e1, e2, errRefused, io.ErrUnexpectedEOF, syscall.ECONNREFUSED} {
			if !errors.Is(err, want) {
				t.Errorf("errors.Is(err, %v) = false", want)
			}
		}
		if !strings.Contains(err.Error(), "3 attempts") {
			t.Errorf("message %q does not say how many attempts", err)
		}
		if s := tr.Stats(); s != (Stats{Requests: 1, Attempts: 3, Retries: 2, GaveUp: 1}) {
			t.Fatalf("stats %+v", s)
		}
	})
}

// Responses retried before a final error appear as *StatusError.
func TestFinalErrorAfterResponses(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeRT{steps: []step{{status: 503}, {err: errRefused}}}
		tr := &Transport{Next: f, MaxAttempts: 2}
		_, err := tr.RoundTrip(newReq(t, "GET", nil))
		var se *StatusError
		if !errors.As(err, &se) || se.StatusCode != 503 || !errors.Is(err, syscall.ECONNREFUSED) {
			t.Fatalf("err %v", err)
		}
		if f.resps[0].closes.Load() != 1 {
			t.Fatal("discarded response not closed")
		}
	})
}

func TestContextCancelledDuringWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeRT{steps: []step{{status: 503}}}
		tr := &Transport{Next: f, Backoff: Constant(time.Hour)}
		ctx, cancel := context.WithCancel(t.Context())
		time.AfterFunc(3*time.Second, cancel)
		start := time.Now()
		resp, err := tr.RoundTrip(newReq(t, "GET", nil).WithContext(ctx))
		if resp != nil || time.Since(start) != 3*time.Second {
			t.Fatalf("resp %v after %v", resp, time.Since(start))
		}
		var e *Error
		if !errors.Is(err, context.Canceled) || !errors.As(err, &e) || e.Attempts != 1 {
			t.Fatalf("err %v", err)
		}
		if f.resps[0].closes.Load() != 1 || f.attempts() != 1 {
			t.Fatal("discarded response not closed, or retried after cancel")
		}
	})
}

func TestDeadlineDuringWaitIsTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeRT{steps: []step{{err: errRefused}}}
		tr := &Transport{Next: f, Backoff: Constant(time.Minute)}
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		_, err := tr.RoundTrip(newReq(t, "GET", nil).WithContext(ctx))
		var e *Error
		if !errors.As(err, &e) || !e.Timeout() || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err %v", err)
		}
	})
}

func TestNotRetried(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
	}{
		{"permanent", &errs.Error{Op: errs.OpAwaitHeaders, Err: permanentErr{true}}},
		{"cancelled", &errs.Error{Op: errs.OpWrite, Err: context.Canceled}},
		{"unknown", errors.New("something else")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeRT{steps: []step{{err: tc.err}, {status: 200}}}
			tr := &Transport{Next: f}
			_, err := tr.RoundTrip(newReq(t, "GET", nil))
			if err != tc.err || f.attempts() != 1 {
				t.Fatalf("err %v after %d attempts", err, f.attempts())
			}
		})
	}
	for _, err := range tlsErrors() {
		t.Run("tls", func(t *testing.T) {
			f := &fakeRT{steps: []step{{err: err}, {status: 200}}}
			tr := &Transport{Next: f}
			if _, got := tr.RoundTrip(newReq(t, "GET", nil)); got != err || f.attempts() != 1 {
				t.Fatalf("%T: err %v after %d attempts", err, got, f.attempts())
			}
		})
	}
}

// The caller's own expired context ends a pool wait for good.
func TestPoolWaitAfterCallerDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		wait := &errs.Error{Op: errs.OpPoolWait, Err: context.DeadlineExceeded}
		f := &fakeRT{steps: []step{{err: wait}}}
		tr := &Transport{Next: f}
		req := newReq(t, "GET", nil).WithContext(ctx)
		time.Sleep(2 * time.Second)
		if _, err := tr.RoundTrip(req); err != wait || f.attempts() != 1 {
			t.Fatalf("err %v after %d attempts", err, f.attempts())
		}
	})
}

func TestUserPolicy(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeRT{steps: []step{{status: 500}, {status: 200}}}
		var seen []int
		tr := &Transport{Next: f, Policy: func(req *http.Request, resp *http.Response, err error, attempt int) Decision {
			seen = append(seen, attempt)
			if resp != nil && resp.StatusCode == 500 {
				return Decision{Retry: true, Reason: "500 is flaky here"}
			}
			return DefaultPolicy(req, resp, err, attempt)
		}}
		var reason string
		tr.OnRetry = func(e Event) { reason = e.Reason }
		resp, err := tr.RoundTrip(newReq(t, "GET", nil))
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("resp %v err %v", resp, err)
		}
		resp.Body.Close()
		if len(seen) != 2 || seen[0] != 1 || seen[1] != 2 || reason != "500 is flaky here" {
			t.Fatalf("policy saw attempts %v, reason %q", seen, reason)
		}
	})
}

func TestMaxAttempts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		for _, tc := range []struct{ max, want int }{{0, 3}, {1, 1}, {5, 5}, {-2, 3}} {
			f := &fakeRT{steps: []step{{status: 503}}}
			tr := &Transport{Next: f, MaxAttempts: tc.max, Budget: NewBudget(math.Inf(1), 0, 0)}
			resp, err := tr.RoundTrip(newReq(t, "GET", nil))
			if err != nil || resp.StatusCode != 503 || f.attempts() != tc.want {
				t.Fatalf("MaxAttempts %d: %d attempts, err %v", tc.max, f.attempts(), err)
			}
			resp.Body.Close()
			for i, b := range f.resps[:len(f.resps)-1] {
				if b.closes.Load() != 1 {
					t.Fatalf("MaxAttempts %d: response %d not closed", tc.max, i+1)
				}
			}
		}
	})
}

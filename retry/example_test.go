package retry_test

import (
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"time"

	"github.com/spoolhttp/spool"
	"github.com/spoolhttp/spool/retry"
)

// Retries go below the client, around spool's Transport: redirects,
// cookies and Client.Timeout (which bounds all attempts together) stay
// the client's.
func Example() {
	client := &http.Client{
		Transport: &retry.Transport{Next: &spool.Transport{}},
		Timeout:   10 * time.Second,
	}
	resp, err := client.Get("https://example.com/")
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	fmt.Println(resp.Status)
}

// A server that is busy once: the 503's Retry-After is honoured and the
// caller sees only the 200.
func ExampleTransport() {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, "hello")
	}))
	defer srv.Close()

	rt := &retry.Transport{
		Next: &http.Transport{},
		OnRetry: func(e retry.Event) {
			fmt.Printf("attempt %d: %s, retrying in %v\n", e.Attempt, e.Reason, e.Wait)
		},
	}
	client := &http.Client{Transport: rt}
	defer client.CloseIdleConnections() // reaches the http.Transport below

	resp, err := client.Get(srv.URL)
	if err != nil {
		log.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println(resp.StatusCode, string(body))
	fmt.Printf("%+v\n", rt.Stats())
	// Output:
	// attempt 1: status 503, retrying in 0s
	// 200 hello
	// {Requests:1 Attempts:2 Retries:1 BudgetExhausted:0 GaveUp:0}
}

// A policy that extends the default: also retry a 500 from an idempotent
// request, and treat an application error type as permanent.
func ExamplePolicy() {
	type quotaError struct{ error }
	rules := retry.Rules{IsPermanent: func(err error) bool {
		_, ok := err.(quotaError)
		return ok
	}}
	_ = &retry.Transport{
		Next: &spool.Transport{},
		Policy: func(req *http.Request, resp *http.Response, err error, attempt int) retry.Decision {
			if resp != nil && resp.StatusCode == http.StatusInternalServerError && retry.IsIdempotent(req) {
				return retry.Decision{Retry: true, Reason: "status 500"}
			}
			return rules.Decide(req, resp, err, attempt)
		},
		Backoff:     retry.Jittered(retry.Capped(retry.Exponential(50*time.Millisecond, 3), 2*time.Second)),
		MaxAttempts: 4,
		Budget:      retry.NewBudget(0.1, 5, 30*time.Second),
	}
}

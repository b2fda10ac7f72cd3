// Package testutil holds the helpers that several of spool's test packages
// share (the root package's tests, cvetest, faulttest, soak): a Transport
// closed with the test, a request that cannot fail, a GET read to the end,
// polling for a condition another goroutine or process reaches, a raw
// loopback TCP server, a dialer that counts what the transport read, an
// HTTP server in a child process, and whether the race detector is on.
//
// It imports spool, so only external test packages (package spool_test and
// the packages beside the root) can use it; internal packages such as
// internal/pool cannot.
package testutil

import (
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/spoolhttp/spool"
)

// waitBound is how long WaitFor polls: long enough for a loaded CI machine
// to let another goroutine or process act, short enough to fail a hung test.
const waitBound = 5 * time.Second

// waitEvery is WaitFor's polling interval.
const waitEvery = time.Millisecond

// NewTransport returns tr, or a zero Transport when tr is nil, and closes it
// when the test ends.
func NewTransport(t testing.TB, tr *spool.Transport) *spool.Transport {
	t.Helper()
	if tr == nil {
		tr = &spool.Transport{}
	}
	t.Cleanup(func() { tr.Close() })
	return tr
}

// NewRequest is http.NewRequest that fails the test instead of returning
// an error.
func NewRequest(t testing.TB, method, url string, body io.Reader) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// Get GETs url with c and reads the whole body, failing the test on any
// error; the response's body is closed.
func Get(t testing.TB, c *http.Client, url string) (*http.Response, string) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: reading body: %v", url, err)
	}
	return resp, string(b)
}

// WaitFor polls cond until it holds and fails the test, naming what it
// waited for, if that takes longer than 5 s. It is only for conditions
// another goroutine or process reaches soon (a server noticing a close);
// time-dependent logic is tested in testing/synctest instead.
func WaitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitBound)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", waitBound, what)
		}
		time.Sleep(waitEvery)
	}
}

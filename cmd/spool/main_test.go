package main

import (
	"net/http"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// useNetHTTP makes the CLI drive net/http's Transport for one test, so the
// wiring is tested whatever the state of spool's. The CLI closes its idle
// connections, so no reader goroutine outlives a test.
func useNetHTTP(t *testing.T) {
	saved := newTransport
	newTransport = func(o transportOpts) http.RoundTripper { return newNetHTTP(o) }
	t.Cleanup(func() { newTransport = saved })
}

// Package soak drives spool.Transport with a large mixed load against a
// net/http server running in a child process (the test binary re-executed)
// and checks that nothing is corrupted or leaks: every body is verified
// against the content the server derived it from and a CRC-32C header;
// at the end file descriptors, goroutines and heap are back at their
// baseline and every response body the load deliberately forgot is
// counted in Stats.LeakedBodies. A quarter of the requests go over HTTP/2
// (h2c by prior knowledge, a second Transport, the same server and mix),
// with the same checks on each Transport's Stats.
//
// TestSoakShort (20,000 requests) runs in every `go test`. The full soak
// is opt-in:
//
//	SPOOL_SOAK=1 go test ./soak -run TestSoak -v -timeout 10m
//	SPOOL_SOAK=1 SPOOL_SOAK_REQUESTS=200000 go test ./soak -run TestSoak -v
//
// There is no library code in this package.
package soak

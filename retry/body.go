package retry

import (
	"fmt"
	"io"
	"net/http"
)

// drainLimit bounds the read of a discarded response's body: reading the
// rest of a small error page lets the connection be reused; past 64 KiB a
// new connection is cheaper than the read.
const drainLimit = 64 << 10

// rewindable reports whether req's body can be sent again: it has none, or
// GetBody can make a fresh copy (http.NewRequest sets it for in-memory
// bodies).
func rewindable(req *http.Request) bool {
	return req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
}

// rewind returns a fresh body for another attempt.
func rewind(req *http.Request) (io.ReadCloser, error) {
	if req.GetBody == nil {
		return req.Body, nil // nil or http.NoBody: nothing to rewind
	}
	b, err := req.GetBody()
	if err != nil {
		return nil, fmt.Errorf("retry: GetBody: %w", err)
	}
	return b, nil
}

// discard drains (bounded) and closes the body of a response that will not
// be returned.
func discard(resp *http.Response) {
	if resp == nil || resp.Body == nil {
		return
	}
	_, _ = io.CopyN(io.Discard, resp.Body, drainLimit)
	resp.Body.Close()
}

func closeBody(b io.ReadCloser) {
	if b != nil {
		b.Close()
	}
}

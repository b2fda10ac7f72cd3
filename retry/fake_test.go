package retry

import (
	"bytes"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
)

// step is one scripted outcome of fakeRT: a status (with header and body)
// or an error.
type step struct {
	status int
	header http.Header
	err    error
}

// fakeRT is a RoundTripper that plays steps in order (the last one
// repeats), records each attempt's request and body bytes, and closes the
// request body as the RoundTripper contract requires.
type fakeRT struct {
	mu     sync.Mutex
	steps  []step
	reqs   []*http.Request
	bodies [][]byte
	resps  []*trackedBody
}

func (f *fakeRT) RoundTrip(req *http.Request) (*http.Response, error) {
	var got []byte
	if req.Body != nil {
		got, _ = io.ReadAll(req.Body)
		req.Body.Close()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	i := min(len(f.reqs), len(f.steps)-1)
	s := f.steps[i]
	f.reqs = append(f.reqs, req)
	f.bodies = append(f.bodies, got)
	if s.err != nil {
		return nil, s.err
	}
	h := s.header
	if h == nil {
		h = http.Header{}
	}
	b := &trackedBody{Reader: bytes.NewReader(bytes.Repeat([]byte("x"), 100))}
	f.resps = append(f.resps, b)
	return &http.Response{
		StatusCode: s.status,
		Status:     strconv.Itoa(s.status) + " " + http.StatusText(s.status),
		Header:     h.Clone(),
		Body:       b,
		Request:    req,
	}, nil
}

func (f *fakeRT) attempts() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.reqs)
}

// trackedBody is a response body that records reads and closes.
type trackedBody struct {
	*bytes.Reader
	closes atomic.Int32
}

func (b *trackedBody) Close() error  { b.closes.Add(1); return nil }
func (b *trackedBody) drained() bool { return b.Len() == 0 }

// countingCloser is a request body that counts Close calls.
type countingCloser struct {
	io.Reader
	closes atomic.Int32
}

func (c *countingCloser) Close() error { c.closes.Add(1); return nil }

func newReq(t *testing.T, method string, body io.Reader) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, "http://example.test/path", body)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// TestFakeRT shows the harness: steps play in order, the last repeats, and
// every attempt's request and body are recorded.
func TestFakeRT(t *testing.T) {
	f := &fakeRT{steps: []step{{status: 503}, {status: 200}}}
	for range 3 {
		resp, err := f.RoundTrip(newReq(t, "PUT", bytes.NewReader([]byte("hi"))))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	if f.attempts() != 3 || f.resps[0].closes.Load() != 1 || string(f.bodies[2]) != "hi" {
		t.Fatalf("attempts %d, closes %d, body %q", f.attempts(), f.resps[0].closes.Load(), f.bodies[2])
	}
	if f.reqs[2].Method != "PUT" {
		t.Fatal(f.reqs[2].Method)
	}
}

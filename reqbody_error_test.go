package spool_test

import (
	"errors"
	"io"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/spoolhttp/spool/internal/testutil"
)

// failingBody's Read fails at once with err; it counts Reads and Closes.
type failingBody struct {
	err           error
	reads, closes *atomic.Int32
}

func (b failingBody) Read([]byte) (int, error) { b.reads.Add(1); return 0, b.err }
func (b failingBody) Close() error             { b.closes.Add(1); return nil }

// TestRequestBodyReadErrorReturnedAsIs: when the request body's Read
// fails, RoundTrip returns that very error, unwrapped, on every protocol
// (net/http's TestTransportBodyReadError; HTTP/2 had returned it inside a
// *spool.Error), reads the body once (no replay on the reused conn) and
// closes it once.
func TestRequestBodyReadErrorReturnedAsIs(t *testing.T) {
	forEachMode(t, func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
	}, nil, func(t *testing.T, s *modeServer) {
		resp, err := s.tr.RoundTrip(testutil.NewRequest(t, "GET", s.URL, nil)) // a conn to reuse
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()

		someErr := errors.New("some body read error")
		var reads, closes atomic.Int32
		req := testutil.NewRequest(t, "POST", s.URL, failingBody{someErr, &reads, &closes})
		resp, err = s.tr.RoundTrip(req)
		if err == nil {
			resp.Body.Close()
			t.Fatal("RoundTrip succeeded with a failing body")
		}
		if err != someErr {
			t.Fatalf("RoundTrip error = %#v (%v), want the body's own error", err, err)
		}
		if r, c := reads.Load(), closes.Load(); r != 1 || c != 1 {
			t.Fatalf("body read %d times and closed %d times, want 1 and 1", r, c)
		}
	})
}

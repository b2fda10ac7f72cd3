package spool_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/spoolhttp/spool"
	"github.com/spoolhttp/spool/internal/testutil"
)

// BodyReadTimeout in every mode: a body that stalls fails with a
// *TimeoutError naming it; one that is slow but keeps moving completes.
// On HTTP/2 only the stream is reset: the next request reuses the conn.
func TestModesBodyReadTimeout(t *testing.T) {
	forEachMode(t, func(w http.ResponseWriter, r *http.Request) {
		f := w.(http.Flusher)
		if r.URL.Path == "/slow" { // a byte every 50 ms: slow, never stalled
			for range 10 {
				w.Write([]byte("x"))
				f.Flush()
				time.Sleep(50 * time.Millisecond)
			}
			return
		}
		w.Write(make([]byte, 1000))
		f.Flush()
		<-r.Context().Done() // stalls
	}, func(tr *spool.Transport) { tr.BodyReadTimeout = 300 * time.Millisecond }, func(t *testing.T, s *modeServer) {
		resp, err := s.tr.RoundTrip(testutil.NewRequest(t, "GET", s.URL+"/stall", nil))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(resp.Body, make([]byte, 1000)); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		var te *spool.TimeoutError
		if !errors.As(err, &te) || te.What != "BodyReadTimeout" || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("stalled body: %v, want a BodyReadTimeout *TimeoutError", err)
		}
		var se *spool.Error
		if !errors.As(err, &se) || se.Op != spool.OpReadBody || se.Addr == "" {
			t.Errorf("stalled body: %v, want a *spool.Error with Op %q and the server's address", err, spool.OpReadBody)
		}
		if _, err := resp.Body.Read(make([]byte, 1)); !errors.Is(err, spool.ErrBodyClosed) {
			t.Errorf("Read after Close: %v, want ErrBodyClosed", err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("the timeout took %v", d)
		}

		resp, err = s.tr.RoundTrip(testutil.NewRequest(t, "GET", s.URL+"/slow", nil))
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || string(b) != "xxxxxxxxxx" {
			t.Fatalf("slow body: %q %v", b, err)
		}
		wantDials := int64(2) // HTTP/1: the timed-out conn was closed
		if protoOf(t) == 2 {
			wantDials = 1 // HTTP/2: the stream was reset, the conn kept
		}
		if st := s.tr.Stats().Total; st.Dials != wantDials {
			t.Errorf("dials %d, want %d", st.Dials, wantDials)
		}
	})
}

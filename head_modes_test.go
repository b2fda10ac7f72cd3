package spool_test

import (
	"io"
	"net/http"
	"net/http/httptrace"
	"net/textproto"
	"strings"
	"testing"

	"github.com/spoolhttp/spool"
)

// TestModesHeadContentLength: a HEAD response reports the length a GET
// would get (RFC 9110 §9.3.2), -1 when the server sends none, and an empty
// body, on every protocol (net/http's TestClientHeadContentLength).
func TestModesHeadContentLength(t *testing.T) {
	forEachMode(t, func(w http.ResponseWriter, r *http.Request) {
		if v := r.FormValue("cl"); v != "" {
			w.Header().Set("Content-Length", v)
		}
	}, nil, func(t *testing.T, s *modeServer) {
		c := &http.Client{Transport: s.tr}
		for _, tc := range []struct {
			query string
			want  int64
		}{{"?cl=1234", 1234}, {"?cl=0", 0}, {"", -1}} {
			req, _ := http.NewRequest(http.MethodHead, s.URL+"/"+tc.query, nil)
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil || len(body) != 0 {
				t.Fatalf("%s: body %q, %v; want empty", tc.query, body, err)
			}
			if resp.ContentLength != tc.want {
				t.Errorf("%s: ContentLength %d, want %d", tc.query, resp.ContentLength, tc.want)
			}
		}
	})
}

// TestH2Limits1xxHeads: 1xx heads nobody traces share one head's budget
// (MaxResponseHeaderBytes), so a server cannot stream them without bound;
// a traced 1xx is the tracer's to limit (net/http's
// TestTransportLimits1xxResponses on HTTP/2).
func TestH2Limits1xxHeads(t *testing.T) {
	h := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("X-Header", strings.Repeat("a", 100))
		for range 10 {
			w.WriteHeader(123)
		}
		w.WriteHeader(http.StatusNoContent)
	}
	forEachMode(t, h, func(tr *spool.Transport) { tr.MaxResponseHeaderBytes = 1000 }, func(t *testing.T, s *modeServer) {
		if protoOf(t) != 2 {
			t.Skip("HTTP/1 counts every 1xx head, traced or not, with the final head against MaxResponseHeaderBytes (README: differences)")
		}
		req, _ := http.NewRequest(http.MethodGet, s.URL, nil)
		resp, err := s.tr.RoundTrip(req)
		if err == nil {
			resp.Body.Close()
			t.Fatal("RoundTrip succeeded; want the 1xx heads refused")
		}
		if !strings.Contains(err.Error(), "header list too large") {
			t.Errorf("error %q; want it to say the header list is too large", err)
		}
		var got int
		trace := &httptrace.ClientTrace{Got1xxResponse: func(int, textproto.MIMEHeader) error { got++; return nil }}
		req = req.WithContext(httptrace.WithClientTrace(req.Context(), trace))
		resp, err = s.tr.RoundTrip(req)
		if err != nil {
			t.Fatalf("traced: %v; want the 1xx heads delivered to the trace", err)
		}
		resp.Body.Close()
		if got != 10 || resp.StatusCode != http.StatusNoContent {
			t.Errorf("traced: %d 1xx heads, status %d; want 10 and 204", got, resp.StatusCode)
		}
	})
}

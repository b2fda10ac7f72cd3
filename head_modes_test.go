package spool_test

import (
	"io"
	"net/http"
	"testing"
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

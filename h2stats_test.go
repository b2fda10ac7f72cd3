package spool_test

import (
	"crypto/tls"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/spoolhttp/spool"
	"github.com/spoolhttp/spool/internal/testutil"
)

// Stats.H2 counts what the HTTP/2 conns saw: streams, and an early Close
// as a reset (RST_STREAM CANCEL) that leaves the conn in service.
func TestStatsH2Counters(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The response never ends on its own (the handler waits for the
		// stream's reset), so each Close comes before END_STREAM however
		// fast the bytes arrive.
		w.Write(make([]byte, 64<<10))
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	}))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()
	roots := srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
	tr := testutil.NewTransport(t, &spool.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}, ForceAttemptHTTP2: true})
	for i := 0; i < 2; i++ {
		resp, err := tr.RoundTrip(testutil.NewRequest(t, "GET", srv.URL, nil))
		if err != nil {
			t.Fatal(err)
		}
		if resp.ProtoMajor != 2 {
			t.Fatalf("proto %s", resp.Proto)
		}
		if _, err := io.ReadFull(resp.Body, make([]byte, 10)); err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	st := tr.Stats()
	if st.H2.Streams != 2 || st.H2.Resets != 2 || st.Total.Dials != 1 {
		t.Fatalf("after 2 early-closed streams on one conn: %+v, dials %d", st.H2, st.Total.Dials)
	}
}

package spool_test

import (
	"io"
	"net/http"
	"testing"

	"github.com/spoolhttp/spool/internal/testutil"
)

// Every HTTPS response carries the conn's TLS state, as net/http's
// (issue 11 bug 8: TestResponseSetsTLSConnectionState); plain ones none.
func TestModesResponseTLS(t *testing.T) {
	forEachMode(t, func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	}, nil, func(t *testing.T, s *modeServer) {
		for i := range 2 { // the dial's response and a reused conn's
			resp, err := s.tr.RoundTrip(testutil.NewRequest(t, "GET", s.URL, nil))
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			switch {
			case s.TLS == nil && resp.TLS != nil:
				t.Errorf("response %d: TLS state on a plain conn", i)
			case s.TLS != nil && (resp.TLS == nil || !resp.TLS.HandshakeComplete || len(resp.TLS.PeerCertificates) == 0):
				t.Errorf("response %d: TLS = %+v, want the handshake's state", i, resp.TLS)
			case s.TLS != nil && resp.TLS.NegotiatedProtocol != map[int]string{1: "", 2: "h2"}[resp.ProtoMajor] &&
				!(resp.ProtoMajor == 1 && resp.TLS.NegotiatedProtocol == "http/1.1"):
				t.Errorf("response %d: ALPN %q on HTTP/%d", i, resp.TLS.NegotiatedProtocol, resp.ProtoMajor)
			}
		}
	})
}

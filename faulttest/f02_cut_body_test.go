package faulttest

import (
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/spoolhttp/spool/internal/testserver"
	"github.com/spoolhttp/spool/internal/testutil"
)

// TestF2_CutMidBody: a server that closes (FIN) or resets (RST) in the
// middle of a body makes Read fail with a non-EOF error, never a silent
// short body; the conn is not pooled; the next request succeeds on a new
// conn. A close-delimited body may legitimately end at a FIN, not at an RST.
func TestF2_CutMidBody(t *testing.T) {
	const partial = "0123456789"
	heads := map[string]string{
		"length":      "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + partial,
		"chunked":     "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n" + partial,
		"until-close": "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + partial,
	}
	for _, framing := range []string{"length", "chunked", "until-close"} {
		for _, how := range []string{"fin", "rst"} {
			if framing == "until-close" && how == "fin" {
				continue // a FIN is that body's legitimate end
			}
			t.Run(framing+"/"+how, func(t *testing.T) {
				s := testserver.New(t, testserver.Script(
					testserver.OK("warm"),
					func(c *testserver.Conn, r *testserver.Request) {
						c.Write(heads[framing])
						c.Stall(50 * time.Millisecond) // the client has read the head and the partial body
						if how == "rst" {
							c.Reset()
						} else {
							c.Close()
						}
					},
					testserver.OK("next"),
				))
				tr := testutil.NewTransport(t, nil)
				do := func() (*http.Response, error) { return tr.RoundTrip(testutil.NewRequest(t, "GET", s.URL(), nil)) }
				resp, err := do() // warm: the cut comes on a reused conn
				if err != nil {
					t.Fatal(err)
				}
				io.ReadAll(resp.Body)
				resp.Body.Close()

				resp, err = do()
				if err != nil {
					t.Fatalf("head: %v", err)
				}
				got, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err == nil || errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
					t.Fatalf("read %q, err %v: a silent short body", got, err)
				}
				if !strings.HasPrefix(partial, string(got)) {
					t.Fatalf("read %q, not a prefix of what was sent", got)
				}
				// As net/http: io.ErrUnexpectedEOF or the socket's error, unwrapped.
				if _, ok := err.(*net.OpError); err != io.ErrUnexpectedEOF && !ok {
					t.Errorf("err %T %v: want io.ErrUnexpectedEOF or a *net.OpError", err, err)
				}
				t.Logf("read %d bytes, err %v", len(got), err)
				if n := held(tr); n != 0 {
					t.Errorf("transport still holds %d conns after the cut", n)
				}
				if st := tr.Stats().Total; st.Closes.Broken != 1 {
					t.Errorf("closes %+v, want one Broken", st.Closes)
				}

				resp, err = do()
				if err != nil {
					t.Fatalf("next request: %v", err)
				}
				b, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil || string(b) != "next" {
					t.Fatalf("next request: %q, %v", b, err)
				}
				reqs := s.Requests()
				if last := reqs[len(reqs)-1]; last.ConnIndex != 1 || last.N != 0 {
					t.Errorf("next request on conn %d (#%d), want a new conn", last.ConnIndex, last.N)
				}
			})
		}
	}
}

package spool_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"testing"
	"time"

	"github.com/spoolhttp/spool"
	"github.com/spoolhttp/spool/internal/testutil"
)

// With DisableKeepAlives, a request waiting at MaxConnsPerHost gets a conn
// of its own, on HTTP/2 too: it is never multiplexed onto the conn of the
// request it waited for (issue 11 bug 13, net/http's
// TestTransportMaxConnsPerHostIncludeDialInProgress).
func TestDisableKeepAlivesWaiterDialsItsOwn(t *testing.T) {
	dialStarted := make(chan struct{}, 2)
	stallDial := make(chan struct{})
	forEachMode(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "foo") },
		func(tr *spool.Transport) {
			tr.DisableKeepAlives = true
			tr.MaxConnsPerHost = 1
			tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
				dialStarted <- struct{}{}
				<-stallDial
				return (&net.Dialer{}).DialContext(ctx, network, addr)
			}
		}, func(t *testing.T, s *modeServer) {
			const long = 10 * time.Second // "did not hang", on a loaded machine
			wait := func(c chan struct{}, what string) {
				t.Helper()
				select {
				case <-c:
				case <-time.After(long):
					t.Fatalf("timed out waiting for %s", what)
				}
			}
			preDial := make(chan struct{}, 2)
			done := make(chan string, 2)
			do := func(id string) {
				req := testutil.NewRequest(t, "GET", s.URL, nil)
				req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
					GetConn: func(string) { preDial <- struct{}{} },
				}))
				resp, err := s.tr.RoundTrip(req)
				if err != nil {
					done <- id + ": " + err.Error()
					return
				}
				b, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil || string(b) != "foo" {
					done <- id + ": body " + string(b)
					return
				}
				done <- ""
			}
			go do("req1")
			wait(preDial, "req1's GetConn")
			wait(dialStarted, "req1's dial")
			go do("req2")
			wait(preDial, "req2's GetConn")
			select {
			case <-dialStarted:
				t.Fatal("req2 dialed while req1's dial was in progress (MaxConnsPerHost 1)")
			default:
			}
			stallDial <- struct{}{}
			if e := <-done; e != "" {
				t.Fatal(e)
			}
			select {
			case <-dialStarted: // req2 dials its own conn once req1's is gone
			case <-time.After(long):
				t.Fatal("req2 started no dial of its own: it was put on req1's conn")
			}
			stallDial <- struct{}{}
			if e := <-done; e != "" {
				t.Fatal(e)
			}
			if n := s.conns.Load(); n != 2 {
				t.Errorf("server saw %d conns, want 2", n)
			}
		})
}

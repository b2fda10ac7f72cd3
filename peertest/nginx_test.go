package peertest

import (
	"bytes"
	"crypto/tls"
	"io"
	"net/http"
	"net/http/httptrace"
	"sync"
	"testing"

	"github.com/spoolhttp/spool"
	"github.com/spoolhttp/spool/internal/peers"
	"github.com/spoolhttp/spool/internal/testutil"
)

func client(tr *spool.Transport) *http.Client { return &http.Client{Transport: tr} }

func fetch(t *testing.T, c *http.Client, url string) []byte {
	t.Helper()
	resp, body := testutil.Get(t, c, url)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	return []byte(body)
}

// HTTP/1.1 in clear and over TLS: 20 requests on one server-side
// connection (nginx's $connection), bodies intact, /big byte for byte.
func TestNginxReuse(t *testing.T) {
	n := peers.StartNginx(t, peers.NginxOptions{})
	for _, mode := range []struct{ name, base string }{
		{"h1", n.URL("")}, {"h1-tls", n.TLSURL("")},
	} {
		t.Run(mode.name, func(t *testing.T) {
			tr := &spool.Transport{TLSClientConfig: n.TLSConfig()}
			defer tr.Close()
			c := client(tr)
			before := len(n.AccessLog(t))
			for i := 0; i < 20; i++ {
				if b := fetch(t, c, mode.base+"/"); string(b) != "hello, world" {
					t.Fatalf("body %q", b)
				}
			}
			if b := fetch(t, c, mode.base+"/big"); !bytes.Equal(b, peers.BigBody()) {
				t.Fatal("/big corrupted")
			}
			log := n.WaitAccessLog(t, before+21)[before:]
			if conns := peers.Connections(log); conns != 1 {
				t.Fatalf("nginx saw %d connections for 21 requests", conns)
			}
			if st := tr.Stats().Total; st.Dials != 1 || st.Reuses != 20 {
				t.Fatalf("stats %+v", st)
			}
		})
	}
}

// nginx closes every conn after 100 requests and idle ones after 1s:
// 10,000 requests see no error (spool's peek and one-retry rule absorb
// every close).
func TestNginxKeepaliveRequestsLoop(t *testing.T) {
	n := peers.StartNginx(t, peers.NginxOptions{KeepaliveRequests: 100, KeepaliveTimeout: "1s"})
	tr := &spool.Transport{}
	defer tr.Close()
	c := client(tr)
	const total = 10000
	var wg sync.WaitGroup
	errs := make(chan error, total)
	for w := 0; w < 4; w++ {
		wg.Go(func() {
			for i := 0; i < total/4; i++ {
				resp, err := c.Get(n.URL("/"))
				if err != nil {
					errs <- err
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("error to the caller: %v", err)
	}
	st := tr.Stats().Total
	t.Logf("10,000 requests: dials %d, reuses %d, closes %+v", st.Dials, st.Reuses, st.Closes)
	if st.Requests < total || st.Dials < total/100 {
		t.Fatalf("stats %+v: nginx's keepalive_requests 100 should force ≥100 dials", st)
	}
}

// The second TLS connection resumes the first one's session (spool's own
// session cache is on by default).
func TestNginxTLSResumption(t *testing.T) {
	n := peers.StartNginx(t, peers.NginxOptions{})
	tr := &spool.Transport{TLSClientConfig: n.TLSConfig(), DisableKeepAlives: true}
	defer tr.Close()
	var resumed []bool
	for i := 0; i < 2; i++ {
		req, _ := http.NewRequest("GET", n.TLSURL("/"), nil)
		req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
			TLSHandshakeDone: func(cs tls.ConnectionState, err error) { resumed = append(resumed, cs.DidResume) },
		}))
		resp, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	if len(resumed) != 2 || resumed[0] || !resumed[1] {
		t.Fatalf("DidResume per handshake: %v, want [false true]", resumed)
	}
}

// HTTP/2 over TLS against nginx: 50 concurrent requests multiplex on one
// connection (nginx's $connection), and /big arrives intact over h2.
func TestNginxHTTP2(t *testing.T) {
	n := peers.StartNginx(t, peers.NginxOptions{HTTP2: true})
	tr := &spool.Transport{TLSClientConfig: n.TLSConfig(), ForceAttemptHTTP2: true}
	defer tr.Close()
	c := client(tr)
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Go(func() {
			resp, err := c.Get(n.TLSURL("/"))
			if err != nil {
				t.Error(err)
				return
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.ProtoMajor != 2 || string(b) != "hello, world" {
				t.Errorf("proto %d body %q", resp.ProtoMajor, b)
			}
		})
	}
	wg.Wait()
	if b := fetch(t, c, n.TLSURL("/big")); !bytes.Equal(b, peers.BigBody()) {
		t.Fatal("/big corrupted over h2")
	}
	log := n.WaitAccessLog(t, 51)
	if conns := peers.Connections(log); conns != 1 {
		t.Fatalf("nginx saw %d connections for 51 h2 requests", conns)
	}
	for _, e := range log {
		if e.Proto != "HTTP/2.0" {
			t.Fatalf("nginx logged %q", e.Proto)
		}
	}
	if st := tr.Stats().Total; st.Dials != 1 || st.H2Conns != 1 {
		t.Fatalf("stats %+v", st)
	}
}

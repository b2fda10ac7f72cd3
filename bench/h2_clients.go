package main

// -h2 mode's clients: spool and net/http over TLS, each dialing through a
// counting conn, checking the protocol every response came with.

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/spoolhttp/spool"
)

// Protocols of the -h2 cells.
const (
	protoH2 = "h2"        // HTTPS, h2 by ALPN, every stream on one conn
	protoH1 = "HTTPS/1.1" // HTTPS, the server offers no h2: a conn per worker
)

// tlsTarget is what the -h2 cells run against: nginx in the bench run, an
// httptest server in the tests.
type tlsTarget struct {
	h1Addr, h2Addr string         // HTTPS/1.1 only; HTTPS offering h2
	pool           *x509.CertPool // trusts the server
	h2load         string         // h2load's path; "" leaves it out
	uploadFile     string         // the 1 MiB body as a file, for h2load -d
	// serverCPU is the server's CPU time so far (nil or -1: unknown): a
	// run's delta is the server's cost of the client's requests.
	serverCPU func() time.Duration
	floor     bool // the Go floor runs in the h2 download cell (h2_floor.go)
}

// serverNow is t.serverCPU(), -1 when unknown.
func (t tlsTarget) serverNow() time.Duration {
	if t.serverCPU == nil {
		return -1
	}
	return t.serverCPU()
}

func (t tlsTarget) addr(proto string) string {
	if proto == protoH2 {
		return t.h2Addr
	}
	return t.h1Addr
}

// newTLSClient builds name (spool or net/http) for cell c, configured the
// same way for both: our dialer (counting into counts), a TLS config that
// trusts the server, h2 offered for h2 cells; on h2 at most one conn, on
// HTTPS/1.1 an idle conn kept per worker.
func newTLSClient(name string, c h2Cell, t tlsTarget, counts *ioCounts) (client, error) {
	h2 := c.proto == protoH2
	perHost := 0
	if h2 {
		perHost = 1 // the cells measure streams on ONE conn
	}
	tc := &tls.Config{RootCAs: t.pool}
	var rt closeIdler
	switch name {
	case nameSpool:
		rt = &spool.Transport{DialContext: countingDialer(counts), TLSClientConfig: tc,
			ForceAttemptHTTP2: h2, MaxIdleConnsPerHost: c.streams, MaxConnsPerHost: perHost}
	case nameNetHTTP:
		rt = &http.Transport{DialContext: countingDialer(counts), TLSClientConfig: tc,
			ForceAttemptHTTP2: h2, MaxIdleConnsPerHost: c.streams, MaxConnsPerHost: perHost}
	default:
		return nil, fmt.Errorf("no TLS client %q", name)
	}
	major := 1
	if h2 {
		major = 2
	}
	return &tlsClient{rt: rt, major: major}, nil
}

// tlsClient drives an http.RoundTripper as rtClient does, and fails a
// response that came over another protocol than the cell's: a cell that
// silently fell back to HTTP/1.1 must not be printed as h2.
type tlsClient struct {
	rt    closeIdler
	major int // resp.ProtoMajor wanted
}

func (c *tlsClient) closeIdle() { c.rt.CloseIdleConnections() }

func (c *tlsClient) newWorker(r request) (worker, error) {
	req, err := http.NewRequest(r.method, r.url, nil)
	if err != nil {
		return nil, err
	}
	if r.body != nil {
		req.ContentLength = int64(len(r.body))
		req.GetBody = func() (io.ReadCloser, error) {
			return io.NopCloser(bytes.NewReader(r.body)), nil
		}
	}
	return &tlsWorker{rt: c.rt, req: req, major: c.major, buf: make([]byte, 32<<10), body: r.body}, nil
}

type tlsWorker struct {
	rt    http.RoundTripper
	req   *http.Request // reused: nothing of it changes between requests
	major int
	buf   []byte
	body  []byte
	rd    *trackedBody
}

// trackedBody is a request body reused once its Transport closed it. A
// RoundTripper may close the body after RoundTrip returns (net/http's h2
// does, from its own goroutine): until then it is still the Transport's.
type trackedBody struct {
	bytes.Reader
	closed atomic.Bool
}

func (b *trackedBody) Close() error { b.closed.Store(true); return nil }

// nextBody rewinds the last body when the Transport is done with it, else
// allocates a new one (counted against the client, and rare).
func (w *tlsWorker) nextBody() io.ReadCloser {
	if w.rd == nil || !w.rd.closed.Load() {
		w.rd = &trackedBody{}
	}
	w.rd.closed.Store(false)
	w.rd.Reset(w.body)
	return w.rd
}

func (w *tlsWorker) do() error {
	if w.body != nil {
		w.req.Body = w.nextBody()
	}
	resp, err := w.rt.RoundTrip(w.req)
	if err != nil {
		return err
	}
	if err := readAndClose(resp, w.buf); err != nil {
		return err
	}
	if resp.ProtoMajor != w.major {
		return fmt.Errorf("response over %s, the cell wants HTTP/%d", resp.Proto, w.major)
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}

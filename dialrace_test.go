package spool_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/spoolhttp/spool"
	"github.com/spoolhttp/spool/internal/testnet"
	"github.com/spoolhttp/spool/internal/testutil"
)

// gatedDialer holds each dial until the test releases it, as net/http's
// transportDialTester does, so a test decides which dial finishes first.
type gatedDialer struct {
	n     *testnet.Network
	mu    sync.Mutex
	gates []chan struct{}
	conns []net.Conn // by dial, once done
}

func (d *gatedDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	gate := make(chan struct{})
	d.mu.Lock()
	i := len(d.gates)
	d.gates = append(d.gates, gate)
	d.conns = append(d.conns, nil)
	d.mu.Unlock()
	<-gate
	c, err := d.n.Dial(ctx, network, addr)
	d.mu.Lock()
	d.conns[i] = c
	d.mu.Unlock()
	return c, err
}

func (d *gatedDialer) started() int { d.mu.Lock(); defer d.mu.Unlock(); return len(d.gates) }
func (d *gatedDialer) finish(i int) { d.mu.Lock(); g := d.gates[i]; d.mu.Unlock(); close(g) }
func (d *gatedDialer) conn(i int) net.Conn {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.conns[i]
}

// dialTestRT is one RoundTrip run in the background: a POST with a
// streamed body, as in net/http's dial tests.
type dialTestRT struct {
	cancel context.CancelFunc
	body   *io.PipeWriter
	conn   net.Conn // from GotConn
	resp   *http.Response
	err    error
	done   chan struct{}
}

func startDialTestRT(t *testing.T, tr *spool.Transport) *dialTestRT {
	ctx, cancel := context.WithCancel(t.Context())
	pr, pw := io.Pipe()
	rt := &dialTestRT{cancel: cancel, body: pw, done: make(chan struct{})}
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) { rt.conn = i.Conn }})
	req := testutil.NewRequest(t, "POST", "http://api.test/", pr).WithContext(ctx)
	go func() {
		defer close(rt.done)
		rt.resp, rt.err = tr.RoundTrip(req)
	}()
	return rt
}

func (rt *dialTestRT) finish(t *testing.T) {
	t.Helper()
	rt.body.Close()
	io.Copy(io.Discard, rt.resp.Body)
	rt.resp.Body.Close()
}

// TestCancelledRequestsDialServesNextRequest: a request cancelled while its
// dial runs leaves the dial to the pool; the next request starts a dial
// of its own and takes whichever finishes first (net/http's
// TestTransportPoolCancelRequestReusesConn); the other lands idle. Under
// DisableKeepAlives the leftover conn is closed unused and the next
// request dials (…WithDisableKeepAlives). HTTP/1 only: an HTTP/2 key dials
// once for a burst (an accepted difference).
func TestCancelledRequestsDialServesNextRequest(t *testing.T) {
	for _, keepAlive := range []bool{true, false} {
		name := "keep-alive"
		if !keepAlive {
			name = "DisableKeepAlives"
		}
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var n testnet.Network
				defer bubble(t, &n, "api.test:80", func(w http.ResponseWriter, r *http.Request) {
					http.NewResponseController(w).EnableFullDuplex()
					w.WriteHeader(200)
					http.NewResponseController(w).Flush()
					io.ReadAll(r.Body)
				})()
				d := &gatedDialer{n: &n}
				tr := &spool.Transport{DialContext: d.DialContext, DisableKeepAlives: !keepAlive}
				defer tr.Close()

				rt1 := startDialTestRT(t, tr)
				synctest.Wait()
				rt1.cancel()
				synctest.Wait()
				if <-rt1.done; rt1.err == nil {
					t.Fatal("the cancelled request succeeded")
				}
				if keepAlive {
					testLeftoverServesNext(t, tr, d)
				} else {
					testLeftoverClosedUnused(t, tr, d)
				}
			})
		})
	}
}

func testLeftoverServesNext(t *testing.T, tr *spool.Transport, d *gatedDialer) {
	rt2 := startDialTestRT(t, tr)
	synctest.Wait()
	if got := d.started(); got != 2 {
		t.Fatalf("%d dials started, want 2: the next request starts its own", got)
	}
	d.finish(0) // the leftover dial finishes first
	synctest.Wait()
	<-rt2.done
	if rt2.err != nil || rt2.conn != d.conn(0) {
		t.Fatalf("second request: %v on %v, want the leftover conn", rt2.err, rt2.conn)
	}
	rt2.finish(t)
	d.finish(1)
	synctest.Wait()
	if st := tr.Stats().Total; st.Idle != 2 || st.Dials != 2 {
		t.Fatalf("idle %d dials %d, want both conns idle", st.Idle, st.Dials)
	}
}

func testLeftoverClosedUnused(t *testing.T, tr *spool.Transport, d *gatedDialer) {
	d.finish(0)
	synctest.Wait()
	if st := tr.Stats().Total; st.Idle != 0 {
		t.Fatalf("idle %d: the leftover conn must not be kept under DisableKeepAlives", st.Idle)
	}
	rt2 := startDialTestRT(t, tr)
	synctest.Wait()
	if got := d.started(); got != 2 {
		t.Fatalf("%d dials started, want 2", got)
	}
	d.finish(1)
	synctest.Wait()
	<-rt2.done
	if rt2.err != nil || rt2.conn != d.conn(1) {
		t.Fatalf("second request: %v on %v, want its own conn", rt2.err, rt2.conn)
	}
	rt2.finish(t)
}

// TestDisableKeepAlivesConnServesOnlyItsOwnRequest: under DisableKeepAlives
// a conn carries only the request it was dialed for (net/http's
// TestTransportPoolCancelRequestWithDisableKeepAlives). A dial left over
// from a cancelled request that finishes while the next request waits for
// its own dial is closed unused; the waiting request goes on its own conn.
// Programs use DisableKeepAlives for one fresh connection per request.
func TestDisableKeepAlivesConnServesOnlyItsOwnRequest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var n testnet.Network
		defer bubble(t, &n, "api.test:80", func(w http.ResponseWriter, r *http.Request) {
			http.NewResponseController(w).EnableFullDuplex()
			w.WriteHeader(200)
			http.NewResponseController(w).Flush()
			io.ReadAll(r.Body)
		})()
		d := &gatedDialer{n: &n}
		tr := &spool.Transport{DialContext: d.DialContext, DisableKeepAlives: true}
		defer tr.Close()

		rt1 := startDialTestRT(t, tr)
		synctest.Wait()
		rt1.cancel()
		synctest.Wait()
		if <-rt1.done; rt1.err == nil {
			t.Fatal("the cancelled request succeeded")
		}
		rt2 := startDialTestRT(t, tr)
		synctest.Wait()
		if got := d.started(); got != 2 {
			t.Fatalf("%d dials started, want 2: the next request starts its own", got)
		}
		d.finish(0) // the leftover dial finishes while rt2 waits
		synctest.Wait()
		select {
		case <-rt2.done:
			t.Fatalf("second request done (%v) on the leftover conn before its own dial finished", rt2.err)
		default:
		}
		if st := tr.Stats().Total; st.Active != 0 || st.Idle != 0 || st.Dialing != 1 {
			t.Fatalf("active/idle/dialing %d/%d/%d, want 0/0/1: the leftover conn closed unused", st.Active, st.Idle, st.Dialing)
		}
		d.finish(1)
		synctest.Wait()
		<-rt2.done
		if rt2.err != nil || rt2.conn != d.conn(1) {
			t.Fatalf("second request: %v on %v, want its own conn %v", rt2.err, rt2.conn, d.conn(1))
		}
		rt2.finish(t)
	})
}

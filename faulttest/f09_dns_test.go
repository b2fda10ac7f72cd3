package faulttest

import (
	"context"
	"errors"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spoolhttp/spool"
	"github.com/spoolhttp/spool/internal/testutil"
	"golang.org/x/net/dns/dnsmessage"
)

// nxdomainServer is a UDP name server on loopback that answers every
// query with NXDOMAIN and counts the queries.
func nxdomainServer(t *testing.T) (addr string, queries *atomic.Int64) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	queries = new(atomic.Int64)
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			var p dnsmessage.Parser
			h, err := p.Start(buf[:n])
			if err != nil {
				continue
			}
			q, err := p.Question()
			if err != nil {
				continue
			}
			queries.Add(1)
			b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: h.ID, Response: true, RCode: dnsmessage.RCodeNameError, RecursionAvailable: true})
			b.StartQuestions()
			b.Question(q)
			msg, _ := b.Finish()
			pc.WriteTo(msg, from)
		}
	}()
	t.Cleanup(func() { pc.Close(); <-done })
	return pc.LocalAddr().String(), queries
}

// TestF9_DNSFailure: a name that does not resolve fails with a
// *net.DNSError reachable by errors.As, after one dial and one lookup per
// request: no retry storm.
func TestF9_DNSFailure(t *testing.T) {
	dnsAddr, queries := nxdomainServer(t)
	var dials atomic.Int64
	d := &net.Dialer{Resolver: &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "udp", dnsAddr)
	}}}
	tr := testutil.NewTransport(t, &spool.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		dials.Add(1)
		return d.DialContext(ctx, network, addr)
	}})
	const n = 10
	for i := range n {
		start := time.Now()
		_, err := tr.RoundTrip(testutil.NewRequest(t, "GET", "http://no-such-host.invalid./", nil))
		var de *net.DNSError
		if !errors.As(err, &de) || !de.IsNotFound {
			t.Fatalf("request %d: err %v: want a *net.DNSError, not found", i, err)
		}
		var oe *net.OpError
		if !errors.As(err, &oe) || oe.Op != "dial" || err != error(oe) {
			t.Errorf("err %T %v: want a *net.OpError dial, as net/http", err, err)
		}
		if took := time.Since(start); took > time.Second {
			t.Errorf("took %v", took)
		}
	}
	if got := dials.Load(); got != n {
		t.Errorf("%d dials for %d requests", got, n)
	}
	// A and AAAA per lookup; nothing retried on an authoritative NXDOMAIN.
	if q := queries.Load(); q > 2*n {
		t.Errorf("%d DNS queries for %d requests: retry storm", q, n)
	}
	t.Logf("%d dials, %d DNS queries for %d requests", dials.Load(), queries.Load(), n)

	t.Run("default-dialer", func(t *testing.T) {
		// The machine's resolver: skip if it cannot answer in time.
		tr := testutil.NewTransport(t, nil)
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		_, err := tr.RoundTrip(testutil.NewRequest(t, "GET", "http://no-such-host.invalid./", nil).WithContext(ctx))
		var de *net.DNSError
		if !errors.As(err, &de) {
			t.Fatalf("err %v: want a *net.DNSError", err)
		}
		if de.IsTimeout || ctx.Err() != nil {
			t.Skipf("this machine's resolver does not answer: %v", err)
		}
		if st := tr.Stats().Total; st.Dials != 1 {
			t.Errorf("%d dials, want 1", st.Dials)
		}
	})
}

package h2

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/http2"

	"github.com/spoolhttp/spool/internal/errs"
	"github.com/spoolhttp/spool/internal/testcert"
)

// Faults around the read hand-off: what a caller reading the conn meets.

// cancelDuringRead starts a GET with a cancellable context on a parked
// conn, lets write(id) put part of the response on the wire, cancels once
// the caller reads, and checks RoundTrip's error and the RST_STREAM.
func cancelDuringRead(t *testing.T, c *Conn, p *peer, write func(id uint32)) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch := goRoundTrip(c, get(t, "http://x/").WithContext(ctx))
	h := p.headers()
	write(h.id)
	eventually(t, 5*time.Second, "the caller never read", func() bool { return c.holds.Load() == 1 })
	time.Sleep(20 * time.Millisecond) // let it block on the rest
	cancel()
	if r := wait(t, ch); !errors.Is(r.err, context.Canceled) {
		t.Fatalf("RoundTrip: %v, want context.Canceled", r.err)
	}
	if code := p.expectRST(h.id); code != http2.ErrCodeCancel {
		t.Fatalf("RST_STREAM %v, want CANCEL", code)
	}
}

// A cancel reaches a caller blocked on the socket in the middle of a
// frame (its header, or its payload), and what it had read is kept for
// the next holder: the late head of the reset stream is skipped and the
// conn still works.
func TestHandOffCancelMidFrame(t *testing.T) {
	for _, cut := range []int{5, frameHeaderLen + 1} {
		c, p := parkedPeer(t, Config{})
		var frame []byte
		cancelDuringRead(t, c, p, func(id uint32) {
			frame = p.rawHeaders(id, "200", "x-long", strings.Repeat("v", 100))
			p.writeRaw(frame[:cut])
		})
		p.writeRaw(frame[cut:])
		roundTripOK(t, c, p, "after")
		if c.Err() != nil {
			t.Fatalf("cut at %d: conn failed: %v", cut, c.Err())
		}
	}
}

// Over TLS, the interrupt can land inside a record: crypto/tls keeps the
// part it read, and the conn goes on.
func TestHandOffCancelMidTLSRecord(t *testing.T) {
	files, err := testcert.Write(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cert, err := tls.LoadX509KeyPair(files.CertFile, files.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	cnc, snc := tcpPair(t)
	split := &splitConn{Conn: snc}
	srv := tls.Server(split, &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"h2"}})
	cli := tls.Client(cnc, &tls.Config{RootCAs: files.Pool, ServerName: "localhost", NextProtos: []string{"h2"}})
	errc := make(chan error, 1)
	go func() { errc <- srv.Handshake() }()
	if err := cli.Handshake(); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	c, p := startPeer(t, Config{parkLinger: testLinger}, cli, srv,
		[]http2.Setting{{ID: http2.SettingMaxConcurrentStreams, Val: 10}})
	if !c.handOff {
		t.Fatal("no hand-off over TLS on TCP")
	}
	waitParked(t, c)
	release := split.holdNext(10) // the next record: 10 bytes now, the rest on release
	cancelDuringRead(t, c, p, func(id uint32) {
		go p.respond(id, true, "200") // blocks in the split write until release
	})
	release()
	roundTripOK(t, c, p, "after")
}

// splitConn writes the first n bytes of its next Write, then waits for
// release before writing the rest.
type splitConn struct {
	net.Conn
	mu      sync.Mutex
	n       int
	release chan struct{}
}

func (s *splitConn) holdNext(n int) (release func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n, s.release = n, make(chan struct{})
	ch := s.release
	return func() { close(ch) }
}

func (s *splitConn) Write(b []byte) (int, error) {
	s.mu.Lock()
	n, ch := s.n, s.release
	s.n, s.release = 0, nil
	s.mu.Unlock()
	if ch == nil || n >= len(b) {
		return s.Conn.Write(b)
	}
	if k, err := s.Conn.Write(b[:n]); err != nil {
		return k, err
	}
	<-ch
	k, err := s.Conn.Write(b[n:])
	return n + k, err
}

// A request body that still streams does not take the reads: the parked
// reader resumes for it at once (the linger is an hour here), so an
// early response reaches the caller.
func TestHandOffStreamingBodyResumesReader(t *testing.T) {
	c, p := parkedPeer(t, Config{})
	pr, pw := io.Pipe()
	defer pw.Close()
	req, _ := http.NewRequest("POST", "http://x/", pr)
	ch := goRoundTrip(c, req)
	h := p.headers()
	go pw.Write([]byte("abc"))
	if d, ok := p.next().(*gotData); !ok || d.end {
		t.Fatalf("want DATA without END_STREAM")
	}
	p.respond(h.id, false, "200") // early: the body is still open
	p.data(h.id, true, "ok")
	r := wait(t, ch)
	if r.err != nil {
		t.Fatal(r.err)
	}
	if got := readAll(t, r.resp.Body); got != "ok" {
		t.Fatalf("body %q", got)
	}
}

// Close, or a connection error, while a caller reads: RoundTrip fails,
// the reader tears the conn down (goleak checks its goroutine).
func TestHandOffConnEndsWhileHolding(t *testing.T) {
	for _, tc := range []struct {
		name string
		end  func(c *Conn, p *peer)
	}{
		{"Close", func(c *Conn, p *peer) { c.Close() }},
		{"DATA on an idle stream", func(c *Conn, p *peer) {
			p.data(99, false, "x")
			if g := p.expectGoAway(); g.code != http2.ErrCodeProtocol {
				t.Errorf("GOAWAY %v, want PROTOCOL_ERROR", g.code)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, p := parkedPeer(t, Config{})
			ch := goRoundTrip(c, get(t, "http://x/"))
			p.headers()
			eventually(t, 5*time.Second, "the caller never read", func() bool { return c.holds.Load() == 1 })
			tc.end(c, p)
			if r := wait(t, ch); r.err == nil {
				t.Fatal("RoundTrip succeeded on a conn that ended")
			}
			if c.Err() == nil {
				t.Fatal("the conn reports no error")
			}
		})
	}
}

// A health PING whose ack comes after another frame: the reader does not
// park on the frame before the ack, so the ack is read.
func TestHandOffPingAckAfterOtherFrame(t *testing.T) {
	c, p := parkedPeer(t, Config{ReadIdleTimeout: 50 * time.Millisecond, PingTimeout: 300 * time.Millisecond})
	var ping *http2.PingFrame
	for ping == nil {
		if f, ok := (<-p.frames).(*http2.PingFrame); ok && !f.IsAck() {
			ping = f
		}
	}
	p.write(func(fr *http2.Framer) error { return fr.WriteWindowUpdate(0, 1) })
	time.Sleep(20 * time.Millisecond)
	p.write(func(fr *http2.Framer) error { return fr.WritePing(true, ping.Data) })
	// The idle conn pings again 100 ms after the ack, and that PING's own
	// timeout would end just when the sleep does: ack the later ones.
	stop, acked := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(acked)
		for {
			select {
			case f, ok := <-p.frames:
				if pf, isPing := f.(*http2.PingFrame); ok && isPing && !pf.IsAck() {
					p.write(func(fr *http2.Framer) error { return fr.WritePing(true, pf.Data) })
				}
				if !ok {
					return
				}
			case <-stop:
				return
			}
		}
	}()
	time.Sleep(400 * time.Millisecond) // past the PingTimeout
	close(stop)
	<-acked
	if err := c.Err(); err != nil {
		t.Fatalf("conn failed though its PING was acked: %v", err)
	}
}

// A trace hook that panics on a caller reading the conn (a panic that a
// server's handler recovery swallows) fails the conn instead of leaving
// it with nobody reading: the next request returns an error, not a hang.
func TestHandOffHookPanicFailsConn(t *testing.T) {
	c, p := parkedPeer(t, Config{})
	tr := &httptrace.ClientTrace{GotFirstResponseByte: func() { panic("hook") }}
	req := get(t, "http://x/")
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), tr))
	done := make(chan any, 1)
	go func() {
		defer func() { done <- recover() }()
		c.RoundTrip(req)
	}()
	h := p.headers()
	p.respond(h.id, true, "200")
	if r := <-done; r == nil {
		t.Fatal("the hook's panic did not reach the caller")
	}
	eventually(t, 5*time.Second, "the conn did not fail", func() bool { return c.Err() != nil })
	if r := wait(t, goRoundTrip(c, get(t, "http://x/"))); r.err == nil {
		t.Fatal("RoundTrip succeeded on the failed conn")
	}
}

// ResponseHeaderTimeout firing as the head arrives: either RoundTrip
// returns the timeout, or it returns the response and its body reads
// whole; never a response whose body then fails with the timeout.
func TestHandOffHeadTimeoutRace(t *testing.T) {
	rounds := 100
	if testing.Short() {
		rounds = 20
	}
	for range rounds {
		c, p := newPeer(t, Config{ResponseHeaderTimeout: 2 * time.Millisecond}, http2.Setting{ID: http2.SettingMaxConcurrentStreams, Val: 10})
		ch := goRoundTrip(c, get(t, "http://x/"))
		h := p.headers()
		time.Sleep(2 * time.Millisecond)
		p.respond(h.id, false, "200")
		p.data(h.id, true, "0123456789")
		r := wait(t, ch)
		if r.err != nil {
			continue
		}
		b, err := io.ReadAll(r.resp.Body)
		var te *errs.TimeoutError
		if errors.As(err, &te) {
			t.Fatalf("RoundTrip returned the head, then its body failed with %v (read %q)", err, b)
		}
	}
}

package h2

import (
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"

	"github.com/spoolhttp/spool/internal/errs"
)

// The read hand-off (handoff.go): a caller whose stream is a parked conn's
// only one reads its response itself. These tests keep the reader parked
// (a long parkLinger) so that each request starts on a parked conn.

const testLinger = time.Hour

// parkedPeer is newPeer with the server's SETTINGS acked both ways and the
// reader parked.
func parkedPeer(t *testing.T, cfg Config) (*Conn, *peer) {
	t.Helper()
	cfg.parkLinger = testLinger
	c, p := newPeer(t, cfg, http2.Setting{ID: http2.SettingMaxConcurrentStreams, Val: 10})
	waitParked(t, c)
	return c, p
}

func waitParked(t *testing.T, c *Conn) {
	t.Helper()
	eventually(t, 5*time.Second, "the reader never parked", func() bool {
		return c.owner.Load() == ownNone
	})
}

// rawHeaders is a HEADERS frame (END_HEADERS, END_STREAM) for id with
// status and fields (name, value pairs), encoded with the peer's HPACK
// state, as bytes the test can write in pieces.
func (p *peer) rawHeaders(id uint32, status string, kv ...string) []byte {
	block := p.block(status, kv...)
	f := appendFrameHeader(nil, len(block), http2.FrameHeaders,
		http2.FlagHeadersEndHeaders|http2.FlagHeadersEndStream, id)
	return append(f, block...)
}

func (p *peer) writeRaw(b []byte) {
	p.wmu.Lock()
	defer p.wmu.Unlock()
	if _, err := p.nc.Write(b); err != nil {
		p.t.Errorf("peer write: %v", err)
	}
}

// roundTripOK runs a GET the peer answers with 200 and body, and checks
// what the caller gets.
func roundTripOK(t *testing.T, c *Conn, p *peer, body string) {
	t.Helper()
	ch := goRoundTrip(c, get(t, "http://x/"))
	h := p.headers()
	p.respond(h.id, false, "200")
	p.data(h.id, true, body)
	r := wait(t, ch)
	if r.err != nil {
		t.Fatalf("RoundTrip: %v", r.err)
	}
	if got := readAll(t, r.resp.Body); got != body {
		t.Fatalf("body %q, want %q", got, body)
	}
}

func TestHandOffCallerReadsItsResponse(t *testing.T) {
	c, p := parkedPeer(t, Config{})
	for i := 1; i <= 3; i++ {
		roundTripOK(t, c, p, "hello")
		if got := c.holds.Load(); got != int64(i) {
			t.Fatalf("after %d requests on a parked conn, %d were read by their caller", i, got)
		}
		waitParked(t, c) // the conn parks again once the body is read
	}
}

func TestHandOffResponseHeaderTimeout(t *testing.T) {
	c, p := parkedPeer(t, Config{ResponseHeaderTimeout: 100 * time.Millisecond})
	ch := goRoundTrip(c, get(t, "http://x/"))
	h := p.headers()
	r := wait(t, ch)
	var te *errs.TimeoutError
	if !errors.As(r.err, &te) || te.What != "ResponseHeaderTimeout" {
		t.Fatalf("RoundTrip: %v, want ResponseHeaderTimeout", r.err)
	}
	if c.holds.Load() != 1 {
		t.Fatal("the caller did not read the conn: the test missed its case")
	}
	p.expectRST(h.id)
	roundTripOK(t, c, p, "after") // the degraded PING was answered (next acks it)
}

// A second stream that starts while a caller reads is served by it, and
// by the reader once that caller has its head.
func TestHandOffSecondStream(t *testing.T) {
	for _, firstAnswered := range []bool{true, false} {
		c, p := parkedPeer(t, Config{})
		a := goRoundTrip(c, get(t, "http://x/a"))
		ha := p.headers()
		eventually(t, 5*time.Second, "the caller never read", func() bool { return c.holds.Load() == 1 })
		b := goRoundTrip(c, get(t, "http://x/b"))
		hb := p.headers()
		first, second := ha, hb
		if !firstAnswered {
			first, second = hb, ha
		}
		p.respond(first.id, false, "200")
		p.data(first.id, true, "first")
		time.Sleep(20 * time.Millisecond) // the first one may return before the second is answered
		p.respond(second.id, false, "200")
		p.data(second.id, true, "second")
		for _, x := range []struct {
			ch   chan result
			want string
		}{{a, "first"}, {b, "second"}} {
			if !firstAnswered {
				x.want = map[string]string{"first": "second", "second": "first"}[x.want]
			}
			r := wait(t, x.ch)
			if r.err != nil {
				t.Fatalf("RoundTrip: %v", r.err)
			}
			if got := readAll(t, r.resp.Body); got != x.want {
				t.Fatalf("body %q, want %q", got, x.want)
			}
		}
	}
}

// A body that is not whole when the head came is read by the reader.
func TestHandOffBodyToReader(t *testing.T) {
	c, p := parkedPeer(t, Config{})
	ch := goRoundTrip(c, get(t, "http://x/"))
	h := p.headers()
	p.respond(h.id, false, "200")
	r := wait(t, ch)
	if r.err != nil {
		t.Fatalf("RoundTrip: %v", r.err)
	}
	chunk := strings.Repeat("x", 16<<10)
	go func() {
		for range 8 {
			p.data(h.id, false, chunk)
			time.Sleep(time.Millisecond)
		}
		p.data(h.id, true, "")
	}()
	if got := readAll(t, r.resp.Body); got != strings.Repeat(chunk, 8) {
		t.Fatalf("body of %d bytes, want %d", len(got), 8*len(chunk))
	}
	if c.holds.Load() != 1 {
		t.Fatal("the caller did not read the conn: the test missed its case")
	}
}

// A parked conn still answers the health check: the PING resumes the
// reader, which reads the ack, so the conn is not failed for it.
func TestHandOffHealthPingOnParkedConn(t *testing.T) {
	c, p := parkedPeer(t, Config{ReadIdleTimeout: 30 * time.Millisecond, PingTimeout: 100 * time.Millisecond})
	pings := 0
	deadline := time.After(600 * time.Millisecond)
	for done := false; !done; {
		select {
		case f := <-p.frames:
			if pf, ok := f.(*http2.PingFrame); ok && !pf.IsAck() {
				pings++
				p.write(func(fr *http2.Framer) error { return fr.WritePing(true, pf.Data) })
			}
		case <-deadline:
			done = true
		}
	}
	if pings < 2 {
		t.Fatalf("%d health PINGs in 600 ms, want several", pings)
	}
	if err := c.Err(); err != nil {
		t.Fatalf("conn failed though every PING was acked: %v", err)
	}
	roundTripOK(t, c, p, "alive")
}

// Close wakes a parked reader, which sees the close and ends (goleak
// checks its goroutine is gone).
func TestHandOffCloseParked(t *testing.T) {
	c, p := parkedPeer(t, Config{})
	c.Close()
	eventually(t, 5*time.Second, "Close left the reader parked", func() bool { return c.owner.Load() == ownReader })
	for {
		if f := p.next(); f == io.EOF {
			break
		}
	}
}

// The reader parks for parkLinger only: what a server sends to an idle
// conn is read as promptly as if it had never parked.
func TestHandOffLingerEnds(t *testing.T) {
	for _, tc := range []struct {
		name string
		send func(p *peer)
	}{
		{"GOAWAY", func(p *peer) {
			p.write(func(fr *http2.Framer) error { return fr.WriteGoAway(1, http2.ErrCodeNo, nil) })
		}},
		{"FIN", func(p *peer) { p.nc.Close() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, p := newPeer(t, Config{}, http2.Setting{})
			roundTripOK(t, c, p, "x")
			time.Sleep(50 * time.Millisecond) // past the linger: the reader is on the socket again
			tc.send(p)
			eventually(t, 5*time.Second, "the idle conn did not see it", func() bool { return c.Err() != nil })
		})
	}
}

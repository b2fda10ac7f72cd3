package h2

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"

	"github.com/spoolhttp/spool/internal/errs"
	"github.com/spoolhttp/spool/internal/pool"
)

func TestScriptedHandshakeAndResponse(t *testing.T) {
	c, p := newPeer(t, Config{UserAgent: "spool-test"}, http2.Setting{ID: http2.SettingMaxConcurrentStreams, Val: 7})
	ch := goRoundTrip(c, get(t, "http://example.test/a?b=c"))
	h := p.headers()
	if h.id != 1 || !h.end || field(h, ":path") != "/a?b=c" || field(h, ":authority") != "example.test" ||
		field(h, ":method") != "GET" || field(h, ":scheme") != "http" || field(h, "user-agent") != "spool-test" {
		t.Fatalf("request HEADERS %+v", h)
	}
	p.respond(1, false, "200", "content-type", "text/plain", "content-length", "5")
	p.data(1, true, "hello")
	r := wait(t, ch)
	if r.err != nil || r.resp.StatusCode != 200 || r.resp.Status != "200 OK" || r.resp.ContentLength != 5 ||
		r.resp.Header.Get("Content-Type") != "text/plain" {
		t.Fatalf("resp %+v err %v", r.resp, r.err)
	}
	if got := readAll(t, r.resp.Body); got != "hello" {
		t.Fatalf("body %q", got)
	}
	if _, err := r.resp.Body.Read(make([]byte, 1)); err != nil && !errors.Is(err, errBodyClosed) {
		t.Fatalf("Read after Close: %v", err)
	}
	if _, max := c.Streams(); max != 7 || c.InFlight() != 0 || c.Available() != 7 {
		t.Fatalf("after one stream: max=%d InFlight=%d Available=%d", max, c.InFlight(), c.Available())
	}
}

func TestScriptedReadAfterEOF(t *testing.T) {
	c, p := newPeer(t, Config{}, http2.Setting{})
	ch := goRoundTrip(c, get(t, "http://x/"))
	p.headers()
	p.respond(1, false, "200")
	p.data(1, true, "ab")
	r := wait(t, ch)
	b, err := io.ReadAll(r.resp.Body)
	if err != nil || string(b) != "ab" {
		t.Fatal(string(b), err)
	}
	for i := 0; i < 3; i++ {
		if n, err := r.resp.Body.Read(make([]byte, 4)); n != 0 || err != io.EOF {
			t.Fatalf("Read after EOF = %d, %v", n, err)
		}
	}
}

// A GOAWAY mid-burst: the stream above Last-Stream-ID fails as not
// processed (the root replays it), the ones below complete, then the conn
// closes.
func TestScriptedGoAwayMidBurst(t *testing.T) {
	c, p := newPeer(t, Config{}, http2.Setting{})
	var chs []chan result
	for i := 0; i < 3; i++ {
		chs = append(chs, goRoundTrip(c, get(t, "http://x/")))
		p.headers()
	}
	p.write(func(fr *http2.Framer) error { return fr.WriteGoAway(3, http2.ErrCodeNo, nil) })
	r5 := wait(t, chs[2])
	var nr *errs.NoResponseError
	var ge http2.GoAwayError
	if !errors.As(r5.err, &nr) || nr.Wrote || !errors.As(r5.err, &ge) || ge.LastStreamID != 3 {
		t.Fatalf("stream 5 err = %v, want not processed with the GOAWAY", r5.err)
	}
	if c.Available() != 0 || c.Err() != nil {
		t.Fatalf("draining conn: Available=%d Err=%v", c.Available(), c.Err())
	}
	for _, id := range []uint32{1, 3} {
		p.respond(id, true, "204")
	}
	for _, ch := range chs[:2] {
		if r := wait(t, ch); r.err != nil || r.resp.StatusCode != 204 {
			t.Fatalf("stream below Last-Stream-ID: %v", r.err)
		}
	}
	eventually(t, 5*time.Second, "drained conn not closed", func() bool { return errors.Is(c.Err(), pool.ErrServerClosed) })
	if got := c.ctr.snapshot(); got.GoAways != 1 || got.NotProcessed != 1 {
		t.Fatalf("counters %+v", got)
	}
}

func TestScriptedRefusedStream(t *testing.T) {
	c, p := newPeer(t, Config{}, http2.Setting{})
	ch := goRoundTrip(c, get(t, "http://x/"))
	p.headers()
	p.write(func(fr *http2.Framer) error { return fr.WriteRSTStream(1, http2.ErrCodeRefusedStream) })
	r := wait(t, ch)
	var nr *errs.NoResponseError
	if !errors.As(r.err, &nr) || nr.Wrote || !Refused(r.err) {
		t.Fatalf("err = %v, want refused, not processed", r.err)
	}
	if c.Err() != nil || c.InFlight() != 0 || c.Available() == 0 {
		t.Fatalf("after a refusal: Err=%v InFlight=%d", c.Err(), c.InFlight())
	}
}

func TestScriptedResetMidBody(t *testing.T) {
	c, p := newPeer(t, Config{}, http2.Setting{})
	ch := goRoundTrip(c, get(t, "http://x/"))
	p.headers()
	p.respond(1, false, "200")
	p.data(1, false, "part")
	r := wait(t, ch)
	buf := make([]byte, 4)
	if _, err := io.ReadFull(r.resp.Body, buf); err != nil {
		t.Fatal(err)
	}
	p.write(func(fr *http2.Framer) error { return fr.WriteRSTStream(1, http2.ErrCodeInternal) })
	_, err := r.resp.Body.Read(buf)
	var se http2.StreamError
	var e *errs.Error
	if !errors.As(err, &se) || se.Code != http2.ErrCodeInternal || !errors.As(err, &e) || e.Op != errs.OpReadBody {
		t.Fatalf("Read = %v, want read body error with the stream error", err)
	}
	if c.Err() != nil || c.InFlight() != 0 {
		t.Fatalf("conn after reset: Err=%v InFlight=%d", c.Err(), c.InFlight())
	}
}

func TestScriptedTrailers(t *testing.T) {
	c, p := newPeer(t, Config{}, http2.Setting{})
	ch := goRoundTrip(c, get(t, "http://x/"))
	p.headers()
	p.respond(1, false, "200", "trailer", "grpc-status")
	p.data(1, false, "x")
	p.respond(1, true, "", "grpc-status", "0")
	r := wait(t, ch)
	if _, ok := r.resp.Trailer["Grpc-Status"]; !ok {
		t.Fatalf("declared trailers %v", r.resp.Trailer)
	}
	readAll(t, r.resp.Body)
	if got := r.resp.Trailer.Get("Grpc-Status"); got != "0" {
		t.Fatalf("trailer after EOF %q (%v)", got, r.resp.Trailer)
	}
}

func TestScriptedInformational(t *testing.T) {
	c, p := newPeer(t, Config{}, http2.Setting{})
	var got []int
	var hints []string
	trace := &httptrace.ClientTrace{Got1xxResponse: func(code int, h textproto.MIMEHeader) error {
		got = append(got, code)
		hints = append(hints, h.Get("Link"))
		return nil
	}}
	req := get(t, "http://x/").WithContext(httptrace.WithClientTrace(context.Background(), trace))
	ch := goRoundTrip(c, req)
	p.headers()
	p.respond(1, false, "103", "link", "</a.css>; rel=preload")
	p.respond(1, true, "200")
	r := wait(t, ch)
	if r.err != nil || r.resp.StatusCode != 200 || len(got) != 1 || got[0] != 103 || hints[0] != "</a.css>; rel=preload" {
		t.Fatalf("resp %v err %v 1xx %v %v", r.resp, r.err, got, hints)
	}
}

func TestScriptedExpectContinue(t *testing.T) {
	c, p := newPeer(t, Config{ExpectContinueTimeout: time.Minute}, http2.Setting{})
	var waited, got100 bool
	trace := &httptrace.ClientTrace{Wait100Continue: func() { waited = true }, Got100Continue: func() { got100 = true }}
	req, _ := http.NewRequest("PUT", "http://x/", strings.NewReader("payload"))
	req.Header.Set("Expect", "100-continue")
	req = req.WithContext(httptrace.WithClientTrace(context.Background(), trace))
	ch := goRoundTrip(c, req)
	h := p.headers()
	if h.end || field(h, "expect") != "100-continue" {
		t.Fatalf("HEADERS %+v", h)
	}
	for quiet := time.After(50 * time.Millisecond); ; {
		select {
		case f := <-p.frames:
			if _, ok := f.(*gotData); ok {
				t.Fatal("client sent DATA before the 100")
			}
			continue
		case <-quiet:
		}
		break
	}
	p.respond(1, false, "100")
	d, ok := p.next().(*gotData)
	if !ok || string(d.data) != "payload" || !d.end {
		t.Fatalf("after 100: %+v", d)
	}
	p.respond(1, true, "201")
	if r := wait(t, ch); r.err != nil || r.resp.StatusCode != 201 || !waited || !got100 {
		t.Fatalf("resp %v err %v waited=%v got100=%v", r.resp, r.err, waited, got100)
	}
}

// ResponseHeaderTimeout resets the stream, keeps the conn, and pings it.
func TestScriptedResponseHeaderTimeout(t *testing.T) {
	c, p := newPeer(t, Config{ResponseHeaderTimeout: 50 * time.Millisecond}, http2.Setting{})
	ch := goRoundTrip(c, get(t, "http://x/"))
	p.headers()
	r := wait(t, ch)
	var te *errs.TimeoutError
	var e *errs.Error
	if !errors.As(r.err, &te) || te.What != "ResponseHeaderTimeout" || !errors.As(r.err, &e) || e.Op != errs.OpAwaitHeaders {
		t.Fatalf("err = %v", r.err)
	}
	if code := p.expectRST(1); code != http2.ErrCodeCancel {
		t.Fatalf("RST code %v", code)
	}
	// finish queues the RST_STREAM before it frees the slot: the peer
	// may read the frame first.
	eventually(t, 5*time.Second, "the timed-out stream holds its slot", func() bool { return c.InFlight() == 0 })
	if c.Err() != nil {
		t.Fatalf("conn after a stream timeout: Err=%v", c.Err())
	}
	// The degraded PING is answered by p.next (it acks PINGs): the conn
	// stays in service.
	ch = goRoundTrip(c, get(t, "http://x/"))
	h := p.headers()
	p.respond(h.id, true, "200")
	if r := wait(t, ch); r.err != nil {
		t.Fatal(r.err)
	}
	time.Sleep(degradedPingTimeout + 200*time.Millisecond)
	if c.Available() == 0 {
		t.Fatal("conn degraded although its PING was answered")
	}
}

// A stream timeout on a conn whose peer does not answer PINGs takes the
// conn out of service for new streams.
func TestScriptedDegradedPing(t *testing.T) {
	c, p := newPeer(t, Config{BodyReadTimeout: 50 * time.Millisecond}, http2.Setting{})
	ch := goRoundTrip(c, get(t, "http://x/"))
	p.headers()
	p.respond(1, false, "200")
	r := wait(t, ch)
	_, err := r.resp.Body.Read(make([]byte, 1))
	var te *errs.TimeoutError
	if !errors.As(err, &te) || te.What != "BodyReadTimeout" {
		t.Fatalf("Read = %v", err)
	}
	// p.frames is not drained: the PING goes unanswered.
	eventually(t, 5*time.Second, "conn still takes streams", func() bool { return c.Available() == 0 })
	if !errors.Is(c.Err(), errDegraded) {
		t.Fatalf("Err = %v, want degraded", c.Err())
	}
}

func TestScriptedEarlyCloseResets(t *testing.T) {
	var dc doneCounter
	c, p := newPeer(t, Config{OnStreamDone: dc.hook}, http2.Setting{})
	ch := goRoundTrip(c, get(t, "http://x/"))
	p.headers()
	p.respond(1, false, "200")
	p.data(1, false, "more to come")
	r := wait(t, ch)
	r.resp.Body.Close()
	if c.InFlight() != 0 || dc.n.Load() != 1 {
		t.Fatalf("after Close: InFlight=%d done=%d", c.InFlight(), dc.n.Load())
	}
	if code := p.expectRST(1); code != http2.ErrCodeCancel {
		t.Fatalf("RST code %v", code)
	}
	// Late DATA for the reset stream is ignored; the conn serves on.
	p.data(1, true, "late")
	ch = goRoundTrip(c, get(t, "http://x/"))
	h := p.headers()
	p.respond(h.id, true, "200")
	if r := wait(t, ch); r.err != nil {
		t.Fatal(r.err)
	}
}

func TestScriptedMalformedResponses(t *testing.T) {
	cases := []struct {
		name string
		kv   []string
	}{
		{"connection header", []string{"connection", "close"}},
		{"transfer-encoding", []string{"transfer-encoding", "chunked"}},
		{"conflicting content-length", []string{"content-length", "1", "content-length", "2"}},
		{"bad content-length", []string{"content-length", "x"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, p := newPeer(t, Config{}, http2.Setting{})
			ch := goRoundTrip(c, get(t, "http://x/"))
			p.headers()
			p.respond(1, false, "200", tc.kv...)
			r := wait(t, ch)
			var se http2.StreamError
			if !errors.As(r.err, &se) || se.Code != http2.ErrCodeProtocol {
				t.Fatalf("err = %v, want PROTOCOL_ERROR stream error", r.err)
			}
			if code := p.expectRST(1); code != http2.ErrCodeProtocol {
				t.Fatalf("RST code %v", code)
			}
			if c.Err() != nil {
				t.Fatalf("a stream error broke the conn: %v", c.Err())
			}
		})
	}
	t.Run("bad status", func(t *testing.T) {
		c, p := newPeer(t, Config{}, http2.Setting{})
		ch := goRoundTrip(c, get(t, "http://x/"))
		p.headers()
		p.respond(1, true, "20x")
		if r := wait(t, ch); r.err == nil {
			t.Fatal("accepted :status 20x")
		}
	})
	t.Run("more DATA than content-length", func(t *testing.T) {
		c, p := newPeer(t, Config{}, http2.Setting{})
		ch := goRoundTrip(c, get(t, "http://x/"))
		p.headers()
		p.respond(1, false, "200", "content-length", "2")
		p.data(1, true, "abc")
		r := wait(t, ch)
		if _, err := io.ReadAll(r.resp.Body); err == nil {
			t.Fatal("body longer than Content-Length read without error")
		}
	})
	t.Run("less DATA than content-length", func(t *testing.T) {
		c, p := newPeer(t, Config{}, http2.Setting{})
		ch := goRoundTrip(c, get(t, "http://x/"))
		p.headers()
		p.respond(1, false, "200", "content-length", "5")
		p.data(1, true, "abc")
		r := wait(t, ch)
		if _, err := io.ReadAll(r.resp.Body); !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("short body: %v", err)
		}
	})
}

// A request body respects the peer's windows and resumes on WINDOW_UPDATE.
func TestScriptedSendFlowControl(t *testing.T) {
	c, p := newPeer(t, Config{}, http2.Setting{ID: http2.SettingInitialWindowSize, Val: 10})
	body := strings.Repeat("x", 25)
	req, _ := http.NewRequest("POST", "http://x/", io.NopCloser(strings.NewReader(body)))
	ch := goRoundTrip(c, req)
	p.headers()
	var got []int
	total := 0
	for total < len(body) {
		d, ok := p.next().(*gotData)
		if !ok {
			t.Fatal("not DATA")
		}
		got = append(got, len(d.data))
		total += len(d.data)
		if total%10 == 0 && total < len(body) {
			// Credit only once the body waits for it: a WINDOW_UPDATE
			// that beat the sender to its next frame left nothing to
			// count (2 in 100 runs under -race).
			stalls := uint64(total / 10)
			eventually(t, 5*time.Second, "the body did not wait for the window", func() bool {
				return c.ctr.snapshot().FlowStalls >= stalls
			})
			p.write(func(fr *http2.Framer) error { return fr.WriteWindowUpdate(1, 10) })
		}
	}
	if len(got) < 3 || got[0] > 10 {
		t.Fatalf("DATA sizes %v with a 10-byte window", got)
	}
	p.respond(1, true, "200")
	if r := wait(t, ch); r.err != nil {
		t.Fatal(r.err)
	}
	if c.ctr.snapshot().FlowStalls == 0 {
		t.Fatal("a stall was not counted")
	}
}

// Data beyond the stream window is a stream error (FLOW_CONTROL_ERROR).
func TestScriptedDataBeyondWindow(t *testing.T) {
	c, p := newPeer(t, Config{DisableAdaptiveWindow: true}, http2.Setting{})
	ch := goRoundTrip(c, get(t, "http://x/"))
	p.headers()
	p.respond(1, false, "200")
	r := wait(t, ch)
	chunk := strings.Repeat("z", 16384)
	for sent := 0; sent <= defaultStreamWindow; sent += len(chunk) {
		p.data(1, false, chunk)
	}
	if code := p.expectRST(1); code != http2.ErrCodeFlowControl {
		t.Fatalf("RST code %v", code)
	}
	r.resp.Body.Close()
	if c.Err() != nil {
		t.Fatal(c.Err())
	}
}

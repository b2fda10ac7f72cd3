package h2

import (
	"errors"
	"io"
	"testing"
	"time"

	"github.com/spoolhttp/spool/internal/errs"

	"golang.org/x/net/http2"
)

// holdPeer is a scripted conn whose holds last holdMax, with three requests
// sent and waiting for their heads: a fourth waits (more than holdRatio
// times as many at the server as queued).
// Its holdGap is long: the scripted server's heads count as coming fast.
func holdPeer(t *testing.T, holdMax time.Duration) (c *Conn, p *peer, waiting []chan result) {
	t.Helper()
	return holdPeerCfg(t, Config{WriteHold: holdMax, holdGap: time.Hour})
}

func holdPeerCfg(t *testing.T, cfg Config) (c *Conn, p *peer, waiting []chan result) {
	t.Helper()
	c, p = newPeer(t, cfg, http2.Setting{ID: http2.SettingMaxConcurrentStreams, Val: 10})
	for _, want := range []uint32{1, 3, 5} {
		waiting = append(waiting, goRoundTrip(c, get(t, "http://x/")))
		if h := p.headers(); h.id != want {
			t.Fatalf("HEADERS on stream %d, want %d", h.id, want)
		}
	}
	return c, p, waiting
}

// held reports whether the write queue holds frames and nobody writes them.
func held(c *Conn) bool {
	q := &c.wq
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.buf) > 0 && !q.flushing && q.hold.armed.Load()
}

// waitHeld starts a GET and waits until its HEADERS are held.
func waitHeld(t *testing.T, c *Conn) chan result {
	t.Helper()
	c.wq.hold.lastHead.Store(monoNow()) // as if a head had just come
	ch := goRoundTrip(c, get(t, "http://x/"))
	eventually(t, 5*time.Second, "the fourth request was not held", func() bool { return held(c) })
	return ch
}

// A request that starts while more than holdRatio times as many requests
// wait at the server waits; the next one joins it, and both go out in one
// write.
func TestWriteHoldGathersRequests(t *testing.T) {
	c, p, _ := holdPeer(t, time.Hour)
	waitHeld(t, c)
	w0 := c.wq.writes.Load()
	goRoundTrip(c, get(t, "http://x/")) // two queued, three waiting: out
	for _, want := range []uint32{7, 9} {
		if h := p.headers(); h.id != want {
			t.Fatalf("HEADERS on stream %d, want %d", h.id, want)
		}
	}
	if n := c.wq.writes.Load() - w0; n != 1 {
		t.Fatalf("the two requests took %d writes, want 1", n)
	}
}

// A response to an earlier request releases the held one: now only
// holdRatio times as many wait at the server.
func TestWriteHoldReleasedByResponse(t *testing.T) {
	c, p, waiting := holdPeer(t, time.Hour)
	waitHeld(t, c)
	p.respond(1, true, "200")
	if r := wait(t, waiting[0]); r.err != nil {
		t.Fatal(r.err)
	}
	if h := p.headers(); h.id != 7 {
		t.Fatalf("HEADERS on stream %d, want 7", h.id)
	}
}

// A frame other than a request's (here the ack of the server's PING) is
// never held, and takes the held request with it.
func TestWriteHoldNotForOtherFrames(t *testing.T) {
	c, p, _ := holdPeer(t, time.Hour)
	waitHeld(t, c)
	p.write(func(fr *http2.Framer) error { return fr.WritePing(false, [8]byte{'x'}) })
	if h := p.headers(); h.id != 7 {
		t.Fatalf("HEADERS on stream %d, want 7", h.id)
	}
}

// With nothing else happening, the held request goes out after holdMax,
// and the next writes go out unheld (the rules mispredicted).
func TestWriteHoldBounded(t *testing.T) {
	c, p, _ := holdPeer(t, 20*time.Millisecond)
	waitHeld(t, c)
	if h := p.headers(); h.id != 7 {
		t.Fatalf("HEADERS on stream %d, want 7", h.id)
	}
	c.wq.mu.Lock()
	off := c.wq.hold.off
	c.wq.mu.Unlock()
	if off == 0 {
		t.Fatal("holds still on after a hold the timer ended")
	}
}

// Requests whose heads are long in coming (long polls) stop counting as
// waiting after holdGens writes, so they do not hold new requests.
func TestWriteHoldIgnoresOldStreams(t *testing.T) {
	c, p, _ := holdPeer(t, time.Hour)
	for i := range holdGens {
		data := [8]byte{'p', byte(i)}
		p.write(func(fr *http2.Framer) error { return fr.WritePing(false, data) })
		for acked := false; !acked; {
			f, ok := <-p.frames
			if !ok {
				t.Fatal("conn closed")
			}
			pf, isPing := f.(*http2.PingFrame)
			acked = isPing && pf.IsAck() && pf.Data == data
		}
	}
	goRoundTrip(c, get(t, "http://x/"))
	if h := p.headers(); h.id != 7 { // within next's 10 s, not the hour
		t.Fatalf("HEADERS on stream %d, want 7", h.id)
	}
}

// While response heads come far apart (here none came yet), nothing waits:
// a server that takes its time would make every hold plain latency.
func TestWriteHoldNotWhileHeadsSlow(t *testing.T) {
	c, p, _ := holdPeerCfg(t, Config{WriteHold: time.Hour}) // the default holdGap
	goRoundTrip(c, get(t, "http://x/"))
	if h := p.headers(); h.id != 7 { // within next's 10 s, not the hour
		t.Fatalf("HEADERS on stream %d, want 7", h.id)
	}
}

// A request whose body still streams is not whole: its HEADERS go out at
// once, whatever waits at the server.
func TestWriteHoldNotForStreamingBodies(t *testing.T) {
	c, p, _ := holdPeer(t, time.Hour)
	c.wq.hold.lastHead.Store(monoNow())
	pr, pw := io.Pipe()
	defer pw.Close()
	req := get(t, "http://x/")
	req.Method, req.Body = "POST", pr
	goRoundTrip(c, req)
	if h := p.headers(); h.id != 7 || h.end {
		t.Fatalf("HEADERS on stream %d (END_STREAM %v), want 7 without", h.id, h.end)
	}
}

// A caller that holds the conn's reads (its stream was the only one when
// it started) and dispatches another stream's head ends a hold as the
// reader would.
func TestWriteHoldReleasedByHolder(t *testing.T) {
	c, p := parkedPeer(t, Config{WriteHold: time.Hour, holdGap: time.Hour})
	first := goRoundTrip(c, get(t, "http://x/a"))
	if h := p.headers(); h.id != 1 {
		t.Fatalf("HEADERS on stream %d, want 1", h.id)
	}
	eventually(t, 5*time.Second, "the caller never read", func() bool {
		return c.holds.Load() == 1 && c.owner.Load() == ownCaller
	})
	var others []chan result
	for _, want := range []uint32{3, 5} {
		others = append(others, goRoundTrip(c, get(t, "http://x/")))
		if h := p.headers(); h.id != want {
			t.Fatalf("HEADERS on stream %d, want %d", h.id, want)
		}
	}
	waitHeld(t, c) // stream 7
	if c.owner.Load() != ownCaller {
		t.Skip("the caller handed its reads on before the hold") // nothing to test this time
	}
	p.respond(3, true, "200")
	if r := wait(t, others[0]); r.err != nil {
		t.Fatal(r.err)
	}
	if h := p.headers(); h.id != 7 {
		t.Fatalf("HEADERS on stream %d, want 7", h.id)
	}
	p.respond(1, true, "200")
	wait(t, first)
}

// The server's close during a hold fails the held request as never sent
// (the root replays it) and the sent ones as sent.
func TestWriteHoldPeerCloses(t *testing.T) {
	c, p, waiting := holdPeer(t, time.Hour)
	ch := waitHeld(t, c)
	p.nc.Close()
	var nr *errs.NoResponseError
	if r := wait(t, ch); !errors.As(r.err, &nr) || nr.Wrote {
		t.Fatalf("held request: %v, want a NoResponseError that did not write", r.err)
	}
	for _, w := range waiting {
		if r := wait(t, w); !errors.As(r.err, &nr) || !nr.Wrote {
			t.Fatalf("sent request: %v, want a NoResponseError that wrote", r.err)
		}
	}
}

// Close while a request is held: the GOAWAY goes out without it, so the
// server never runs a request whose caller was told it failed.
func TestWriteHoldCloseDropsHeld(t *testing.T) {
	c, p, _ := holdPeer(t, time.Hour)
	ch := waitHeld(t, c)
	c.Close()
	var nr *errs.NoResponseError
	if r := wait(t, ch); !errors.As(r.err, &nr) || nr.Wrote {
		t.Fatalf("held request: %v, want a NoResponseError that did not write (the root may replay it)", r.err)
	}
	for {
		switch f := p.next().(type) {
		case *gotHeaders:
			t.Fatalf("the server got HEADERS on stream %d after Close", f.id)
		case *gotGoAway:
			return
		case error:
			t.Fatalf("no GOAWAY before the close: %v", f)
		}
	}
}

// ruleQueue is a write queue in a state where the hold's rules all say
// wait: one whole request queued, three sent in the last write whose
// heads are due now, heads coming fast.
func ruleQueue(t *testing.T) *writeQueue {
	q := &writeQueue{}
	h := &q.hold
	h.max, h.gap = holdMax, holdGap
	now := monoNow()
	lat := int64(50 * time.Microsecond)
	h.gen = 1
	h.sent[0].Store(now - lat)
	h.waiting[0].Store(3)
	h.latAvg.Store(lat)
	h.gapAvg.Store(int64(holdGap / 2))
	h.lastHead.Store(now)
	q.buf = make([]byte, 40)
	h.bytes, h.reqs = len(q.buf), 1
	t.Cleanup(func() {
		if h.timer != nil {
			h.timer.Stop()
		}
	})
	return q
}

// Each of the hold's rules, alone, makes the request go out.
func TestWriteHoldRules(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  func(q *writeQueue)
		hold bool
	}{
		{"all say wait", func(q *writeQueue) {}, true},
		{"another frame queued", func(q *writeQueue) { q.buf = append(q.buf, 0) }, false},
		{"queue full", func(q *writeQueue) { q.buf = make([]byte, corkedMax); q.hold.bytes = corkedMax }, false},
		{"conn closing", func(q *writeQueue) { q.closing.Store(true) }, false},
		{"too few at the server", func(q *writeQueue) { q.hold.waiting[0].Store(2) }, false},
		{"heads slow", func(q *writeQueue) { q.hold.gapAvg.Store(int64(2 * holdGap)) }, false},
		{"heads stopped", func(q *writeQueue) { q.hold.lastHead.Store(monoNow() - int64(2*holdMax)) }, false},
		{"responses slow", func(q *writeQueue) { // though due now
			q.hold.latAvg.Store(int64(2 * holdLatMax))
			q.hold.sent[0].Store(monoNow() - int64(2*holdLatMax))
		}, false},
		{"heads not due yet", func(q *writeQueue) {
			q.hold.latAvg.Store(int64(holdLatMax))
			q.hold.sent[0].Store(monoNow())
		}, false},
		{"heads long overdue", func(q *writeQueue) { q.hold.sent[0].Store(monoNow() - int64(time.Hour)) }, false},
		{"its time is up", func(q *writeQueue) { q.hold.since = monoNow() - int64(2*holdMax) }, false},
		{"after a timer-ended hold", func(q *writeQueue) { q.hold.off = holdBackoff }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := ruleQueue(t)
			tc.set(q)
			q.mu.Lock()
			got := q.holdLocked()
			q.mu.Unlock()
			if got != tc.hold {
				t.Fatalf("hold %v, want %v", got, tc.hold)
			}
		})
	}
}

// A hold whose time ran out with no head coming meanwhile turns holds off
// for holdBackoff writes; one during which heads came does not.
func TestWriteHoldBackoff(t *testing.T) {
	q := ruleQueue(t)
	q.mu.Lock()
	defer q.mu.Unlock()
	q.hold.since = monoNow() - int64(2*holdMax) // heads came since
	if q.holdLocked() || q.hold.off != 0 {
		t.Fatalf("past its time: held, or holds off (%d) though heads came", q.hold.off)
	}
	q.hold.lastHead.Store(q.hold.since - 1) // none came since
	if q.holdLocked() || q.hold.off == 0 {
		t.Fatal("past its time with no head: held, or holds still on")
	}
	// After write n, ruleQueue's state again (holdTaken clears the batch).
	afterWrites := func(n int) bool {
		for range n {
			q.holdTaken()
		}
		prev, now := (q.hold.gen-1)%holdGens, monoNow()
		q.hold.sent[prev].Store(now - q.hold.latAvg.Load())
		q.hold.waiting[prev].Store(uint64(q.hold.gen-1)<<32 | 3)
		q.hold.lastHead.Store(now)
		q.hold.bytes, q.hold.reqs = len(q.buf), 1
		return q.holdLocked()
	}
	if afterWrites(holdBackoff) { // the expired batch's own write, then 15 more
		t.Fatalf("held %d writes after a timer-ended hold's own", holdBackoff-1)
	}
	if !afterWrites(1) {
		t.Fatalf("holds still off %d writes after a timer-ended hold's own", holdBackoff)
	}
}

// WriteHold < 0 turns the hold off: with every rule saying wait, the
// request goes out at once.
func TestWriteHoldOff(t *testing.T) {
	c, p, _ := holdPeerCfg(t, Config{WriteHold: -1, holdGap: time.Hour})
	c.wq.hold.lastHead.Store(monoNow())
	goRoundTrip(c, get(t, "http://x/"))
	if h := p.headers(); h.id != 7 {
		t.Fatalf("HEADERS on stream %d, want 7", h.id)
	}
}

// A late fire of an earlier hold's timer (its Stop came too late) leaves
// the next hold alone: it neither writes it early nor turns holds off.
func TestWriteHoldStaleTimerFire(t *testing.T) {
	q := ruleQueue(t)
	q.mu.Lock()
	if !q.holdLocked() { // a fresh hold: since is now
		q.mu.Unlock()
		t.Fatal("not held")
	}
	q.hold.lastHead.Store(q.hold.since - 1) // no head since it began
	q.mu.Unlock()
	q.holdExpired() // the earlier timer's fire, arriving late
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.buf) == 0 || q.flushing || q.hold.off != 0 || !q.hold.armed.Load() {
		t.Fatalf("a stale fire ended the hold: buf %d, flushing %v, off %d, armed %v",
			len(q.buf), q.flushing, q.hold.off, q.hold.armed.Load())
	}
}

// A head whose write's slot went to a newer write still counts in the
// latency average, at least as old as the oldest write remembered: with
// writes fast and heads slow, the average would otherwise see no slow
// head and say responses come fast.
func TestWriteHoldLatencyOfOldHeads(t *testing.T) {
	q := ruleQueue(t)
	now := monoNow()
	for i := range holdGens {
		q.hold.sent[i].Store(now - int64(time.Millisecond) + int64(i)) // the oldest remembered write: 1 ms ago
	}
	q.hold.latAvg.Store(0)
	for range 32 {
		q.holdHead(q.hold.gen+holdGens*3, true) // a generation whose slot is long reused
	}
	if lat := time.Duration(q.hold.latAvg.Load()); lat < holdLatMax {
		t.Fatalf("latency average %v after slow heads of old writes, want ≥ %v", lat, holdLatMax)
	}
}

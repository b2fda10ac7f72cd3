package h2

import (
	"sync/atomic"
	"time"
)

// The write hold (design-notes 29): while requests sent in recent writes
// still wait at the server for their heads, a write that carries only new
// requests waits for more of them, up to holdMax, instead of going out
// alone. Each response the reader dispatches wakes its caller, which
// queues its next request; the hold lets those that come back while the
// server still has work gather into one write. Without it every small
// burst of responses (nginx writes them one by one) made a write of its
// own: 0.23–0.30 socket writes per request at 16 streams against nginx;
// with it 0.14–0.18, at 2–6% of req/s and p50 on this 2-core machine.
//
// What bounds it, each rule checked when a write would start:
//   - only whole requests wait (HEADERS, with a small body's DATA): a
//     WINDOW_UPDATE, PING, RST_STREAM, SETTINGS ack, GOAWAY or a body
//     still streaming goes out at once, with whatever is queued;
//   - more than holdRatio times as many requests as are queued wait at
//     the server, so it has more work than waits here (a conn with fewer
//     than 4 streams never waits), and at least as many as are queued
//     are due within holdMax either side of now by the heads' average
//     latency, so others will come back to join (a server that answers
//     late, or a stream long overdue, holds nothing);
//   - heads come fast and soon: their gaps average under holdGap, the
//     last is no older than holdMax, and they come under holdLatMax
//     after their writes on average (a sequential client's heads are a
//     round trip apart; a slow response would only grow);
//   - only requests of the last holdGens-1 writes count: a stream whose
//     head is long in coming (a long poll) stops counting after a few
//     writes;
//   - holdMax bounds every wait, on a timer (a re-hold gets what is
//     left); one that ran its course with no head coming turns holds
//     off for holdBackoff writes; the reader re-checks the rules after
//     the heads it dispatched, before it waits on the socket.

const (
	// holdMax bounds how long a request waits for others to join its
	// write. Go's timers are as fine as that only while the process is
	// busy (an idle runtime sleeps in epoll_wait, whose unit is the
	// millisecond: golang/go#44343, a reviewer measured 1.1 ms); the
	// rules above hold only while heads are due, so the timer is rarely
	// what ends a hold in an idle process.
	holdMax = 100 * time.Microsecond
	// holdGap: requests wait only while response heads come this close
	// together. Before this rule and the due count, a reviewer measured
	// +11–15% latency against a parallel server with a 5 ms handler.
	holdGap = 25 * time.Microsecond
	// holdGens-1 is how many of the latest writes' requests count as
	// waiting at the server (the holdGens-th slot is what is queued).
	holdGens = 8
	// holdRatio: requests wait while more than this many times as many
	// wait at the server. Against nginx at 16 streams (interleaved 1.5 s
	// runs, a loaded machine, before the due count): 1 gave 0.11–0.13
	// socket writes per request, 2 gave 0.10–0.15, 3 gave 0.14–0.17;
	// req/s within the noise. 2 keeps the server's queue twice what
	// waits here, and holds nothing below 4 streams.
	holdRatio = 2
	// holdLatMax: requests wait only while heads come this soon after
	// their write, on average (fixed: it does not follow a configured
	// WriteHold): a hold of up to holdMax is then part of
	// the queueing at a busy server, not a tax on a slow response.
	// Against a net/http server whose handlers run in parallel for 1 ms,
	// holds cost 5–8% of mean latency before this rule (16 streams,
	// alternating runs); nginx at 16 streams answers in 150–250 µs.
	holdLatMax = 4 * holdMax
	// holdBackoff: after a hold that ran its course with no head coming
	// (the rules mispredicted), this many writes go out unheld, so a
	// misprediction costs one timer (about 1 ms in an idle process), not
	// one per burst.
	holdBackoff = 16
)

// writeHold is the write queue's hold state (see above). Its fields are
// guarded by writeQueue.mu; armed is also read without it (the reader's
// holdRecheck), waiting is atomic.
type writeHold struct {
	max time.Duration // holdMax, or the tests'
	gap time.Duration // holdGap, or the tests'
	// lastHead, gapAvg and latAvg (monotonic nanoseconds; written by the
	// reads' holder, holdHead) say how fast response heads come and how
	// long after its write a request's head comes.
	lastHead atomic.Int64
	gapAvg   atomic.Int64
	latAvg   atomic.Int64
	// sent[g%holdGens] is when write g was taken (holdTaken).
	sent  [holdGens]atomic.Int64
	gen   uint32      // what buf holds goes out in this write (writes taken so far)
	bytes int         // how many of buf's leading bytes are whole requests
	reqs  int         // how many requests those are
	armed atomic.Bool // timer runs (written under mu)
	timer *time.Timer
	since int64  // when what buf holds began to wait (monoNow), 0: it has not
	off   uint32 // writes left to go out unheld (holdBackoff)
	// waiting[g%holdGens] counts the streams whose requests went out in
	// write g and wait for their heads: g<<32 | count, so a stream that
	// ends after its slot was reused for a newer write leaves it alone.
	waiting [holdGens]atomic.Uint64
}

// holdQueued is called, with mu held, when a request was queued whole
// from position before in buf on; it returns the write generation its
// stream passes to holdEnded.
func (q *writeQueue) holdQueued(before int) uint32 {
	h := &q.hold
	if h.bytes == before { // nothing else queued ahead of it
		h.bytes = len(q.buf)
		h.reqs++
	}
	h.waiting[h.gen%holdGens].Add(1)
	return h.gen
}

// holdHead records a response head's arrival: the reads' holder calls it.
// A gap counts at most holdMax, so a pause decays out of the average
// within a dozen heads.
// For a stream counted as waiting (waited), sent in write gen, it also
// samples the head's latency since that write.
func (q *writeQueue) holdHead(gen uint32, waited bool) {
	h := &q.hold
	now := monoNow()
	gap := min(now-h.lastHead.Load(), int64(h.max))
	h.lastHead.Store(now)
	avg := h.gapAvg.Load()
	h.gapAvg.Store(avg + (gap-avg)/8)
	if !waited {
		return
	}
	var sent int64
	if uint32(h.waiting[gen%holdGens].Load()>>32) == gen {
		// Two writes between the check and the load can restamp the
		// slot: a sample near 0, clamped, and harmless in an average.
		sent = h.sent[gen%holdGens].Load()
	} else {
		// Its slot went to a newer write: it was written before the
		// oldest write the slots remember, so that one's age is a lower
		// bound. Dropping the sample instead would leave only fast
		// heads in the average when writes come fast and heads slowly.
		sent = h.sent[0].Load()
		for i := 1; i < holdGens; i++ {
			sent = min(sent, h.sent[i].Load())
		}
	}
	lat, avg := max(now-sent, 0), h.latAvg.Load()
	h.latAvg.Store(avg + (lat-avg)/8)
}

// monoNow is monotonic nanoseconds since the process's start.
func monoNow() int64 { return int64(time.Since(monoBase)) }

var monoBase = time.Now()

// holdEnded drops a stream queued in write gen from the waiting count: its
// head came, or it ended. Any goroutine; no lock.
func (q *writeQueue) holdEnded(gen uint32) {
	w := &q.hold.waiting[gen%holdGens]
	for {
		v := w.Load()
		if uint32(v>>32) != gen || uint32(v) == 0 {
			return // the slot is a newer write's now
		}
		if w.CompareAndSwap(v, v-1) {
			return
		}
	}
}

// holdTaken starts a new generation as buf is taken for a write (mu held).
func (q *writeQueue) holdTaken() {
	h := &q.hold
	h.sent[h.gen%holdGens].Store(monoNow())
	h.gen++
	h.waiting[h.gen%holdGens].Store(uint64(h.gen) << 32)
	h.bytes, h.reqs, h.since = 0, 0, 0
	if h.off > 0 {
		h.off--
	}
	if h.armed.Load() {
		h.armed.Store(false)
		h.timer.Stop()
	}
}

// holdLocked reports, with mu held, whether what is queued waits (see
// above); if so, the timer that bounds the wait runs.
func (q *writeQueue) holdLocked() bool {
	h := &q.hold
	if h.max <= 0 || h.off > 0 || !h.heldOnly(len(q.buf)) || len(q.buf) >= corkedMax || q.closing.Load() {
		return false
	}
	// The requests that wait at the server (the other slots are the last
	// holdGens-1 writes': holdTaken), counted before the clock is read: a
	// conn with a few streams stops here, at a few loads per write.
	waiting := 0
	for i := range uint32(holdGens) {
		if i != h.gen%holdGens {
			waiting += int(uint32(h.waiting[i].Load()))
		}
	}
	lat := h.latAvg.Load()
	if waiting <= holdRatio*h.reqs || lat > holdLatMax.Nanoseconds() {
		return false // too few at the server, or responses slow: a hold would only add to them
	}
	now, hm := monoNow(), int64(h.max)
	if h.since != 0 && now-h.since >= hm {
		// Its time is up (the timer fired while a flusher was starting,
		// which now writes): not armed afresh.
		h.expired()
		return false
	}
	if time.Duration(h.gapAvg.Load()) > h.gap || now-h.lastHead.Load() > hm {
		return false // heads come too far apart for others to join in time
	}
	// Of those, the ones whose heads are due within h.max either side of
	// now by the heads' average latency (one long overdue is not coming
	// soon).
	due := 0
	for i := range uint32(holdGens) {
		if head := h.sent[i].Load() + lat; i != h.gen%holdGens && head >= now-hm && head <= now+hm {
			due += int(uint32(h.waiting[i].Load()))
		}
	}
	if due < h.reqs {
		return false
	}
	if !h.armed.Load() {
		if h.since == 0 {
			h.since = now
		}
		left := time.Duration(hm - (now - h.since)) // a re-hold gets what is left
		h.armed.Store(true)
		if h.timer == nil {
			h.timer = time.AfterFunc(left, q.holdExpired)
		} else {
			h.timer.Reset(left)
		}
	}
	return true
}

// expired: the hold's time is up (mu held). If not one head came while it
// waited, the rules mispredicted: holds stay off for holdBackoff writes.
// (Against nginx at 16 streams about one hold in ten runs its course with
// heads coming meanwhile, just not enough of them; turning holds off after
// those too left most writes unheld.)
func (h *writeHold) expired() {
	if h.lastHead.Load() < h.since {
		h.off = holdBackoff + 1 // the expired batch's own write counts one down
	}
}

// heldOnly: the n bytes queued are all whole requests (mu held).
func (h *writeHold) heldOnly(n int) bool { return h.reqs > 0 && h.bytes == n }

// holdExpired writes what waited h.max.
func (q *writeQueue) holdExpired() {
	q.mu.Lock()
	h := &q.hold
	if !h.armed.Load() || h.since == 0 || monoNow()-h.since < int64(h.max) {
		// A late fire of an earlier hold's timer (holdTaken's Stop came
		// too late): this hold has its own, due at since+max.
		q.mu.Unlock()
		return
	}
	h.armed.Store(false)
	if q.flushing || len(q.buf) == 0 || q.err != nil {
		q.mu.Unlock()
		return
	}
	h.expired()
	q.flushing = true
	q.mu.Unlock()
	q.run(true)
}

// holdRecheck is the reader's, when it is about to wait on the socket:
// the heads it dispatched may have ended a hold (fewer requests wait at
// the server now), though no caller queued anything since.
func (q *writeQueue) holdRecheck() {
	if q.hold.armed.Load() {
		q.mu.Lock()
		q.flushLocked(true)
	}
}

package h2

import (
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// The write queue: every frame of a conn is appended to one buffer under a
// small mutex, and one goroutine at a time, the flusher, writes the buffer
// to the socket outside that mutex. Frames that arrive while a write is in
// progress go into the next write, so concurrent streams share syscalls
// (hyper's framed_write and nghttp2 do the same).
//
// Who flushes: a caller goroutine that enqueues while no flusher is active
// becomes the flusher and writes until the queue is empty (at most
// maxFlushRounds writes, then it hands off, so no caller works for others
// forever). The reader never flushes: when it enqueues with no flusher
// active (SETTINGS and PING acks, WINDOW_UPDATE, RST_STREAM), it starts a
// short-lived goroutine that flushes and exits. Those frames are rare
// (WINDOW_UPDATE goes out at half a window), so the goroutine costs little,
// and an idle conn has no goroutine beyond its reader; a parked per-conn
// writer would cost one goroutine per conn for its whole life.
//
// Every socket write has a deadline: a peer that stops reading fails its
// own conn within the write timeout, and since no lock is held during the
// write, nothing else (the pool, other conns) waits for it.
type writeQueue struct {
	nc      net.Conn
	timeout time.Duration
	onErr   func(error) // called once, on the flusher, when a write fails
	shared  func() bool // other streams are open: worth a yield before writing
	flushFn func()      // q.flush, bound once: a go statement on it allocates no closure

	mu       sync.Mutex
	drained  sync.Cond // on mu: a write finished (body writers wait for room)
	buf      []byte    // guarded by mu: frames not yet handed to a write
	spare    []byte    // guarded by mu: the last written buffer, for reuse
	flushing bool      // guarded by mu: a flusher is active
	corked   bool      // guarded by mu: the reader has more frames at hand; small writes wait (see cork)
	err      error     // guarded by mu: sticky; set, nothing more is written
	written  uint64    // guarded by mu: bytes written so far (of a failed write, what the socket took)
	inflight int       // guarded by mu: bytes of the write in progress

	deadline time.Time     // flusher only: the write deadline set last
	hold     writeHold     // requests waiting for more to join their write (writehold.go)
	closing  atomic.Bool   // the conn is going: writes get closeFlushTimeout
	writes   atomic.Uint64 // socket writes, for tests and benchmarks
}

const (
	// maxFlushRounds bounds the writes one caller makes for others before
	// handing the flushing to a goroutine.
	maxFlushRounds = 8
	// writeQueueHigh is how much a body writer lets pile up before it waits
	// for the socket (flow control bounds it too, but a peer may grant a
	// window of 2 GiB). Small enough that the buffers stay under
	// maxKeptBuffer and are reused, large enough that a write is in
	// progress while the next frames are queued.
	writeQueueHigh = 32 << 10
	// maxKeptBuffer: a buffer grown past this by a large upload is dropped
	// after its write rather than kept for the conn's life.
	maxKeptBuffer = 64 << 10
	// sharedFlushYields is how often a flusher yields before a write
	// while other streams are open. With 2 Ps one yield often hands the
	// flusher to the other P at once, before the woken streams queued
	// anything. Against nginx at 16 streams (TLS, one conn, with the
	// reader's cork; 4-8 interleaved 1-2 s runs at load 4-8, medians):
	// socket writes per request 0.21 with one yield, 0.18 with two, 0.23
	// with four or eight; 1 and 100 streams do not change. The reader
	// never yields (see corkWhileReady): only the flusher waits.
	sharedFlushYields = 2
	// initialBuffer is the queue's first buffer: several HEADERS and small
	// DATA frames, as hyper's 16 KiB.
	initialBuffer = 16 << 10
)

func (q *writeQueue) init(nc net.Conn, timeout time.Duration, onErr func(error), shared func() bool) {
	q.nc, q.timeout, q.onErr, q.shared = nc, timeout, onErr, shared
	q.drained.L = &q.mu
	q.flushFn = q.flush
	q.buf = make([]byte, 0, initialBuffer)
}

// flushLocked is called with mu held after frames were appended; it
// releases mu. A caller (reader=false) becomes the flusher if none is
// active; the reader hands off to a goroutine. While the queue is corked,
// frames wait for uncork unless they fill corkedMax; while the hold's
// rules say so, whole requests wait for others (holdLocked, which then
// arms the hold's timer).
func (q *writeQueue) flushLocked(reader bool) {
	if q.flushing || len(q.buf) == 0 || q.err != nil || (q.corked && len(q.buf) < corkedMax) || q.holdLocked() {
		q.mu.Unlock()
		return
	}
	q.flushing = true
	q.mu.Unlock()
	if reader {
		go q.flushFn()
		return
	}
	q.flush()
}

// flush writes batches until the queue is empty, a write fails, or
// maxFlushRounds is reached (then a goroutine takes over).
func (q *writeQueue) flush() { q.run(false) }

// run is flush; force: no hold (a caller waiting for its frame to be out,
// the hold's own timer).
func (q *writeQueue) run(force bool) {
	if q.shared != nil && q.shared() {
		// Other streams' goroutines are likely runnable (woken by the
		// reader, about to queue their next HEADERS): yielding lets them
		// join this write instead of each making its own (the Go
		// equivalent of hyper flushing when nothing is pending).
		for range sharedFlushYields {
			runtime.Gosched()
		}
	}
	for round := 0; ; round++ {
		q.mu.Lock()
		if len(q.buf) == 0 || q.err != nil || (!force && q.holdLocked()) {
			q.flushing = false
			q.drained.Broadcast()
			q.mu.Unlock()
			return
		}
		if round == maxFlushRounds {
			q.mu.Unlock()
			go q.flushFn() // still the flusher: flushing stays true
			return
		}
		b := q.buf
		q.holdTaken()
		q.buf = q.spare[:0]
		q.spare = nil
		q.inflight = len(b)
		q.mu.Unlock()

		n, err := q.write(b)

		q.mu.Lock()
		q.written += uint64(n)
		q.inflight = 0
		if cap(b) <= maxKeptBuffer {
			q.spare = b[:0]
		}
		if err != nil && q.err == nil {
			q.err = err
			q.buf = nil
		}
		q.drained.Broadcast()
		q.mu.Unlock()
		if err != nil {
			q.onErr(err)
		}
	}
}

// write writes b under a deadline. The deadline is moved only when less
// than three quarters of the timeout remain, so a busy conn does not pay
// for a deadline change on every write.
func (q *writeQueue) write(b []byte) (int, error) {
	now := time.Now()
	if q.closing.Load() {
		q.deadline = now.Add(min(q.timeout, closeFlushTimeout))
		q.nc.SetWriteDeadline(q.deadline)
	} else if q.deadline.Sub(now) < q.timeout*3/4 {
		q.deadline = now.Add(q.timeout)
		q.nc.SetWriteDeadline(q.deadline)
	}
	q.writes.Add(1)
	return q.nc.Write(b)
}

// waitRoomLocked waits, with mu held, until the queue is below
// writeQueueHigh or failed.
func (q *writeQueue) waitRoomLocked() error {
	for len(q.buf) > writeQueueHigh && q.err == nil && q.flushing {
		q.drained.Wait()
	}
	return q.err
}

// markLocked is the position, in bytes ever queued, of the end of what is
// queued now; waitFor(mark) returns once it is written.
func (q *writeQueue) markLocked() uint64 {
	return q.written + uint64(q.inflight) + uint64(len(q.buf))
}

// mayHaveSentLocked is how far the bytes ever queued may have reached
// the peer: those written, and those of a write in progress (a failing
// write may still put some on the wire). What lies beyond never left.
func (q *writeQueue) mayHaveSentLocked() uint64 {
	return q.written + uint64(q.inflight)
}

// waitFor waits until the bytes up to mark are written (or the queue
// failed), flushing itself if nobody is: a caller that must not return
// before a frame is out (the RST_STREAM of its stream error) calls it.
func (q *writeQueue) waitFor(mark uint64) {
	q.mu.Lock()
	for q.written < mark && q.err == nil {
		if !q.flushing {
			q.flushing = true
			q.mu.Unlock()
			q.run(true)
			q.mu.Lock()
			continue
		}
		q.drained.Wait()
	}
	q.mu.Unlock()
}

// waitIdle waits until nothing is pending and no write runs, or the queue
// failed; used before a conn closes, so a GOAWAY goes out first.
func (q *writeQueue) waitIdle() {
	q.mu.Lock()
	for (q.flushing || len(q.buf) > 0) && q.err == nil {
		if !q.flushing {
			q.flushing = true
			q.mu.Unlock()
			q.run(true)
			q.mu.Lock()
			continue
		}
		q.drained.Wait()
	}
	q.mu.Unlock()
}

// stop makes every later enqueue a no-op and write fail with err.
func (q *writeQueue) stop(err error) {
	q.mu.Lock()
	if q.err == nil {
		q.err = err
	}
	q.buf = nil
	if q.hold.timer != nil {
		q.hold.timer.Stop()
	}
	q.drained.Broadcast()
	q.mu.Unlock()
}

func (q *writeQueue) failed() error {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.err
}

// corkedMax is what the queue holds while corked before it writes anyway
// (hyper's rule: flush when the buffer is full or nothing is pending).
const corkedMax = initialBuffer

// cork holds the queue's writes while the reader dispatches frames it can
// read without waiting on the socket (a batch of responses): the streams
// it wakes queue their next HEADERS meanwhile, and uncork writes them
// together when the reader is about to wait (nothing is pending). In
// memory against net/http's server it takes 16 streams from 0.21 to 0.17
// socket writes per request (BenchmarkH2); nginx answers mostly one
// response per read, so there it gains little (design-notes 25). The
// reader calls both and never writes itself: uncork hands a pending write
// to a goroutine.
func (q *writeQueue) cork() {
	q.mu.Lock()
	q.corked = true
	q.mu.Unlock()
}

func (q *writeQueue) uncork() {
	q.mu.Lock()
	q.corked = false
	q.flushLocked(true)
}

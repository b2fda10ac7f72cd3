package h2

import (
	"net/http"
	"net/http/httptrace"
	"sync"
	"sync/atomic"

	"github.com/spoolhttp/spool/internal/errs"
	"golang.org/x/net/http/httpguts"
)

// Options are what the caller adds to a request without copying it.
type Options struct {
	// AcceptEncoding, if set, is sent as Accept-Encoding in place of the
	// request's own (the root's decompression bridge asks for it).
	AcceptEncoding string
	// Trace, if nil, is the request context's.
	Trace *httptrace.ClientTrace
	// Canceled, if set, is the request's CancelRequest flag. The flag is
	// set before Cancel looks for the stream, and the stream is entered
	// under the same lock Cancel scans with, so a Cancel that came too
	// early to find the stream is seen here once it is open.
	Canceled *atomic.Bool
}

// RoundTrip sends req on a new stream, using the reservation taken by
// Reserve (or taking one now if the caller did not), and returns once the
// response head arrived. The response body's EOF, a read error, Close, or
// a RoundTrip error ends the stream (OnStreamDone, once). req is not
// modified; its body is closed on every path. Errors are *errs.Error.
func (c *Conn) RoundTrip(req *http.Request) (*http.Response, error) { return c.Do(req, nil) }

// Do is RoundTrip with Options.
func (c *Conn) Do(req *http.Request, o *Options) (*http.Response, error) {
	s := c.newStream(req, o)
	err := c.holdSlot(s)
	var h *reqHead
	if err == nil {
		h, err = c.checkRequest(s, req, o)
	}
	if err == nil {
		if h.expect {
			s.cont = make(chan struct{}, 1)
		}
		err = c.start(s, h, o)
	}
	if err != nil {
		s.closeReqBody()
		c.abandon(s)
		s.releaseWake()
		traceWroteRequest(s.trace, err)
		return nil, err
	}
	if o != nil && o.Canceled != nil && o.Canceled.Load() {
		c.Cancel(req, errs.ErrRequestCanceled)
	}
	resp, err := s.awaitHead()
	if err != nil {
		s.releaseWake()
		return nil, err
	}
	resp.Request = req
	if resp.Body == http.NoBody {
		if !s.autoFinish {
			s.finish() // END_STREAM came with the head
		}
		s.releaseWake()
	}
	return resp, nil
}

func (c *Conn) newStream(req *http.Request, o *Options) *stream {
	s := &stream{c: c, ctx: req.Context(), req: req, isHead: req.Method == http.MethodHead,
		wake: c.getWake(), remain: -1}
	if o != nil && o.Trace != nil {
		s.trace = o.Trace
	} else {
		s.trace = httptrace.ContextClientTrace(s.ctx)
	}
	s.reused = c.started.Add(1) > 1
	return s
}

// holdSlot makes sure the stream has a reservation: the caller's (taken
// by Reserve), or one taken now. The stream holds it until openLocked
// turns it into an open stream, or abandon gives it back.
func (c *Conn) holdSlot(s *stream) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.reserved > 0 {
		return nil
	}
	if err := c.reserveLocked(); err != nil {
		s.noSlot = true
		return s.notProcessed(err)
	}
	return nil
}

// abandon ends a stream that never started: its reservation is released
// and OnStreamDone reports it, as for any RoundTrip.
func (c *Conn) abandon(s *stream) {
	s.finished.Store(true)
	c.mu.Lock()
	if !s.noSlot && c.reserved > 0 {
		c.reserved--
	}
	c.cond.Broadcast()
	c.mu.Unlock()
	if f := c.cfg.OnStreamDone; f != nil {
		f(c)
	}
}

// start assigns the stream its ID and queues its HEADERS (and a small
// body's DATA) in one step under the write queue's lock, so streams reach
// the wire in ID order with their header blocks in HPACK order, then
// flushes or leaves the flushing to the flusher at work. A body that does
// not fit the windows now streams from a goroutine.
func (c *Conn) start(s *stream, h *reqHead, o *Options) error {
	pre, err := s.preRead(h)
	if err != nil {
		return err
	}
	q := &c.wq
	q.mu.Lock()
	if q.err != nil {
		q.mu.Unlock()
		return s.notProcessed(q.err)
	}
	c.mu.Lock()
	if err := c.openLocked(s, h); err != nil {
		c.mu.Unlock()
		q.mu.Unlock()
		putBodyBuf(pre)
		return err
	}
	maxFrame := int(c.peerMaxFrame)
	c.mu.Unlock()

	endHeaders := !h.hasBody
	before := len(q.buf)
	c.hbuf.Reset()
	c.encodeHeadersLocked(s, h, o)
	q.buf = appendHeaderBlock(q.buf, s.id, endHeaders, c.hbuf.Bytes(), maxFrame)
	s.wroteHeaders = true
	s.headEnd = q.markLocked()
	var rest []byte
	if pre != nil && !h.expect {
		rest = c.queueDataLocked(s, (*pre)[:h.contentLength], maxFrame, len(h.trailers) == 0)
	}
	complete := !h.hasBody || (pre != nil && len(rest) == 0 && !h.expect && len(h.trailers) == 0)
	if complete {
		s.sendDone.Store(true)
		s.sent.Store(true)
		s.holdGen = q.holdQueued(before)
		s.holdWaits.Store(true)
	}
	c.ctr.streams.Add(1)
	if s.trace != nil {
		// The hooks run outside the lock, before the flush, so that they
		// come before the response's (the frames are queued: written, as
		// far as this request can tell).
		q.mu.Unlock()
		traceWroteHeaders(s.trace)
		if complete {
			traceWroteRequest(s.trace, nil)
		}
		q.mu.Lock()
	}
	q.flushLocked(false)
	switch {
	case !complete:
		go s.writeBody(h, pre, rest)
	case pre != nil:
		putBodyBuf(pre) // its bytes are in the queue
		s.closeReqBody()
	}
	return nil
}

// openLocked takes the stream's slot (its reservation, or a free one) and
// ID, under c.mu and wq.mu.
func (c *Conn) openLocked(s *stream, h *reqHead) error {
	if err := c.refusalLocked(); err != nil {
		return s.notProcessed(err)
	}
	if uint32(len(c.streams)) >= c.maxStreams {
		// Reserved under the assumed limit before the server's SETTINGS
		// said less: sending it would be a protocol error once our ack is
		// out (§5.1.2). Not sent, so the root replays it.
		return s.notProcessed(errFull)
	}
	if c.peerMaxList > 0 && h.listSize > c.peerMaxList {
		return s.notProcessed(errRequestHeaderListSize)
	}
	if c.reserved > 0 { // 0 only if a conn failure dropped all reservations
		c.reserved--
	}
	s.id = c.nextID
	c.nextID += 2
	if s.req.Close || httpguts.HeaderValuesContainsToken(s.req.Header["Connection"], "close") {
		c.doNotReuse = true // as net/http: this request is the conn's last
	}
	s.sendWindow = int64(c.peerWindow)
	s.window = c.streamWindow
	s.recvAvail = c.streamWindow
	c.streams[s.id] = s
	c.open.Add(1)
	return nil
}

// queueDataLocked queues as much of p as the send windows allow now, with
// END_STREAM on the last frame if it all fits and end is set; it returns
// what is left. wq.mu is held.
func (c *Conn) queueDataLocked(s *stream, p []byte, maxFrame int, end bool) []byte {
	c.mu.Lock()
	n := int64(len(p))
	n = min(n, s.sendWindow, c.sendWindow)
	n = max(n, 0)
	s.sendWindow -= n
	c.sendWindow -= n
	c.mu.Unlock()
	q := &c.wq
	chunk, rest := p[:n], p[n:]
	for len(chunk) > 0 {
		k := min(len(chunk), maxFrame)
		q.buf = appendData(q.buf, s.id, end && len(rest) == 0 && k == len(chunk), chunk[:k])
		chunk = chunk[k:]
	}
	return rest
}

// bodyBufPool holds the buffers small request bodies are read into.
var bodyBufPool = sync.Pool{New: func() any { b := make([]byte, maxPreRead+1); return &b }}

func putBodyBuf(b *[]byte) {
	if b != nil {
		bodyBufPool.Put(b)
	}
}

// maxPreRead: a rewindable body (GetBody set: in memory, as http.NewRequest
// makes for bytes and strings) of at most this many declared bytes is read
// on the caller's goroutine and queued with its HEADERS.
const maxPreRead = 16 << 10

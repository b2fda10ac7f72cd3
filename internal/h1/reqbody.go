package h1

import (
	"bufio"
	"errors"
	"io"
	"net/http"
	"net/http/httptrace"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spoolhttp/spool/internal/errs"
	"golang.org/x/net/http/httpguts"
)

// inlineBodyMax: a rewindable body up to this size is written on the
// caller's goroutine with the head (one write, no goroutine); it fits in a
// loopback or typical socket buffer, so a server that answers early
// without reading cannot block us for long.
const inlineBodyMax = 64 << 10

// writerGrace is how long a finished response waits for its body writer
// to return before cutting it: enough for a goroutine that completed its
// last write to be scheduled, short enough not to stall a caller.
const writerGrace = 50 * time.Millisecond

// upload is the state of one request body, from a pool for the length of
// an exchange (an idle conn does not carry it); the done channel exists
// only while a body streams.
type upload struct {
	req    *http.Request
	body   io.Reader
	bw     *bufio.Writer
	length int64
	trace  *httptrace.ClientTrace

	err        error      // writing the head failed
	expect     bool       // Expect: 100-continue, waiting for the first byte
	awaiting   bool       // a response arrived while the body is held back
	done       chan error // the body writer goroutine's result; nil if none
	bodyClosed atomic.Bool
	cut        atomic.Bool // we stopped the writer; its error is ours
	left       bool        // owned by the exchange: the cut writer did not exit (stuck in the body's Read); it owns the upload now
	headDone   bool        // guarded by Conn.mu: the final head is in; the writer must not touch the read side
}

var uploads = sync.Pool{New: func() any { return new(upload) }}

// tunnelLength marks a CONNECT body of unknown length: no framing field;
// its bytes follow the head as they come, each read written at once, for
// the tunnel the 2xx opens (RFC 9110 §9.3.6), as net/http writes it.
const tunnelLength = -2

// outgoing decides the request's framing as net/http does (outgoingLength,
// shouldSendChunkedRequestBody). ContentLength 0 with a Body other than
// NoBody means unknown, as -1 does. A body of unknown length is probed
// for one byte only for methods that usually have none, where servers
// balk at a chunked body; an empty one is then sent with no body at all.
// Any other method is sent chunked at once (probing would hold a streamed
// upload back for up to probeWait), and CONNECT unframed.
func outgoing(req *http.Request) (int64, io.Reader, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return 0, nil, nil
	}
	if len(req.Trailer) > 0 {
		return -1, req.Body, nil // trailers need chunked framing (RFC 9112 §7.1.2)
	}
	if req.ContentLength > 0 {
		return req.ContentLength, req.Body, nil
	}
	switch req.Method {
	case http.MethodConnect:
		return tunnelLength, req.Body, nil
	case "", http.MethodGet, http.MethodHead, http.MethodDelete, http.MethodOptions, "PROPFIND", "SEARCH":
		return probe(req.Body)
	}
	return -1, req.Body, nil
}

// probeWait bounds the wait for the first byte of a body of unknown
// length (net/http waits 200ms too): a body that has nothing yet (a pipe
// fed later) is sent chunked instead of blocking RoundTrip.
const probeWait = 200 * time.Millisecond

// probe reads one byte of body to tell an empty body from one of unknown
// length. The read runs in a goroutine so a slow body cannot hold the
// caller past probeWait; its byte and error are replayed first.
func probe(body io.Reader) (int64, io.Reader, error) {
	p := &probed{rest: body, done: make(chan struct{})}
	go func() {
		p.n, p.err = io.ReadFull(body, p.b[:])
		close(p.done)
	}()
	t := time.NewTimer(probeWait)
	defer t.Stop()
	select {
	case <-p.done:
		if p.n == 0 && p.err == io.EOF {
			return 0, nil, nil // finishWrite closes req.Body
		}
		if p.n == 0 {
			return 0, nil, &phaseErr{errs.OpWrite, p.err}
		}
	case <-t.C:
	}
	return -1, p, nil
}

// probed replays the probe's result, then reads the rest of the body.
type probed struct {
	rest io.Reader
	done chan struct{}
	b    [1]byte
	n    int
	err  error
	used bool
}

func (p *probed) Read(b []byte) (int, error) {
	if !p.used {
		<-p.done
		p.used = true
		if p.n > 0 {
			b[0] = p.b[0]
			return 1, nil
		}
		if p.err == io.ErrUnexpectedEOF {
			p.err = io.EOF
		}
		if p.err != nil {
			return 0, p.err
		}
	}
	return p.rest.Read(b)
}

// sendBody writes what can be written before the response is awaited.
func (c *Conn) sendBody(req *http.Request, o *Options, bw *bufio.Writer, body io.Reader, length int64) *upload {
	up := uploads.Get().(*upload)
	*up = upload{req: req, body: body, bw: bw, length: length, trace: o.Trace}
	c.up = up
	c.timeoutName = ""
	if c.cfg.ResponseHeaderTimeout > 0 { // a deadline of ours, not an abort's
		c.timeoutName = "ResponseHeaderTimeout"
	}
	switch {
	case body == nil:
		up.flush(c)
	case c.cfg.ExpectContinueTimeout > 0 && httpguts.HeaderValuesContainsToken(req.Header["Expect"], "100-continue"):
		up.err = up.flushHead(c)
		up.expect = up.err == nil
		up.awaiting = up.expect
		if up.err != nil {
			up.finishWrite(c) // closes req.Body: no answer will come
		}
	case req.GetBody != nil && length > 0 && length <= inlineBodyMax:
		if err := writeBody(bw, bw, body, length, req.Trailer, nil); err != nil {
			up.err = &phaseErr{errs.OpWrite, err}
		}
		up.flush(c)
	default:
		if up.err = up.flushHead(c); up.err == nil {
			up.start(c)
		} else {
			up.finishWrite(c) // closes req.Body (net/http's TestConnClosedBeforeRequestIsWritten)
		}
	}
	return up
}

// flush ends a request written on the caller's goroutine.
func (up *upload) flush(c *Conn) {
	if up.err == nil {
		up.err = up.flushHead(c)
	}
	up.finishWrite(c)
}

func (up *upload) flushHead(c *Conn) error {
	if err := up.bw.Flush(); err != nil {
		if c.reused && c.written.Load() == 0 {
			return &errs.NoResponseError{Err: err, Wrote: false}
		}
		return &phaseErr{errs.OpWrite, err}
	}
	return nil
}

// finishWrite runs once the request is fully written (or failed).
func (up *upload) finishWrite(c *Conn) {
	up.closeBody()
	putWriter(up.bw, c.cfg.WriteBufferSize)
	up.bw = nil
	if up.trace != nil && up.trace.WroteRequest != nil {
		up.trace.WroteRequest(httptrace.WroteRequestInfo{Err: up.err})
	}
	if up.err == nil && c.cfg.ResponseHeaderTimeout > 0 {
		c.armHeaderTimeout(up)
	}
}

func (up *upload) closeBody() {
	if up.req.Body != nil && up.bodyClosed.CompareAndSwap(false, true) {
		up.req.Body.Close()
	}
}

// start streams the body from a goroutine so the caller can read an early
// response meanwhile (DESIGN decision 1: the only goroutine per exchange).
func (up *upload) start(c *Conn) {
	up.awaiting = false
	done := make(chan error, 1) // the writer's own: a writer left behind must not see up.done cleared
	up.done = done
	go func() {
		buf := copyBufs.Get().(*[]byte)
		err := writeBody(up.bw, &c.cw, up.body, up.length, up.req.Trailer, *buf)
		copyBufs.Put(buf)
		if err == nil {
			err = up.bw.Flush()
		}
		if err != nil {
			err = &phaseErr{errs.OpWrite, err}
			if !up.cut.Load() {
				c.abortBeforeHead(up) // the server may be waiting for the rest: wake the reader
			}
		}
		up.err = err
		up.finishWrite(c)
		done <- err
	}()
}

// release sends a held-back body after 100 Continue or the expect timeout.
func (up *upload) release(c *Conn) {
	if up.awaiting {
		up.start(c)
	}
}

func (up *upload) waiting() bool { return up.awaiting }

// awaitContinue waits up to ExpectContinueTimeout for a first response byte
// (RFC 9110 §10.1.1); on timeout the body goes anyway, as net/http does.
func (c *Conn) awaitContinue(trace *httptrace.ClientTrace, up *upload) error {
	up.expect = false
	if trace != nil && trace.Wait100Continue != nil {
		trace.Wait100Continue()
	}
	c.setReadDeadline(c.cfg.ExpectContinueTimeout)
	_, err := c.br.Peek(1)
	c.setReadDeadline(0)
	if err == nil {
		return nil // the head loop sees 100 (release) or a final status
	}
	if errors.Is(err, os.ErrDeadlineExceeded) && !c.isAborted() {
		up.release(c)
		return nil
	}
	return c.noResponse(err)
}

// finalHead settles the upload once the final head is in and its
// framing known. A body held back for 100 Continue that got a final status
// instead is sent after all if the conn stays open, as net/http does: the
// server may still read it, and only then is the conn's framing known
// (CVE-2024-24791); if either side closes, it is never sent. An error
// status while the body still streams means the server does not want the
// rest (RFC 9112 §9.5): cut it, and the conn is not reused. A 2xx lets it
// go on (a server may stream its answer while reading: full duplex); the
// exchange ends when both sides are done.
func (up *upload) finalHead(c *Conn, status int) {
	c.headIn(up)
	if up.awaiting {
		if !c.keepAlive {
			up.awaiting = false
			up.finishWrite(c)
			return
		}
		up.start(c)
	}
	if up.done == nil {
		return
	}
	select {
	case err := <-up.done:
		up.done = nil
		if err != nil {
			c.keepAlive = false // the response came anyway; deliver it
		}
	default:
		if status >= 300 && !up.waitOrCut(c) {
			c.keepAlive = false
		}
	}
}

// settleAtEnd runs when the response is done; true if the upload ended
// cleanly.
func (up *upload) settleAtEnd(c *Conn) bool {
	if up.left {
		return false
	}
	if up.done == nil {
		return up.err == nil
	}
	return up.waitOrCut(c)
}

// waitOrCut waits up to writerGrace for a running body writer: usually it
// is just returning from its last write (the server answered after reading
// everything); one the server stopped reading is cut. True if the upload
// ended cleanly.
func (up *upload) waitOrCut(c *Conn) bool {
	select {
	case err := <-up.done:
		up.done = nil
		return err == nil
	default:
	}
	t := time.NewTimer(writerGrace)
	defer t.Stop()
	select {
	case err := <-up.done:
		up.done = nil
		return err == nil
	case <-t.C:
		up.cutAndWait(c)
		return false
	}
}

// cutAndWait stops a streaming body writer, so req.Body is closed exactly
// once and, usually, no goroutine outlives the exchange; it returns the
// writer's error. A past write deadline wakes a blocked socket write and
// closing the body wakes a Read that honours Close, so a writer that has
// not returned within writerGrace is stuck in the caller's Read, which
// nothing of ours can interrupt (net/http's writeLoop waits there too). It
// is left behind (left): the response stays usable, the conn is not
// reused, and the writer, once its Read returns, fails on the deadline or
// the closed socket and exits; the upload is then its own, not recycled.
func (up *upload) cutAndWait(c *Conn) error {
	if up.done == nil {
		return nil
	}
	up.cut.Store(true)
	c.setWriteDeadlinePast()
	up.closeBody()
	t := time.NewTimer(writerGrace)
	defer t.Stop()
	var err error
	select {
	case err = <-up.done:
	case <-t.C:
		up.left = true
		c.keepAlive = false
	}
	up.done = nil
	return err
}

// settle ends the upload after the head could not be read, preferring the
// writer's own error when the reader only failed because the writer woke it.
func (up *upload) settle(c *Conn, err error) error {
	if up.done == nil && up.err != nil {
		return up.err
	}
	switch {
	case up.done != nil:
		if werr := up.cutAndWait(c); werr != nil && errors.Is(err, os.ErrDeadlineExceeded) && c.ctx.Err() == nil {
			err = werr
			if c.reused && isConnReset(werr) {
				// The server closed the kept-alive conn under the upload,
				// before any response byte: the keep-alive race.
				err = &errs.NoResponseError{Err: werr, Wrote: true}
			}
		}
	case up.bw != nil:
		up.finishWrite(c)
	}
	return err
}

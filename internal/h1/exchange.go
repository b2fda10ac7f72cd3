package h1

import (
	"bufio"
	"context"
	"errors"
	"net/http"
	"net/textproto"
	"os"
	"syscall"

	"github.com/spoolhttp/spool/internal/errs"
	"github.com/spoolhttp/spool/internal/wire"
)

// max1xx bounds interim responses before the final one: each is bounded by
// MaxHeaderBytes, the count bounds the flood (a server sending endless 103s).
const max1xx = 32

// RoundTrip sends req and reads the final response head. The conn must be
// reserved. On return:
//   - err != nil: the exchange is over and the conn must be removed.
//   - !HasBody(): no body; the exchange is over; Reusable says whether the
//     conn may go back to the pool.
//   - Upgraded(): 101 or a CONNECT tunnel; resp.Body owns the conn.
//   - otherwise the body is read with ReadBody and ended with FinishBody.
//
// req.Body is closed on every path.
func (c *Conn) RoundTrip(req *http.Request, o *Options) (*http.Response, error) {
	ctx := req.Context()
	c.ctx = ctx
	c.reused = o.Reused || c.requests > 0
	c.requests++
	c.written.Store(0)
	c.keepAlive = !c.cfg.DisableKeepAlives && !req.Close &&
		!(c.cfg.MaxRequests > 0 && c.requests >= c.cfg.MaxRequests)
	c.upgraded = false
	c.framing = wire.Framing{}
	c.watch(ctx, req)

	resp, err := c.exchange(req, o)
	if err != nil {
		err = c.wrapErr(err)
		c.finish()
		return nil, err
	}
	return resp, nil
}

func (c *Conn) exchange(req *http.Request, o *Options) (*http.Response, error) {
	length, body, err := outgoing(req)
	if err != nil {
		closeBody(req)
		return nil, err
	}
	bw := getWriter(&c.cw, c.cfg.WriteBufferSize)
	ho := wire.HeadOptions{
		AbsoluteForm:       o.AbsoluteForm,
		ContentLength:      headLength(length),
		UserAgent:          c.cfg.UserAgent,
		AcceptEncoding:     o.AcceptEncoding,
		ProxyAuthorization: o.ProxyAuth,
		Close:              !c.keepAlive,
		Trace:              o.Trace,
	}
	if err := wire.WriteRequestHead(bw, req, &ho); err != nil {
		putWriter(bw, c.cfg.WriteBufferSize)
		closeBody(req)
		return nil, &phaseErr{errs.OpWrite, err}
	}
	if length == tunnelLength {
		// The body goes unframed, so a server that refuses the tunnel
		// reads whatever of it went out as the next request (RFC 9112
		// §6.3) and its answer would meet our next request. A 2xx makes
		// the conn a tunnel; after any other answer it is not reused. Set
		// after the head: Connection: close would ask a proxy to end the
		// tunnel it opens.
		c.keepAlive = false
	}
	c.br = getReader(c.nc, c.cfg.ReadBufferSize)
	up := c.sendBody(req, o, bw, body, length)
	resp, err := c.readHead(req, o, up)
	if err != nil {
		return nil, err
	}
	return c.startBody(req, resp)
}

// headLength is the framing the head announces: none for a tunnel's body.
func headLength(length int64) int64 {
	if length == tunnelLength {
		return 0
	}
	return length
}

// readHead reads interim responses and the final head; startBody then
// settles the upload (finalHead). On failure the upload is settled here.
func (c *Conn) readHead(req *http.Request, o *Options, up *upload) (*http.Response, error) {
	resp := &http.Response{Request: req}
	budget := wire.HeadBudget{Limit: c.cfg.maxHeader()} // 1xx heads and the final one share it
	if up.done == nil && up.err != nil {
		return nil, up.err // written inline and failed: no answer will come
	}
	first := true
	for n := 0; ; n++ {
		if up.expect {
			if err := c.awaitContinue(o.Trace, up); err != nil {
				return nil, up.settle(c, err)
			}
		}
		if first {
			if _, err := c.br.Peek(1); err != nil {
				return nil, up.settle(c, c.noResponse(err))
			}
			first = false
			if o.Trace != nil && o.Trace.GotFirstResponseByte != nil {
				o.Trace.GotFirstResponseByte()
			}
		}
		if err := budget.ReadResponseHead(c.br, resp); err != nil {
			return nil, up.settle(c, &phaseErr{errs.OpAwaitHeaders, err})
		}
		if resp.StatusCode < 100 || resp.StatusCode >= 200 || resp.StatusCode == 101 {
			break // final (a code below 100 too, as net/http treats it)
		}
		if n >= max1xx {
			return nil, up.settle(c, &phaseErr{errs.OpAwaitHeaders, &wire.ProtocolError{Reason: "too many 1xx responses"}})
		}
		if resp.StatusCode == 100 && up.waiting() {
			if o.Trace != nil && o.Trace.Got100Continue != nil {
				o.Trace.Got100Continue()
			}
			up.release(c)
		}
		if o.Trace != nil && o.Trace.Got1xxResponse != nil {
			if err := o.Trace.Got1xxResponse(resp.StatusCode, textproto.MIMEHeader(resp.Header)); err != nil {
				return nil, up.settle(c, err)
			}
		}
	}
	return resp, nil
}

// noResponse classifies a failure to get any response byte, other than
// a cancellation or a timeout: a NoResponseError (on a reused conn, the
// keep-alive race, which may be retried above). Its cause is what net/http
// returns for it, the conn's own error, io.EOF included (golang/go#16465).
func (c *Conn) noResponse(err error) error {
	if c.isAborted() || errors.Is(err, os.ErrDeadlineExceeded) {
		return &phaseErr{errs.OpAwaitHeaders, err}
	}
	return &errs.NoResponseError{Err: err, Wrote: c.written.Load() > 0}
}

// isConnReset: the peer reset or closed the socket under us.
func isConnReset(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, syscall.ECONNABORTED)
}

// phaseErr tags an error with the phase it happened in until wrapErr
// turns it into an *errs.Error.
type phaseErr struct {
	op  string
	err error
}

func (e *phaseErr) Error() string { return e.op + ": " + e.err.Error() }
func (e *phaseErr) Unwrap() error { return e.err }

// wrapErr builds the *errs.Error for a failed exchange: the caller's
// context wins over the deadline it caused; our own deadlines become
// TimeoutErrors naming the setting.
func (c *Conn) wrapErr(err error) error {
	op := errs.OpAwaitHeaders
	var pe *phaseErr
	if errors.As(err, &pe) {
		op, err = pe.op, pe.err
	}
	var e *errs.Error
	if errors.As(err, &e) {
		return err
	}
	if cause := c.cancelCause(); cause != nil {
		err = cause
	} else if c.ctx.Err() != nil && (c.isAborted() || errors.Is(err, os.ErrDeadlineExceeded)) {
		err = context.Cause(c.ctx)
	} else if errors.Is(err, os.ErrDeadlineExceeded) && c.timeoutName != "" {
		err = &errs.TimeoutError{What: c.timeoutName}
	}
	return &errs.Error{Op: op, Addr: c.Addr, Reused: c.reused, Err: err}
}

// startBody decides the framing and leaves the conn ready for ReadBody.
func (c *Conn) startBody(req *http.Request, resp *http.Response) (*http.Response, error) {
	f, err := wire.ResponseFraming(req.Method, resp)
	if err != nil || resp.Close {
		c.keepAlive = false
	}
	c.up.finalHead(c, resp.StatusCode) // after framing: it needs the keep-alive decision
	if err != nil {
		return nil, &phaseErr{errs.OpAwaitHeaders, err}
	}
	c.timeoutName = ""
	if resp.StatusCode == 101 || (req.Method == http.MethodConnect && resp.StatusCode/100 == 2) {
		c.upgraded = true
		c.keepAlive = false
		c.dropWatch() // the body owns the conn now; the context no longer does
		resp.Body = &upgradeBody{br: c.br, c: c, up: c.up}
		c.br = nil
		return resp, nil
	}
	c.framing = f
	if f.Kind == wire.NoBody {
		return resp, nil
	}
	// Trailers land in c.sink, not resp: the conn must not reach the
	// response, or a dropped body would stay reachable and never reclaimed.
	// Only chunked bodies have trailers (RFC 9112 §7.1.2).
	var sink *http.Response
	if f.Kind == wire.Chunked {
		sink = &http.Response{Trailer: resp.Trailer}
		c.sink = sink
	}
	c.body.Reset(c.br, f, sink, c.cfg.maxHeader())
	return resp, nil
}

// Trailer is the body's trailer section, complete once ReadBody hit EOF.
func (c *Conn) Trailer() http.Header {
	if c.sink == nil {
		return nil
	}
	return c.sink.Trailer
}

// HasBody reports whether the response has a body to read with ReadBody.
func (c *Conn) HasBody() bool { return c.framing.Kind != wire.NoBody }

// Upgraded reports that the conn now belongs to the response body.
func (c *Conn) Upgraded() bool { return c.upgraded }

func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}

// upgradeBody is a 101/CONNECT response body: reads drain what bufio
// already holds, then the socket; writes go straight to the socket.
// Closing it closes the request body too: a body still streaming is the
// tunnel's client half, and its writer, blocked in that body's Read,
// ends with the tunnel instead of waiting for the caller.
type upgradeBody struct {
	br *bufio.Reader
	c  *Conn
	up *upload // the exchange's; an upgraded conn never recycles it
}

func (u *upgradeBody) Read(p []byte) (int, error) {
	if u.br != nil && u.br.Buffered() > 0 {
		return u.br.Read(p)
	}
	return u.c.nc.Read(p)
}
func (u *upgradeBody) Write(p []byte) (int, error) { return u.c.nc.Write(p) }
func (u *upgradeBody) Close() error {
	err := u.c.Close()
	u.up.closeBody()
	return err
}

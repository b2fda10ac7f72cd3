package h1

import (
	"io"
	"time"

	"github.com/spoolhttp/spool/internal/errs"
	"github.com/spoolhttp/spool/internal/wire"
)

// ReadBody reads the response body of the current exchange. io.EOF comes
// exactly at the framed end; then call FinishBody.
func (c *Conn) ReadBody(p []byte) (int, error) {
	if c.cfg.BodyReadTimeout > 0 {
		c.timeoutName = "BodyReadTimeout"
		c.setReadDeadline(c.cfg.BodyReadTimeout) // golang/go#26941: time between reads
	}
	n, err := c.body.Read(p)
	if err == nil || err == io.EOF {
		return n, err
	}
	return n, c.bodyErr(err)
}

func (c *Conn) bodyErr(err error) error {
	return c.wrapErr(&phaseErr{errs.OpReadBody, err})
}

// BodyDone reports whether the body was read to its framed end.
func (c *Conn) BodyDone() bool { return c.body.Done() }

// Drain reads the rest of the body after an early Close, within limit bytes
// and timeout, so the conn can be reused; false means close it instead.
// A close-delimited body never ends in a reusable state, and a declared
// length past the limit is not worth reading.
func (c *Conn) Drain(limit int64, timeout time.Duration) bool {
	if c.body.Done() {
		return true
	}
	if limit < 0 || c.framing.Kind == wire.UntilClose || c.isAborted() {
		return false
	}
	if c.framing.Kind == wire.Length && c.body.Remaining() > limit {
		return false
	}
	if c.br.Buffered() == 0 || c.framing.Kind != wire.Length || int64(c.br.Buffered()) < c.body.Remaining() {
		c.timeoutName = "DrainTimeout"
		c.setReadDeadline(timeout)
	}
	_, err := io.CopyN(io.Discard, &c.body, limit+1)
	return err == io.EOF && c.body.Done()
}

// FinishBody ends the exchange after the body hit EOF or was closed, and
// reports whether the conn may be reused.
func (c *Conn) FinishBody() bool {
	ok := c.body.Done()
	c.body = wire.BodyReader{}
	return c.finishOK(ok)
}

// Reusable ends a bodiless exchange (resp.Body == nil from RoundTrip) and
// reports whether the conn may be reused.
func (c *Conn) Reusable() bool { return c.finishOK(true) }

// finishOK is the keep-alive decision: both sides allowed it, the framing
// ended cleanly, no cancellation touched the conn, and no stray bytes sit
// in the buffer (they would be parsed as the next response).
func (c *Conn) finishOK(ok bool) bool {
	ok = (c.up == nil || c.up.settleAtEnd(c)) && ok && c.keepAlive && !c.upgraded
	if c.br != nil && c.br.Buffered() > 0 {
		ok = false
	}
	ok = c.unwatch() && ok
	if ok && c.deadline {
		if c.nc.SetDeadline(time.Time{}) != nil {
			ok = false
		}
		c.deadline = false
	}
	c.release()
	return ok
}

// finish ends a failed exchange.
func (c *Conn) finish() {
	if c.up != nil {
		c.up.cutAndWait(c)
	}
	c.unwatch()
	c.body = wire.BodyReader{}
	c.keepAlive = false
	c.release()
}

// release returns the exchange's buffers and frees the conn's slot.
func (c *Conn) release() {
	if c.br != nil {
		putReader(c.br, c.cfg.ReadBufferSize)
		c.br = nil
	}
	c.ctx = nil
	c.sink = nil
	if c.up != nil {
		if !c.up.left { // a writer left behind still uses it
			*c.up = upload{}
			uploads.Put(c.up)
		}
		c.up = nil
	}
	c.inFlight.Store(0) // live and req were cleared by unwatch, under its lock

}

package spool

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/spoolhttp/spool/internal/errs"
	"github.com/spoolhttp/spool/internal/h1"
	"github.com/spoolhttp/spool/internal/h2"
	"github.com/spoolhttp/spool/internal/pool"
)

// tryH2 runs one attempt on an HTTP/2 conn. The adapter hands the stream's
// slot back to the pool itself (OnStreamDone), so only the bridge is left.
//
// Retry: only a stream the server never saw (headers not sent) or refused
// unprocessed (REFUSED_STREAM) is replayed. A reset after that comes from
// a healthy, shared conn whose server may have acted on the request; the
// keep-alive race of HTTP/1 does not apply.
func (st *state) tryH2(req *http.Request, key pool.Key, c *h2.Conn, o *h1.Options, ro *reqObs) (*http.Response, error, bool) {
	out := st.h2Request(req, o)
	end := func() {}
	var rt *readTimer
	if rht, brt := st.t.ResponseHeaderTimeout, st.t.BodyReadTimeout; rht > 0 || brt > 0 {
		// x/net has neither timeout: timers cancel the stream's context. The
		// context is released with the body (end), so a long-lived parent
		// does not collect children.
		ctx, cancel := context.WithCancelCause(req.Context())
		out = out.WithContext(ctx)
		end = func() { cancel(nil) }
		if rht > 0 { // unless the head arrives first
			t := time.AfterFunc(rht, func() { cancel(&TimeoutError{What: "ResponseHeaderTimeout"}) })
			defer t.Stop()
		}
		if brt > 0 {
			rt = &readTimer{d: brt, cancel: cancel, addr: c.NetConn().RemoteAddr().String()}
		}
	}
	resp, err := c.RoundTrip(out)
	if err != nil {
		end()
		var nr *errs.NoResponseError
		// Never sent (headers not written: x/net found the conn full or
		// unusable once the server's SETTINGS came) or refused unprocessed:
		// safe on any conn, reused or not.
		retry := errors.As(err, &nr) && !nr.Wrote && replayable(req)
		return nil, err, retry
	}
	resp.Request = req
	resp = st.trackH2(resp, key, end, rt)
	if ro != nil {
		st.observeH2(ro, resp)
	}
	st.decode(resp, o.AcceptEncoding != "")
	return resp, nil, false
}

// h2Request adds what spool adds to every request (Accept-Encoding of the
// bridge, the default User-Agent) to a copy: x/net writes the request's
// headers as they are, and the caller's request must not change.
func (st *state) h2Request(req *http.Request, o *h1.Options) *http.Request {
	_, hasUA := req.Header["User-Agent"] // present but empty means "send none"
	if o.AcceptEncoding == "" && hasUA {
		return req
	}
	r2 := *req
	r2.Header = req.Header.Clone()
	if r2.Header == nil {
		r2.Header = make(http.Header)
	}
	if o.AcceptEncoding != "" {
		r2.Header.Set("Accept-Encoding", o.AcceptEncoding)
	}
	if !hasUA {
		r2.Header.Set("User-Agent", st.h1.UserAgent)
	}
	return &r2
}

// h2Body is an HTTP/2 response body as the caller holds it. A dropped one
// is reclaimed like an HTTP/1 body: its stream is reset (the conn lives on)
// and the leak counted. The caller gets a copy of x/net's Response: x/net
// keeps a pointer into its own (for trailers), which would otherwise keep
// a dropped body reachable forever.
type h2Body struct {
	rc      io.ReadCloser  // the adapter's body; ends the stream
	end     func()         // releases the stream's own context, if any
	orig    *http.Response // x/net's, receives the trailers
	user    *http.Response // the caller's copy
	rt      *readTimer     // BodyReadTimeout, or nil
	closed  atomic.Bool    // Close was called: a failed Read is its doing
	cleanup runtime.Cleanup
}

func (st *state) trackH2(resp *http.Response, key pool.Key, end func(), rt *readTimer) *http.Response {
	if resp.Body == nil || resp.Body == http.NoBody {
		end()
		return resp
	}
	user := *resp
	b := &h2Body{rc: resp.Body, end: end, orig: resp, user: &user, rt: rt}
	user.Body = b
	b.cleanup = runtime.AddCleanup(b, reclaimH2, h2Leak{st: st, key: key, rc: resp.Body, end: end, method: resp.Request.Method, url: resp.Request.URL})
	return &user
}

func (b *h2Body) Read(p []byte) (int, error) {
	if b.closed.Load() {
		return 0, ErrBodyClosed // as on HTTP/1
	}
	if b.rt != nil {
		b.rt.arm()
	}
	n, err := b.rc.Read(p)
	if b.rt != nil {
		err = b.rt.disarm(err, b.closed.Load())
	}
	if err != nil {
		b.cleanup.Stop()
		b.end()
		if err == io.EOF && b.user.Trailer == nil {
			b.user.Trailer = b.orig.Trailer
		}
	}
	return n, err
}

func (b *h2Body) Close() error {
	b.closed.Store(true)
	b.cleanup.Stop()
	err := b.rc.Close()
	b.end()
	return err
}

// readTimer is BodyReadTimeout on an HTTP/2 body, as on HTTP/1: it runs
// for the length of each Read and, if that Read waits longer, cancels the
// stream's context; x/net resets the stream and the Read fails. The conn,
// shared by other streams, lives on.
type readTimer struct {
	d      time.Duration
	cancel context.CancelCauseFunc
	addr   string // the server's, for the error
	t      *time.Timer
	fired  atomic.Bool
}

func (r *readTimer) arm() {
	if r.t == nil {
		r.t = time.AfterFunc(r.d, func() {
			r.fired.Store(true)
			r.cancel(&TimeoutError{What: "BodyReadTimeout"})
		})
		return
	}
	r.t.Reset(r.d)
}

// disarm stops the timer and names the timeout in the error it caused: the
// stream is reset, so every later Read fails with it too, unless the
// caller closed the body.
func (r *readTimer) disarm(err error, closed bool) error {
	r.t.Stop()
	if err != nil && err != io.EOF && r.fired.Load() && !closed {
		return &Error{Op: OpReadBody, Addr: r.addr, Err: &TimeoutError{What: "BodyReadTimeout"}}
	}
	return err
}

type h2Leak struct {
	st     *state
	key    pool.Key
	rc     io.ReadCloser
	end    func()
	method string
	url    *url.URL
}

// reclaimH2 leaves the runtime's cleanup goroutine at once: closing the
// stream may wait on the conn.
func reclaimH2(l h2Leak) { go reclaimH2Now(l) }

func reclaimH2Now(l h2Leak) {
	l.rc.Close() // resets the stream; the adapter hands its slot back
	l.end()
	l.st.pool.Count(l.key, countLeak)
	l.st.reportLeak(l.method, l.url)
}

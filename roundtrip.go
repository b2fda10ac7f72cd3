package spool

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptrace"

	"github.com/spoolhttp/spool/internal/errs"
	"github.com/spoolhttp/spool/internal/h1"
	"github.com/spoolhttp/spool/internal/h2"
	"github.com/spoolhttp/spool/internal/pool"
	"github.com/spoolhttp/spool/internal/wire"
)

// RoundTrip implements http.RoundTripper: validate → route → bridge →
// pool.Get → conn.RoundTrip → retry-if-not-sent → wrap body. The request's
// context cancels it, and so does its deprecated Cancel channel (the cause
// is then ErrRequestCanceled).
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Cancel != nil {
		return t.roundTripCancelChan(req)
	}
	resp, err, _ := t.roundTrip(req, req, nil)
	return resp, err
}

// roundTrip sends req; orig is the caller's request, which CancelRequest
// is given (req may be a copy with a derived context). onEnd, if set, is
// called when the request's HTTP/1 response body ends (held reports
// that it will be: the body ends the request's flight).
func (t *Transport) roundTrip(req, orig *http.Request, onEnd context.CancelCauseFunc) (resp *http.Response, err error, held bool) {
	st := t.state()
	if err := validate(req); err != nil {
		closeReqBody(req)
		return nil, err, false
	}
	r, err := st.route(req)
	if err != nil {
		closeReqBody(req)
		return nil, err, false
	}
	f := st.startFlight(orig, r.key)
	resp, err = st.roundTripRoute(req, r, f)
	if err != nil || !f.endsWith() {
		st.endFlight(f) // else the HTTP/1 body ends it
		return resp, err, false
	}
	// The body cannot have ended yet: the caller has not got it.
	f.onEnd = onEnd
	return resp, nil, onEnd != nil
}

func (st *state) roundTripRoute(req *http.Request, r *route, f *flight) (*http.Response, error) {
	o := h1.Options{
		AbsoluteForm:   r.absolute,
		ProxyAuth:      r.proxyAuth,
		AcceptEncoding: st.askEncoding(req),
		Trace:          httptrace.ContextClientTrace(req.Context()),
	}
	var ro *reqObs // nil without an Observer
	if st.obs != nil {
		ro = &reqObs{}
		st.started(ro, r, req)
	}
	resp, err, retry, reached := st.try(req, r, &o, false, ro, f)
	cur := req // the request whose body is still ours to close
	// The Transport doc comment states this rule.
	for n := 0; retry && n < maxReplays(o.H2) && !f.isCanceled(); n++ {
		req2, ok := rewind(req)
		if !ok {
			break
		}
		cur = req2
		resp, err, retry, reached = st.try(req2, r, &o, true, ro, f)
		if err == nil {
			resp.Request = req
		}
	}
	if err != nil && retry && f.isCanceled() {
		err = errCanceledBeforeStream // the replay CancelRequest stopped, not the last attempt's failure
	}
	if ro != nil {
		st.responded(ro, r, resp, err)
	}
	if err != nil {
		if !reached {
			closeReqBody(cur) // a conn that got the request closed its body
		}
		return nil, publicErr(req, err, o.H2) // decisions above are taken: net/http's shape now
	}
	return resp, nil
}

// maxH2Replays bounds the replays of an HTTP/2 request the server did not
// process (net/http's HTTP/2 retries such a request 6 times): a replay can
// land on a conn that a GOAWAY drains in turn (a server that says
// Connection: close often, nginx's keepalive_requests under load), and
// each GOAWAY is the server making progress, so once is not enough; the
// bound stops a server that refuses everything. HTTP/1's keep-alive race
// is retried once.
const maxH2Replays = 6

func maxReplays(h2 bool) int {
	if h2 {
		return maxH2Replays
	}
	return 1
}

// try runs one attempt; replay says it is the one retry of the first,
// whose request the pool has counted already (Stats.Requests counts the
// caller's requests, once each). retry reports the keep-alive race (a conn
// from the idle list lost before any response byte) or an HTTP/2 stream
// the server did not process, which the Transport doc allows to retry;
// reached, that a conn took the request (and closed its body).
func (st *state) try(req *http.Request, r *route, o *h1.Options, replay bool, ro *reqObs, f *flight) (resp *http.Response, err error, retry, reached bool) {
	traceGetConn(o.Trace, r.addr)
	// A replay: the keep-alive race wants a fresh conn; an HTTP/2 stream
	// never sent or refused may go to any (the conn is shared and healthy,
	// and a fresh dial at MaxConnsPerHost would evict one).
	if replay {
		f.toPool() // the last attempt's conn no longer carries the request
	}
	pc, info, err := st.pool.GetTagged(req.Context(), r.key, r.dial, replay && !o.H2, replay, f.tag())
	if err != nil {
		return nil, err, false, false
	}
	if info.Queued {
		st.noteWait(r, info)
	}
	if ro != nil {
		st.gotConn(ro, r, pc, info)
	}
	o.Reused = info.Reused || info.WasIdle
	o.H2 = false
	if c, ok := pc.(*h2.Conn); ok {
		traceGotConn(o.Trace, c.NetConn(), info)
		o.H2 = true
		if !f.onH2(c, req) {
			c.Release()
			st.pool.Put(r.key, c, true, pool.ReasonNotReusable)
			return nil, errCanceledBeforeStream, false, false
		}
		resp, err, retry = st.tryH2(req, r.key, c, o, ro, f)
		return resp, err, retry, true
	}
	c := pc.(*h1.Conn)
	traceGotConn(o.Trace, c.NetConn(), info)
	ob := h1Obs(c, ro) // before the exchange: see h1Obs
	f.onH1(c)
	resp, err = c.RoundTrip(req, o)
	if err != nil {
		st.pool.Remove(r.key, c, pool.ReasonBroken)
		return nil, err, o.Reused && notSent(req, err), true
	}
	resp.TLS = c.TLS // shared by the conn's responses, as net/http's
	if c.Upgraded() {
		st.pool.Detach(r.key, c)
		return resp, nil, false, true
	}
	if !c.HasBody() {
		st.checkin(r, c, c.Reusable(), o.Trace, pool.ReasonNotReusable)
		resp.Body = http.NoBody
		if ro != nil {
			ro.bodyless = true
		}
	} else {
		resp.Body = st.newBody(c, r, resp, o.Trace, ob, f)
	}
	st.decode(resp, o.AcceptEncoding != "")
	return resp, nil, false, true
}

// checkin ends an exchange: the conn goes back to the pool or is closed.
func (st *state) checkin(r *route, c *h1.Conn, reusable bool, trace *httptrace.ClientTrace, reason pool.CloseReason) {
	if st.h1.MaxRequests > 0 && c.Requests() >= st.h1.MaxRequests {
		reason = pool.ReasonMaxRequests
	}
	st.pool.Put(r.key, c, reusable, reason)
	tracePutIdle(trace, reusable)
}

// notSent: the request may be replayed on a fresh conn. Its body must be
// replayable, and either nothing was written, or it is idempotent (RFC 9110
// §9.2.2), or the caller made it rewindable with GetBody. The last goes
// further than net/http: the server sent no byte of an answer on a conn it
// was closing, which is the keep-alive race, and a caller who set GetBody
// (http.NewRequest does for in-memory bodies) asked for replays. Such a
// request may reach the server twice if it had read it before closing.
func notSent(req *http.Request, err error) bool {
	var nr *errs.NoResponseError
	if !errors.As(err, &nr) || !replayable(req) {
		return false
	}
	return !nr.Wrote || idempotent(req) || req.GetBody != nil
}

func replayable(req *http.Request) bool {
	return req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
}

func idempotent(req *http.Request) bool {
	switch req.Method {
	case "", http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace, http.MethodPut, http.MethodDelete:
		return true
	}
	_, k1 := req.Header["Idempotency-Key"]
	_, k2 := req.Header["X-Idempotency-Key"]
	return k1 || k2
}

// rewind returns a copy of req with a fresh body from GetBody.
func rewind(req *http.Request) (*http.Request, bool) {
	if req.Body == nil || req.Body == http.NoBody {
		return req, true
	}
	body, err := req.GetBody()
	if err != nil {
		return nil, false
	}
	r2 := *req
	r2.Body = body
	return &r2, true
}

func closeReqBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}

// validate rejects what cannot be sent, before anything is dialed, with
// net/http's texts (DESIGN decision 7).
func validate(req *http.Request) error {
	if req.URL == nil {
		return errNilURL
	}
	if req.Header == nil {
		return errNilHeader
	}
	switch req.URL.Scheme {
	case "http", "https":
	default:
		return &InvalidRequestError{Field: "URL.Scheme", Reason: "unsupported protocol scheme " + quoteShort(req.URL.Scheme)}
	}
	return wire.ValidateRequest(req)
}

var (
	errNilURL    = &InvalidRequestError{Field: "URL", Reason: "http: nil Request.URL"}
	errNilHeader = &InvalidRequestError{Field: "Header", Reason: "http: nil Request.Header"}
)

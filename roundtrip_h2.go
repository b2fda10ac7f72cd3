package spool

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/spoolhttp/spool/internal/errs"
	"github.com/spoolhttp/spool/internal/h1"
	"github.com/spoolhttp/spool/internal/h2"
	"github.com/spoolhttp/spool/internal/pool"
)

// tryH2 runs one attempt on an HTTP/2 conn. The conn does the rest as an
// HTTP/1 conn does: ResponseHeaderTimeout and BodyReadTimeout (the stream
// is reset, the conn kept), the body's end, early Close (RST_STREAM),
// trailers, leaked bodies (reclaimed: h2Leaked); each finished stream hands
// its slot back to the pool itself (OnStreamDone). Only the bridge is left.
//
// Retry: only a stream the server did not process (never sent, refused
// with REFUSED_STREAM, or above a GOAWAY's Last-Stream-ID: RFC 9113 §8.7)
// is replayed, whatever its method. A reset after that comes from a
// healthy, shared conn whose server may have acted on the request; the
// keep-alive race of HTTP/1 does not apply.
func (st *state) tryH2(req *http.Request, key pool.Key, c *h2.Conn, o *h1.Options, ro *reqObs, f *flight) (*http.Response, error, bool) {
	ho := &h2.Options{AcceptEncoding: o.AcceptEncoding, Trace: o.Trace}
	if f != nil {
		ho.Canceled = &f.canceled
	}
	resp, err := c.Do(req, ho)
	if err != nil {
		var nr *errs.NoResponseError
		retry := errors.As(err, &nr) && !nr.Wrote && replayable(req)
		return nil, err, retry
	}
	if f.isCanceled() {
		// CancelRequest came as the head arrived, after Do's own look
		// at the flag: the request is cancelled all the same.
		resp.Body.Close()
		return nil, errCanceledBeforeStream, false
	}
	if ro != nil {
		st.observeH2(ro, resp)
	}
	st.decode(resp, o.AcceptEncoding != "")
	return resp, nil, false
}

// h2Config is the HTTP/2 conns' share of the Transport's settings: the
// same timeouts, limits and User-Agent as HTTP/1.
func (st *state) h2Config(ua string) h2.Config {
	t := st.t
	return h2.Config{
		MaxHeaderListSize:     uint32(min(max(t.MaxResponseHeaderBytes, 0), 1<<32-1)),
		ResponseHeaderTimeout: t.ResponseHeaderTimeout,
		BodyReadTimeout:       t.BodyReadTimeout,
		WriteHold:             t.HTTP2WriteHold,
		ExpectContinueTimeout: t.ExpectContinueTimeout,
		UserAgent:             ua,
		ErrBodyClosed:         ErrBodyClosed,
		PublicBodyErr:         publicBodyErr,
		OnStreamDone:          func(c *h2.Conn) { st.pool.Put("", c, true, pool.ReasonNotReusable) },
		OnLeak:                st.h2Leaked,
	}
}

// h2Leaked counts and reports a body dropped unclosed: its stream reset
// (its slot free, the conn lives on), or already ended by its conn's
// failure, which leaked it all the same.
func (st *state) h2Leaked(c *h2.Conn, method string, u *url.URL) {
	if r, ok := c.Owner.(*route); ok {
		st.pool.Count(r.key, countLeak)
	}
	st.reportLeak(method, u)
}

// H2Stats counts HTTP/2 events since the Transport was created, over all
// its conns.
type H2Stats struct {
	Streams      uint64 `json:"streams"`       // streams started
	GoAways      uint64 `json:"goaways"`       // GOAWAY frames received
	NotProcessed uint64 `json:"not_processed"` // streams the server refused or left above a GOAWAY, or a failed conn never wrote: each replayed if its body rewinds and the replay limit allows
	Resets       uint64 `json:"resets"`        // RST_STREAM sent (early Close, timeouts, cancellations, stream errors)
	PeerResets   uint64 `json:"peer_resets"`   // RST_STREAM received
	FlowStalls   uint64 `json:"flow_stalls"`   // times a request body waited for the server's flow-control window
	PingFailures uint64 `json:"ping_failures"` // conns closed because a health-check PING went unanswered
}

func (st *state) h2Stats() H2Stats {
	c := st.h2.Counters()
	return H2Stats{Streams: c.Streams, GoAways: c.GoAways, NotProcessed: c.NotProcessed, Resets: c.Resets,
		PeerResets: c.PeerResets, FlowStalls: c.FlowStalls, PingFailures: c.PingFailures}
}

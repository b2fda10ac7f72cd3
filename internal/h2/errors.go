package h2

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"golang.org/x/net/http2"

	"github.com/spoolhttp/spool/internal/errs"
	"github.com/spoolhttp/spool/internal/pool"
)

// Errors follow DESIGN decision 7: protocol failures are x/net's exported
// types (http2.StreamError, http2.ConnectionError, http2.GoAwayError), as
// code written for x/net's and net/http's HTTP/2 expects, wrapped in
// *errs.Error with the phase; a stream the server never processed is an
// *errs.NoResponseError with Wrote=false, so the root replays it.

var (
	// errFull: the server's MAX_CONCURRENT_STREAMS is reached.
	errFull = errors.New("h2: conn has no free stream")
	// errGoAway: GOAWAY received; no new streams. Counted as a server close
	// by the pool.
	errGoAway = fmt.Errorf("h2: conn closing, GOAWAY received: %w", pool.ErrServerClosed)
	// errDegraded: a PING after a stream's timeout went unanswered.
	errDegraded = errors.New("h2: conn degraded: PING after a stream timeout unanswered")
	// errDoNotReuse: a request said Connection: close.
	errDoNotReuse = errors.New("h2: conn closing after a request with Connection: close")
	// errIDsExhausted: all 2^30 client stream IDs are used.
	errIDsExhausted = errors.New("h2: stream IDs exhausted")
	// errPingTimeout: the health check's PING went unanswered.
	errPingTimeout = errors.New("h2: PING health check unanswered, connection lost")
	// errClosedAfterGoAway: the conn ended after a GOAWAY, typically a
	// graceful server shutdown (GOAWAY, then FIN).
	errClosedAfterGoAway = fmt.Errorf("h2: connection closed after GOAWAY: %w", pool.ErrServerClosed)
	// errBodyClosed is Read after Close when Config.ErrBodyClosed is nil.
	errBodyClosed = errors.New("h2: read on closed response body")
	// errStreamCancelled: the stream was reset by us (Close, leak, timeout).
	errStreamCancelled = errors.New("h2: stream cancelled")
	// errReqBodyTooLong / Short: the body disagrees with ContentLength.
	errReqBodyTooLong  = errors.New("http2: request body larger than specified content length")
	errReqBodyTooShort = errors.New("http2: request body shorter than specified content length")
	// errRequestHeaderListSize: the peer's SETTINGS_MAX_HEADER_LIST_SIZE.
	errRequestHeaderListSize = errors.New("http2: request header list larger than peer's advertised limit")
	// errFromPeer is the Cause of a StreamError from the peer's RST_STREAM.
	errFromPeer = errors.New("received from peer")
	// errStreamWindowOverflow: WINDOW_UPDATE past 2^31-1 on a stream.
	errStreamWindowOverflow = errors.New("http2: stream window overflow")
	// errRespTooLong: more DATA than the response's Content-Length.
	errRespTooLong = errors.New("net/http: server replied with more than declared Content-Length; truncated")
)

// lostError is the conn failing under its streams: the cause and whether
// it was our own doing.
type lostError struct{ err error }

func (e *lostError) Error() string { return "h2: connection lost: " + e.err.Error() }
func (e *lostError) Unwrap() error { return e.err }

// notProcessed builds the error of a stream the server did not process
// (refused, or above a GOAWAY's Last-Stream-ID): safe to replay anywhere.
func (s *stream) notProcessed(cause error) error {
	return &errs.Error{Op: errs.OpWrite, Addr: s.c.Addr, Reused: s.reused,
		Err: &errs.NoResponseError{Err: cause, Wrote: false}}
}

// headErr builds the *errs.Error of a stream that got no response head.
// The caller's context wins (its cause); a failure after the headers went
// out is a NoResponseError with Wrote=true, so only an idempotent or
// rewindable request is replayed.
func (s *stream) headErr(err error) error {
	var e *errs.Error
	if errors.As(err, &e) {
		return err
	}
	op := errs.OpAwaitHeaders
	if !s.wroteHeaders || s.bodyFailed.Load() {
		op = errs.OpWrite
	}
	if s.ctx.Err() != nil && errors.Is(err, s.ctx.Err()) {
		err = context.Cause(s.ctx)
	} else if _, ok := err.(*errs.TimeoutError); !ok && !s.bodyFailed.Load() {
		err = &errs.NoResponseError{Err: err, Wrote: s.wroteHeaders}
	}
	return &errs.Error{Op: op, Addr: s.c.Addr, Reused: s.reused, Err: err}
}

// readErr builds the *errs.Error of a failed body Read.
func (s *stream) readErr(err error) error {
	var e *errs.Error
	if errors.As(err, &e) {
		return err
	}
	if s.ctx.Err() != nil && errors.Is(err, s.ctx.Err()) {
		err = context.Cause(s.ctx)
	}
	return &errs.Error{Op: errs.OpReadBody, Addr: s.c.Addr, Reused: s.reused, Err: err}
}

// Refused reports whether err is the server refusing a stream unprocessed.
func Refused(err error) bool {
	var se http2.StreamError
	return errors.As(err, &se) && se.Code == http2.ErrCodeRefusedStream
}

// Counters are kept per Factory, over all its conns.
type Counters struct {
	conns       atomic.Uint64
	streams     atomic.Uint64
	goAways     atomic.Uint64
	resets      atomic.Uint64 // RST_STREAM we sent
	peerResets  atomic.Uint64 // RST_STREAM received
	stalls      atomic.Uint64 // a request body waited for a send window
	replays     atomic.Uint64 // streams failed as not processed
	leaks       atomic.Uint64
	pingsFailed atomic.Uint64
}

// CounterSnapshot is a copy of Counters.
type CounterSnapshot struct {
	Conns, Streams, GoAways, Resets, PeerResets, FlowStalls, NotProcessed, Leaks, PingFailures uint64
}

func (c *Counters) snapshot() CounterSnapshot {
	return CounterSnapshot{
		Conns: c.conns.Load(), Streams: c.streams.Load(), GoAways: c.goAways.Load(),
		Resets: c.resets.Load(), PeerResets: c.peerResets.Load(), FlowStalls: c.stalls.Load(),
		NotProcessed: c.replays.Load(), Leaks: c.leaks.Load(), PingFailures: c.pingsFailed.Load(),
	}
}

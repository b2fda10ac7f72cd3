package h2

import (
	"context"
	"errors"
	"fmt"

	"github.com/spoolhttp/spool/internal/errs"
	"github.com/spoolhttp/spool/internal/pool"
	"golang.org/x/net/http2"
)

var (
	// errFull: the server's MAX_CONCURRENT_STREAMS is reached.
	errFull = errors.New("h2: conn has no free stream")
	// errLost: x/net closed the conn (peer hung up, PING unanswered, I/O or
	// protocol error).
	errLost = errors.New("h2: connection lost")
	// errGoAway: no new streams (GOAWAY received, or a request said
	// Connection: close). Counted as a server close by the pool.
	errGoAway = fmt.Errorf("h2: conn closing, GOAWAY received: %w", pool.ErrServerClosed)
	// errClosedAfterGoAway: closed after closing began, typically a graceful
	// server shutdown (GOAWAY, then FIN).
	errClosedAfterGoAway = fmt.Errorf("h2: connection closed after GOAWAY: %w", pool.ErrServerClosed)
)

// notSent wraps a failure to start a stream at all: nothing was written, so
// the request may go to another conn whatever its method.
func (s *stream) notSent(err error) error {
	return &errs.Error{Op: errs.OpWrite, Addr: s.c.Addr, Reused: s.reused,
		Err: &errs.NoResponseError{Err: err, Wrote: false}}
}

// wrapErr builds the *errs.Error for a RoundTrip failure; no response head
// arrived, by definition.
//
//   - The caller's context ended: context.Cause wins (x/net returns ctx.Err()).
//   - Op is "write" if the request headers never went out or its body
//     failed to write, else "await headers" (best effort: x/net reports
//     both through one error; its trace hooks tell them apart).
//   - Anything else is a NoResponseError, so the retry layer can resend an
//     unsent request (Wrote=false) or an idempotent one. x/net's own
//     not-sent errors (conn unusable, stream refused by GOAWAY) are
//     unexported, so they are not told apart from other losses.
func (s *stream) wrapErr(err error) error {
	op := errs.OpAwaitHeaders
	if !s.wroteHeaders.Load() || s.writeFailed.Load() {
		op = errs.OpWrite
	}
	if cerr := s.ctx.Err(); cerr != nil && errors.Is(err, cerr) {
		err = context.Cause(s.ctx)
	} else {
		// REFUSED_STREAM: the server did not process the stream (RFC 9113
		// §8.7), as when a fresh conn opened more streams than the SETTINGS
		// it had not yet received allow; replaying it is safe.
		wrote := s.wroteHeaders.Load() && !Refused(err)
		err = &errs.NoResponseError{Err: err, Wrote: wrote}
	}
	return &errs.Error{Op: op, Addr: s.c.Addr, Reused: s.reused, Err: err}
}

// Refused reports whether err is the server refusing a stream unprocessed.
func Refused(err error) bool {
	var se http2.StreamError
	return errors.As(err, &se) && se.Code == http2.ErrCodeRefusedStream
}

// wrapReadErr builds the *errs.Error for a response body read failure.
func (s *stream) wrapReadErr(err error) error {
	if cerr := s.ctx.Err(); cerr != nil && errors.Is(err, cerr) {
		err = context.Cause(s.ctx)
	}
	return &errs.Error{Op: errs.OpReadBody, Addr: s.c.Addr, Reused: s.reused, Err: err}
}

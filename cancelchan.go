package spool

import (
	"context"
	"errors"
	"io"
	"net/http"
	"runtime"
	"time"

	"github.com/spoolhttp/spool/internal/errs"
)

// ErrRequestCanceled is the cause of a request whose Request.Cancel
// channel was closed, or that Transport.CancelRequest cancelled; the text
// is net/http's.
var ErrRequestCanceled = errs.ErrRequestCanceled

// errRequestDone releases a Request.Cancel watch once the exchange is over.
var errRequestDone = errors.New("spool: request done")

// clientTimeoutGrace is how long the request context's deadline waits for
// the Request.Cancel channel before it cancels the request on its own.
// http.Client with a Timeout and a RoundTripper it does not know sets both
// a context deadline and a timer that closes Request.Cancel, due at the
// same instant, and names the error "(Client.Timeout exceeded ...)" only
// if its timer fired before RoundTrip or a body Read returned. Whichever
// of the two the scheduler ran first used to decide the error's text
// (TestClientTimeout, TestClientTimeout_Headers flaked). The grace is
// paid only when the deadline is not the Client's: a context deadline
// earlier than Client.Timeout on a request of such a Client.
const clientTimeoutGrace = 50 * time.Millisecond

// roundTripCancelChan runs a request that has the deprecated
// Request.Cancel channel (http.Client sets one for a RoundTripper it does
// not know, when Client.Timeout is set). The channel is merged into a
// context derived from the request's, so the context stays the one
// cancellation source (DESIGN decision 8) and the pool wait, the dial wait
// and the exchange see it as they see the caller's own. A channel cannot
// be watched without a goroutine: this one lives until the response body
// ends, is closed or is collected; requests without a Cancel channel never
// come here and pay nothing. An HTTP/1 body's end releases the watch
// through the request's CancelRequest flight; other bodies (HTTP/2) get a
// wrapper that does.
//
// The derived context does not end with its parent by itself: the watcher
// passes the parent's end on, at once for a cancellation, and for a
// deadline once the Cancel channel closed too (clientTimeoutGrace).
func (t *Transport) roundTripCancelChan(orig *http.Request) (*http.Response, error) {
	parent := orig.Context()
	ctx, release := context.WithCancelCause(context.WithoutCancel(parent))
	select {
	case <-orig.Cancel:
		release(cancelChanCause(parent))
	default:
		// Also when parent has ended already: a deadline past before
		// RoundTrip (http.Client following a redirect late) waits for
		// the Client's timer as well.
		go awaitCancelChan(parent, ctx, release, orig.Cancel)
	}
	req := orig.WithContext(ctx)
	req.Cancel = nil // the context carries it now, for every layer below
	resp, err, held := t.roundTrip(req, orig, release)
	if err != nil {
		release(errRequestDone)
		return nil, err
	}
	resp.Request = orig
	if held {
		return resp, nil // an HTTP/1 body: its end releases the watch (flight.onEnd)
	}
	if _, tunnel := resp.Body.(io.Writer); tunnel || resp.Body == nil || resp.Body == http.NoBody {
		// No body, or an HTTP/1 tunnel (101, CONNECT 2xx) whose body owns
		// the conn: the context no longer reaches it, as with a caller's
		// context. A writable body is net/http's test for it too
		// (bodyIsWritable). An HTTP/2 CONNECT body is a stream that the
		// context still governs: its watch ends with the body, as any other.
		release(errRequestDone)
		return resp, nil
	}
	b := &cancelChanBody{ReadCloser: resp.Body, release: release}
	b.cleanup = runtime.AddCleanup(b, func(release context.CancelCauseFunc) { release(errRequestDone) }, release)
	resp.Body = b
	return resp, nil
}

// awaitCancelChan passes on the first of: the Cancel channel closing, the
// parent context ending, the watch being released (ctx done).
func awaitCancelChan(parent, ctx context.Context, release context.CancelCauseFunc, ch <-chan struct{}) {
	select {
	case <-ch:
		release(cancelChanCause(parent))
		return
	case <-ctx.Done():
		return
	case <-parent.Done():
	}
	if errors.Is(parent.Err(), context.DeadlineExceeded) {
		t := time.NewTimer(clientTimeoutGrace)
		select {
		case <-ch: // http.Client's timer: its deadline is this one
		case <-t.C:
		case <-ctx.Done():
		}
		t.Stop()
	}
	release(context.Cause(parent))
}

// cancelChanCause is the cause of a closed Cancel channel: the context's
// deadline if that has passed (http.Client's timer closed the channel at
// the deadline it also set on the context, whose own timer may not have
// run yet: net/http's text then names the deadline), else
// ErrRequestCanceled.
func cancelChanCause(parent context.Context) error {
	if err := parent.Err(); err != nil {
		return context.Cause(parent)
	}
	if d, ok := parent.Deadline(); ok && !time.Now().Before(d) {
		return context.DeadlineExceeded
	}
	return ErrRequestCanceled
}

// cancelChanBody ends the Request.Cancel watch with the body.
type cancelChanBody struct {
	io.ReadCloser
	release context.CancelCauseFunc
	cleanup runtime.Cleanup // a dropped body ends the watch too
}

func (b *cancelChanBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil {
		b.done()
	}
	return n, err
}

func (b *cancelChanBody) Close() error {
	err := b.ReadCloser.Close()
	b.done()
	return err
}

func (b *cancelChanBody) done() {
	b.cleanup.Stop()
	b.release(errRequestDone)
}

package spool

import (
	"context"
	"errors"
	"io"
	"net/http"
	"runtime"
)

// ErrRequestCanceled is the cause of a request whose Request.Cancel
// channel was closed; the text is net/http's.
var ErrRequestCanceled = errors.New("net/http: request canceled")

// errRequestDone releases a Request.Cancel watch once the exchange is over.
var errRequestDone = errors.New("spool: request done")

// roundTripCancelChan runs a request that has the deprecated
// Request.Cancel channel (http.Client sets one for a RoundTripper it does
// not know, when Client.Timeout is set). The channel is merged into a
// context derived from the request's, so the context stays the one
// cancellation source (DESIGN decision 8) and the pool wait, the dial wait
// and the exchange see it as they see the caller's own. A channel cannot
// be watched without a goroutine: this one lives until the response body
// ends, is closed or is collected; requests without a Cancel channel never
// come here and pay nothing.
func (t *Transport) roundTripCancelChan(orig *http.Request) (*http.Response, error) {
	ctx, release := context.WithCancelCause(orig.Context())
	select {
	case <-orig.Cancel:
		release(ErrRequestCanceled)
	default:
		go awaitCancelChan(ctx, release, orig.Cancel)
	}
	req := orig.WithContext(ctx)
	req.Cancel = nil // the context carries it now, for every layer below
	resp, err := t.roundTrip(req)
	if err != nil {
		release(errRequestDone)
		return nil, err
	}
	resp.Request = orig
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

func awaitCancelChan(ctx context.Context, cancel context.CancelCauseFunc, ch <-chan struct{}) {
	select {
	case <-ch:
		cancel(ErrRequestCanceled)
	case <-ctx.Done():
	}
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

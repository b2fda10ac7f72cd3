package spool

import (
	"context"
	"errors"
	"io"
	"net/http"
	"testing"

	"github.com/spoolhttp/spool/internal/errs"
	"github.com/spoolhttp/spool/internal/h1"
	"github.com/spoolhttp/spool/internal/wire"
)

// publicErr's table, for the shapes no end-to-end test reaches yet: the
// Request.Cancel sentinels wherever they sit, HTTP/2's lost streams, and
// what stays a *spool.Error.
func TestPublicErrShapes(t *testing.T) {
	req, _ := http.NewRequestWithContext(context.Background(), "GET", "http://x.test/", nil)
	strict := &wire.ProtocolError{Reason: "Content-Length and Transfer-Encoding both present"}
	wrapped := func(op string, err error) error { return &errs.Error{Op: op, Addr: "x.test:80", Err: err} }
	for _, c := range []struct {
		name string
		err  error
		h2   bool
		same error // the error itself, unwrapped; nil: check keep
		keep bool  // stays the *spool.Error
	}{
		{"Request.Cancel in the exchange", wrapped(OpAwaitHeaders, errs.ErrRequestCanceled), false, errs.ErrRequestCanceled, false},
		{"Request.Cancel in the pool wait", wrapped(OpPoolWait, errs.ErrRequestCanceledConn), false, errs.ErrRequestCanceledConn, false},
		{"h2 stream lost before any byte", wrapped(OpWrite, &errs.NoResponseError{Err: io.EOF}), true, io.EOF, false},
		{"h1 socket write error inside a lost exchange", wrapped(OpWrite, &errs.NoResponseError{Err: &h1.WriteError{Err: io.ErrClosedPipe}}), false, io.ErrClosedPipe, false},
		{"fault only spool refuses", wrapped(OpAwaitHeaders, strict), false, nil, true},
		{"wait queue full", wrapped(OpPoolWait, ErrWaitQueueFull), false, nil, true},
		{"h2 engine error", wrapped(OpAwaitHeaders, errors.New("h2: connection lost")), true, nil, true},
	} {
		got := publicErr(req, c.err, c.h2)
		switch {
		case c.keep && got != c.err:
			t.Errorf("%s: %T %v, want the *spool.Error kept", c.name, got, got)
		case !c.keep && got != c.same:
			t.Errorf("%s: %T %v, want %v unwrapped", c.name, got, got, c.same)
		}
	}
}

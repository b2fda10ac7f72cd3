package h2

import (
	"errors"
	"sync/atomic"
	"testing"

	"github.com/spoolhttp/spool/internal/errs"
	"golang.org/x/net/http2"
)

// A CancelRequest that came after the root chose the conn but before the
// stream opened found no stream to cancel; Do sees the flag once the
// stream is open and cancels it there, so the request fails at once
// (the stream reset, CANCEL) instead of waiting for a server that never
// answers.
func TestDoCanceledBeforeStreamOpened(t *testing.T) {
	c, p := newPeer(t, Config{}, http2.Setting{})
	var canceled atomic.Bool
	canceled.Store(true)
	ch := goDo(c, get(t, "http://x/"), &Options{Canceled: &canceled})
	h := p.headers()
	if code := p.expectRST(h.id); code != http2.ErrCodeCancel {
		t.Fatalf("RST_STREAM %v, want CANCEL", code)
	}
	r := wait(t, ch)
	if r.err == nil || !errors.Is(r.err, errs.ErrRequestCanceled) {
		t.Fatalf("Do: %v, want ErrRequestCanceled", r.err)
	}
	if c.Err() != nil {
		t.Fatalf("the conn failed: %v", c.Err())
	}
}

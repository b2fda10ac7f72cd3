package retry

import (
	"context"
	"syscall"
	"testing"
	"testing/synctest"
	"time"
)

func TestEvents(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeRT{steps: []step{{status: 503}, {err: errRefused}, {status: 200}}}
		var hook, traced, outer []Event
		tr := &Transport{Next: f, Backoff: Constant(time.Second), OnRetry: func(e Event) { hook = append(hook, e) }}
		ctx := WithTrace(t.Context(), &Trace{OnRetry: func(e Event) { outer = append(outer, e) }})
		ctx = WithTrace(ctx, &Trace{OnRetry: func(e Event) { traced = append(traced, e) }})
		req := newReq(t, "GET", nil).WithContext(ctx)
		resp, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if len(hook) != 2 || len(traced) != 2 || len(outer) != 2 {
			t.Fatalf("events: hook %d, trace %d, outer trace %d", len(hook), len(traced), len(outer))
		}
		e1, e2 := hook[0], hook[1]
		if e1.Attempt != 1 || e1.StatusCode != 503 || e1.Err != nil || e1.Wait != time.Second || e1.Request != req || e1.Reason != "status 503" {
			t.Errorf("first event %+v", e1)
		}
		if e2.Attempt != 2 || e2.StatusCode != 0 || e2.Err != errRefused || e2.Wait != time.Second || e2.Reason == "" {
			t.Errorf("second event %+v", e2)
		}
		if traced[1].Attempt != 2 || outer[0].Attempt != 1 {
			t.Errorf("trace events %+v %+v", traced, outer)
		}
	})
}

// Events fire before the wait, so a hook sees the pause it announces.
func TestEventBeforeWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeRT{steps: []step{{err: errRefused}, {status: 200}}}
		start := time.Now()
		var at time.Duration
		tr := &Transport{Next: f, Backoff: Constant(time.Minute), OnRetry: func(Event) { at = time.Since(start) }}
		resp, err := tr.RoundTrip(newReq(t, "GET", nil))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if at != 0 || time.Since(start) != time.Minute {
			t.Fatalf("event at %v, done at %v", at, time.Since(start))
		}
	})
}

func TestContextTrace(t *testing.T) {
	if ContextTrace(context.Background()) != nil {
		t.Fatal("trace from nowhere")
	}
	tr := &Trace{}
	if ContextTrace(WithTrace(context.Background(), tr)) != tr {
		t.Fatal("trace not carried")
	}
	// A Trace without a hook composes with one that has it.
	var n int
	ctx := WithTrace(context.Background(), &Trace{OnRetry: func(Event) { n++ }})
	ctx = WithTrace(ctx, &Trace{})
	ContextTrace(ctx).OnRetry(Event{Err: syscall.ECONNRESET})
	if n != 1 {
		t.Fatal("outer hook lost")
	}
}

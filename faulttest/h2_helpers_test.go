package faulttest

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spoolhttp/spool"
	"github.com/spoolhttp/spool/internal/h2test"
	"github.com/spoolhttp/spool/internal/testutil"
	"golang.org/x/net/http2"
)

// h2Bound is how long an HTTP/2 fault test lets a request run before it
// counts as hung: far above what a correct client needs on a loaded
// machine, far below the test binary's timeout.
const h2Bound = 10 * time.Second

// h2cTransport is a Transport that speaks h2c with prior knowledge to
// http:// origins (and HTTP/1 to none), closed with the test; tweak, if
// not nil, sets more fields.
func h2cTransport(t *testing.T, tweak func(*spool.Transport)) *spool.Transport {
	p := new(http.Protocols)
	p.SetUnencryptedHTTP2(true)
	tr := &spool.Transport{Protocols: p}
	if tweak != nil {
		tweak(tr)
	}
	return testutil.NewTransport(t, tr)
}

// boundedCtx is a context that ends at h2Bound: a request that fails
// with its deadline hung.
func boundedCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), h2Bound)
	t.Cleanup(cancel)
	return ctx
}

// get sends a GET for url with ctx through tr.
func get(ctx context.Context, tr *spool.Transport, url string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	return tr.RoundTrip(req)
}

// getAll GETs url and reads the body, returning it and the first error.
func getAll(ctx context.Context, tr *spool.Transport, url string) (string, error) {
	resp, err := get(ctx, tr, url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

// h2Code finds the HTTP/2 error code in err's chain: x/net's stream,
// connection and GOAWAY error types, which spool's errors wrap.
func h2Code(err error) (http2.ErrCode, bool) {
	var se http2.StreamError
	if errors.As(err, &se) {
		return se.Code, true
	}
	var ce http2.ConnectionError
	if errors.As(err, &ce) {
		return http2.ErrCode(ce), true
	}
	var ge http2.GoAwayError
	if errors.As(err, &ge) {
		return ge.ErrCode, true
	}
	return 0, false
}

// requireTyped fails unless err can be classified without its text: a
// *spool.Error (DESIGN decision 7), an HTTP/2 error code, a net.Error,
// or one of the sentinels net/http's callers compare. A hang that ran
// into h2Bound's deadline is not an outcome and fails too.
func requireTyped(t *testing.T, what string, err error) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: no error", what)
	}
	if errors.Is(err, context.DeadlineExceeded) && !isSpoolTimeout(err) {
		t.Fatalf("%s: hung until the test's deadline: %v", what, err)
	}
	var se *spool.Error
	var ne net.Error
	_, coded := h2Code(err)
	if errors.As(err, &se) || coded || errors.As(err, &ne) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, context.Canceled) {
		return
	}
	t.Fatalf("%s: untyped error %T: %v", what, err, err)
}

func isSpoolTimeout(err error) bool {
	var te *spool.TimeoutError
	return errors.As(err, &te)
}

// requireClean waits until tr carries nothing (no active conn, no
// stream) and the goroutines are back to base.
func requireClean(t *testing.T, tr *spool.Transport, base int) {
	t.Helper()
	testutil.WaitFor(t, "no active conn or stream", func() bool {
		st := tr.Stats().Total
		return st.Active == 0 && st.Streams == 0
	})
	tr.Close()
	waitGoroutines(t, base)
}

// seen records what a scripted server saw, for the test to assert on.
type seen struct {
	mu     sync.Mutex
	frames []http2.FrameHeader
	goaway *http2.GoAwayFrame // copy of the client's first GOAWAY, if any
	rst    map[uint32]http2.ErrCode
	closed atomic.Bool // the client closed the conn (EOF or reset)
	endErr error       // the read error that ended watch; under mu
	done   chan struct{}
}

func newSeen() *seen { return &seen{rst: map[uint32]http2.ErrCode{}, done: make(chan struct{})} }

// watch reads c's frames until the conn ends, recording GOAWAY and
// RST_STREAM, acking PINGs and SETTINGS, and closes s.done.
func (s *seen) watch(c *h2test.Conn) {
	defer close(s.done)
	for {
		f, err := c.ReadFrame()
		if err != nil {
			s.mu.Lock()
			s.endErr = err
			s.mu.Unlock()
			s.closed.Store(true)
			return
		}
		s.mu.Lock()
		s.frames = append(s.frames, f.Header())
		switch f := f.(type) {
		case *http2.GoAwayFrame:
			if s.goaway == nil { // a later one (our Close's NO_ERROR) does not replace it
				g := *f
				s.goaway = &g
			}
		case *http2.RSTStreamFrame:
			s.rst[f.StreamID] = f.ErrCode
		case *http2.PingFrame:
			if !f.IsAck() {
				c.WritePing(true, f.Data)
			}
		case *http2.SettingsFrame:
			if !f.IsAck() {
				c.Do(func(fr *http2.Framer) error { return fr.WriteSettingsAck() })
			}
		}
		s.mu.Unlock()
	}
}

// requireClosed waits for the watched conn to end: the client closed it
// after a connection error.
func (s *seen) requireClosed(t *testing.T) {
	t.Helper()
	select {
	case <-s.done:
	case <-time.After(h2Bound):
		t.Fatalf("the client kept the conn open %v after a connection error", h2Bound)
	}
}

// requireGoAway waits for the watched conn to end and fails unless the
// client sent GOAWAY with code before closing it (RFC 9113 §5.4.1).
func (s *seen) requireGoAway(t *testing.T, code http2.ErrCode) {
	t.Helper()
	s.requireClosed(t)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.goaway == nil {
		t.Fatalf("conn closed without GOAWAY(%v); frames seen: %v; then %v", code, s.frames, s.endErr)
	}
	if s.goaway.ErrCode != code {
		t.Fatalf("GOAWAY code %v, want %v", s.goaway.ErrCode, code)
	}
}

// rstCode is the code of the client's RST_STREAM for id, if it sent one.
func (s *seen) rstCode(id uint32) (http2.ErrCode, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.rst[id]
	return c, ok
}

// heapPeak samples the live heap every few ms until stop is called and
// returns the highest growth over the heap at the start.
func heapPeak() (stop func() uint64) {
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	var peak atomic.Uint64
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			if ms.HeapAlloc > base && ms.HeapAlloc-base > peak.Load() {
				peak.Store(ms.HeapAlloc - base)
			}
			select {
			case <-quit:
				return
			case <-tick.C:
			}
		}
	}()
	return func() uint64 { close(quit); <-done; return peak.Load() }
}

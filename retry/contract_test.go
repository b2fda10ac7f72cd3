package retry

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// The RoundTripper contract on every path: the caller's request is not
// modified and its Body is closed exactly once; every body GetBody made is
// closed too.
func TestRequestUnmodifiedBodyClosedOnce(t *testing.T) {
	for _, tc := range []struct {
		name   string
		steps  []step
		opts   func(*Transport)
		cancel bool
	}{
		{name: "success", steps: []step{{status: 200}}},
		{name: "retried to success", steps: []step{{status: 503}, {err: errRefused}, {status: 200}}},
		{name: "attempts exhausted", steps: []step{{err: errRefused}}},
		{name: "not retried", steps: []step{{status: 404}}},
		{name: "budget", steps: []step{{status: 503}}, opts: func(tr *Transport) { tr.Budget = NewBudget(0, 0, 0) }},
		{name: "cancelled in wait", steps: []step{{status: 503}}, cancel: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := &fakeRT{steps: tc.steps}
				tr := &Transport{Next: f, Backoff: Constant(time.Second)}
				if tc.opts != nil {
					tc.opts(tr)
				}
				ctx, cancel := context.WithCancel(t.Context())
				defer cancel()
				if tc.cancel {
					time.AfterFunc(time.Second/2, cancel)
				}
				body := &countingCloser{Reader: bytes.NewReader([]byte("body"))}
				var fresh []*countingCloser
				req, _ := http.NewRequestWithContext(ctx, "PUT", "http://example.test/x?q=1", body)
				req.GetBody = func() (io.ReadCloser, error) {
					b := &countingCloser{Reader: bytes.NewReader([]byte("body"))}
					fresh = append(fresh, b)
					return b, nil
				}
				req.Header.Set("A", "1")
				before := *req
				beforeHeader := req.Header.Clone()
				beforeURL := *req.URL

				resp, _ := tr.RoundTrip(req)
				if resp != nil {
					resp.Body.Close()
				}
				after := *req
				if after.Body != before.Body || after.URL != before.URL || after.Method != "PUT" ||
					!reflect.DeepEqual(req.Header, beforeHeader) || *req.URL != beforeURL {
					t.Fatal("the caller's request was modified")
				}
				if n := body.closes.Load(); n != 1 {
					t.Fatalf("caller's body closed %d times", n)
				}
				for i, b := range fresh {
					if b.closes.Load() != 1 {
						t.Fatalf("GetBody body %d closed %d times", i, b.closes.Load())
					}
				}
				for i, r := range f.reqs {
					if r == req {
						t.Fatalf("attempt %d sent the caller's request itself", i+1)
					}
				}
			})
		})
	}
}

// Over a real connection through net/http's Transport: a 503 then a 200,
// with the body resent from GetBody.
func TestHTTPTestServer(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if calls.Add(1) == 1 {
			w.Header().Set("Retry-After", "0")
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		w.Write(b)
	}))
	defer srv.Close()
	next := &http.Transport{}
	client := &http.Client{Transport: &Transport{Next: next}}
	defer client.CloseIdleConnections()
	resp, err := client.Post(srv.URL, "text/plain", bytes.NewReader([]byte("ping")))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	// POST without a key: the 503 comes back.
	if resp.StatusCode != 503 || calls.Load() != 1 {
		t.Fatalf("status %d after %d calls", resp.StatusCode, calls.Load())
	}
	req, _ := http.NewRequest("PUT", srv.URL, bytes.NewReader([]byte("ping")))
	calls.Store(0)
	resp, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(got) != "ping" || calls.Load() != 2 {
		t.Fatalf("status %d body %q after %d calls", resp.StatusCode, got, calls.Load())
	}
}

// http.Client.CloseIdleConnections reaches Next through the Transport.
func TestCloseIdleConnectionsForwards(t *testing.T) {
	n := &closer{}
	(&Transport{Next: n}).CloseIdleConnections()
	(&Transport{Next: &fakeRT{}}).CloseIdleConnections() // no method: no-op
	if n.n != 1 {
		t.Fatal("not forwarded")
	}
}

type closer struct {
	fakeRT
	n int
}

func (c *closer) CloseIdleConnections() { c.n++ }

// A RoundTripper that breaks the contract by returning both a response
// and an error: the error wins and the response is closed.
func TestResponseAndError(t *testing.T) {
	b := &trackedBody{Reader: bytes.NewReader(nil)}
	rt := rtFunc(func(*http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: 200, Body: b}, errors.New("broken")
	})
	resp, err := (&Transport{Next: rt}).RoundTrip(newReq(t, "GET", nil))
	if resp != nil || err == nil || b.closes.Load() != 1 {
		t.Fatalf("resp %v err %v closes %d", resp, err, b.closes.Load())
	}
}

type rtFunc func(*http.Request) (*http.Response, error)

func (f rtFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestGetBodyFails(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeRT{steps: []step{{status: 503}, {status: 200}}}
		tr := &Transport{Next: f}
		req := newReq(t, "PUT", bytes.NewReader([]byte("x")))
		boom := errors.New("boom")
		req.GetBody = func() (io.ReadCloser, error) { return nil, boom }
		resp, err := tr.RoundTrip(req)
		if err != nil || resp.StatusCode != 503 || f.attempts() != 1 || f.resps[0].closes.Load() != 0 {
			t.Fatalf("resp %v err %v attempts %d", resp, err, f.attempts())
		}
		resp.Body.Close()
		f = &fakeRT{steps: []step{{err: errRefused}, {status: 200}}}
		tr = &Transport{Next: f}
		_, err = tr.RoundTrip(req)
		if !errors.Is(err, boom) || !errors.Is(err, errRefused) {
			t.Fatalf("err %v", err)
		}
	})
}

// Neither response nor error, retried by an insistent policy: the final
// error still says something.
func TestNoResponseNoError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rt := rtFunc(func(*http.Request) (*http.Response, error) { return nil, nil })
		always := func(*http.Request, *http.Response, error, int) Decision { return Decision{Retry: true} }
		_, err := (&Transport{Next: rt, Policy: always}).RoundTrip(newReq(t, "GET", nil))
		if !errors.Is(err, errNoResponse) {
			t.Fatalf("err %v", err)
		}
	})
}

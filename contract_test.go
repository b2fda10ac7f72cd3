package spool_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/spoolhttp/spool"
	"github.com/spoolhttp/spool/internal/testserver"
	"github.com/spoolhttp/spool/internal/testutil"
)

// The http.RoundTripper contract (net/http/client.go): a response of any
// status is err == nil, the request is not modified, req.Body is closed
// on every path.

func TestContractNon2xxIsNotAnError(t *testing.T) {
	for _, code := range []int{301, 404, 500, 503} {
		s := testserver.New(t, func(c *testserver.Conn, r *testserver.Request) { c.Reply(code, nil, "x") })
		tr := testutil.NewTransport(t, nil)
		resp, err := tr.RoundTrip(testutil.NewRequest(t, "GET", s.URL(), nil))
		if err != nil {
			t.Fatalf("%d: err %v", code, err)
		}
		resp.Body.Close()
		if resp.StatusCode != code {
			t.Fatalf("status %d, want %d", resp.StatusCode, code)
		}
	}
}

func TestContractRequestNotModified(t *testing.T) {
	s := testserver.New(t, testserver.OK("ok"))
	tr := testutil.NewTransport(t, &spool.Transport{})
	req := testutil.NewRequest(t, "POST", s.URL()+"/p?q=1", strings.NewReader("body"))
	req.Header.Set("X-A", "1")
	before := snapshot(req)
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if after := snapshot(req); !reflect.DeepEqual(before, after) {
		t.Fatalf("request modified:\n%+v\n%+v", before, after)
	}
	if resp.Request != req {
		t.Fatal("resp.Request is not the caller's request")
	}
}

type reqSnap struct {
	Method, URL, Host string
	Header            http.Header
	ContentLength     int64
	Close             bool
}

func snapshot(r *http.Request) reqSnap {
	return reqSnap{r.Method, r.URL.String(), r.Host, r.Header.Clone(), r.ContentLength, r.Close}
}

func TestContractBodyClosedOnEveryPath(t *testing.T) {
	s := testserver.New(t, testserver.OK("ok"))
	stalled := testserver.New(t, testserver.StallBeforeHeaders)
	refused := closedPort(t)
	cases := []struct {
		name string
		url  string
		mod  func(*http.Request)
		ok   bool
	}{
		{"success", s.URL(), nil, true},
		{"bad header", s.URL(), func(r *http.Request) { r.Header.Set("X-Bad", "a\r\nb") }, false},
		{"bad method", s.URL(), func(r *http.Request) { r.Method = "G E T" }, false},
		{"bad scheme", "ftp://x/", nil, false},
		{"dial refused", "http://" + refused, nil, false},
		{"cancelled", stalled.URL(), func(r *http.Request) {
			ctx, cancel := context.WithCancel(r.Context())
			cancel()
			*r = *r.WithContext(ctx)
		}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tr := testutil.NewTransport(t, nil)
			body := &countingBody{Reader: bytes.NewReader([]byte("payload"))}
			req := testutil.NewRequest(t, "POST", c.url, nil)
			req.Body, req.ContentLength = body, 7
			if c.mod != nil {
				c.mod(req)
			}
			resp, err := tr.RoundTrip(req)
			if (err == nil) != c.ok {
				t.Fatalf("err = %v, want ok=%v", err, c.ok)
			}
			if resp != nil {
				resp.Body.Close()
			}
			if n := body.closes.Load(); n != 1 {
				t.Fatalf("req.Body closed %d times, want 1", n)
			}
			// net/http's shapes (DESIGN decision 7): its texts for its own
			// errors, the standard library's types unwrapped.
			var se *spool.Error
			if err != nil && errors.As(err, &se) {
				t.Fatalf("error %T %v is a *spool.Error; net/http has one of its own for this", err, err)
			}
		})
	}
}

// closedPort is a loopback address nobody listens on.
func closedPort(t testing.TB) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

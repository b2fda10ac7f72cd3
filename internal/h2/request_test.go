package h2

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptrace"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/http2"

	"github.com/spoolhttp/spool/internal/errs"
)

// A response without content (HEAD here) is NoBody at once; its stream
// ends when END_STREAM comes, with no RST_STREAM.
func TestScriptedHeadEndsOnEndStream(t *testing.T) {
	c, p := newPeer(t, Config{}, http2.Setting{})
	req, _ := http.NewRequest("HEAD", "http://x/", nil)
	ch := goRoundTrip(c, req)
	p.headers()
	p.respond(1, false, "200", "content-length", "10")
	r := wait(t, ch)
	if r.err != nil || r.resp.Body != http.NoBody || r.resp.ContentLength != 10 {
		t.Fatalf("HEAD: %+v %v", r.resp, r.err)
	}
	if c.InFlight() != 1 {
		t.Fatalf("InFlight %d before END_STREAM", c.InFlight())
	}
	p.data(1, true, "")
	eventually(t, 5*time.Second, "stream not ended by END_STREAM", func() bool { return c.InFlight() == 0 })
	if got := c.ctr.snapshot().Resets; got != 0 {
		t.Fatalf("%d RST_STREAM sent", got)
	}
}

// The httptrace hooks net/http's HTTP/2 calls, in order.
func TestScriptedTraceHooks(t *testing.T) {
	c, p := newPeer(t, Config{}, http2.Setting{})
	var mu sync.Mutex
	var events []string
	add := func(e string) { mu.Lock(); events = append(events, e); mu.Unlock() }
	trace := &httptrace.ClientTrace{
		WroteHeaderField:     func(k string, v []string) { add("field " + k) },
		WroteHeaders:         func() { add("headers") },
		WroteRequest:         func(i httptrace.WroteRequestInfo) { add("request") },
		GotFirstResponseByte: func() { add("first byte") },
	}
	req, _ := http.NewRequest("POST", "http://x/p", strings.NewReader("abc"))
	req = req.WithContext(httptrace.WithClientTrace(context.Background(), trace))
	ch := goRoundTrip(c, req)
	h := p.headers()
	if d, ok := p.next().(*gotData); !ok || string(d.data) != "abc" || !d.end || h.end {
		t.Fatalf("body frame %+v", d)
	}
	p.respond(1, true, "200")
	if r := wait(t, ch); r.err != nil {
		t.Fatal(r.err)
	}
	got := strings.Join(events, ",")
	want := "field :authority,field :method,field :path,field :scheme,field content-length,headers,request,first byte"
	if got != want {
		t.Fatalf("trace events\n got %s\nwant %s", got, want)
	}
}

// An invalid request fails before anything is sent; its slot is given back.
func TestRequestValidation(t *testing.T) {
	var dc doneCounter
	c, _ := newPeer(t, Config{OnStreamDone: dc.hook}, http2.Setting{})
	for _, tc := range []struct {
		name string
		mod  func(r *http.Request)
	}{
		{"value with LF", func(r *http.Request) { r.Header.Set("X-A", "a\nb") }},
		{"bad name", func(r *http.Request) { r.Header["X A"] = []string{"1"} }},
		{"Transfer-Encoding gzip", func(r *http.Request) { r.Header.Set("Transfer-Encoding", "gzip") }},
		{"Connection: upgrade", func(r *http.Request) { r.Header.Set("Connection", "upgrade") }},
	} {
		req := get(t, "http://x/")
		tc.mod(req)
		_, err := c.RoundTrip(req)
		var e *errs.Error
		if !errors.As(err, &e) || e.Op != errs.OpValidate {
			t.Errorf("%s: err = %v, want a validate error", tc.name, err)
		}
	}
	if dc.n.Load() != 4 || c.InFlight() != 0 || c.Err() != nil {
		t.Fatalf("after refused requests: done=%d InFlight=%d Err=%v", dc.n.Load(), c.InFlight(), c.Err())
	}
}

// Full duplex: the response arrives while the request body still streams;
// both go on together.
func TestScriptedFullDuplex(t *testing.T) {
	c, p := newPeer(t, Config{}, http2.Setting{})
	pr, pw := io.Pipe()
	req, _ := http.NewRequest("POST", "http://x/", pr)
	ch := goRoundTrip(c, req)
	p.headers()
	p.respond(1, false, "200")
	r := wait(t, ch)
	if r.err != nil {
		t.Fatal(r.err)
	}
	for _, msg := range []string{"ping1", "ping2"} {
		go pw.Write([]byte(msg))
		d, ok := p.next().(*gotData)
		if !ok || string(d.data) != msg {
			t.Fatalf("DATA %+v, want %q", d, msg)
		}
		p.data(1, false, "pong")
		buf := make([]byte, 4)
		if _, err := io.ReadFull(r.resp.Body, buf); err != nil || string(buf) != "pong" {
			t.Fatalf("response %q %v", buf, err)
		}
	}
	pw.Close()
	if d, ok := p.next().(*gotData); !ok || !d.end {
		t.Fatalf("END_STREAM %+v", d)
	}
	p.data(1, true, "")
	if b, err := io.ReadAll(r.resp.Body); err != nil || len(b) != 0 {
		t.Fatalf("end %q %v", b, err)
	}
	eventually(t, 5*time.Second, "stream not ended", func() bool { return c.InFlight() == 0 })
}

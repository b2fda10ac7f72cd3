package faulttest

import (
	"io"
	"runtime"
	"testing"

	"github.com/spoolhttp/spool/internal/h2test"
	"golang.org/x/net/http2"
)

// connErrorCase is a server that breaks the protocol on the first conn
// while a request waits for its response; misbehave runs after the
// handshake and the request's HEADERS (stream 1). Later conns are sane.
type connErrorCase struct {
	name      string
	code      http2.ErrCode
	misbehave func(c *h2test.Conn, r *h2test.Request)
}

// Connection errors (RFC 9113 §5.4.1): the waiting request fails typed,
// the client sends GOAWAY with the right code (flushed) before it closes
// the conn, the pool drops it, and the next request works on a new one.
func TestH2ConnectionErrors(t *testing.T) {
	for _, tc := range connErrorCases {
		t.Run(tc.name, func(t *testing.T) { connError(t, tc, true) })
	}
}

var connErrorCases = []connErrorCase{
	// SETTINGS_ENABLE_PUSH is 0 from spool: a PUSH_PROMISE is a
	// connection error (RFC 9113 §8.4).
	{"PUSH_PROMISE with push off", http2.ErrCodeProtocol, func(c *h2test.Conn, r *h2test.Request) {
		block := c.EncodeHeaders(h2test.Header{Name: ":method", Value: "GET"},
			h2test.Header{Name: ":path", Value: "/pushed"}, h2test.Header{Name: ":scheme", Value: "http"},
			h2test.Header{Name: ":authority", Value: r.Authority})
		c.Do(func(fr *http2.Framer) error {
			return fr.WritePushPromise(http2.PushPromiseParam{StreamID: r.StreamID, PromiseID: 2,
				BlockFragment: block, EndHeaders: true})
		})
	}},
	// Stream 3 is idle: the client has not opened it (RFC 9113 §5.1).
	{"DATA on an idle stream", http2.ErrCodeProtocol, func(c *h2test.Conn, r *h2test.Request) {
		c.WriteData(r.StreamID+2, false, []byte("x"))
	}},
	// Even IDs are the server's, and only PUSH_PROMISE opens one
	// (RFC 9113 §5.1.1).
	{"HEADERS on an even stream", http2.ErrCodeProtocol, func(c *h2test.Conn, r *h2test.Request) {
		c.WriteHeaders(2, true, h2test.Status(200))
	}},
	{"RST_STREAM on an idle stream", http2.ErrCodeProtocol, func(c *h2test.Conn, r *h2test.Request) {
		c.WriteRSTStream(r.StreamID+2, http2.ErrCodeCancel)
	}},
}

func connError(t *testing.T, tc connErrorCase, strictGoAway bool) {
	base := runtime.NumGoroutine()
	s := newSeen()
	srv := h2test.NewServer(t, func(c *h2test.Conn) {
		if c.Handshake() != nil {
			return
		}
		if c.Index > 0 {
			c.Serve(h2test.OK)
			return
		}
		r, err := c.ReadRequest()
		if err != nil {
			return
		}
		tc.misbehave(c, r)
		s.watch(c)
	})
	tr := h2cTransport(t, nil)
	ctx := boundedCtx(t)
	_, err := getAll(ctx, tr, srv.URL+"/first")
	requireTyped(t, "request on the broken conn", err)
	if strictGoAway {
		s.requireGoAway(t, tc.code)
	} else {
		s.requireClosed(t)
	}
	waitConnsGone(t, tr, srv.URL)
	if got, err := getAll(ctx, tr, srv.URL+"/next"); err != nil || got != "ok" {
		t.Fatalf("next request: %q, %v", got, err)
	}
	srv.Close()
	requireClean(t, tr, base)
}

// Malformed responses (RFC 9113 §8.1.1) are stream errors: the request
// (or its body) fails with a typed error, the stream is reset, and the
// conn, whose framing and HPACK state are intact, serves the next request.
// Connection-specific fields (§8.2.2) may instead be dropped, as x/net
// v0.62 does (for compatibility, go.dev/issue/81115): the caller never
// sees them.
func TestH2MalformedResponses(t *testing.T) {
	for _, tc := range []struct {
		name   string
		fields []h2test.Header
		data   string // DATA after the head, with END_STREAM; "" → the head ends the stream
		body   bool   // the head is accepted and the body's Read fails
		strip  string // the head may be accepted without this field
	}{
		{"no :status", []h2test.Header{{Name: "content-type", Value: "text/plain"}}, "", false, ""},
		{"uppercase header name", []h2test.Header{h2test.Status(200), {Name: "X-Upper", Value: "1"}}, "", false, ""},
		{"connection header", []h2test.Header{h2test.Status(200), {Name: "connection", Value: "keep-alive"}}, "", false, "Connection"},
		{"transfer-encoding header", []h2test.Header{h2test.Status(200), {Name: "transfer-encoding", Value: "chunked"}}, "", false, "Transfer-Encoding"},
		{"pseudo-header after regular", []h2test.Header{{Name: "x-a", Value: "1"}, h2test.Status(200)}, "", false, ""},
		{"request pseudo-header", []h2test.Header{h2test.Status(200), {Name: ":path", Value: "/"}}, "", false, ""},
		{"content-length above DATA", []h2test.Header{h2test.Status(200), {Name: "content-length", Value: "10"}}, "short", true, ""},
		{"content-length below DATA", []h2test.Header{h2test.Status(200), {Name: "content-length", Value: "2"}}, "longer", true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := runtime.NumGoroutine()
			srv := h2test.NewServer(t, h2test.Handle(func(c *h2test.Conn, r *h2test.Request, _ []byte) {
				if r.Path != "/bad" {
					h2test.OK(c, r, nil)
					return
				}
				c.WriteHeaders(r.StreamID, tc.data == "", tc.fields...)
				if tc.data != "" {
					c.WriteData(r.StreamID, true, []byte(tc.data))
				}
			}))
			tr := h2cTransport(t, nil)
			ctx := boundedCtx(t)
			resp, err := get(ctx, tr, srv.URL+"/bad")
			if err == nil {
				var b []byte
				b, err = io.ReadAll(resp.Body)
				resp.Body.Close()
				if tc.strip != "" && err == nil {
					if v, ok := resp.Header[tc.strip]; ok {
						t.Fatalf("connection-specific %s: %q handed to the caller", tc.strip, v)
					}
					t.Logf("accepted with %s dropped", tc.strip)
					srv.Close()
					requireClean(t, tr, base)
					return
				}
				if !tc.body {
					t.Fatalf("malformed head accepted: %d %v, body %q, err %v", resp.StatusCode, resp.Header, b, err)
				}
			} else if tc.body {
				t.Logf("rejected at the head: %v", err)
			}
			requireTyped(t, "malformed response", err)
			if got, err := getAll(ctx, tr, srv.URL+"/next"); err != nil || got != "ok" {
				t.Fatalf("next request: %q, %v", got, err)
			}
			if st := tr.Stats().Total; st.Dials != 1 {
				t.Errorf("dials = %d, want 1: a malformed response is a stream error", st.Dials)
			}
			srv.Close()
			requireClean(t, tr, base)
		})
	}
}

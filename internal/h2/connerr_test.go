package h2

import (
	"testing"

	"golang.org/x/net/http2"
)

// Connection errors: GOAWAY with the code, last stream 0, before the close.
func TestScriptedConnectionErrors(t *testing.T) {
	cases := []struct {
		name string
		send func(p *peer)
		code http2.ErrCode
		done bool // the stream may have completed before the error
	}{
		{"DATA after END_STREAM", func(p *peer) { p.respond(1, true, "204"); p.data(1, true, "x") }, http2.ErrCodeStreamClosed, true},
		{"HEADERS after END_STREAM", func(p *peer) { p.respond(1, true, "204"); p.respond(1, true, "200") }, http2.ErrCodeStreamClosed, true},
		{"DATA after the server's RST_STREAM", func(p *peer) {
			p.write(func(fr *http2.Framer) error { return fr.WriteRSTStream(1, http2.ErrCodeInternal) })
			p.data(1, true, "x")
		}, http2.ErrCodeStreamClosed, false},
		{"frame too large", func(p *peer) { p.data(1, true, string(make([]byte, defaultMaxFrameSize+1))) }, http2.ErrCodeFrameSize, false},
		{"PUSH_PROMISE", func(p *peer) {
			p.write(func(fr *http2.Framer) error {
				return fr.WritePushPromise(http2.PushPromiseParam{StreamID: 1, PromiseID: 2, BlockFragment: []byte{0x82}, EndHeaders: true})
			})
		}, http2.ErrCodeProtocol, false},
		{"conn window overflow", func(p *peer) {
			p.write(func(fr *http2.Framer) error { return fr.WriteWindowUpdate(0, 1<<31-1) })
		}, http2.ErrCodeFlowControl, false},
		{"HEADERS on idle stream", func(p *peer) { p.respond(9, true, "200") }, http2.ErrCodeProtocol, false},
		{"RST_STREAM on idle stream", func(p *peer) {
			p.write(func(fr *http2.Framer) error { return fr.WriteRSTStream(11, http2.ErrCodeCancel) })
		}, http2.ErrCodeProtocol, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, p := newPeer(t, Config{}, http2.Setting{})
			ch := goRoundTrip(c, get(t, "http://x/"))
			p.headers()
			tc.send(p)
			ga := p.expectGoAway()
			if ga.code != tc.code || ga.last != 0 {
				t.Fatalf("GOAWAY %v last %d, want %v last 0", ga.code, ga.last, tc.code)
			}
			if r := wait(t, ch); r.err == nil && !tc.done {
				t.Fatal("stream survived a connection error")
			}
			if c.Err() == nil || c.Available() != 0 {
				t.Fatalf("conn usable after a connection error")
			}
		})
	}
}

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
	}{
		{"PUSH_PROMISE", func(p *peer) {
			p.write(func(fr *http2.Framer) error {
				return fr.WritePushPromise(http2.PushPromiseParam{StreamID: 1, PromiseID: 2, BlockFragment: []byte{0x82}, EndHeaders: true})
			})
		}, http2.ErrCodeProtocol},
		{"conn window overflow", func(p *peer) {
			p.write(func(fr *http2.Framer) error { return fr.WriteWindowUpdate(0, 1<<31-1) })
		}, http2.ErrCodeFlowControl},
		{"HEADERS on idle stream", func(p *peer) { p.respond(9, true, "200") }, http2.ErrCodeProtocol},
		{"RST_STREAM on idle stream", func(p *peer) {
			p.write(func(fr *http2.Framer) error { return fr.WriteRSTStream(11, http2.ErrCodeCancel) })
		}, http2.ErrCodeProtocol},
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
			if r := wait(t, ch); r.err == nil {
				t.Fatal("stream survived a connection error")
			}
			if c.Err() == nil || c.Available() != 0 {
				t.Fatalf("conn usable after a connection error")
			}
		})
	}
}

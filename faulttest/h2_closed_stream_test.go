package faulttest

import (
	"runtime"
	"testing"

	"github.com/spoolhttp/spool/internal/h2test"
	"golang.org/x/net/http2"
)

// HEADERS on stream 1 after its response ended it (RFC 9113 §5.1,
// "closed"). The RFC wants a connection error STREAM_CLOSED; a client
// that cannot tell a stream it reset from one the server ended may ignore
// the frame instead, but must still decode its header block: HPACK state
// is the conn's, and the next response refers to the entry that block
// added. Either way the next request succeeds: on a new conn after a
// GOAWAY, or on this one with the referenced header intact. Hanging or
// failing it is not allowed.
func TestH2HeadersOnClosedStream(t *testing.T) {
	base := runtime.NumGoroutine()
	reacted := make(chan string, 1) // "ack": frame ignored; "close": conn error
	srv := h2test.NewServer(t, func(c *h2test.Conn) {
		if c.Handshake() != nil {
			return
		}
		if c.Index > 0 {
			c.Serve(syncOK)
			return
		}
		r, err := c.ReadRequest()
		if err != nil {
			return
		}
		c.WriteResponse(r.StreamID, 200, []byte("done"))
		// A new literal, entered in the HPACK table by both sides.
		c.WriteHeaders(r.StreamID, true, h2test.Status(200), h2test.Header{Name: "x-sync", Value: "1"})
		c.WritePing(false, [8]byte{'s', 'y', 'n', 'c'}) // its ack: every frame before it was processed
		closedStreamReaction(c, reacted)
	})
	tr := h2cTransport(t, nil)
	ctx := boundedCtx(t)
	if got, err := getAll(ctx, tr, srv.URL+"/first"); err != nil || got != "done" {
		t.Fatalf("first request: %q, %v", got, err)
	}
	how := <-reacted
	resp, err := get(ctx, tr, srv.URL+"/next")
	if err != nil {
		t.Fatalf("next request (after %s): %v", how, err)
	}
	resp.Body.Close()
	if v := resp.Header.Get("X-Sync"); v != "1" {
		t.Errorf("next response's x-sync = %q, want 1: the HPACK table lost the ignored block's entry", v)
	}
	wantDials := int64(1)
	if how == "close" {
		wantDials = 2
	}
	if st := tr.Stats().Total; st.Dials != wantDials {
		t.Errorf("dials = %d after %s, want %d", st.Dials, how, wantDials)
	}
	t.Logf("the client's reaction: %s", how)
	srv.Close()
	requireClean(t, tr, base)
}

// syncOK answers 200 "ok" with x-sync: 1, which the conn's encoder sends
// as a reference to its dynamic table once the entry is there.
func syncOK(c *h2test.Conn, r *h2test.Request, _ []byte) {
	c.WriteHeaders(r.StreamID, false, h2test.Status(200), h2test.Header{Name: "x-sync", Value: "1"})
	c.WriteData(r.StreamID, true, []byte("ok"))
}

// closedStreamReaction reads until the client answers the PING (it
// ignored the frame: then the conn serves on) or ends the conn with a
// GOAWAY of STREAM_CLOSED or PROTOCOL_ERROR, and reports which.
func closedStreamReaction(c *h2test.Conn, reacted chan<- string) {
	for {
		f, err := c.ReadFrame()
		if err != nil {
			reacted <- "close"
			return
		}
		switch f := f.(type) {
		case *http2.PingFrame:
			if f.IsAck() {
				reacted <- "ack"
				c.Serve(syncOK)
				return
			}
			c.WritePing(true, f.Data)
		case *http2.GoAwayFrame:
			if f.ErrCode == http2.ErrCodeStreamClosed || f.ErrCode == http2.ErrCodeProtocol {
				reacted <- "close"
			} else {
				reacted <- "GOAWAY " + f.ErrCode.String()
			}
			for {
				if _, err := c.ReadFrame(); err != nil {
					return
				}
			}
		}
	}
}

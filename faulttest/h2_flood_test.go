package faulttest

import (
	"bytes"
	"io"
	"runtime"
	"testing"

	"github.com/spoolhttp/spool"
	"github.com/spoolhttp/spool/internal/h2test"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// floodHeap bounds the live heap a flood may cost the client: the flood
// is tens of MB on the wire, so a client that buffers it fails.
const floodHeap = 64 << 20

// A server floods control frames that each demand an answer (PING and
// SETTINGS want an ack) or must be ignored (RST_STREAM of a closed
// stream), without reading the answers, then answers the request. The
// client either serves the request or gives the conn up with a typed
// error (it may refuse to queue acks without end, as net/http's server
// does with ENHANCE_YOUR_CALM); it never hangs, its heap stays bounded,
// and nothing is left behind.
func TestH2ControlFloods(t *testing.T) {
	n := scale(1<<20, 1<<17)
	for _, tc := range []struct {
		name  string
		write func(fr *http2.Framer, i int) error
	}{
		{"PING", func(fr *http2.Framer, i int) error { return fr.WritePing(false, [8]byte{byte(i)}) }},
		{"SETTINGS", func(fr *http2.Framer, i int) error {
			return fr.WriteSettings(http2.Setting{ID: http2.SettingMaxConcurrentStreams, Val: 100})
		}},
		// Stream 1 (the warm-up) is closed: its RST_STREAMs are ignored
		// (RFC 9113 §5.1), at a bounded cost each.
		{"RST_STREAM", func(fr *http2.Framer, i int) error { return fr.WriteRSTStream(1, http2.ErrCodeCancel) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := runtime.NumGoroutine()
			srv := h2test.NewServer(t, func(c *h2test.Conn) {
				if c.Handshake() != nil {
					return
				}
				warm, err := c.ReadRequest()
				if err != nil {
					return
				}
				c.WriteResponse(warm.StreamID, 200, []byte("warm"))
				r, err := c.ReadRequest()
				if err != nil {
					return
				}
				err = c.Do(func(fr *http2.Framer) error {
					for i := range n {
						if err := tc.write(fr, i); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					return // the client gave the conn up
				}
				c.WriteResponse(r.StreamID, 200, []byte("ok"))
				c.Serve(h2test.OK)
			})
			tr := h2cTransport(t, nil)
			ctx := boundedCtx(t)
			if _, err := getAll(ctx, tr, srv.URL+"/warm"); err != nil {
				t.Fatal(err)
			}
			peak := heapPeak()
			got, err := getAll(ctx, tr, srv.URL+"/flooded")
			if p := peak(); p > floodHeap {
				t.Errorf("heap grew %d MiB during the flood", p>>20)
			}
			if err != nil {
				requireTyped(t, "flooded request", err)
				t.Logf("flood of %d %s frames: the client gave the conn up: %v", n, tc.name, err)
			} else if got != "ok" {
				t.Fatalf("body %q", got)
			}
			srv.Close()
			requireClean(t, tr, base)
		})
	}
}

// A HEADERS frame without END_HEADERS and then CONTINUATION frames
// without end (CVE-2023-45288): the client stops at its header-list
// limit with a typed error and closes the conn, its heap bounded.
func TestH2ContinuationFlood(t *testing.T) {
	base := runtime.NumGoroutine()
	const total = 256 << 20 // the flood ends here if the client never stops it
	srv := h2test.NewServer(t, func(c *h2test.Conn) {
		if c.Handshake() != nil {
			return
		}
		r, err := c.ReadRequest()
		if err != nil {
			return
		}
		block := c.EncodeHeaders(h2test.Status(200))
		frag := c.EncodeHeaders(h2test.Header{Name: "x-flood", Value: string(bytes.Repeat([]byte("f"), 8000))})
		c.Do(func(fr *http2.Framer) error {
			if err := fr.WriteHeaders(http2.HeadersFrameParam{StreamID: r.StreamID, BlockFragment: block}); err != nil {
				return err
			}
			for sent := 0; sent < total; sent += len(frag) {
				if err := fr.WriteContinuation(r.StreamID, false, frag); err != nil {
					return err
				}
			}
			return nil
		})
	})
	requireHeaderAttackRefused(t, "CONTINUATION flood", srv, h2cTransport(t, nil), base)
}

// requireHeaderAttackRefused: a GET to srv, whose response head is an
// attack on the header decoder, fails typed with the client's heap
// bounded; the conn is closed and nothing is left behind.
func requireHeaderAttackRefused(t *testing.T, what string, srv *h2test.Server, tr *spool.Transport, base int) {
	t.Helper()
	peak := heapPeak()
	_, err := get(boundedCtx(t), tr, srv.URL)
	if p := peak(); p > floodHeap {
		t.Errorf("%s: heap grew %d MiB", what, p>>20)
	}
	requireTyped(t, what, err)
	waitConnsGone(t, tr, srv.URL)
	srv.Close()
	requireClean(t, tr, base)
}

// An HPACK bomb: one 4,000-byte header entered in the dynamic table, then
// referenced by its one-byte index a million times, 4 GB decoded from 1 MB
// on the wire. The client stops at MaxResponseHeaderBytes with a typed
// error, its heap bounded, and the conn is closed (its HPACK state is
// unknown once a block is abandoned).
func TestH2HPACKBomb(t *testing.T) {
	base := runtime.NumGoroutine()
	const refs = 1 << 20
	srv := h2test.NewServer(t, func(c *h2test.Conn) {
		if c.Handshake() != nil {
			return
		}
		r, err := c.ReadRequest()
		if err != nil {
			return
		}
		var buf bytes.Buffer
		enc := hpack.NewEncoder(&buf)
		enc.WriteField(hpack.HeaderField{Name: ":status", Value: "200"})
		enc.WriteField(hpack.HeaderField{Name: "x-bomb", Value: string(bytes.Repeat([]byte("b"), 4000))})
		block := buf.Bytes()
		// 0x80|62: the indexed field at 62, the newest dynamic entry.
		refsBlock := bytes.Repeat([]byte{0x80 | 62}, refs)
		c.Do(func(fr *http2.Framer) error {
			if err := fr.WriteHeaders(http2.HeadersFrameParam{StreamID: r.StreamID, BlockFragment: block}); err != nil {
				return err
			}
			for len(refsBlock) > 0 {
				n := min(len(refsBlock), 16<<10)
				if err := fr.WriteContinuation(r.StreamID, n == len(refsBlock), refsBlock[:n]); err != nil {
					return err
				}
				refsBlock = refsBlock[n:]
			}
			return nil
		})
		io.Copy(io.Discard, c.NC) // until the client closes
	})
	requireHeaderAttackRefused(t, "HPACK bomb", srv,
		h2cTransport(t, func(tr *spool.Transport) { tr.MaxResponseHeaderBytes = 1 << 20 }), base)
}

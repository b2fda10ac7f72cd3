package spool_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/spoolhttp/spool"
	"github.com/spoolhttp/spool/internal/testutil"
)

// cannedH2Conn is an HTTP/2 server in memory that allocates (almost)
// nothing per request: it answers every request HEADERS with the same
// response, so the allocation pin counts the client.
type cannedH2Conn struct {
	mu     sync.Mutex
	cond   sync.Cond
	out    []byte // server → client, not yet read
	in     []byte // client → server, partial frame
	first  []byte // the response head block, adding to the dynamic table
	block  []byte // the response head block after the first (all indexed)
	sent   bool
	closed bool
}

// newCannedH2 makes the server. indexed: its HPACK encoder uses the
// dynamic table, as Go's server does: the first block fills it and every
// later one is all indexes, the same bytes each time, so the second
// encoding stands for all the others. Otherwise its table size is 0 and
// every value is a literal. nginx: the block nginx 1.22 sends (nginxHead).
func newCannedH2(indexed, nginx bool) *cannedH2Conn {
	c := &cannedH2Conn{}
	c.cond.L = &c.mu
	var buf bytes.Buffer
	enc := hpack.NewEncoder(&buf)
	if !indexed {
		enc.SetMaxDynamicTableSizeLimit(0)
	}
	head := func() []byte {
		buf.Reset()
		for _, f := range []hpack.HeaderField{{Name: ":status", Value: "200"}, {Name: "content-type", Value: "text/plain"},
			{Name: "date", Value: "Sun, 22 Nov 2026 10:00:00 GMT"}, {Name: "server", Value: "nginx"}, {Name: "content-length", Value: "12"}} {
			enc.WriteField(f)
		}
		return append([]byte(nil), buf.Bytes()...)
	}
	c.first, c.block = head(), head()
	if nginx {
		c.first, c.block = nginxHead, nginxHead
	}
	c.out = frame(c.out, http2.FrameSettings, 0, 0, nil)
	return c
}

// nginxHead is the head nginx 1.22 sends for a 12-byte text/plain
// response, every time: :status indexed, then server, date, content-type
// and content-length as literals with incremental indexing and indexed
// names, Huffman-coded. nginx never refers to what it adds, so the
// client's table fills and evicts on every response.
var nginxHead = []byte{0x88, 0x76, 0x89, 0xaa, 0x63, 0x55, 0xe5, 0x80, 0xae, 0x21, 0x2e, 0x1f,
	0x61, 0x96, 0xdf, 0x69, 0x7e, 0x94, 0x00, 0x54, 0xbe, 0x52, 0x28, 0x20, 0x09, 0xc5, 0x02, 0x2b,
	0x8c, 0xb7, 0x71, 0x96, 0x94, 0xc5, 0xa3, 0x7f, 0x5f, 0x87, 0x49, 0x7c, 0xa5, 0x8a, 0xe8, 0x19,
	0xaa, 0x5c, 0x02, 0x31, 0x32}

func frame(b []byte, t http2.FrameType, fl http2.Flags, id uint32, p []byte) []byte {
	b = append(b, byte(len(p)>>16), byte(len(p)>>8), byte(len(p)), byte(t), byte(fl))
	b = binary.BigEndian.AppendUint32(b, id)
	return append(b, p...)
}

var cannedBody = []byte("hello, world")

func (c *cannedH2Conn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.in = append(c.in, p...)
	in := c.in
	if len(in) >= len(http2.ClientPreface) && string(in[:len(http2.ClientPreface)]) == http2.ClientPreface {
		in = in[len(http2.ClientPreface):]
	}
	for len(in) >= 9 {
		n := int(in[0])<<16 | int(in[1])<<8 | int(in[2])
		if len(in) < 9+n {
			break
		}
		t, fl, id := http2.FrameType(in[3]), http2.Flags(in[4]), binary.BigEndian.Uint32(in[5:9])&0x7fffffff
		switch {
		case t == http2.FrameSettings && fl&http2.FlagSettingsAck == 0:
			c.out = frame(c.out, http2.FrameSettings, http2.FlagSettingsAck, 0, nil)
		case t == http2.FramePing && fl&http2.FlagPingAck == 0:
			c.out = frame(c.out, http2.FramePing, http2.FlagPingAck, 0, in[9:9+n])
		case t == http2.FrameHeaders:
			blk := c.block
			if !c.sent {
				blk, c.sent = c.first, true
			}
			c.out = frame(c.out, http2.FrameHeaders, http2.FlagHeadersEndHeaders, id, blk)
			c.out = frame(c.out, http2.FrameData, http2.FlagDataEndStream, id, cannedBody)
		}
		in = in[9+n:]
	}
	c.in = c.in[:copy(c.in, in)]
	c.cond.Broadcast()
	return len(p), nil
}

func (c *cannedH2Conn) Read(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for len(c.out) == 0 && !c.closed {
		c.cond.Wait()
	}
	if c.closed {
		return 0, io.EOF
	}
	n := copy(p, c.out)
	c.out = append(c.out[:0], c.out[n:]...)
	return n, nil
}

func (c *cannedH2Conn) Close() error {
	c.mu.Lock()
	c.closed = true
	c.cond.Broadcast()
	c.mu.Unlock()
	return nil
}
func (c *cannedH2Conn) LocalAddr() net.Addr              { return cannedAddr{} }
func (c *cannedH2Conn) RemoteAddr() net.Addr             { return cannedAddr{} }
func (c *cannedH2Conn) SetDeadline(time.Time) error      { return nil }
func (c *cannedH2Conn) SetReadDeadline(time.Time) error  { return nil }
func (c *cannedH2Conn) SetWriteDeadline(time.Time) error { return nil }

// TestRoundTripH2Allocs pins the allocations of a whole HTTP/2 GET
// (RoundTrip, read the body to EOF, Close) over an in-memory h2c conn; the
// issue's budget is 8 (net/http's HTTP/2 makes about 31). A server that
// sends its values as literals costs the HPACK decoder one string per
// block, whatever the number of literals, and none when it sends the
// same values again (the value cache: literal and nginx, 6 like indexed).
func TestRoundTripH2Allocs(t *testing.T) {
	if testutil.RaceEnabled {
		t.Skip("the race detector adds allocations")
	}
	t.Run("indexed", func(t *testing.T) { roundTripAllocsH2(t, true, false, 8) })
	t.Run("literal", func(t *testing.T) { roundTripAllocsH2(t, false, false, 8) })
	t.Run("nginx", func(t *testing.T) { roundTripAllocsH2(t, false, true, 8) })
}

func roundTripAllocsH2(t *testing.T, indexed, nginx bool, budget float64) {
	conn := newCannedH2(indexed, nginx)
	p := new(http.Protocols)
	p.SetUnencryptedHTTP2(true)
	tr := &spool.Transport{Protocols: p, DialContext: func(context.Context, string, string) (net.Conn, error) { return conn, nil }}
	defer tr.Close()
	req, _ := http.NewRequest("GET", "http://example.test/", nil)
	buf := make([]byte, 64)
	roundTrip := func() {
		resp, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		if resp.ProtoMajor != 2 {
			t.Fatalf("proto %s", resp.Proto)
		}
		for {
			n, err := resp.Body.Read(buf)
			if err == io.EOF {
				break
			}
			if err != nil || string(buf[:n]) != "hello, world" {
				t.Fatalf("read %q %v", buf[:n], err)
			}
		}
		resp.Body.Close()
	}
	roundTrip()
	allocs := testing.AllocsPerRun(1000, roundTrip)
	t.Logf("%.1f allocations per HTTP/2 round trip", allocs)
	if allocs > budget {
		t.Fatalf("%.1f allocations per HTTP/2 round trip, budget %.0f", allocs, budget)
	}
	if st := tr.Stats().Total; st.Dials != 1 {
		t.Fatalf("dials %d", st.Dials)
	}
}

// BenchmarkRoundTripH2Canned is the allocation pin's round trip (nginx's
// head) as a benchmark, to profile the client's CPU per request with no
// server or socket in the figure:
//
//	go test -run '^$' -bench RoundTripH2Canned -cpuprofile cpu.out .
func BenchmarkRoundTripH2Canned(b *testing.B) {
	conn := newCannedH2(false, true)
	p := new(http.Protocols)
	p.SetUnencryptedHTTP2(true)
	tr := &spool.Transport{Protocols: p, DialContext: func(context.Context, string, string) (net.Conn, error) { return conn, nil }}
	defer tr.Close()
	req, _ := http.NewRequest("GET", "http://example.test/", nil)
	b.ReportAllocs()
	for b.Loop() {
		resp, err := tr.RoundTrip(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}

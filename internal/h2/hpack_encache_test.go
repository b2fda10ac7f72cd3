package h2

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"net/http/httptrace"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// A client repeating requests gets the replayed block; the server's
// decoder, whose table follows every block, must read each request's own
// fields: after a change of value, of header set (several headers, in the
// random order of their map), and after the server's SETTINGS_HEADER_TABLE_SIZE
// empties and regrows the table.
func TestScriptedRepeatedHeaderBlocks(t *testing.T) {
	tee := &teeConn{}
	peerWrap = func(nc net.Conn) net.Conn { tee.Conn = nc; return tee }
	c, p := newPeer(t, Config{UserAgent: "ua-test"}, http2.Setting{})
	peerWrap = nil
	mk := func(hdr ...string) *http.Request {
		req, _ := http.NewRequest("GET", "http://x/p", nil)
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Add(hdr[i], hdr[i+1])
		}
		return req
	}
	a := func() *http.Request { return mk("X-A", "1") }
	b := func() *http.Request { return mk("X-A", "2") }
	many := func() *http.Request { return mk("X-A", "1", "X-B", "2", "X-C", "3", "X-C", "4") }
	id := uint32(1)
	do := func(step string, req *http.Request) {
		t.Helper()
		ch := goRoundTrip(c, req)
		h := p.headers()
		want := []string{":authority=x", ":method=GET", ":path=/p", ":scheme=http", "user-agent=ua-test"}
		for k, vv := range req.Header {
			for _, v := range vv {
				want = append(want, lowerName(k)+"="+v)
			}
		}
		var got []string
		for _, f := range h.fields {
			got = append(got, f.Name+"="+f.Value)
		}
		slices.Sort(want)
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Fatalf("%s: server decoded %q, want %q", step, got, want)
		}
		p.respond(id, true, "200")
		id += 2
		if r := wait(t, ch); r.err != nil {
			t.Fatalf("%s: %v", step, r.err)
		}
	}
	replaying := func() bool {
		c.wq.mu.Lock()
		defer c.wq.mu.Unlock()
		return c.hcache.ok
	}
	for i := range 3 {
		do(fmt.Sprint("a#", i), a())
	}
	if !replaying() {
		t.Fatal("the block of a request repeated three times is not cached")
	}
	do("b", b())
	do("a after b", a())
	do("a again", a())
	for i := range 6 {
		do(fmt.Sprint("many#", i), many())
	}
	for _, size := range []uint32{0, 4096} {
		for i := range 3 { // the cache holds a's block
			do(fmt.Sprint("a, before table ", size, " #", i), a())
		}
		p.write(func(fr *http2.Framer) error {
			return fr.WriteSettings(http2.Setting{ID: http2.SettingHeaderTableSize, Val: size})
		})
		waitSettingsAck(t, p)
		n := len(tee.blocks(t))
		for i := range 3 {
			do(fmt.Sprint("a, table ", size, " #", i), a())
		}
		// RFC 7541 §4.2: the first block after the change signals it.
		if bl := tee.blocks(t); len(bl) <= n || len(bl[n]) == 0 || bl[n][0]&0xe0 != 0x20 {
			t.Fatalf("table size %d: the next block does not start with a size update: % x", size, bl[n])
		}
	}
}

// teeConn keeps what the client wrote, to read its raw header blocks.
type teeConn struct {
	net.Conn
	mu  sync.Mutex
	out []byte
}

func (c *teeConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	c.out = append(c.out, p...)
	c.mu.Unlock()
	return c.Conn.Write(p)
}

// blocks returns the HEADERS blocks written so far, in order.
func (c *teeConn) blocks(t *testing.T) [][]byte {
	c.mu.Lock()
	b := append([]byte(nil), c.out[len(http2.ClientPreface):]...)
	c.mu.Unlock()
	fr := http2.NewFramer(nil, bytes.NewReader(b))
	var out [][]byte
	for {
		f, err := fr.ReadFrame()
		if err != nil {
			return out
		}
		if h, ok := f.(*http2.HeadersFrame); ok {
			out = append(out, append([]byte(nil), h.HeaderBlockFragment()...))
		}
	}
}

// waitSettingsAck reads the client's frames up to its SETTINGS ack (which
// peer.next skips).
func waitSettingsAck(t *testing.T, p *peer) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case f, ok := <-p.frames:
			if !ok {
				t.Fatal("conn closed before the SETTINGS ack")
			}
			if s, ok := f.(*gotSettings); ok && s.ack {
				return
			}
		case <-timeout:
			t.Fatal("no SETTINGS ack")
		}
	}
}

func TestIndexedOnly(t *testing.T) {
	enc := func(idx ...uint64) []byte {
		var b []byte
		for _, i := range idx {
			b = hpackAppendIndexed(b, i)
		}
		return b
	}
	for _, tc := range []struct {
		name  string
		block []byte
		want  bool
	}{
		{"empty", nil, false},
		{"one", enc(2), true},
		{"several", enc(2, 7, 62, 126), true},
		{"index 127: one continuation byte", enc(127), true},
		{"index 200 then 3", enc(200, 3), true},
		{"index 20000: two continuation bytes", enc(20000), true},
		{"truncated index", []byte{0xff}, false},
		{"truncated continuation", []byte{0xff, 0x80}, false},
		{"literal with indexing", append(enc(2), 0x41, 0x01, 'x'), false},
		{"literal without indexing", []byte{0x04, 0x01, '/'}, false},
		{"table size update", append([]byte{0x20}, enc(2)...), false},
	} {
		if got := indexedOnly(tc.block); got != tc.want {
			t.Errorf("%s (% x): %v, want %v", tc.name, tc.block, got, tc.want)
		}
	}
	// The encoder's own output: indexed-only once its fields are in the
	// table, not the first time.
	var buf []byte
	e := hpack.NewEncoder(writerFunc(func(p []byte) (int, error) { buf = append(buf, p...); return len(p), nil }))
	fields := []hpack.HeaderField{{Name: ":method", Value: "GET"}, {Name: "x-a", Value: "1"}}
	for round, want := range []bool{false, true} {
		buf = buf[:0]
		for _, f := range fields {
			e.WriteField(f)
		}
		if got := indexedOnly(buf); got != want {
			t.Errorf("encoder round %d (% x): %v, want %v", round, buf, got, want)
		}
	}
}

// hpackAppendIndexed is RFC 7541 §6.1 with §5.1's integer, written here
// independently of the code under test.
func hpackAppendIndexed(b []byte, i uint64) []byte {
	if i < 127 {
		return append(b, 0x80|byte(i))
	}
	b = append(b, 0xff)
	i -= 127
	for i >= 128 {
		b = append(b, byte(i%128)|0x80)
		i /= 128
	}
	return append(b, byte(i))
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// Requests that repeat their header fields but send new trailer values:
// each trailer block inserts into the encoder's table, so a replayed
// request block must not be used after it. Fails if encodeTrailersLocked
// stops invalidating the cache.
func TestTrailersInvalidateBlockReplay(t *testing.T) {
	c, p := newPeer(t, Config{UserAgent: "ua"}, http2.Setting{})
	id := uint32(1)
	for i := range 5 {
		req, _ := http.NewRequest("POST", "http://x/p", strings.NewReader("b"))
		req.Trailer = http.Header{"X-T": {fmt.Sprint("v", i)}}
		ch := goRoundTrip(c, req)
		h := p.headers()
		if got := field(h, ":path"); got != "/p" {
			t.Fatalf("request %d: server decoded :path %q; fields %v", i, got, h.fields)
		}
		if got := field(h, "trailer"); got != "X-T" {
			t.Fatalf("request %d: server decoded trailer %q; fields %v", i, got, h.fields)
		}
		for {
			f := p.next()
			if th, ok := f.(*gotHeaders); ok {
				if got := field(th, "x-t"); got != fmt.Sprint("v", i) {
					t.Fatalf("request %d: trailer x-t %q", i, got)
				}
				break
			}
		}
		p.respond(id, true, "200")
		id += 2
		if r := wait(t, ch); r.err != nil {
			t.Fatalf("request %d: %v", i, r.err)
		}
	}
}

// A traced request (WroteHeaderField) is encoded outside the cache; it must
// invalidate it.
func TestTracedRequestInvalidatesBlockReplay(t *testing.T) {
	c, p := newPeer(t, Config{UserAgent: "ua"}, http2.Setting{})
	id := uint32(1)
	do := func(v string, traced bool) {
		t.Helper()
		req, _ := http.NewRequest("GET", "http://x/p", nil)
		req.Header.Set("X-A", v)
		if traced {
			req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{WroteHeaderField: func(string, []string) {}}))
		}
		ch := goRoundTrip(c, req)
		h := p.headers()
		if got := field(h, "x-a"); got != v {
			t.Fatalf("x-a: server decoded %q, want %q (fields %v)", got, v, h.fields)
		}
		p.respond(id, true, "200")
		id += 2
		if r := wait(t, ch); r.err != nil {
			t.Fatal(r.err)
		}
	}
	for range 3 {
		do("1", false)
	}
	do("2", true)
	do("1", false)
}

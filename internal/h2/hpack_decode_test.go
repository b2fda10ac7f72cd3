package h2

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

func dehex(s string) []byte {
	b, err := hex.DecodeString(strings.NewReplacer(" ", "", "\n", "", "\t", "").Replace(s))
	if err != nil {
		panic(err)
	}
	return b
}

// decodeBlock decodes one header block given as fragments, as the reader
// does: write each, then endBlock, then the fields as strings.
func decodeBlock(d *hpackDecoder, frags ...[]byte) ([]hpack.HeaderField, error) {
	var raw []rawField
	for _, p := range frags {
		if err := d.write(p); err != nil {
			return nil, err
		}
		raw = append(raw, d.fields...)
		d.fields = d.fields[:0]
	}
	if err := d.endBlock(); err != nil {
		return nil, err
	}
	out := []hpack.HeaderField{}
	for _, f := range raw {
		out = append(out, hpack.HeaderField{Name: d.str(f.name), Value: d.str(f.value), Sensitive: f.sensitive})
	}
	d.resetBlock()
	return out, nil
}

// tableOf is the dynamic table, newest entry first.
func tableOf(d *hpackDecoder) []hpack.HeaderField {
	out := []hpack.HeaderField{}
	for i := 1; i <= d.tab.n; i++ {
		e := d.tab.at(uint64(i))
		out = append(out, hpack.HeaderField{Name: e.name.s, Value: e.value.s})
	}
	return out
}

func hf(name, value string) hpack.HeaderField { return hpack.HeaderField{Name: name, Value: value} }

type hpackStep struct {
	enc      []byte
	want     []hpack.HeaderField
	wantTab  []hpack.HeaderField // newest first
	wantSize uint32
}

// rfc7541Series are RFC 7541 Appendix C.3 to C.6: consecutive blocks on
// one conn, with and without Huffman, C.5 and C.6 with a 256-byte table
// that evicts.
var rfc7541Series = []struct {
	name  string
	size  uint32
	steps []hpackStep
}{
	{"C.3", 4096, []hpackStep{
		{dehex("8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d"),
			[]hpack.HeaderField{hf(":method", "GET"), hf(":scheme", "http"), hf(":path", "/"), hf(":authority", "www.example.com")},
			[]hpack.HeaderField{hf(":authority", "www.example.com")}, 57},
		{dehex("8286 84be 5808 6e6f 2d63 6163 6865"),
			[]hpack.HeaderField{hf(":method", "GET"), hf(":scheme", "http"), hf(":path", "/"), hf(":authority", "www.example.com"), hf("cache-control", "no-cache")},
			[]hpack.HeaderField{hf("cache-control", "no-cache"), hf(":authority", "www.example.com")}, 110},
		{dehex("8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65"),
			[]hpack.HeaderField{hf(":method", "GET"), hf(":scheme", "https"), hf(":path", "/index.html"), hf(":authority", "www.example.com"), hf("custom-key", "custom-value")},
			[]hpack.HeaderField{hf("custom-key", "custom-value"), hf("cache-control", "no-cache"), hf(":authority", "www.example.com")}, 164},
	}},
	{"C.4", 4096, []hpackStep{
		{dehex("8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff"),
			[]hpack.HeaderField{hf(":method", "GET"), hf(":scheme", "http"), hf(":path", "/"), hf(":authority", "www.example.com")},
			[]hpack.HeaderField{hf(":authority", "www.example.com")}, 57},
		{dehex("8286 84be 5886 a8eb 1064 9cbf"),
			[]hpack.HeaderField{hf(":method", "GET"), hf(":scheme", "http"), hf(":path", "/"), hf(":authority", "www.example.com"), hf("cache-control", "no-cache")},
			[]hpack.HeaderField{hf("cache-control", "no-cache"), hf(":authority", "www.example.com")}, 110},
		{dehex("8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf"),
			[]hpack.HeaderField{hf(":method", "GET"), hf(":scheme", "https"), hf(":path", "/index.html"), hf(":authority", "www.example.com"), hf("custom-key", "custom-value")},
			[]hpack.HeaderField{hf("custom-key", "custom-value"), hf("cache-control", "no-cache"), hf(":authority", "www.example.com")}, 164},
	}},
	{"C.5", 256, c5c6Steps(
		dehex(`4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133
			2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70 6c65 2e63 6f6d`),
		dehex("4803 3330 37c1 c0bf"),
		dehex(`88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d
			54c0 5a04 677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049
			5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e 3d31`))},
	{"C.6", 256, c5c6Steps(
		dehex(`4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6
			2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3`),
		dehex("4883 640e ffc1 c0bf"),
		dehex(`88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab
			77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f
			9587 3160 65c0 03ed 4ee5 b106 3d50 07`))},
}

// c5c6Steps: C.5 and C.6 decode to the same fields and tables.
func c5c6Steps(a, b, c []byte) []hpackStep {
	date1, date2 := "Mon, 21 Oct 2013 20:13:21 GMT", "Mon, 21 Oct 2013 20:13:22 GMT"
	loc, cookie := "https://www.example.com", "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1"
	return []hpackStep{
		{a, []hpack.HeaderField{hf(":status", "302"), hf("cache-control", "private"), hf("date", date1), hf("location", loc)},
			[]hpack.HeaderField{hf("location", loc), hf("date", date1), hf("cache-control", "private"), hf(":status", "302")}, 222},
		{b, []hpack.HeaderField{hf(":status", "307"), hf("cache-control", "private"), hf("date", date1), hf("location", loc)},
			[]hpack.HeaderField{hf(":status", "307"), hf("location", loc), hf("date", date1), hf("cache-control", "private")}, 222},
		{c, []hpack.HeaderField{hf(":status", "200"), hf("cache-control", "private"), hf("date", date2), hf("location", loc),
			hf("content-encoding", "gzip"), hf("set-cookie", cookie)},
			[]hpack.HeaderField{hf("set-cookie", cookie), hf("content-encoding", "gzip"), hf("date", date2)}, 215},
	}
}

func TestHPACKRFC7541Examples(t *testing.T) {
	for _, series := range rfc7541Series {
		t.Run(series.name, func(t *testing.T) {
			var d hpackDecoder
			d.init(series.size, 0)
			for i, st := range series.steps {
				got, err := decodeBlock(&d, st.enc)
				if err != nil {
					t.Fatalf("step %d: %v", i, err)
				}
				if !reflect.DeepEqual(got, st.want) {
					t.Fatalf("step %d: fields %v, want %v", i, got, st.want)
				}
				if tab := tableOf(&d); !reflect.DeepEqual(tab, st.wantTab) || d.tab.size != st.wantSize {
					t.Fatalf("step %d: table %v size %d, want %v size %d", i, tab, d.tab.size, st.wantTab, st.wantSize)
				}
			}
		})
	}
	// C.2.3: never indexed is sensitive and stays out of the table.
	var d hpackDecoder
	d.init(4096, 0)
	got, err := decodeBlock(&d, dehex("1008 7061 7373 776f 7264 0673 6563 7265 74"))
	if err != nil || len(got) != 1 || got[0] != (hpack.HeaderField{Name: "password", Value: "secret", Sensitive: true}) || d.tab.n != 0 {
		t.Fatalf("C.2.3: %v %v, table %d", got, err, d.tab.n)
	}
}

// literalInc encodes a literal with incremental indexing and a new name.
func literalInc(name, value string) []byte {
	var buf bytes.Buffer
	e := hpack.NewEncoder(&buf)
	e.WriteField(hf(name, value)) // a new name and value: literal, indexed
	return buf.Bytes()
}

func TestHPACKEviction(t *testing.T) {
	var d hpackDecoder
	d.init(100, 0) // room for two 34..50-byte entries
	for i, v := range []string{"a", "b", "c"} {
		if _, err := decodeBlock(&d, literalInc("k"+v, v)); err != nil { // 2+1+32 = 35 bytes
			t.Fatal(i, err)
		}
	}
	if tab := tableOf(&d); !reflect.DeepEqual(tab, []hpack.HeaderField{hf("kc", "c"), hf("kb", "b")}) || d.tab.size != 70 {
		t.Fatalf("after three adds: %v size %d", tab, d.tab.size)
	}
	// §4.4: a new entry may name an entry its own insertion evicts. Index
	// 63 is the oldest ("kb"); the new entry (66 bytes) evicts both.
	blk := []byte{0x7f, 0x00, 0x20} // index 63: 6-bit prefix 63, then 0
	blk = append(blk, strings.Repeat("x", 32)...)
	got, err := decodeBlock(&d, blk)
	if err != nil || len(got) != 1 || got[0] != hf("kb", strings.Repeat("x", 32)) {
		t.Fatalf("%v %v", got, err)
	}
	if tab := tableOf(&d); !reflect.DeepEqual(tab, []hpack.HeaderField{hf("kb", strings.Repeat("x", 32))}) || d.tab.size != 66 {
		t.Fatalf("after the self-evicting add: %v size %d", tab, d.tab.size)
	}
	// An entry larger than the table empties it and is not added (§4.4).
	if _, err := decodeBlock(&d, literalInc("big", strings.Repeat("y", 80))); err != nil {
		t.Fatal(err)
	}
	if d.tab.n != 0 || d.tab.size != 0 {
		t.Fatalf("table %d entries, %d bytes after an oversized entry", d.tab.n, d.tab.size)
	}
	// A reference past the table is a decoding error (§2.3.3).
	if _, err := decodeBlock(&d, []byte{0x80 | 62}); err == nil {
		t.Fatal("index 62 of an empty table decoded")
	}
}

func TestHPACKSizeUpdate(t *testing.T) {
	fresh := func() *hpackDecoder {
		d := new(hpackDecoder)
		d.init(4096, 0)
		if _, err := decodeBlock(d, literalInc("k1", "v1"), literalInc("k2", "v2")); err != nil {
			t.Fatal(err)
		}
		return d
	}
	// At the start: it evicts down to the new size (36 bytes: one entry).
	d := fresh()
	if _, err := decodeBlock(d, []byte{0x3f, 0x05, 0x82}); err != nil || d.tab.n != 1 || d.tab.maxSize != 36 {
		t.Fatalf("update to 36: %v, %d entries, max %d", err, d.tab.n, d.tab.maxSize)
	}
	// Two at the start (RFC 7541 §4.2: the smallest, then the final size).
	d = fresh()
	if _, err := decodeBlock(d, []byte{0x20, 0x3f, 0xe1, 0x1f, 0x82}); err != nil || d.tab.n != 0 || d.tab.maxSize != 4096 {
		t.Fatalf("update to 0 then 4096: %v, %d entries, max %d", err, d.tab.n, d.tab.maxSize)
	}
	// After a field, in the same fragment or the next one: an error.
	for _, frags := range [][][]byte{{{0x82, 0x20}}, {{0x82}, {0x20}}} {
		if _, err := decodeBlock(fresh(), frags...); !errors.Is(err, errHPACKLateUpdate) {
			t.Fatalf("%x: update after a field: %v", frags, err)
		}
	}
	// Above SETTINGS_HEADER_TABLE_SIZE (4096): an error.
	if _, err := decodeBlock(fresh(), []byte{0x3f, 0xe2, 0x1f}); !errors.Is(err, errHPACKBigUpdate) {
		t.Fatalf("update to 4097: %v", err)
	}
	// The next block may start with one again.
	d = fresh()
	if _, err := decodeBlock(d, []byte{0x82}); err != nil {
		t.Fatal(err)
	}
	if _, err := decodeBlock(d, []byte{0x20, 0x82}); err != nil || d.tab.n != 0 {
		t.Fatalf("update at the next block's start: %v", err)
	}
}

func TestHPACKStringLimit(t *testing.T) {
	big := append([]byte{0x40, 0x01, 'k', 101}, strings.Repeat("v", 101)...) // not Huffman
	d := new(hpackDecoder)
	d.init(4096, 100)
	if _, err := decodeBlock(d, big); !errors.Is(err, hpack.ErrStringLength) {
		t.Fatalf("a 101-byte value under a limit of 100: %v", err)
	}
	// Its length alone is enough: the rest never needs to arrive.
	d.init(4096, 100)
	if _, err := decodeBlock(d, big[:5]); !errors.Is(err, hpack.ErrStringLength) {
		t.Fatalf("the start of a 101-byte value: %v", err)
	}
	// A Huffman string under the limit that decodes beyond it.
	var buf []byte
	buf = append(buf, 0x00, 0x01, 'k')
	huff := hpack.AppendHuffmanString(nil, strings.Repeat("0", 150)) // 5 bits a symbol: 94 bytes
	buf = append(buf, 0x80|byte(len(huff)))
	buf = append(buf, huff...)
	d.init(4096, 100)
	if _, err := decodeBlock(d, buf); !errors.Is(err, hpack.ErrStringLength) {
		t.Fatalf("94 Huffman bytes decoding to 150: %v", err)
	}
	// A huge literal in the reader: a connection error COMPRESSION_ERROR.
	c := &Conn{cfg: &Config{MaxHeaderListSize: 100}}
	c.initDecoder()
	c.startBlock(1, true)
	err := c.decodeFragment(big[:5], false)
	var ce *connErr
	if !errors.As(err, &ce) || ce.code != http2.ErrCodeCompression {
		t.Fatalf("decodeFragment: %v", err)
	}
}

// TestHPACKStringsOutliveBlocks: a block's strings, and the entries that
// alias them, stay as they were while later blocks reuse the arena.
func TestHPACKStringsOutliveBlocks(t *testing.T) {
	d := new(hpackDecoder)
	d.init(4096, 0)
	first, err := decodeBlock(d, literalInc("x-one", "first value"))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		// x-two, not indexed, then the first block's entry (index 62)
		blk := append([]byte{0x00, 0x05}, "x-two"...)
		blk = append(append(blk, byte(i)), strings.Repeat("z", i)...)
		got, err := decodeBlock(d, append(blk, 0x80|62))
		if err != nil {
			t.Fatal(err)
		}
		if got[0] != hf("x-two", strings.Repeat("z", i)) || got[1] != hf("x-one", "first value") {
			t.Fatalf("block %d: fields %v", i, got)
		}
	}
	if first[0] != hf("x-one", "first value") {
		t.Fatalf("the first block's field became %v", first[0])
	}
}

// nginxBlock is what nginx 1.22 sends for a small response: :status
// indexed, then server, date, content-type and content-length as
// literals with incremental indexing and indexed names (Huffman values).
var nginxBlock = dehex(`88 76 89 aa 63 55 e5 80 ae 21 2e 1f 61 96 df 69 7e 94 00 54 be 52 28 20 09 c5 02 2b
	8c b7 71 96 94 c5 a3 7f 5f 87 49 7c a5 8a e8 19 aa 5c 02 31 32`)

// TestHPACKBlockAllocs pins the allocations of a block: nginx's, again
// and again, none (its values come from the value cache); new literal
// values, one (the block's string) whatever their number; references to
// the table, none.
func TestHPACKBlockAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector adds allocations")
	}
	d := new(hpackDecoder)
	d.init(4096, 1<<20)
	var raw []rawField
	decode := func(blk []byte) {
		if err := d.write(blk); err != nil {
			t.Fatal(err)
		}
		raw = append(raw[:0], d.fields...)
		d.fields = d.fields[:0]
		if err := d.endBlock(); err != nil {
			t.Fatal(err)
		}
		for _, f := range raw {
			_, _ = d.str(f.name), d.str(f.value)
		}
		d.resetBlock()
	}
	want := []hpack.HeaderField{hf(":status", "200"), hf("server", "nginx/1.22.1"), {},
		hf("content-type", "text/plain"), hf("content-length", "12")}
	for range 2 { // decoded, then from the cache
		if got, err := decodeBlock(d, nginxBlock); err != nil || len(got) != 5 || got[2].Name != "date" || len(got[2].Value) != 29 {
			t.Fatalf("nginx block: %v %v", got, err)
		} else if got[2] = (hpack.HeaderField{}); !reflect.DeepEqual(got, want) {
			t.Fatalf("nginx block: %v %v", got, err)
		}
	}
	if n := testing.AllocsPerRun(100, func() { decode(nginxBlock) }); n != 0 {
		t.Fatalf("%.1f allocations per nginx block, want 0", n)
	}
	var fresh [][]byte // five new values each
	for i := range 200 {
		var blk []byte
		for k := range 5 {
			v := fmt.Sprintf("id-%d-%d", i, k)
			blk = append(append(blk, 0x00|0x0f, 0x30-0x0f, byte(len(v))), v...) // without indexing, name 48 (location)
		}
		fresh = append(fresh, blk)
	}
	next := 0
	if n := testing.AllocsPerRun(100, func() { decode(fresh[next]); next++ }); n != 1 {
		t.Fatalf("%.1f allocations per block of new literals, want 1", n)
	}
	indexed := []byte{0x88, 0x80 | 62, 0x80 | 63, 0x80 | 64, 0x80 | 65}
	if n := testing.AllocsPerRun(100, func() { decode(indexed) }); n != 0 {
		t.Fatalf("%.1f allocations per block of indexed fields, want 0", n)
	}
}

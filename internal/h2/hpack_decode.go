package h2

import (
	"errors"

	"golang.org/x/net/http2/hpack"
)

// hpackDecoder decodes the conn's response header blocks (RFC 7541) as
// hpack.Decoder does, without its string per literal and its table's
// maps: literal bytes go to one arena per block, which becomes one string
// at END_HEADERS; fields and the entries the block added are substrings
// of it. Names come from the tables or the interned names when they can.
// Huffman codes are x/net's (hpack.HuffmanDecode). Owned by the reader.
type hpackDecoder struct {
	tab     dynTable
	maxStr  int         // longest string, encoded or decoded; 0: no bound (hpack's SetMaxStringLength)
	started bool        // a field was decoded in this block: size updates are over (§4.2)
	save    []byte      // the start of a field cut between fragments
	arena   hpackArena  // the block's decoded bytes
	pending int         // entries this block added (their strings are arena spans)
	fields  []rawField  // decoded, not yet taken by the caller
	block   string      // the arena as one string, from endBlock until resetBlock
	cache   *valueCache // recent literal values, allocated at the first
	fills   []cacheFill // values of this block to cache at its end
}

// rawField is a decoded field whose strings may still be arena spans.
type rawField struct {
	name, value hstr
	sensitive   bool // never indexed (§6.2.3)
}

// hpackArena collects decoded bytes; an io.Writer for hpack.HuffmanDecode.
type hpackArena []byte

func (a *hpackArena) Write(p []byte) (int, error) {
	*a = append(*a, p...)
	return len(p), nil
}

const (
	// maxAliasBlock: entries added by a block whose arena is at most this
	// long are substrings of it; a longer block's entries get their own
	// copies, so the table (at most 4096/32 entries) never keeps more than
	// 128 such blocks of 2 KiB alive.
	maxAliasBlock = 2 << 10
	// maxKeptArena: a larger arena or save buffer is dropped after its
	// block, not kept for the conn's life.
	maxKeptArena = 64 << 10
	// varIntOverhead is hpack's bound of the bytes around a field's
	// strings, for the size of a saved partial field.
	varIntOverhead = 8
)

var (
	errHPACKNeedMore   = errors.New("hpack: need more data")
	errHPACKVarint     = hpack.DecodingError{Err: errors.New("varint integer overflow")}
	errHPACKLateUpdate = hpack.DecodingError{Err: errors.New("dynamic table size update MUST occur at the beginning of a header block")}
	errHPACKBigUpdate  = hpack.DecodingError{Err: errors.New("dynamic table size update too large")}
	errHPACKTruncated  = hpack.DecodingError{Err: errors.New("truncated headers")}
)

// init sets the table size we advertise (SETTINGS_HEADER_TABLE_SIZE) and
// the string bound.
func (d *hpackDecoder) init(tableSize uint32, maxStr int) {
	d.tab.init(tableSize)
	d.maxStr = maxStr
}

// write decodes one fragment of a block into d.fields. A field cut at the
// fragment's end is kept for the next one, as hpack.Decoder.Write does.
func (d *hpackDecoder) write(p []byte) error {
	if len(p) == 0 {
		return nil
	}
	buf := p
	if len(d.save) > 0 {
		d.save = append(d.save, p...)
		buf = d.save
	}
	for len(buf) > 0 {
		n, err := d.field(buf)
		if err == errHPACKNeedMore {
			if d.maxStr != 0 && int64(len(buf)) > 2*(int64(d.maxStr)+varIntOverhead) {
				return hpack.ErrStringLength
			}
			d.save = append(d.save[:0], buf...) // memmove: buf may be d.save's tail
			return nil
		}
		if err != nil {
			return err
		}
		buf = buf[n:]
	}
	d.save = d.save[:0]
	return nil
}

// field decodes the representation at buf's start (§6) and returns its
// length; errHPACKNeedMore (nothing changed) when buf ends inside it.
func (d *hpackDecoder) field(buf []byte) (int, error) {
	b := buf[0]
	switch {
	case b&0x80 != 0:
		return d.indexed(buf)
	case b&0xc0 == 0x40:
		return d.literal(buf, 6, true, false)
	case b&0xf0 == 0:
		return d.literal(buf, 4, false, false)
	case b&0xf0 == 0x10:
		return d.literal(buf, 4, false, true)
	default: // 001xxxxx
		return d.sizeUpdate(buf)
	}
}

// at is the entry at index i of the index space (§2.3.3).
func (d *hpackDecoder) at(i uint64) (dynEntry, bool) {
	if i == 0 {
		return dynEntry{}, false
	}
	if i <= uint64(len(staticTable)) {
		e := &staticTable[i-1]
		return dynEntry{strRef(e.name), strRef(e.value)}, true
	}
	if e := d.tab.at(i - uint64(len(staticTable))); e != nil {
		return *e, true
	}
	return dynEntry{}, false
}

// indexed: an indexed header field (§6.1).
func (d *hpackDecoder) indexed(buf []byte) (int, error) {
	i, n, err := readVarInt(7, buf)
	if err != nil {
		return 0, err
	}
	e, ok := d.at(i)
	if !ok {
		return 0, hpack.DecodingError{Err: hpack.InvalidIndexError(i)}
	}
	return n, d.emit(rawField{name: e.name, value: e.value})
}

// literal: a literal header field, with incremental indexing, without
// indexing or never indexed (§6.2). Nothing is decoded until the whole
// field is in buf.
func (d *hpackDecoder) literal(buf []byte, prefix byte, index, never bool) (int, error) {
	nameIdx, n, err := readVarInt(prefix, buf)
	if err != nil {
		return 0, err
	}
	var name hstr
	var rawName, rawValue rawString
	if nameIdx > 0 {
		e, ok := d.at(nameIdx)
		if !ok {
			return 0, hpack.DecodingError{Err: hpack.InvalidIndexError(nameIdx)}
		}
		name = e.name
	} else if rawName, n, err = d.readString(buf, n); err != nil {
		return 0, err
	}
	if rawValue, n, err = d.readString(buf, n); err != nil {
		return 0, err
	}
	if nameIdx == 0 {
		if name, err = d.decodeName(rawName); err != nil {
			return 0, err
		}
	}
	value, err := d.decodeValue(rawValue)
	if err != nil {
		return 0, err
	}
	if index {
		d.tab.add(dynEntry{name, value})
		d.pending++
	}
	return n, d.emit(rawField{name, value, never})
}

// emit adds a decoded field, bounded by the string limit as hpack's
// callEmit bounds it (indexed names included).
func (d *hpackDecoder) emit(f rawField) error {
	if d.maxStr != 0 && (f.name.len() > d.maxStr || f.value.len() > d.maxStr) {
		return hpack.ErrStringLength
	}
	d.started = true
	d.fields = append(d.fields, f)
	return nil
}

// sizeUpdate: a dynamic table size update (§6.3), only before the block's
// first field (§4.2; hpack.Decoder also takes one later while its table is
// empty, and rejects a second one at the start while it is not), never
// above what we advertised.
func (d *hpackDecoder) sizeUpdate(buf []byte) (int, error) {
	if d.started {
		return 0, errHPACKLateUpdate
	}
	v, n, err := readVarInt(5, buf)
	if err != nil {
		return 0, err
	}
	if v > uint64(d.tab.allowed) {
		return 0, errHPACKBigUpdate
	}
	d.tab.setMax(uint32(v))
	return n, nil
}

// readVarInt reads an integer with an n-bit prefix (§5.1) at p's start,
// as hpack's readVarInt: its value and length, errHPACKNeedMore if p ends
// inside it.
func readVarInt(n byte, p []byte) (uint64, int, error) {
	if len(p) == 0 {
		return 0, 0, errHPACKNeedMore
	}
	mask := uint64(1)<<n - 1
	i := uint64(p[0]) & mask
	if i < mask {
		return i, 1, nil
	}
	var m uint64
	for k := 1; k < len(p); k++ {
		b := p[k]
		i += uint64(b&127) << m
		if b&128 == 0 {
			return i, k + 1, nil
		}
		if m += 7; m >= 63 {
			return 0, 0, errHPACKVarint
		}
	}
	return 0, 0, errHPACKNeedMore
}

// rawString is a string literal as sent (§5.2).
type rawString struct {
	b    []byte
	huff bool
}

// readString reads the string literal at buf[off:]; it returns the offset
// after it.
func (d *hpackDecoder) readString(buf []byte, off int) (rawString, int, error) {
	p := buf[off:]
	if len(p) == 0 {
		return rawString{}, 0, errHPACKNeedMore
	}
	l, n, err := readVarInt(7, p)
	if err != nil {
		return rawString{}, 0, err
	}
	if d.maxStr != 0 && l > uint64(d.maxStr) {
		return rawString{}, 0, hpack.ErrStringLength
	}
	if uint64(len(p)-n) < l {
		return rawString{}, 0, errHPACKNeedMore
	}
	end := n + int(l)
	return rawString{b: p[n:end], huff: p[0]&0x80 != 0}, off + end, nil
}

// decode appends s, decoded, to the arena and returns its span. Arena
// offsets fit an int32: a block is at most maxBlockFrames frames of the
// frame size we advertise, 8/5 of that once decoded.
func (d *hpackDecoder) decode(s rawString) (hstr, error) {
	off := len(d.arena)
	if !s.huff {
		d.arena = append(d.arena, s.b...)
	} else if _, err := hpack.HuffmanDecode(&d.arena, s.b); err != nil {
		return hstr{}, err
	}
	n := len(d.arena) - off
	if d.maxStr != 0 && n > d.maxStr {
		return hstr{}, hpack.ErrStringLength
	}
	if n == 0 {
		return strRef(""), nil
	}
	return hstr{off: int32(off), end: int32(off + n)}, nil
}

// decodeValue decodes a literal value, from the cache when it can.
func (d *hpackDecoder) decodeValue(s rawString) (hstr, error) {
	v, slot, ok := d.lookupValue(s)
	if ok {
		return strRef(v), nil
	}
	h, err := d.decode(s)
	if err != nil || slot < 0 || h.off < 0 {
		return h, err
	}
	d.fills = append(d.fills, cacheFill{slot: slot, e: cachedValue{n: uint8(len(s.b)), huff: s.huff}, val: h})
	copy(d.fills[len(d.fills)-1].e.enc[:], s.b)
	return h, nil
}

// decodeName decodes a literal name; a known one is the interned string
// and leaves the arena as it was.
func (d *hpackDecoder) decodeName(s rawString) (hstr, error) {
	h, err := d.decode(s)
	if err != nil || h.off < 0 {
		return h, err
	}
	if k, ok := internedWireNames[string(d.arena[h.off:h.end])]; ok {
		d.arena = d.arena[:h.off]
		return strRef(k), nil
	}
	return h, nil
}

// endBlock ends the block at END_HEADERS: the arena becomes one string
// and the entries the block added own theirs. Then str gives the block's
// fields until resetBlock.
func (d *hpackDecoder) endBlock() error {
	if len(d.save) > 0 {
		d.save = d.save[:0]
		return errHPACKTruncated
	}
	d.started = false
	if len(d.arena) > 0 {
		d.block = string(d.arena)
	}
	d.fillCache()
	for i := 1; i <= min(d.pending, d.tab.n); i++ {
		e := d.tab.at(uint64(i))
		e.name, e.value = d.own(e.name), d.own(e.value)
	}
	d.pending = 0
	return nil
}

// own makes an entry's arena span a string of its own: a substring of the
// block's, or a copy when the block is long (maxAliasBlock).
func (d *hpackDecoder) own(h hstr) hstr {
	switch {
	case h.off < 0:
		return h
	case len(d.block) <= maxAliasBlock:
		return strRef(d.block[h.off:h.end])
	default:
		return strRef(string(d.arena[h.off:h.end]))
	}
}

// str is h's string, after endBlock.
func (d *hpackDecoder) str(h hstr) string {
	if h.off < 0 {
		return h.s
	}
	return d.block[h.off:h.end]
}

// resetBlock drops the block's bytes once its fields are taken.
func (d *hpackDecoder) resetBlock() {
	d.block = ""
	d.arena = d.arena[:0]
	if cap(d.arena) > maxKeptArena {
		d.arena = nil
	}
	if cap(d.save) > maxKeptArena {
		d.save = nil
	}
	clear(d.fields)
	d.fields = d.fields[:0]
}

// validValue, validName and isPseudo check h where it is, string or
// arena bytes, without a copy.
func (d *hpackDecoder) validValue(h hstr) bool {
	if h.off >= 0 {
		return validFieldValue(d.arena[h.off:h.end])
	}
	return validFieldValue(h.s)
}

func (d *hpackDecoder) validName(h hstr) bool {
	if h.off >= 0 {
		return validWireName(d.arena[h.off:h.end])
	}
	return validWireName(h.s)
}

func (d *hpackDecoder) isPseudo(h hstr) bool {
	if h.off >= 0 {
		return h.end > h.off && d.arena[h.off] == ':'
	}
	return len(h.s) > 0 && h.s[0] == ':'
}

// is reports whether h is s.
func (d *hpackDecoder) is(h hstr, s string) bool {
	if h.off >= 0 {
		return string(d.arena[h.off:h.end]) == s
	}
	return h.s == s
}

package h2

import "hash/maphash"

// A server that sends the same literal values on every response (nginx
// adds its server, date, content-type and content-length to the table
// each time and never refers to them) would cost a Huffman decode and
// the block's string every time. valueCache remembers recent literal
// values by their encoded bytes: a hit is the string decoded before, no
// decoding and no arena bytes. Each value may sit in one of two slots
// (two-choice hashing): with one, two of nginx's four values would share
// a slot in about one process in five and evict each other on every
// response.
type valueCache [valueCacheSlots]cachedValue

const (
	valueCacheSlots = 32
	// maxCachedEnc bounds the encoded values cached (a date is 22 bytes
	// in Huffman code); the cache is a fixed 2 KiB per conn.
	maxCachedEnc = 48
)

type cachedValue struct {
	n    uint8 // encoded length; 0: empty slot
	huff bool
	used bool // hit since it was cached or since a fill passed it over
	enc  [maxCachedEnc]byte
	s    string // the decoded value
}

var valueSeed = maphash.MakeSeed()

// lookupValue returns the cached string of the encoded value s, or the
// slot to cache it in (-1: not cached).
func (d *hpackDecoder) lookupValue(s rawString) (string, int, bool) {
	if len(s.b) == 0 || len(s.b) > maxCachedEnc {
		return "", -1, false
	}
	if d.cache == nil {
		d.cache = new(valueCache)
	}
	h := maphash.Bytes(valueSeed, s.b)
	i, j := int(h%valueCacheSlots), int((h>>32)%valueCacheSlots)
	for _, k := range [2]int{i, j} {
		if e := &d.cache[k]; int(e.n) == len(s.b) && e.huff == s.huff && string(e.enc[:e.n]) == string(s.b) {
			e.used = true
			return e.s, k, true
		}
	}
	// The new value takes a slot not hit lately; passed over, a slot
	// loses its mark, so the next new value may take it.
	a, b := &d.cache[i], &d.cache[j]
	switch {
	case !a.used:
		b.used = false
		return "", i, false
	case !b.used:
		a.used = false
		return "", j, false
	}
	a.used = false
	return "", i, false
}

// cacheFill is a value to cache at the block's end, once it is a string.
type cacheFill struct {
	slot int
	e    cachedValue // s still to set
	val  hstr
}

// fillCache caches the block's new values; called by endBlock once the
// arena is a string, and only for short blocks (maxAliasBlock): a cached
// value pins its block, so the cache keeps at most 32 × 2 KiB alive.
func (d *hpackDecoder) fillCache() {
	if len(d.block) <= maxAliasBlock {
		for i := range d.fills {
			f := &d.fills[i]
			f.e.s = d.str(f.val)
			d.cache[f.slot] = f.e
		}
	}
	d.fills = d.fills[:0]
}

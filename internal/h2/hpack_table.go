package h2

// HPACK's tables (RFC 7541 §2.3): the static table and the dynamic table
// of one connection's decoder.

// staticTable is RFC 7541 Appendix A, index 1 first.
var staticTable = [...]struct{ name, value string }{
	{":authority", ""},
	{":method", "GET"},
	{":method", "POST"},
	{":path", "/"},
	{":path", "/index.html"},
	{":scheme", "http"},
	{":scheme", "https"},
	{":status", "200"},
	{":status", "204"},
	{":status", "206"},
	{":status", "304"},
	{":status", "400"},
	{":status", "404"},
	{":status", "500"},
	{"accept-charset", ""},
	{"accept-encoding", "gzip, deflate"},
	{"accept-language", ""},
	{"accept-ranges", ""},
	{"accept", ""},
	{"access-control-allow-origin", ""},
	{"age", ""},
	{"allow", ""},
	{"authorization", ""},
	{"cache-control", ""},
	{"content-disposition", ""},
	{"content-encoding", ""},
	{"content-language", ""},
	{"content-length", ""},
	{"content-location", ""},
	{"content-range", ""},
	{"content-type", ""},
	{"cookie", ""},
	{"date", ""},
	{"etag", ""},
	{"expect", ""},
	{"expires", ""},
	{"from", ""},
	{"host", ""},
	{"if-match", ""},
	{"if-modified-since", ""},
	{"if-none-match", ""},
	{"if-range", ""},
	{"if-unmodified-since", ""},
	{"last-modified", ""},
	{"link", ""},
	{"location", ""},
	{"max-forwards", ""},
	{"proxy-authenticate", ""},
	{"proxy-authorization", ""},
	{"range", ""},
	{"referer", ""},
	{"refresh", ""},
	{"retry-after", ""},
	{"server", ""},
	{"set-cookie", ""},
	{"strict-transport-security", ""},
	{"transfer-encoding", ""},
	{"user-agent", ""},
	{"vary", ""},
	{"via", ""},
	{"www-authenticate", ""},
}

// hstr is a decoded string: s, or while its header block is being decoded,
// the span [off, end) of the block's arena (off >= 0). The arena becomes
// one string at END_HEADERS and spans become substrings of it, so a block
// of literal values costs one allocation, not one per value.
type hstr struct {
	s        string
	off, end int32
}

func strRef(s string) hstr { return hstr{s: s, off: -1} }

func (h hstr) len() int {
	if h.off >= 0 {
		return int(h.end - h.off)
	}
	return len(h.s)
}

// dynEntry is one dynamic table entry; its strings are its own once its
// block has ended (substrings of that block's string, or copies).
type dynEntry struct {
	name, value hstr
}

func (e *dynEntry) size() uint32 { return uint32(e.name.len()+e.value.len()) + entryOverhead }

// entryOverhead is the 32 bytes RFC 7541 §4.1 adds to every entry's size.
const entryOverhead = 32

// dynTable is the decoder's dynamic table (RFC 7541 §2.3.2, §4): a ring,
// newest entry at index 1. The ring holds allowed/32 entries, the most
// that fit, allocated at the first insertion.
type dynTable struct {
	ents    []dynEntry
	head    int    // the oldest entry's slot
	n       int    // entries in the table
	size    uint32 // the entries' sizes (§4.1)
	maxSize uint32 // the encoder's current maximum (its last size update)
	allowed uint32 // SETTINGS_HEADER_TABLE_SIZE we sent: no update may exceed it
}

func (t *dynTable) init(allowed uint32) {
	*t = dynTable{maxSize: allowed, allowed: allowed}
}

// at is the entry at dynamic index i (1 = newest), or nil.
func (t *dynTable) at(i uint64) *dynEntry {
	if i < 1 || i > uint64(t.n) {
		return nil
	}
	return &t.ents[(t.head+t.n-int(i))%len(t.ents)]
}

// add inserts e as the newest entry, evicting the oldest ones until it
// fits; an entry larger than the maximum empties the table (§4.4). e's
// name may be an entry evicted here: e holds its own copy of the reference.
func (t *dynTable) add(e dynEntry) {
	sz := e.size()
	if sz > t.maxSize {
		t.evictTo(0)
		return
	}
	t.evictTo(t.maxSize - sz)
	if t.ents == nil {
		t.ents = make([]dynEntry, t.allowed/entryOverhead)
	}
	t.ents[(t.head+t.n)%len(t.ents)] = e
	t.n++
	t.size += sz
}

// setMax applies a dynamic table size update (§6.3); the caller checked it
// against allowed.
func (t *dynTable) setMax(v uint32) {
	t.maxSize = v
	t.evictTo(v)
}

// evictTo evicts the oldest entries until the table's size is at most limit.
func (t *dynTable) evictTo(limit uint32) {
	for t.size > limit && t.n > 0 {
		e := &t.ents[t.head]
		t.size -= e.size()
		*e = dynEntry{}
		t.head = (t.head + 1) % len(t.ents)
		t.n--
	}
}

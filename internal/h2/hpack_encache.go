package h2

import (
	"net/http"

	"golang.org/x/net/http2/hpack"
)

// encCache replays the last request header block when a request repeats
// the last one's fields. It is valid only while replaying leaves the HPACK
// encoder's dynamic table as it is: the cached block holds nothing but
// indexed representations (RFC 7541 §6.1), which add no entry and evict
// none, and no other block has been encoded since. Encoding the same
// fields against the same table then gives the same bytes, so the replay
// is what the encoder would write, minus its table search per field (a
// map lookup per static and dynamic table): a client repeating one
// request to a host, the common case, pays a comparison instead.
//
// Guarded by wq.mu, as the encoder is.
type encCache struct {
	fields []hpack.HeaderField
	block  []byte
	ok     bool // block may be replayed for fields
	// compare state, for matchField
	n    int
	miss bool
}

const (
	// maxCachedFields and maxCachedBlock bound what the cache keeps (and
	// so the last request's strings it holds on to).
	maxCachedFields = 16
	maxCachedBlock  = 512
)

// invalidate: the encoder's table may change (a literal with indexing, a
// table size update), so the cached block no longer stands for its fields.
func (e *encCache) invalidate() { e.ok = false }

// encodeCachedLocked writes the request's block into c.hbuf: the cached
// one if the fields are those it was made from, else the encoder's, which
// becomes the cached block if it is indexed-only. wq.mu is held.
func (c *Conn) encodeCachedLocked(req *http.Request, h *reqHead, o *Options) {
	e := &c.hcache
	if e.ok {
		e.n, e.miss = 0, false
		c.fields(req, h, o, e.matchField)
		if !e.miss && e.n == len(e.fields) {
			c.hbuf.Write(e.block)
			return
		}
	}
	e.ok = false
	e.fields = e.fields[:0]
	c.fields(req, h, o, c.writeRecordField)
	b := c.hbuf.Bytes()
	if len(e.fields) > maxCachedFields || len(b) > maxCachedBlock || !indexedOnly(b) {
		clear(e.fields) // do not keep the request's strings
		e.fields = e.fields[:0]
		return
	}
	e.block = append(e.block[:0], b...)
	e.ok = true
}

func (e *encCache) matchField(name, value string) {
	if e.miss {
		return
	}
	if e.n >= len(e.fields) || e.fields[e.n].Name != name || e.fields[e.n].Value != value {
		e.miss = true
		return
	}
	e.n++
}

func (c *Conn) writeRecordField(name, value string) {
	f := hpack.HeaderField{Name: name, Value: value}
	c.henc.WriteField(f)
	if e := &c.hcache; len(e.fields) <= maxCachedFields {
		e.fields = append(e.fields, f)
	}
}

// indexedOnly reports whether block is a sequence of indexed header field
// representations only (RFC 7541 §6.1: a 1 bit, then the index as a 7-bit
// prefix integer, §5.1), none of which changes the dynamic table.
func indexedOnly(block []byte) bool {
	for i := 0; i < len(block); {
		if block[i]&0x80 == 0 {
			return false // a literal or a table size update
		}
		if block[i]&0x7f != 0x7f {
			i++
			continue
		}
		i++ // the index goes on in continuation bytes, the last without 0x80
		for i < len(block) && block[i]&0x80 != 0 {
			i++
		}
		if i == len(block) {
			return false // truncated: not ours to replay
		}
		i++
	}
	return len(block) > 0
}

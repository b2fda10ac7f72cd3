package h2

import (
	"errors"

	"golang.org/x/net/http/httpguts"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// Header blocks are decoded here rather than by Framer.ReadMetaHeaders,
// whose per-block MetaHeadersFrame, closures and field slice cost about
// nine allocations per response, and by spool's own HPACK decoder
// (hpack_decode.go), whose fields are substrings of one string per block.
// The limits of ReadMetaHeaders (CVE-2023-45288) are kept as it has them:
//   - the decoded header list is bounded by MaxHeaderListSize; past it the
//     block is decoded (the HPACK state must stay in step) but its fields
//     dropped, and the stream fails (Truncated);
//   - a fragment more than twice the remaining budget is not decoded at
//     all: connection error, so a CONTINUATION flood after the budget is
//     spent costs one frame, not gigabytes of decoding;
//   - a CONTINUATION after an invalid field is a connection error, since
//     an invalid field stops the size accounting;
//   - strings are bounded by the same limit (hpack's max string length).
//
// Frame order (CONTINUATION only right after its HEADERS) is the
// Framer's.
type headBlock struct {
	id        uint32
	endStream bool
	raw       []rawField          // regular fields while the block is decoded
	fields    []hpack.HeaderField // regular fields at END_HEADERS, reused block to block
	status    string
	statusRaw hstr   // :status while the block is decoded
	pseudo    int    // pseudo-header fields seen
	limit     uint32 // header list budget at the start (MaxHeaderListSize)
	remain    uint32 // header list budget left
	truncated bool   // the budget ran out
	invalid   error  // the first invalid field
	regular   bool   // a regular field was seen (pseudo-headers come first)
	frames    int    // HEADERS and CONTINUATION frames so far
}

// maxBlockFrames bounds the frames of one header block: empty
// CONTINUATION frames cost the budget nothing, so without it a server
// could keep the reader decoding one block forever.
const maxBlockFrames = 1024

var (
	errPseudoAfterRegular = errors.New("http2: pseudo header field after regular")
	errBadPseudo          = errors.New("http2: invalid or duplicate pseudo header in response")
	errBadFieldName       = errors.New("http2: invalid header field name")
	errBadFieldValue      = errors.New("http2: invalid header field value")
)

func (c *Conn) initDecoder() {
	c.rd.hdec.init(initialHeaderTable, int(min(c.cfg.MaxHeaderListSize, 1<<31-1)))
}

// take checks and counts the fields the decoder has decoded so far.
func (b *headBlock) take(d *hpackDecoder) {
	for _, f := range d.fields {
		if b.invalid == nil {
			b.invalid = checkField(b, d, f)
		}
		if b.invalid != nil || b.truncated {
			continue
		}
		if size := uint32(f.name.len()+f.value.len()) + entryOverhead; size > b.remain {
			b.truncated = true
			b.remain = 0
			continue
		} else {
			b.remain -= size
		}
		if d.isPseudo(f.name) {
			b.pseudo++
			b.statusRaw = f.value
			continue
		}
		b.raw = append(b.raw, f)
	}
	clear(d.fields)
	d.fields = d.fields[:0]
}

func checkField(b *headBlock, d *hpackDecoder, f rawField) error {
	if !d.validValue(f.value) {
		return errBadFieldValue
	}
	if d.isPseudo(f.name) {
		// A response has one pseudo-header, :status (§8.3.2).
		if b.regular {
			return errPseudoAfterRegular
		}
		if !d.is(f.name, ":status") || b.pseudo > 0 {
			return errBadPseudo
		}
		return nil
	}
	b.regular = true
	if !d.validName(f.name) {
		return errBadFieldName
	}
	return nil
}

// validWireName: a token with no upper case (§8.2.1).
func validWireName[T ~string | ~[]byte](v T) bool {
	if len(v) == 0 {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c >= 0x80 || !httpguts.IsTokenRune(rune(c)) || ('A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

// validFieldValue is httpguts.ValidHeaderFieldValue: no control byte
// but tab.
func validFieldValue[T ~string | ~[]byte](v T) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < ' ' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

// startBlock begins a HEADERS block.
func (c *Conn) startBlock(id uint32, endStream bool) {
	b := &c.rd.block
	*b = headBlock{id: id, endStream: endStream, raw: b.raw[:0], fields: b.fields[:0],
		limit: c.cfg.MaxHeaderListSize, remain: c.cfg.MaxHeaderListSize}
}

// decodeFragment feeds one HEADERS or CONTINUATION fragment to the
// decoder; done reports END_HEADERS (the block is then complete in
// c.rd.block).
func (c *Conn) decodeFragment(frag []byte, end bool) error {
	b, d := &c.rd.block, &c.rd.hdec
	if b.frames++; b.frames > maxBlockFrames {
		return connError(http2.ErrCodeEnhanceYourCalm, "too many CONTINUATION frames")
	}
	if int64(len(frag)) > 2*int64(b.remain) {
		return connError(http2.ErrCodeProtocol, "header list too large")
	}
	if b.invalid != nil && len(frag) > 0 {
		return connError(http2.ErrCodeProtocol, "CONTINUATION after an invalid header field")
	}
	if err := d.write(frag); err != nil {
		return connError(http2.ErrCodeCompression, "HPACK: "+err.Error())
	}
	b.take(d)
	if !end {
		return nil
	}
	if err := d.endBlock(); err != nil {
		return connError(http2.ErrCodeCompression, "HPACK: "+err.Error())
	}
	for _, f := range b.raw {
		b.fields = append(b.fields, hpack.HeaderField{Name: d.str(f.name), Value: d.str(f.value), Sensitive: f.sensitive})
	}
	if b.pseudo > 0 {
		b.status = d.str(b.statusRaw)
	}
	d.resetBlock()
	return nil
}

// clearFields drops the block's strings so the reader does not keep them.
func (b *headBlock) clearFields() {
	clear(b.fields)
	b.fields = b.fields[:0]
	clear(b.raw)
	b.raw = b.raw[:0]
}

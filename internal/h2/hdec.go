package h2

import (
	"errors"
	"strings"

	"golang.org/x/net/http/httpguts"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// Header blocks are decoded here rather than by Framer.ReadMetaHeaders,
// whose per-block MetaHeadersFrame, closures and field slice cost about
// nine allocations per response: one hpack.Decoder per conn emits into a
// field slice the reader reuses. The limits of ReadMetaHeaders
// (CVE-2023-45288) are kept as it has them:
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
	fields    []hpack.HeaderField // regular fields, reused block to block
	status    string
	pseudo    int    // pseudo-header fields seen
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
	c.rd.hdec = hpack.NewDecoder(initialHeaderTable, c.emit)
	c.rd.hdec.SetMaxStringLength(int(min(c.cfg.MaxHeaderListSize, 1<<31-1)))
}

// emit takes one decoded field (hpack's callback).
func (c *Conn) emit(hf hpack.HeaderField) {
	b := &c.rd.block
	if b.invalid == nil {
		b.invalid = checkField(b, hf)
	}
	if b.invalid != nil || b.truncated {
		return
	}
	if size := hf.Size(); size > b.remain {
		b.truncated = true
		b.remain = 0
		return
	} else {
		b.remain -= size
	}
	if strings.HasPrefix(hf.Name, ":") {
		b.pseudo++
		b.status = hf.Value
		return
	}
	b.fields = append(b.fields, hf)
}

func checkField(b *headBlock, hf hpack.HeaderField) error {
	if !httpguts.ValidHeaderFieldValue(hf.Value) {
		return errBadFieldValue
	}
	if strings.HasPrefix(hf.Name, ":") {
		// A response has one pseudo-header, :status (§8.3.2).
		if b.regular {
			return errPseudoAfterRegular
		}
		if hf.Name != ":status" || b.pseudo > 0 {
			return errBadPseudo
		}
		return nil
	}
	b.regular = true
	if !validWireName(hf.Name) {
		return errBadFieldName
	}
	return nil
}

// validWireName: a token with no upper case (§8.2.1).
func validWireName(v string) bool {
	if v == "" {
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

// startBlock begins a HEADERS block.
func (c *Conn) startBlock(id uint32, endStream bool) {
	b := &c.rd.block
	*b = headBlock{id: id, endStream: endStream, fields: b.fields[:0], remain: c.cfg.MaxHeaderListSize}
}

// decodeFragment feeds one HEADERS or CONTINUATION fragment to the
// decoder; done reports END_HEADERS (the block is then complete in
// c.rd.block).
func (c *Conn) decodeFragment(frag []byte, end bool) error {
	b := &c.rd.block
	if b.frames++; b.frames > maxBlockFrames {
		return connError(http2.ErrCodeEnhanceYourCalm, "too many CONTINUATION frames")
	}
	if int64(len(frag)) > 2*int64(b.remain) {
		return connError(http2.ErrCodeProtocol, "header list too large")
	}
	if b.invalid != nil && len(frag) > 0 {
		return connError(http2.ErrCodeProtocol, "CONTINUATION after an invalid header field")
	}
	if _, err := c.rd.hdec.Write(frag); err != nil {
		return connError(http2.ErrCodeCompression, "HPACK: "+err.Error())
	}
	if end {
		if err := c.rd.hdec.Close(); err != nil {
			return connError(http2.ErrCodeCompression, "HPACK: "+err.Error())
		}
	}
	return nil
}

// clearFields drops the block's strings so the reader does not keep them.
func (b *headBlock) clearFields() {
	clear(b.fields)
	b.fields = b.fields[:0]
}

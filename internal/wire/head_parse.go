package wire

import (
	"net/http"

	"golang.org/x/net/http/httpguts"
)

// Parsing a header block in place. The block (a view of the bufio buffer or
// a scratch copy) is modified: keys are canonicalized where they lie,
// obs-fold continuations are joined behind their field, and the bytes that
// must survive (status text, uncommon keys, uncommon values) are compacted
// to the front. One string is made of that prefix; every key and value is
// either interned or a substring of it. All values share one []string.

// stackFields is how many fields a block may have before the field index
// moves from the stack to the heap; 32 covers nearly every real response.
const stackFields = 32

// field is one header field: spans into the block, or interned strings.
type field struct {
	key, val       string // interned copies, or "" to use the span
	k0, k1, v0, v1 int    // spans in the block (after compaction)
	first          int    // index of the first field with the same key
	count          int    // for a first field: fields sharing its key
	slot           int    // for a first field: next free index in vals
}

// blockParser holds the state of parsing one block.
type blockParser struct {
	buf     []byte
	w       int  // compaction cursor: bytes [0:w) are kept
	crlf    bool // every line must end in CRLF (trailer sections)
	s0, s1  int  // status text span (heads only)
	version int  // 0 for HTTP/1.0, 1 for HTTP/1.1 (heads only)
}

// tokenTable marks the bytes allowed in a field name (RFC 9110 §5.1 token).
var tokenTable = func() (t [256]bool) {
	for c := 0; c < 128; c++ {
		t[c] = httpguts.IsTokenRune(rune(c))
	}
	return t
}()

// validValueByte: field-vchar, SP, HTAB and obs-text (RFC 9110 §5.5); no
// other control byte, so never NUL, CR or LF.
func validValueByte(c byte) bool { return c >= 0x20 && c != 0x7f || c == '\t' }

func isOWS(c byte) bool { return c == ' ' || c == '\t' }

// line returns the line starting at pos without its terminator, and the
// offset of the next line. The caller guarantees a '\n' follows pos.
func (p *blockParser) line(pos int) (start, end, next int, err error) {
	i := pos
	for p.buf[i] != '\n' {
		i++
	}
	end = i
	if end > pos && p.buf[end-1] == '\r' {
		end--
	} else if p.crlf {
		// Chunked trailers end lines with CRLF only (RFC 9112 §7.1, errata 7633
		// rejects a bare LF anywhere in the chunked framing).
		return 0, 0, 0, protoErr("trailer line ends with bare LF", p.buf[pos:i])
	}
	return pos, end, i + 1, nil
}

// parseFields parses field lines from pos to the blank line ending the
// block, appending them to fs (the caller passes a stack array's slice, so
// the field index costs no allocation for up to stackFields fields).
func (p *blockParser) parseFields(pos int, fs []field) ([]field, error) {
	for {
		start, end, next, err := p.line(pos)
		if err != nil {
			return fs, err
		}
		if start == end {
			return fs, nil
		}
		if isOWS(p.buf[start]) {
			if len(fs) == 0 {
				// A first field line cannot be a continuation (RFC 9112 §5.2); net/http rejects it too.
				return fs, protoErr("malformed header: leading whitespace", p.buf[start:end])
			}
			if err := p.fold(&fs[len(fs)-1], start, end); err != nil {
				return fs, err
			}
		} else if f, err := p.newField(start, end); err != nil {
			return fs, err
		} else {
			fs = append(fs, f)
		}
		pos = next
	}
}

// newField parses "name:value" in buf[start:end].
func (p *blockParser) newField(start, end int) (field, error) {
	b := p.buf
	colon := -1
	for i := start; i < end; i++ {
		c := b[i]
		if c == ':' {
			colon = i
			break
		}
		if !tokenTable[c] {
			if c == ' ' || c == '\t' {
				// No whitespace between field name and colon (RFC 9112 §5.1, CVE-2019-16276).
				return field{}, protoErr("whitespace in header field name", b[start:end])
			}
			return field{}, protoErr("invalid byte in header field name", b[start:end])
		}
	}
	if colon < 0 {
		return field{}, protoErr("malformed header: missing colon", b[start:end])
	}
	if colon == start {
		return field{}, protoErr("empty header field name", b[start:end])
	}
	canonicalize(b[start:colon])
	for end > colon+1 && isOWS(b[end-1]) { // trailing OWS is not part of the value (RFC 9112 §5.1)
		end--
	}
	if i := invalidValueAt(b[colon+1 : end]); i >= 0 {
		// NUL, CR and other controls are never valid in a value (RFC 9110 §5.5).
		return field{}, protoErr("invalid byte in header field value", b[start:end])
	}
	return field{k0: start, k1: colon, v0: colon + 1, v1: end}, nil
}

// fold joins an obs-fold continuation line to f's value with one SP
// (RFC 9112 §5.2), moving only the continuation's bytes: linear in the
// block size however many continuations there are (CVE-2025-61724).
func (p *blockParser) fold(f *field, start, end int) error {
	b := p.buf
	for start < end && isOWS(b[start]) {
		start++
	}
	for end > start && isOWS(b[end-1]) {
		end--
	}
	if i := invalidValueAt(b[start:end]); i >= 0 {
		return protoErr("invalid byte in header field value", b[start:end])
	}
	b[f.v1] = ' '
	n := copy(b[f.v1+1:], b[start:end])
	f.v1 += 1 + n
	return nil
}

// invalidValueAt returns the index of the first byte not allowed in a
// field value, or -1.
func invalidValueAt(v []byte) int {
	for i, c := range v {
		if !validValueByte(c) {
			return i
		}
	}
	return -1
}

// canonicalize rewrites a valid field name in place to net/http's
// canonical form: upper case first and after '-', lower case elsewhere.
func canonicalize(k []byte) {
	upper := true
	for i, c := range k {
		if upper && 'a' <= c && c <= 'z' {
			k[i] = c - ('a' - 'A')
		} else if !upper && 'A' <= c && c <= 'Z' {
			k[i] = c + ('a' - 'A')
		}
		upper = c == '-'
	}
}

// compact trims each value's leading OWS, interns what it can and moves
// the remaining key and value bytes to the front of the block.
func (p *blockParser) compact(fs []field) {
	b := p.buf
	for i := range fs {
		f := &fs[i]
		for f.v0 < f.v1 && isOWS(b[f.v0]) {
			f.v0++
		}
		if f.key = internKey(b[f.k0:f.k1]); f.key == "" {
			f.k0, f.k1 = p.move(f.k0, f.k1)
		}
		if f.val = internValue(b[f.v0:f.v1]); f.val == "" {
			f.v0, f.v1 = p.move(f.v0, f.v1)
		}
	}
}

// move copies buf[i:j] to the compaction cursor and returns the new span.
func (p *blockParser) move(i, j int) (int, int) {
	n := copy(p.buf[p.w:], p.buf[i:j])
	p.w += n
	return p.w - n, p.w
}

// header builds the http.Header from the compacted fields: one string for
// all kept bytes, one []string for all values, each key's slice capped so
// an append by the caller never overwrites a neighbour. The common case,
// no repeated key, costs one map assignment per field.
func (p *blockParser) header(fs []field, s string) http.Header {
	if len(fs) == 0 {
		return http.Header{}
	}
	h := make(http.Header, len(fs))
	vals := make([]string, len(fs))
	for i := range fs {
		vals[i] = fs[i].valIn(s)
		h[fs[i].keyIn(s)] = vals[i : i+1 : i+1]
		if len(h) != i+1 { // the assignment replaced a value: a repeated key
			clear(h)
			groupValues(h, fs, s, vals)
			break
		}
	}
	return h
}

// groupValues lays out vals so the values of a repeated key are adjacent,
// in order of arrival, under one capped slice.
func groupValues(h http.Header, fs []field, s string, vals []string) {
	for i := range fs {
		// Pass 1: count fields per key; the map holds vals[:first+1] so
		// len-1 recovers the index of the key's first field.
		k := fs[i].keyIn(s)
		if e, ok := h[k]; ok {
			fs[i].first = len(e) - 1
			fs[fs[i].first].count++
			continue
		}
		h[k] = vals[:i+1]
		fs[i].first, fs[i].count = i, 1
	}
	off := 0
	for i := range fs {
		f := &fs[i]
		if f.first == i {
			f.slot = off
			h[f.keyIn(s)] = vals[off : off+f.count : off+f.count]
			off += f.count
		}
		first := &fs[f.first]
		vals[first.slot] = f.valIn(s)
		first.slot++
	}
}

func (f *field) keyIn(s string) string {
	if f.key != "" {
		return f.key
	}
	return s[f.k0:f.k1]
}

func (f *field) valIn(s string) string {
	if f.val != "" || f.v0 == f.v1 {
		return f.val
	}
	return s[f.v0:f.v1]
}

package wire

import (
	"bufio"
	"bytes"
	"net/http"
)

// Reading a response head: status line and header block (RFC 9112 §4, §5).

// HeadBudget is one byte budget shared by every head read for one request:
// the 1xx interim heads and the final head count against the same Limit
// (a server must not get around MaxResponseHeaderBytes by sending many
// 1xx responses). The zero value uses DefaultMaxHeaderBytes.
type HeadBudget struct {
	Limit int // bytes allowed in total; <= 0 means DefaultMaxHeaderBytes
	Used  int // bytes consumed by heads read so far
}

// ReadResponseHead reads a status line and header block from br into resp
// (Status, StatusCode, Proto, ProtoMajor, ProtoMinor, Header with canonical
// keys). maxBytes bounds the bytes consumed for this head (<= 0 means
// DefaultMaxHeaderBytes); exceeding it returns *HeaderLimitError after
// reading at most maxBytes plus one bufio buffer. A peer that closes before
// sending any byte yields io.EOF; one that closes mid-head yields
// io.ErrUnexpectedEOF; bad syntax yields *ProtocolError.
func ReadResponseHead(br *bufio.Reader, maxBytes int, resp *http.Response) error {
	b := HeadBudget{Limit: maxBytes}
	return b.ReadResponseHead(br, resp)
}

// ReadResponseHead is the package function charging b: the head's bytes
// are added to b.Used, and the limit error names b.Limit.
func (b *HeadBudget) ReadResponseHead(br *bufio.Reader, resp *http.Response) error {
	if b.Limit <= 0 {
		b.Limit = DefaultMaxHeaderBytes
	}
	block, inBuf, err := readBlock(br, b.Limit, b.Used, true)
	if err != nil {
		return err
	}
	b.Used += len(block)
	err = parseHead(block, resp)
	if inBuf {
		br.Discard(len(block))
	}
	return err
}

// parseHead parses a complete head block (ending in its blank line).
func parseHead(block []byte, resp *http.Response) error {
	var p blockParser
	p.buf = block
	next, err := p.statusLine()
	if err != nil {
		return err
	}
	var stack [stackFields]field
	fs, err := p.parseFields(next, stack[:0])
	if err != nil {
		return err
	}
	p.w = p.s1 // status text was compacted to [0:s1)
	p.compact(fs)
	s := string(p.buf[:p.w])
	resp.Status = s[p.s0:p.s1]
	resp.StatusCode = int(s[0]-'0')*100 + int(s[1]-'0')*10 + int(s[2]-'0')
	resp.Proto, resp.ProtoMajor, resp.ProtoMinor = "HTTP/1.1", 1, 1
	if p.version == 0 {
		resp.Proto, resp.ProtoMinor = "HTTP/1.0", 0
	}
	resp.Header = p.header(fs, s)
	fixPragma(resp.Header)
	return nil
}

// statusLine parses "HTTP/1.x SP 3DIGIT [SP reason-phrase]" (RFC 9112 §4),
// moves the status text ("200 OK") to the front of the block and returns
// the offset of the first field line.
func (p *blockParser) statusLine() (next int, err error) {
	start, end, next, err := p.line(0)
	if err != nil {
		return 0, err
	}
	b := p.buf[start:end]
	// Only HTTP/1.0 and HTTP/1.1: this is an HTTP/1.1 codec, and a "HTTP/2.0"
	// or "HTTP/0.9" status line means the peer speaks something else (RFC 9112 §2.3).
	switch {
	case len(b) > 8 && string(b[:8]) == "HTTP/1.1" && b[8] == ' ':
		p.version = 1
	case len(b) > 8 && string(b[:8]) == "HTTP/1.0" && b[8] == ' ':
		p.version = 0
	default:
		// net/http's two texts: no SP at all, or a version it cannot parse.
		if v, _, ok := bytes.Cut(b, []byte(" ")); ok {
			if _, _, std := http.ParseHTTPVersion(string(v)); std {
				return 0, protoErr("unsupported HTTP version", v) // net/http takes HTTP/2.0 here
			}
			return 0, protoErr("malformed HTTP version", v)
		}
		return 0, protoErr("malformed HTTP status line", b)
	}
	rest := b[9:]
	for len(rest) > 0 && rest[0] == ' ' { // net/http tolerates extra SP before the code
		rest = rest[1:]
	}
	// The status code is exactly three digits, then SP or the end (RFC 9112 §4).
	if len(rest) < 3 || !isDigit(rest[0]) || !isDigit(rest[1]) || !isDigit(rest[2]) ||
		len(rest) > 3 && rest[3] != ' ' {
		code, _, _ := bytes.Cut(rest, []byte(" "))
		if signedZeroOrPositive(code) {
			return 0, protoErr("HTTP status code with a sign", code) // net/http's Atoi takes "+20", "-00"
		}
		return 0, protoErr("malformed HTTP status code", code)
	}
	// reason-phrase is HTAB, SP, VCHAR or obs-text (RFC 9112 §4): a CR or NUL
	// inside the status line is a response-splitting shape.
	if invalidValueAt(rest) >= 0 {
		return 0, protoErr("invalid byte in HTTP status line", b)
	}
	n := copy(p.buf, rest)
	p.s0, p.s1 = 0, n
	return next, nil
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// fixPragma treats "Pragma: no-cache" like "Cache-Control: no-cache" when
// there is no Cache-Control (RFC 9111 §5.4), as net/http's ReadResponse does.
func fixPragma(h http.Header) {
	if hp, ok := h["Pragma"]; ok && len(hp) > 0 && hp[0] == "no-cache" {
		if _, ok := h["Cache-Control"]; !ok {
			h["Cache-Control"] = []string{"no-cache"}
		}
	}
}

// signedZeroOrPositive: code is a sign and two digits that net/http's
// strconv.Atoi reads as a status code of 0 or more ("+20", "-00"), which
// it accepts and spool does not (doc.go S2).
func signedZeroOrPositive(code []byte) bool {
	if len(code) != 3 || !isDigit(code[1]) || !isDigit(code[2]) {
		return false
	}
	return code[0] == '+' || code[0] == '-' && code[1] == '0' && code[2] == '0'
}

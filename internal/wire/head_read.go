package wire

import (
	"bufio"
	"bytes"
	"io"
)

// Reading a header block (a response head, or a trailer section) off a
// bufio.Reader without copying it when it fits in the reader's buffer.
//
// Fast path: the whole block is buffered; we return a view of the buffer
// (Peek) and the caller parses it in place and then Discards it. Slow path:
// the block is longer than the buffer; we copy it into one growing scratch
// slice. Either way each byte is scanned once for the end of the block, so
// the cost is linear in the block size.

// scratchMinBytes is the first size of the slow path's scratch buffer.
// Heads that reach the slow path are already larger than a bufio buffer.
const scratchMinBytes = 8 << 10

// blockScan finds the end of a header block incrementally: the first empty
// line ("\n" or "\r\n") after the status line (heads) or at any line start
// (trailers).
type blockScan struct {
	lineStart  int  // offset of the line being examined
	statusLine bool // the first line is a status line and cannot end the block
}

// end returns the length of the block within buf, or 0 if buf does not
// hold the whole block yet. buf must start where the block starts and only
// grow between calls.
func (s *blockScan) end(buf []byte) int {
	for s.lineStart < len(buf) {
		rest := buf[s.lineStart:]
		if !s.statusLine {
			if rest[0] == '\n' { // bare LF blank line: RFC 9112 §2.2 lets a recipient accept it
				return s.lineStart + 1
			}
			if rest[0] == '\r' {
				if len(rest) < 2 {
					return 0 // wait for the byte after CR
				}
				if rest[1] == '\n' {
					return s.lineStart + 2
				}
			}
		}
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			return 0
		}
		s.lineStart += i + 1
		s.statusLine = false
	}
	return 0
}

// readBlock returns one complete header block from br. When inBuf is true,
// block is a view of br's buffer: the caller may modify it, must consume it
// with br.Discard(len(block)), and must not read from br before that. When
// inBuf is false, block is a private copy already consumed from br.
// limit bounds len(block); used counts bytes already charged to the same
// limit (earlier 1xx heads). statusLine says the block starts with a status
// line (a response head) rather than with fields (a trailer section).
func readBlock(br *bufio.Reader, limit, used int, statusLine bool) (block []byte, inBuf bool, err error) {
	scan := blockScan{statusLine: statusLine}
	room := limit - used
	for {
		n := br.Buffered()
		if n > 0 {
			buf, _ := br.Peek(n)
			if statusLine {
				if err := checkStatusPrefix(buf); err != nil {
					return nil, false, err
				}
			}
			if e := scan.end(buf); e > 0 {
				if e > room {
					return nil, false, &HeaderLimitError{Limit: limit, Trailer: !statusLine}
				}
				return buf[:e], true, nil
			}
			if n > room {
				return nil, false, &HeaderLimitError{Limit: limit, Trailer: !statusLine}
			}
			if n >= br.Size() {
				b, err := readBlockSlow(br, &scan, limit, room, !statusLine)
				return b, false, err
			}
		}
		if _, err := br.Peek(n + 1); err != nil && br.Buffered() == n {
			return nil, false, blockEOF(err, n)
		}
	}
}

// readBlockSlow copies the block into a scratch slice, one buffer-full at a
// time, consuming from br only the bytes that belong to the block.
func readBlockSlow(br *bufio.Reader, scan *blockScan, limit, room int, trailer bool) ([]byte, error) {
	scratch := make([]byte, 0, max(scratchMinBytes, 2*br.Size()))
	for {
		n := br.Buffered()
		if n == 0 {
			if _, err := br.Peek(1); err != nil && br.Buffered() == 0 {
				return nil, blockEOF(err, len(scratch))
			}
			n = br.Buffered()
		}
		chunk, _ := br.Peek(n)
		old := len(scratch)
		scratch = append(scratch, chunk...)
		if e := scan.end(scratch); e > 0 {
			if e > room {
				return nil, &HeaderLimitError{Limit: limit, Trailer: trailer}
			}
			br.Discard(e - old)
			return scratch[:e], nil
		}
		br.Discard(n)
		if len(scratch) > room {
			return nil, &HeaderLimitError{Limit: limit, Trailer: trailer}
		}
	}
}

// blockEOF maps a read error while collecting a block: a clean close before
// the first byte stays io.EOF (the h1 layer may retry a request whose
// response never started); a close in the middle is io.ErrUnexpectedEOF.
func blockEOF(err error, got int) error {
	if err == io.EOF && got > 0 {
		return io.ErrUnexpectedEOF
	}
	return err
}

// checkStatusPrefix fails fast when a peer answers with something that is
// not HTTP (a TLS record, an HTTP/2 preface, banner text): the status line
// must start with "HTTP/" (RFC 9112 §4), so there is no need to wait for a
// whole line. The version itself is judged with the whole line
// (blockParser.statusLine): net/http takes "HTTP/0.1", which spool refuses as an
// unsupported version, not as a malformed line.
func checkStatusPrefix(buf []byte) error {
	const prefix = "HTTP/"
	n := min(len(buf), len(prefix))
	if string(buf[:n]) != prefix[:n] {
		return protoErr("malformed HTTP status line", firstLine(buf))
	}
	return nil
}

// firstLine returns buf up to its first LF, for error details.
func firstLine(buf []byte) []byte {
	if i := bytes.IndexByte(buf, '\n'); i >= 0 {
		buf = buf[:i]
	}
	return bytes.TrimSuffix(buf, []byte("\r"))
}

package wire

import (
	"bytes"
	"io"

	"golang.org/x/net/http/httpguts"
)

// Reading the chunked transfer coding (RFC 9112 §7.1) and its trailer
// section (RFC 9112 §7.1.2).

// maxChunkLineBytes bounds a chunk-size line including its extensions, as
// net/http's internal/chunked.go does: a size needs at most 16 hex digits,
// and extensions are discarded, so a longer line is only a way to make us
// buffer (CVE-2023-39326).
const maxChunkLineBytes = 4096

// maxChunkSize is the largest chunk accepted. 2^62 is far above any real
// body and keeps the overhead arithmetic below from overflowing.
const maxChunkSize = 1 << 62

// Chunk overhead accounting, the same numbers as net/http (CVE-2023-39326):
// every chunk may carry chunkOverheadAllowance bytes of framing plus twice
// its data size in extensions for free; what exceeds that accumulates, and
// more than maxChunkExcess accumulated fails the body. One-byte chunks stay
// legal, a flood of extension bytes does not.
const (
	chunkOverheadAllowance = 16
	maxChunkExcess         = 16 << 10
)

type chunkState uint8

const (
	chunkSize    chunkState = iota // expect a chunk-size line
	chunkData                      // r.n bytes of chunk data left
	chunkDataEnd                   // expect the CRLF closing chunk data
	chunkTrailer                   // after the last chunk: trailer section
)

// readChunked fills p from chunk data. Once it holds data it does not block
// for framing bytes that are not buffered yet, but it does consume the
// framing that is, so the last chunk and an empty trailer section already
// in the buffer yield io.EOF with the data.
func (r *BodyReader) readChunked(p []byte) (total int, _ error) {
	for r.err == nil {
		switch r.state {
		case chunkData:
			if len(p) == 0 {
				return total, nil
			}
			n := r.readChunkData(p)
			total += n
			p = p[n:]
		case chunkDataEnd:
			if total > 0 && r.br.Buffered() < 2 {
				return total, nil
			}
			r.err = r.chunkEnd()
		case chunkSize:
			if total > 0 && !r.lineBuffered() {
				return total, nil
			}
			r.err = r.chunkSizeLine()
		case chunkTrailer:
			if total > 0 && !r.emptyTrailerBuffered() {
				return total, nil
			}
			if r.err = r.readTrailer(); r.err == nil {
				r.err = io.EOF
			}
		}
	}
	return total, r.err
}

// readChunkData reads at most the rest of the current chunk into p.
func (r *BodyReader) readChunkData(p []byte) int {
	if int64(len(p)) > r.n {
		p = p[:r.n]
	}
	n, err := r.br.Read(p)
	r.n -= int64(n)
	if r.n == 0 {
		r.state = chunkDataEnd
	}
	if err == io.EOF {
		r.err = io.ErrUnexpectedEOF // the peer closed inside a chunk
	} else if err != nil {
		r.err = err
	}
	return n
}

// chunkEnd consumes the CRLF after chunk data. Anything else, a bare LF
// included, is an error (RFC 9112 §7.1; CVE-2025-22871).
func (r *BodyReader) chunkEnd() error {
	b, err := r.br.Peek(2)
	if len(b) < 2 {
		return unexpected(err)
	}
	if b[0] != '\r' || b[1] != '\n' {
		return protoErr("missing CRLF after chunk data", b)
	}
	r.br.Discard(2)
	r.state = chunkSize
	return nil
}

// chunkSizeLine reads "chunk-size [chunk-ext] CRLF" and starts the chunk.
func (r *BodyReader) chunkSizeLine() error {
	line, err := r.br.ReadSlice('\n')
	if err != nil {
		if err == io.EOF {
			return io.ErrUnexpectedEOF
		}
		if len(line) > 0 { // bufio.ErrBufferFull: longer than the buffer
			return protoErr("chunk size line too long", line)
		}
		return err
	}
	// CRLF only, and no CR elsewhere: a bare LF here is a smuggling vector
	// (RFC 9112 §7.1, errata 7633, CVE-2025-22871).
	if i := bytes.IndexByte(line, '\r'); i < 0 {
		return protoErr("chunk size line ends with bare LF", line)
	} else if i != len(line)-2 {
		return protoErr("invalid CR in chunk size line", line)
	}
	line = line[:len(line)-2]
	if len(line) >= maxChunkLineBytes {
		return protoErr("chunk size line too long", line)
	}
	r.excess += int64(len(line)) + 2 // this line plus the CRLF after the data
	size, ok := parseChunkSize(line)
	if !ok {
		return protoErr("invalid chunk size", line)
	}
	if allowance := chunkOverheadAllowance + 2*size; uint64(r.excess) <= allowance {
		r.excess = 0
	} else if r.excess -= int64(allowance); r.excess > maxChunkExcess {
		return protoErr("chunked encoding contains too much non-data", line)
	}
	r.n = int64(size)
	if size == 0 {
		r.state = chunkTrailer // last-chunk (RFC 9112 §7.1)
	} else {
		r.state = chunkData
	}
	return nil
}

// parseChunkSize parses a chunk-size line without its CRLF: 1 to 16 hex
// digits, optional trailing OWS, optional ";extension" which is ignored
// (RFC 9112 §7.1.1). Leading junk, a sign, "0x" or a size above
// maxChunkSize is rejected.
func parseChunkSize(line []byte) (uint64, bool) {
	for len(line) > 0 && isOWS(line[len(line)-1]) {
		line = line[:len(line)-1]
	}
	if i := bytes.IndexByte(line, ';'); i >= 0 {
		line = line[:i]
	}
	if len(line) == 0 || len(line) > 16 {
		return 0, false
	}
	var n uint64
	for _, c := range line {
		var d byte
		switch {
		case '0' <= c && c <= '9':
			d = c - '0'
		case 'a' <= c && c <= 'f':
			d = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			d = c - 'A' + 10
		default:
			return 0, false
		}
		n = n<<4 | uint64(d)
		if n > maxChunkSize {
			return 0, false
		}
	}
	return n, true
}

// lineBuffered reports whether a whole line is already buffered.
func (r *BodyReader) lineBuffered() bool {
	n := r.br.Buffered()
	if n == 0 {
		return false
	}
	b, _ := r.br.Peek(n)
	return bytes.IndexByte(b, '\n') >= 0
}

// emptyTrailerBuffered reports whether the buffered bytes start with the
// CRLF of an empty trailer section.
func (r *BodyReader) emptyTrailerBuffered() bool {
	if r.br.Buffered() < 2 {
		return false
	}
	b, _ := r.br.Peek(2)
	return b[0] == '\r' && b[1] == '\n'
}

// readTrailer reads the trailer section after the last chunk into
// r.resp.Trailer, parsed like a head but with CRLF line endings only and
// bounded by r.maxTrailer. Fields that must not be trailers (framing,
// routing, authentication, content metadata: httpguts.ValidTrailerHeader,
// RFC 9110 §6.5.1) are dropped.
func (r *BodyReader) readTrailer() error {
	if r.emptyTrailerBuffered() {
		r.br.Discard(2)
		return nil
	}
	block, inBuf, err := readBlock(r.br, r.maxTrailer, 0, false)
	if err != nil {
		return unexpected(err)
	}
	p := blockParser{buf: block, crlf: true}
	var stack [stackFields]field
	fs, err := p.parseFields(0, stack[:0])
	if err == nil {
		p.compact(fs)
		r.mergeTrailer(p.header(fs, string(p.buf[:p.w])))
	}
	if inBuf {
		r.br.Discard(len(block))
	}
	return err
}

func (r *BodyReader) mergeTrailer(t map[string][]string) {
	for k := range t {
		if !httpguts.ValidTrailerHeader(k) {
			delete(t, k)
		}
	}
	if r.resp == nil || len(t) == 0 {
		return
	}
	if r.resp.Trailer == nil {
		r.resp.Trailer = t
		return
	}
	for k, v := range t {
		r.resp.Trailer[k] = v
	}
}

// unexpected maps io.EOF inside framing to io.ErrUnexpectedEOF.
func unexpected(err error) error {
	if err == io.EOF || err == nil {
		return io.ErrUnexpectedEOF
	}
	return err
}

package wire

import (
	"bufio"
	"io"
	"net/http"
)

// BodyReader reads one response body according to its Framing. It is a
// value type meant to be embedded in the connection's state (no
// allocation); Reset prepares it for the next response.
//
// Read returns io.EOF exactly at the framed end (together with the last
// bytes when they are already buffered, so the connection can be released
// early), io.ErrUnexpectedEOF if the peer closes before that end, and
// *ProtocolError on bad chunked syntax. Errors are sticky. A body is never
// silently short.
type BodyReader struct {
	br         *bufio.Reader
	resp       *http.Response // receives trailers
	kind       BodyKind
	n          int64      // Length: bytes left; Chunked: bytes left in this chunk
	err        error      // sticky: io.EOF at the framed end, or the first failure
	state      chunkState // Chunked only
	excess     int64      // Chunked only: non-data bytes not yet paid for by data
	maxTrailer int
}

// Reset prepares r to read the body framed by f from br. Trailers of a
// chunked body go to resp.Trailer, bounded by maxTrailerBytes (<= 0 means
// DefaultMaxHeaderBytes).
func (r *BodyReader) Reset(br *bufio.Reader, f Framing, resp *http.Response, maxTrailerBytes int) {
	if maxTrailerBytes <= 0 {
		maxTrailerBytes = DefaultMaxHeaderBytes
	}
	*r = BodyReader{br: br, resp: resp, kind: f.Kind, n: f.Length, maxTrailer: maxTrailerBytes}
	if f.Kind == NoBody || f.Kind == Length && f.Length <= 0 {
		r.kind, r.err = NoBody, io.EOF
	}
}

// Done reports whether the body ended cleanly at its framed end, leaving
// br positioned at the next response, so the connection may be reused.
// It is never true for UntilClose: that body ends with the connection.
func (r *BodyReader) Done() bool { return r.err == io.EOF && r.kind != UntilClose }

// Read implements io.Reader.
func (r *BodyReader) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	switch r.kind {
	case Length:
		return r.readLength(p)
	case Chunked:
		return r.readChunked(p)
	case UntilClose:
		return r.readUntilClose(p)
	}
	r.err = io.EOF
	return 0, r.err
}

// readLength reads a Content-Length body. A read larger than what is
// buffered goes straight to the connection (bufio does so when its buffer
// is empty).
func (r *BodyReader) readLength(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if int64(len(p)) > r.n {
		p = p[:r.n]
	}
	n, err := r.br.Read(p)
	r.n -= int64(n)
	switch {
	case r.n == 0:
		r.err = io.EOF
	case err == io.EOF:
		// The peer closed before Content-Length bytes (RFC 9112 §8: incomplete message).
		r.err = io.ErrUnexpectedEOF
	case err != nil:
		r.err = err
	}
	return n, r.err
}

// readUntilClose reads a body delimited by the connection's end
// (RFC 9112 §6.3 rule 8): io.EOF from the connection is the framed end.
func (r *BodyReader) readUntilClose(p []byte) (int, error) {
	n, err := r.br.Read(p)
	if err != nil {
		r.err = err
	}
	return n, err
}

package h1

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"reflect"
	"sync"

	"github.com/spoolhttp/spool/internal/wire"
)

// Writing a request body: Content-Length, chunked or a tunnel's unframed
// bytes, each through the cheapest path to the socket.

// copyBufs holds the buffers a streamed body is copied through: large
// writes straight to the socket instead of 4 KiB bufio flushes.
var copyBufs = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// writeBody copies a request body with Content-Length or chunked
// framing. A Content-Length body goes to direct: bw itself when written
// inline with the head, the socket when streamed (the head is flushed, so
// large writes skip the 4 KiB bufio copies). buf may be nil.
func writeBody(bw *bufio.Writer, direct io.Writer, body io.Reader, length int64, trailer http.Header, buf []byte) error {
	if length == tunnelLength {
		_, err := io.CopyBuffer(direct, body, buf) // direct is the socket: nothing waits in a buffer
		return err
	}
	if length > 0 {
		n, err := copyBody(direct, body, length, buf)
		if err != nil {
			return err
		}
		if n >= length {
			// A longer body is the caller's mistake, not to be cut
			// silently: read the rest to count it, as net/http does.
			var extra int64
			if extra, err = io.CopyBuffer(io.Discard, body, buf); err != nil {
				return err
			}
			n += extra
		}
		if n != length {
			return &ContentLengthError{ContentLength: length, BodyLength: n}
		}
		return nil
	}
	cw := &flushingChunks{bw: bw}
	cw.cw.Reset(bw)
	if _, err := io.CopyBuffer(cw, body, buf); err != nil {
		return err
	}
	return cw.cw.Close(trailer)
}

// flushingChunks writes each Read of a body of unknown length as one
// chunk and flushes it, as net/http does (FlushAfterChunkWriter): a body
// that trickles (a pipe fed as events come, a streaming upload whose
// server answers each part) reaches the server as it is read, not when
// the buffer fills or the body ends. A large Read is still one chunk and
// one write; the copy buffer is 32 KiB.
type flushingChunks struct {
	cw wire.ChunkedWriter
	bw *bufio.Writer
}

func (w *flushingChunks) Write(p []byte) (int, error) {
	n, err := w.cw.Write(p)
	if err == nil && n > 0 {
		err = w.bw.Flush()
	}
	return n, err
}

// ContentLengthError: the request body did not have the ContentLength it
// declared. The declared bytes may have gone out; the conn is closed.
type ContentLengthError struct {
	ContentLength, BodyLength int64
}

func (e *ContentLengthError) Error() string {
	return fmt.Sprintf("http: ContentLength=%d with Body length %d", e.ContentLength, e.BodyLength)
}

// copyBody copies the first length bytes of a Content-Length body to
// direct. When direct is the socket and the body (out of its io.NopCloser)
// is a file or a socket, the conn's ReadFrom moves it in the kernel
// (sendfile, splice) instead of through buf, as net/http does; TLS conns
// have no ReadFrom and copy.
func copyBody(direct io.Writer, body io.Reader, length int64, buf []byte) (int64, error) {
	if w, ok := direct.(*countWriter); ok {
		if rf, ok := w.c.nc.(io.ReaderFrom); ok {
			if r := unwrapNopCloser(body); kernelCopyable(r) {
				// The conn's ReadFrom looks for the file or socket right
				// inside the LimitedReader.
				n, err := rf.ReadFrom(&io.LimitedReader{R: r, N: length})
				w.c.written.Add(n)
				return n, err
			}
		}
	}
	return copyLimited(direct, body, length, buf)
}

// copyLimited copies up to length bytes of body and reads one byte past
// it. A Read that brings bytes past length is not written: a body whose
// Reads overshoot the declared length (an in-memory body returns it all
// in one Read) fails before its last bytes go out, so the server never
// holds a complete body and answers it before the error is known. The
// count returned is then past length, and writeBody counts the rest. A
// body whose Reads stop exactly at length is found out after its bytes
// went out, as net/http's.
func copyLimited(direct io.Writer, body io.Reader, length int64, buf []byte) (int64, error) {
	if len(buf) == 0 {
		pb := copyBufs.Get().(*[]byte)
		defer copyBufs.Put(pb)
		buf = *pb
	}
	var n int64
	for {
		lim := int64(len(buf))
		if rem := length - n; rem < lim {
			lim = rem + 1 // rem < len(buf): no overflow, even for length near MaxInt64
		}
		k, rerr := body.Read(buf[:lim])
		if n+int64(k) > length {
			return n + int64(k), nil
		}
		if k > 0 {
			w, werr := direct.Write(buf[:k])
			n += int64(w)
			if werr == nil && w < k {
				werr = io.ErrShortWrite
			}
			if werr != nil {
				return n, werr
			}
		}
		switch {
		case rerr == io.EOF:
			return n, nil
		case rerr != nil:
			return n, rerr
		}
	}
}

// kernelCopyable: r is what a TCP conn's ReadFrom sends without a
// user-space copy; any other reader would make it fall back to a copy
// with a buffer of its own.
func kernelCopyable(r io.Reader) bool {
	switch r.(type) {
	case *os.File, *net.TCPConn, *net.UnixConn:
		return true
	}
	return false
}

// The types io.NopCloser returns, to see the reader inside (net/http
// unwraps them the same way): http.NewRequest wraps a body that is not
// already an io.ReadCloser.
var (
	nopCloserType         = reflect.TypeOf(io.NopCloser(nil))
	nopCloserWriterToType = reflect.TypeOf(io.NopCloser(struct {
		io.Reader
		io.WriterTo
	}{}))
)

func unwrapNopCloser(r io.Reader) io.Reader {
	switch reflect.TypeOf(r) {
	case nopCloserType, nopCloserWriterToType:
		if inner, ok := reflect.ValueOf(r).Field(0).Interface().(io.Reader); ok {
			return inner
		}
	}
	return r
}

package wire

import (
	"bufio"
	"net/http"

	"golang.org/x/net/http/httpguts"
)

// Writing the chunked transfer coding (RFC 9112 §7.1) for request bodies.

// ChunkedWriter writes each Write as one chunk to a bufio.Writer. It does
// not flush: the caller decides when bytes go to the network.
type ChunkedWriter struct {
	bw *bufio.Writer
}

// NewChunkedWriter returns a ChunkedWriter writing to bw.
func NewChunkedWriter(bw *bufio.Writer) *ChunkedWriter { return &ChunkedWriter{bw: bw} }

// Reset points w at bw, so a ChunkedWriter can be embedded and reused.
func (w *ChunkedWriter) Reset(bw *bufio.Writer) { w.bw = bw }

// Write writes p as one chunk: "%x\r\n" p "\r\n". An empty p writes
// nothing: a zero-size chunk is the last-chunk (RFC 9112 §7.1).
func (w *ChunkedWriter) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	writeHex(w.bw, uint64(len(p)))
	w.bw.WriteString("\r\n")
	n, err := w.bw.Write(p)
	if err != nil {
		return n, err
	}
	_, err = w.bw.WriteString("\r\n")
	return n, err
}

// Close writes the last chunk "0\r\n", the trailer fields, and the final
// "\r\n" (RFC 9112 §7.1.2). Trailer names and values are checked before
// anything is written; fields that must not be trailers
// (httpguts.ValidTrailerHeader, RFC 9110 §6.5.1) are refused.
func (w *ChunkedWriter) Close(trailer http.Header) error {
	for k, vv := range trailer {
		if !httpguts.ValidHeaderFieldName(k) || !httpguts.ValidTrailerHeader(k) {
			return invalidReq("Trailer", "net/http: invalid trailer field name", k)
		}
		for _, v := range vv {
			if !httpguts.ValidHeaderFieldValue(v) {
				return invalidReq("Trailer", "net/http: invalid trailer field value for", k)
			}
		}
	}
	w.bw.WriteString("0\r\n")
	for k, vv := range trailer {
		for _, v := range vv {
			w.bw.WriteString(k)
			w.bw.WriteString(": ")
			w.bw.WriteString(trimOWS(v))
			w.bw.WriteString("\r\n")
		}
	}
	_, err := w.bw.WriteString("\r\n")
	return err
}

// writeHex writes n in lower-case hex without allocating.
func writeHex(bw *bufio.Writer, n uint64) {
	const digits = "0123456789abcdef"
	var d [16]byte
	i := len(d)
	for {
		i--
		d[i] = digits[n&0xf]
		n >>= 4
		if n == 0 {
			break
		}
	}
	for ; i < len(d); i++ {
		bw.WriteByte(d[i])
	}
}

package spool

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/spoolhttp/spool/internal/errs"
)

// ErrDecompressedTooLarge: a transparently decompressed body passed
// MaxDecompressedBytes (a decompression bomb, curl CVE-2022-32206 class).
var ErrDecompressedTooLarge = errors.New("spool: decompressed body exceeds MaxDecompressedBytes")

// zstdWindowMax bounds the memory a zstd frame may ask for (RFC 8878 §3.1.1.1.2
// recommends supporting 8 MiB windows).
const zstdWindowMax = 8 << 20

// askEncoding decides the Accept-Encoding spool adds: only when the caller
// set none, and not for HEAD or Range requests, whose bodies (or their
// absence) must match the representation byte for byte (as net/http).
func (st *state) askEncoding(req *http.Request) string {
	if st.t.DisableCompression || req.Method == http.MethodHead {
		return ""
	}
	if _, ok := req.Header["Accept-Encoding"]; ok {
		return ""
	}
	if _, ok := req.Header["Range"]; ok {
		return ""
	}
	return st.acceptEncoding
}

// decode replaces the body with a decoder when spool asked for the
// encoding and the server used exactly one we asked for. Chains such as
// "gzip, gzip" are left alone (curl CVE-2023-23916: unbounded chains).
func (st *state) decode(resp *http.Response, asked bool) {
	if !asked || resp.Body == http.NoBody || resp.ContentLength == 0 ||
		resp.StatusCode == http.StatusNoContent || resp.StatusCode == http.StatusNotModified {
		return // nothing to decode (an HTTP/2 empty body is not http.NoBody)
	}
	ce := resp.Header["Content-Encoding"]
	if len(ce) != 1 {
		return
	}
	enc := strings.ToLower(strings.TrimSpace(ce[0]))
	switch enc {
	case "gzip", "x-gzip":
		enc = "gzip"
	case "zstd", "br":
		if !st.t.ExtraEncodings {
			return
		}
	default:
		return
	}
	resp.Body = &decodedBody{raw: resp.Body, enc: enc, left: st.maxDecoded}
	resp.Header.Del("Content-Encoding")
	resp.Header.Del("Content-Length")
	resp.ContentLength = -1
	resp.Uncompressed = true
}

// decodedBody decodes lazily on first Read, like net/http's gzipReader.
// Read and Close may run concurrently (Close interrupts a blocked Read):
// mu serialises them, and a Close that finds a Read in progress closes the
// raw body first to wake it.
type decodedBody struct {
	mu  sync.Mutex
	raw io.ReadCloser
	enc string
	dec io.Reader
	// zd is closed at EOF or Close to release its buffers early. With
	// concurrency 1 it starts no goroutine, so the decoder of a body
	// dropped without Close is collected with it (nothing leaks).
	zd   *zstd.Decoder
	left int64 // bytes still allowed; <0 means no limit
	err  error
}

func (d *decodedBody) Read(p []byte) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.err != nil {
		return 0, d.err
	}
	if d.dec == nil {
		if d.err = d.open(); d.err != nil {
			return 0, d.err
		}
	}
	if d.left >= 0 && int64(len(p)) > d.left+1 {
		p = p[:d.left+1]
	}
	n, err := d.dec.Read(p)
	if d.left >= 0 {
		if int64(n) > d.left {
			d.fail(&Error{Op: OpDecode, Err: ErrDecompressedTooLarge})
			return int(d.left), d.err
		}
		d.left -= int64(n)
	}
	if err != nil {
		if err != io.EOF && d.enc != "gzip" {
			// zstd and br are spool's own; net/http returns gzip's errors as they are.
			err = errs.Wrap(OpDecode, "", false, err)
		}
		d.fail(err)
	}
	return n, err
}

// fail makes err sticky and releases the decoder. Called with mu held.
func (d *decodedBody) fail(err error) {
	d.err = err
	if d.zd != nil {
		d.zd.Close()
		d.zd = nil
	}
}

func (d *decodedBody) open() error {
	var err error
	switch d.enc {
	case "gzip":
		var zr *gzip.Reader
		zr, err = gzip.NewReader(d.raw)
		if err == io.EOF {
			return io.EOF // an empty body: nothing was encoded
		}
		if err == nil {
			d.dec = zr
		}
	case "zstd":
		d.zd, err = zstd.NewReader(d.raw, zstd.WithDecoderConcurrency(1),
			zstd.WithDecoderLowmem(true), zstd.WithDecoderMaxWindow(zstdWindowMax))
		d.dec = d.zd
	case "br":
		d.dec = brotli.NewReader(d.raw)
	}
	if err != nil && d.enc != "gzip" {
		return errs.Wrap(OpDecode, "", false, err)
	}
	return err // gzip's own, as net/http returns it (io.ErrUnexpectedEOF for a cut header)
}

func (d *decodedBody) Close() error {
	if !d.mu.TryLock() {
		d.raw.Close() // wake the Read in progress
		d.mu.Lock()
	}
	defer d.mu.Unlock()
	if d.err == nil {
		d.fail(ErrBodyClosed)
	} else if d.zd != nil {
		d.zd.Close()
		d.zd = nil
	}
	return d.raw.Close()
}

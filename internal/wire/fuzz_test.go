package wire

import (
	"bufio"
	"strings"
	"testing"
)

// Fuzz targets. Seeds live in testdata/fuzz/<Name>/ and run in every
// `go test`; `go test -fuzz=FuzzChunked -fuzztime=20s ./internal/wire/`
// explores further.

var fuzzMethods = [...]string{"GET", "HEAD", "POST"}

func newReader(s string) *bufio.Reader { return bufio.NewReader(strings.NewReader(s)) }

// FuzzResponseHead: head (and framing, which net/http's ReadResponse also
// applies) compared with http.ReadResponse; no body is read.
func FuzzResponseHead(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		compareWithNetHTTP(t, "GET", string(data), false)
	})
}

// FuzzFraming: head, framing decision and body for a request method chosen
// by the first byte, compared with http.ReadResponse and its body.
func FuzzFraming(f *testing.F) {
	f.Fuzz(func(t *testing.T, method uint8, data []byte) {
		compareWithNetHTTP(t, fuzzMethods[int(method)%len(fuzzMethods)], string(data), true)
	})
}

// chunkedHead frames FuzzChunked's input.
const chunkedHead = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n"

// FuzzChunked: a chunked body (after a fixed head) compared with net/http's
// chunked reader, reached through http.ReadResponse.
func FuzzChunked(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte) {
		compareWithNetHTTP(t, "GET", chunkedHead+string(body), true)
	})
}

package wire

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Seed corpora for the fuzz targets, written to testdata/fuzz/<Name>/ by
//
//	WIRE_WRITE_SEEDS=1 go test -run TestWriteSeeds ./internal/wire/
//
// and from there run by every `go test` as the targets' seed inputs.

var headSeeds = []string{
	"HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 5\r\n\r\n",
	"HTTP/1.0 404 Not Found\r\nServer: x\r\n\r\n",
	"HTTP/1.1 204\r\nDate: Mon, 01 Jan 2024 00:00:00 GMT\r\n\r\n",
	"HTTP/1.1 200 OK\nContent-Length: 0\n\n",                                  // bare LF
	"HTTP/1.1 200 OK\r\nX-Long: a\r\n  b\r\n\tc\r\nContent-Length: 0\r\n\r\n", // obs-fold
	"HTTP/1.1 200 OK\r\nFoo : bar\r\n\r\n",                                    // CVE-2019-16276
	"HTTP/1.1 200 OK\r\nX: a\x00b\r\n\r\n",                                    // NUL in value
	"HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n",                                      // CR in value
	"HTTP/2.0 200 OK\r\n\r\n",                                                 // wrong version
	"HTTP/1.1 +20 OK\r\n\r\n",                                                 // sign in code
	"HTTP/1.1 200 O\rK\r\n\r\n",                                               // CR in reason
	"HTTP/1.1 200 OK\r\n leading: space\r\n\r\n",                              // fold on first field
	"HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nPragma: no-cache\r\nConnection: close\r\n\r\n",
	"HTTP/1.1 200 OK\r\nX: " + strings.Repeat("a\r\n ", 50) + "\r\n\r\n", // many folds (CVE-2025-61724)
}

var framingSeeds = []struct {
	method uint8 // index into fuzzMethods
	msg    string
}{
	{0, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"},
	{0, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel"},                        // short body
	{0, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello"}, // identical dups
	{0, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!"},
	{0, "HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\nhello"},
	{0, "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n"},
	{0, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n3\r\nabc\r\n0\r\n\r\n"}, // smuggling shape
	{0, "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n"},
	{0, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"},
	{0, "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"},
	{0, "HTTP/1.1 200 OK\r\n\r\nuntil close"},
	{0, "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok"},
	{1, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"},
	{0, "HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n"},
	{2, "HTTP/1.1 100 Continue\r\n\r\n"},
	{0, "HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\nTrailer: X-A, X-B\r\n\r\n1\r\na\r\n0\r\nX-A: 1\r\n\r\n"},
}

var chunkedSeeds = []string{
	"5\r\nhello\r\n0\r\n\r\n",
	"5;ext=1\r\nhello\r\n0\r\nX-Sum: 1\r\n\r\n",
	"1\r\na\r\n1\r\nb\r\n1\r\nc\r\n0\r\n\r\n",
	"5\nhello\r\n0\r\n\r\n",      // bare LF after size (CVE-2025-22871)
	"5\r\nhelloXX0\r\n\r\n",      // missing CRLF after data
	"5\r\nhello\n0\r\n\r\n",      // bare LF after data
	"fffffffffffffffff\r\n",      // 17 digits
	"4000000000000001\r\n",       // above 2^62
	"0x5\r\nhello\r\n0\r\n\r\n",  // leading junk
	"5 ;x\r\nhello\r\n0\r\n\r\n", // BWS before extension
	"1;" + strings.Repeat("e", 4000) + "\r\na\r\n0\r\n\r\n",
	strings.Repeat("1;"+strings.Repeat("x", 100)+"\r\na\r\n", 200) + "0\r\n\r\n", // CVE-2023-39326
	"5\r\nhello\r\n0\r\nX-Sum: 1\nX-B: 2\r\n\r\n",                                // bare LF in trailers
	"5\r\nhello\r\n0\r\nContent-Length: 9\r\nX-Sum: 2\r\n\r\n",
	"5\r\nhel",
}

func TestWriteSeeds(t *testing.T) {
	if os.Getenv("WIRE_WRITE_SEEDS") == "" {
		t.Skip("set WIRE_WRITE_SEEDS=1 to rewrite testdata/fuzz")
	}
	for i, s := range headSeeds {
		writeSeed(t, "FuzzResponseHead", i, fmt.Sprintf("[]byte(%q)", s))
	}
	for i, s := range framingSeeds {
		writeSeed(t, "FuzzFraming", i, fmt.Sprintf("byte(%q)\n[]byte(%q)", s.method, s.msg))
	}
	for i, s := range chunkedSeeds {
		writeSeed(t, "FuzzChunked", i, fmt.Sprintf("[]byte(%q)", s))
	}
}

func writeSeed(t *testing.T, target string, i int, args string) {
	dir := filepath.Join("testdata", "fuzz", target)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	name := filepath.Join(dir, fmt.Sprintf("seed%02d", i))
	if err := os.WriteFile(name, []byte("go test fuzz v1\n"+args+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

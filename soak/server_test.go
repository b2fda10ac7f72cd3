package soak

import (
	"bytes"
	"compress/gzip"
	"hash/crc32"
	"io"
	"log"
	"net/http"
	"strconv"
	"time"

	"github.com/spoolhttp/spool/internal/testutil"
)

// contentSize is the size of the shared content every body is a slice of;
// both processes derive it from the same seed.
const contentSize = 1 << 20

// content is deterministic pseudo-random bytes (xorshift64*), the same in
// the test and in the child server.
var content = func() []byte {
	b := make([]byte, contentSize)
	x := uint64(0x9E3779B97F4A7C15)
	for i := 0; i < len(b); i += 8 {
		x ^= x >> 12
		x ^= x << 25
		x ^= x >> 27
		v := x * 0x2545F4914F6CDD1D
		for j := 0; j < 8 && i+j < len(b); j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	return b
}()

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func crc(b []byte) string { return strconv.FormatUint(uint64(crc32.Checksum(b, castagnoli)), 16) }

// gzSizes are the body sizes served gzip-encoded (precompressed at start;
// always content[:size]).
var gzSizes = []int{100, 3000, 40000, 200000}

// runChildServer is the soak's child server (see
// testutil.StartChildServer): a net/http server that serves
//
//	GET|HEAD /b?off=&size=[&cl=1][&close=1][&stall=1][&gz=1]
//	    content[off:off+size], X-Crc and X-Len describe it (decoded);
//	    cl sets Content-Length, close asks for Connection: close, stall
//	    sends half, pauses, then the rest; gz sends it gzip-encoded
//	POST /u?off=&size=
//	    checks the upload equals content[off:off+size]: 200 "ok" or 500.
func runChildServer() {
	gz := map[int][]byte{}
	for _, n := range gzSizes {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		zw.Write(content[:n])
		zw.Close()
		gz[n] = b.Bytes()
	}
	// HTTP/1.1 and h2c by prior knowledge on the one port.
	var protos http.Protocols
	protos.SetHTTP1(true)
	protos.SetUnencryptedHTTP2(true)
	testutil.ServeChildServer(&http.Server{Protocols: &protos, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		off, _ := strconv.Atoi(q.Get("off"))
		size, _ := strconv.Atoi(q.Get("size"))
		if off < 0 || size < 0 || off+size > contentSize {
			http.Error(w, "bad range", 400)
			return
		}
		want := content[off : off+size]
		if r.URL.Path == "/u" {
			got, err := io.ReadAll(r.Body)
			if err != nil || !bytes.Equal(got, want) {
				http.Error(w, "corrupt upload", 500)
				return
			}
			io.WriteString(w, "ok")
			return
		}
		h := w.Header()
		h.Set("X-Crc", crc(want))
		h.Set("X-Len", strconv.Itoa(size))
		body := want
		if q.Get("gz") != "" {
			body = gz[size]
			h.Set("Content-Encoding", "gzip")
		}
		if q.Get("cl") != "" {
			h.Set("Content-Length", strconv.Itoa(len(body)))
		}
		if q.Get("close") != "" {
			h.Set("Connection", "close")
		}
		if r.Method == http.MethodHead {
			return
		}
		if q.Get("stall") != "" {
			w.Write(body[:len(body)/2])
			w.(http.Flusher).Flush()
			time.Sleep(2 * time.Millisecond)
			body = body[len(body)/2:]
		}
		w.Write(body)
	}), ErrorLog: log.New(io.Discard, "", 0)})
}

package wire

import (
	"bufio"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// Allocation pins and benchmarks for the hot paths: the head parser and
// the head writer. The project targets <= 8 allocations per round trip.

// typicalResponse has 5 header fields, 2 of them uncommon.
const typicalResponse = "HTTP/1.1 200 OK\r\n" +
	"Date: Mon, 27 Jul 2026 12:28:53 GMT\r\n" +
	"Content-Type: application/json\r\n" +
	"Content-Length: 2\r\n" +
	"X-Request-Id: 4f9a1c\r\n" +
	"X-Custom-Thing: yes\r\n" +
	"\r\n{}"

// maxHeadAllocs: header map, values slice, head string (the map may take
// one more internal allocation).
const maxHeadAllocs = 4

// rewindReader replays one message forever without allocating.
type rewindReader struct {
	s string
	r strings.Reader
}

func (r *rewindReader) Read(p []byte) (int, error) {
	if r.r.Len() == 0 {
		r.r.Reset(r.s)
	}
	return r.r.Read(p)
}

func TestReadResponseHeadAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	src := &rewindReader{s: typicalResponse}
	br := bufio.NewReader(src)
	var resp http.Response
	var body [2]byte
	allocs := testing.AllocsPerRun(1000, func() {
		src.r.Reset(src.s)
		br.Reset(src)
		if err := ReadResponseHead(br, 0, &resp); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(br, body[:]); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > maxHeadAllocs {
		t.Fatalf("ReadResponseHead: %v allocs, want <= %d", allocs, maxHeadAllocs)
	}
	t.Logf("ReadResponseHead: %v allocs", allocs)
}

func TestFramingAndBodyAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	resp := http.Response{ProtoMajor: 1, ProtoMinor: 1, StatusCode: 200,
		Header: http.Header{"Content-Length": {"2"}}}
	br := bufio.NewReader(strings.NewReader(""))
	var r BodyReader
	var buf [8]byte
	src := strings.NewReader("{}")
	allocs := testing.AllocsPerRun(1000, func() {
		src.Reset("{}")
		br.Reset(src)
		f, err := ResponseFraming("GET", &resp)
		if err != nil {
			t.Fatal(err)
		}
		r.Reset(br, f, &resp, 0)
		if n, err := r.Read(buf[:]); n != 2 || err != io.EOF {
			t.Fatal(n, err)
		}
	})
	if allocs != 0 {
		t.Fatalf("ResponseFraming + BodyReader: %v allocs, want 0", allocs)
	}
}

func typicalRequest() *http.Request {
	u, _ := url.Parse("http://api.example.com/v1/items?limit=10")
	return &http.Request{Method: "GET", URL: u, Host: u.Host, Header: http.Header{
		"Accept":        {"application/json"},
		"Authorization": {"Bearer abc"},
		"X-Request-Id":  {"4f9a1c"},
	}}
}

func TestWriteRequestHeadAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	req := typicalRequest()
	bw := bufio.NewWriter(io.Discard)
	o := &HeadOptions{UserAgent: "spool/1", AcceptEncoding: "gzip"}
	allocs := testing.AllocsPerRun(1000, func() {
		if err := WriteRequestHead(bw, req, o); err != nil {
			t.Fatal(err)
		}
		bw.Flush()
	})
	if allocs != 0 {
		t.Fatalf("WriteRequestHead: %v allocs, want 0", allocs)
	}
	// The same with a body length.
	o.ContentLength = 1234
	req.Method = "POST"
	allocs = testing.AllocsPerRun(1000, func() {
		WriteRequestHead(bw, req, o)
		bw.Flush()
	})
	if allocs != 0 {
		t.Fatalf("WriteRequestHead with Content-Length: %v allocs, want 0", allocs)
	}
}

func BenchmarkReadResponseHead(b *testing.B) {
	src := &rewindReader{s: typicalResponse}
	br := bufio.NewReader(src)
	var body [2]byte
	b.ReportAllocs()
	b.SetBytes(int64(len(typicalResponse)))
	for b.Loop() {
		var resp http.Response
		if err := ReadResponseHead(br, 0, &resp); err != nil {
			b.Fatal(err)
		}
		io.ReadFull(br, body[:])
	}
}

// BenchmarkNetHTTPReadResponse is the sibling: net/http's ReadResponse on
// the same bytes (it also decides framing, so compare with
// BenchmarkReadResponseHeadAndFraming).
func BenchmarkNetHTTPReadResponse(b *testing.B) {
	src := &rewindReader{s: typicalResponse}
	br := bufio.NewReader(src)
	req := &http.Request{Method: "GET"}
	b.ReportAllocs()
	b.SetBytes(int64(len(typicalResponse)))
	for b.Loop() {
		resp, err := http.ReadResponse(br, req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
	}
}

func BenchmarkReadResponseHeadAndFraming(b *testing.B) {
	src := &rewindReader{s: typicalResponse}
	br := bufio.NewReader(src)
	var r BodyReader
	var body [8]byte
	b.ReportAllocs()
	b.SetBytes(int64(len(typicalResponse)))
	for b.Loop() {
		var resp http.Response
		if err := ReadResponseHead(br, 0, &resp); err != nil {
			b.Fatal(err)
		}
		f, err := ResponseFraming("GET", &resp)
		if err != nil {
			b.Fatal(err)
		}
		r.Reset(br, f, &resp, 0)
		r.Read(body[:])
	}
}

func BenchmarkWriteRequestHead(b *testing.B) {
	req := typicalRequest()
	bw := bufio.NewWriter(io.Discard)
	o := &HeadOptions{UserAgent: "spool/1", AcceptEncoding: "gzip"}
	b.ReportAllocs()
	for b.Loop() {
		WriteRequestHead(bw, req, o)
		bw.Flush()
	}
}

// BenchmarkNetHTTPRequestWrite is the sibling: (*http.Request).Write.
func BenchmarkNetHTTPRequestWrite(b *testing.B) {
	req := typicalRequest()
	req.Header.Set("User-Agent", "spool/1")
	req.Header.Set("Accept-Encoding", "gzip")
	bw := bufio.NewWriter(io.Discard)
	b.ReportAllocs()
	for b.Loop() {
		req.Write(bw)
		bw.Flush()
	}
}

func BenchmarkChunkedRead(b *testing.B) {
	msg := chunkedHead + strings.Repeat("400\r\n"+strings.Repeat("x", 1024)+"\r\n", 16) + "0\r\n\r\n"
	src := &rewindReader{s: msg}
	br := bufio.NewReader(src)
	var r BodyReader
	buf := make([]byte, 32<<10)
	b.ReportAllocs()
	b.SetBytes(16 << 10)
	for b.Loop() {
		var resp http.Response
		if err := ReadResponseHead(br, 0, &resp); err != nil {
			b.Fatal(err)
		}
		f, _ := ResponseFraming("GET", &resp)
		r.Reset(br, f, &resp, 0)
		for {
			if _, err := r.Read(buf); err != nil {
				break
			}
		}
	}
}

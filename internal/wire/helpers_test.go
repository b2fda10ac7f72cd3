package wire

import (
	"bufio"
	"io"
	"net/http"
	"strings"
)

// parsed is everything wire makes of one response message.
type parsed struct {
	resp    http.Response
	framing Framing
	body    []byte
	done    bool
}

// parseAll runs head, framing and body over input with a bufio.Reader of
// bufSize bytes, reading the body with reads of readSize bytes.
func parseAll(method, input string, bufSize, readSize int) (*parsed, error) {
	br := bufio.NewReaderSize(strings.NewReader(input), bufSize)
	p := &parsed{}
	if err := ReadResponseHead(br, 0, &p.resp); err != nil {
		return p, err
	}
	f, err := ResponseFraming(method, &p.resp)
	if err != nil {
		return p, err
	}
	p.framing = f
	var r BodyReader
	r.Reset(br, f, &p.resp, 4096)
	buf := make([]byte, readSize)
	for {
		n, err := r.Read(buf)
		p.body = append(p.body, buf[:n]...)
		if err == io.EOF {
			break
		}
		if err != nil {
			return p, err
		}
	}
	p.done = r.Done()
	return p, nil
}

// netHTTP is what net/http makes of the same bytes.
func netHTTP(method, input string) (*http.Response, []byte, error) {
	br := bufio.NewReader(strings.NewReader(input))
	resp, err := http.ReadResponse(br, &http.Request{Method: method})
	if err != nil {
		return nil, nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, body, err
}

func bufioReaderSize(s string, size int) *bufio.Reader {
	lastCounting = &countingReader{r: strings.NewReader(s)}
	return bufio.NewReaderSize(lastCounting, size)
}

// countingReader lets remaining() tell how much of the input is unread.
type countingReader struct{ r *strings.Reader }

func (c *countingReader) Read(p []byte) (int, error) { return c.r.Read(p) }

// remaining returns the bytes the bufio.Reader has not pulled from its source.
func remaining(br *bufio.Reader) int {
	return lastCounting.r.Len() // set by the last bufioReaderSize
}

var lastCounting *countingReader

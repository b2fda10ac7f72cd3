package spool_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spoolhttp/spool"
)

// onceConn serves fixed bytes to the first request, then EOF.
type onceConn struct {
	mu   sync.Mutex
	data []byte
	read int // bytes the client consumed
}

func (c *onceConn) Read(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.read >= len(c.data) {
		return 0, io.EOF
	}
	n := copy(p, c.data[c.read:])
	c.read += n
	return n, nil
}

func (c *onceConn) Write(p []byte) (int, error)      { return len(p), nil }
func (c *onceConn) Close() error                     { return nil }
func (c *onceConn) LocalAddr() net.Addr              { return cannedAddr{} }
func (c *onceConn) RemoteAddr() net.Addr             { return cannedAddr{} }
func (c *onceConn) SetDeadline(time.Time) error      { return nil }
func (c *onceConn) SetReadDeadline(time.Time) error  { return nil }
func (c *onceConn) SetWriteDeadline(time.Time) error { return nil }

// FuzzExchange runs a whole exchange — request out, arbitrary server bytes
// in, body read to the end — through the Transport and compares with
// http.ReadResponse on the same bytes. spool may refuse what net/http
// accepts (it is stricter where RFC 9112 calls the framing faulty; see
// internal/wire/doc.go), but what spool accepts net/http accepts too, with
// the same status and body; every failure is a *spool.Error; and a conn
// spool keeps for reuse was read exactly to the end of one message.
func FuzzExchange(f *testing.F) {
	for _, s := range []string{
		"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nX-T: 1\r\n\r\n",
		"HTTP/1.1 200 OK\r\n\r\nuntil close",
		"HTTP/1.1 204 No Content\r\n\r\n",
		"HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 200 OK\r\n\r\n",
		"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
		"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
		"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok",
		"HTTP/1.1 200 OK\r\nFoo : bar\r\nContent-Length: 0\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n",
		"SSH-2.0-OpenSSH_9.2\r\n",
		"HTTP/1.1 301 Moved\r\nLocation: /x\r\nContent-Length: 0\r\n\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		conn := &onceConn{data: data}
		tr := &spool.Transport{
			DisableCompression: true,
			DialContext:        func(context.Context, string, string) (net.Conn, error) { return conn, nil },
		}
		defer tr.Close()
		req, _ := http.NewRequest("GET", "http://fuzz.test/", nil)
		status, body, err := fetchAll(tr, req)
		br := bufio.NewReader(bytes.NewReader(data))
		resp, nerr := http.ReadResponse(br, req)
		for nerr == nil && resp.StatusCode >= 100 && resp.StatusCode < 200 && resp.StatusCode != 101 {
			resp, nerr = http.ReadResponse(br, req)
		}
		var nbody []byte
		if nerr == nil {
			nbody, nerr = io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		}
		if err != nil {
			// Where net/http fails too, spool's error has net/http's shape
			// (DESIGN decision 7); where only spool refuses (it is
			// stricter: internal/wire/doc.go), a *spool.Error says why.
			var se *spool.Error
			var pe *spool.ProtocolError
			if nerr == nil && (!errors.As(err, &se) || !errors.As(err, &pe)) {
				t.Fatalf("spool alone refused, with %T %v: want a *spool.Error with a *ProtocolError", err, err)
			}
			return
		}
		if nerr != nil {
			t.Fatalf("spool accepted (status %d, body %q) what net/http refuses: %v", status, body, nerr)
		}
		if status != resp.StatusCode || !bytes.Equal(body, nbody) {
			t.Fatalf("spool: %d %q; net/http: %d %q", status, body, resp.StatusCode, nbody)
		}
		if tr.Stats().Total.Idle == 1 && (br.Buffered() > 0 || conn.read != len(data)) {
			t.Fatalf("conn kept for reuse with %d unread bytes", len(data)-conn.read+br.Buffered())
		}
	})
}

func fetchAll(rt http.RoundTripper, req *http.Request) (int, []byte, error) {
	resp, err := rt.RoundTrip(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	if rw, ok := resp.Body.(io.Writer); ok && resp.StatusCode == 101 {
		_ = rw // an upgraded conn: its bytes are not a body
		return resp.StatusCode, nil, nil
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, b, err
}

var _ = strings.NewReader

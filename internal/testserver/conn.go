package testserver

import (
	"bufio"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// Conn is the server side of one connection. Its helpers write straight
// to the socket (no buffering), so bytes leave in the order and chunks a
// Handler asks for. Write errors are ignored: the client under test may
// well have gone, and what it saw is what the test checks.
type Conn struct {
	s     *Server
	index int
	nc    *net.TCPConn
	br    *bufio.Reader

	// replyMu is held by Reply while it marks replied and writes, so
	// CloseIdleConns, seeing replied, closes only after the last byte left.
	replyMu sync.Mutex

	// Owned by the serve goroutine and the Handler it calls.
	cur  *Request      // the request being handled
	body io.ReadCloser // its body, while not yet read (NoContinue)

	idle          bool // guarded by s.mu; between requests
	replied       bool // guarded by s.mu; Reply sent a final response to the current request
	closeWhenIdle bool // guarded by s.mu; CloseIdleConns came while busy: close when the Handler returns
	closed        bool // guarded by s.mu
}

// Index is the accept order of the conn: 0 for the first.
func (c *Conn) Index() int { return c.index }

// Write sends s exactly as given.
func (c *Conn) Write(s string) { c.nc.Write([]byte(s)) }

// Reply sends a well-formed response with a Content-Length (unless h sets
// Content-Length or Transfer-Encoding itself, or the status forbids a
// body). "Connection: close" in h makes it close the conn afterwards, as
// a server announcing that must.
func (c *Conn) Reply(status int, h http.Header, body string) {
	var b strings.Builder
	fmt.Fprintf(&b, "HTTP/1.1 %d %s\r\n", status, http.StatusText(status))
	for _, k := range slices.Sorted(maps.Keys(h)) {
		for _, v := range h[k] {
			fmt.Fprintf(&b, "%s: %s\r\n", k, v)
		}
	}
	bodyless := status/100 == 1 || status == http.StatusNoContent
	if h.Get("Content-Length") == "" && h.Get("Transfer-Encoding") == "" && !bodyless {
		fmt.Fprintf(&b, "Content-Length: %d\r\n", len(body))
	}
	b.WriteString("\r\n")
	b.WriteString(body)
	c.replyMu.Lock()
	if status >= 200 {
		c.s.mu.Lock()
		c.replied = true
		c.s.mu.Unlock()
	}
	c.Write(b.String())
	c.replyMu.Unlock()
	if strings.EqualFold(h.Get("Connection"), "close") {
		c.Close()
	}
}

// Close closes the conn with a FIN.
func (c *Conn) Close() { c.close(false) }

// Reset closes the conn with an RST (SO_LINGER 0): the client's next read
// or write fails with ECONNRESET.
func (c *Conn) Reset() { c.close(true) }

func (c *Conn) close(rst bool) {
	s := c.s
	s.mu.Lock()
	if c.closed {
		s.mu.Unlock()
		return
	}
	c.closed = true
	delete(s.conns, c)
	s.mu.Unlock()
	if rst {
		c.nc.SetLinger(0)
	}
	c.nc.Close()
}

// closeAfterReply closes c once a Reply in progress has been written.
func (c *Conn) closeAfterReply() {
	c.replyMu.Lock()
	defer c.replyMu.Unlock()
	c.Close()
}

// Stall waits d in real time, or less if the server is shutting down.
func (c *Conn) Stall(d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-c.s.done:
	}
}

// Dribble writes s one byte at a time, every apart.
func (c *Conn) Dribble(s string, every time.Duration) {
	for i := range len(s) {
		if i > 0 {
			c.Stall(every)
		}
		if c.isClosed() {
			return
		}
		c.Write(s[i : i+1])
	}
}

// Continue sends "100 Continue". For NoContinue handlers.
func (c *Conn) Continue() { c.Write("HTTP/1.1 100 Continue\r\n\r\n") }

// ReadBody reads the current request's body if it has not been read yet
// (NoContinue), stores it in the recorded Request and returns it.
func (c *Conn) ReadBody() ([]byte, error) {
	if c.body == nil {
		return c.cur.Body, nil
	}
	b, err := io.ReadAll(c.body)
	c.body = nil
	c.s.mu.Lock()
	c.cur.Body = b
	c.cur.Incomplete = err != nil
	c.s.mu.Unlock()
	return b, err
}

func (c *Conn) isClosed() bool {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	return c.closed
}

// setIdle marks c as between requests; false if it is closed, or was
// asked to close once idle.
func (c *Conn) setIdle() bool {
	c.s.mu.Lock()
	if c.closeWhenIdle {
		c.s.mu.Unlock()
		c.Close()
		return false
	}
	c.idle, c.replied = true, false
	defer c.s.mu.Unlock()
	return !c.closed
}

// setBusy marks c as inside a request; false if it was closed meanwhile
// (by CloseIdleConns, racing with the first byte of a request).
func (c *Conn) setBusy() bool {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	c.idle = false
	return !c.closed
}

// Read reads raw bytes from the client after the request head (for
// upgraded conns: 101 Switching Protocols, tunnels).
func (c *Conn) Read(p []byte) (int, error) { return c.br.Read(p) }

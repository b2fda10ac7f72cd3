package testserver

import (
	"fmt"
	"io"
	"sync"
)

// OK answers 200 with body and keeps the conn alive.
func OK(body string) Handler {
	return func(c *Conn, r *Request) { c.Reply(200, nil, body) }
}

// Script gives the Nth request the server handles (over all conns) step N;
// the last step repeats.
func Script(steps ...Handler) Handler {
	if len(steps) == 0 {
		panic("testserver: Script needs at least one step")
	}
	var mu sync.Mutex
	next := 0
	return func(c *Conn, r *Request) {
		mu.Lock()
		step := steps[min(next, len(steps)-1)]
		next++
		mu.Unlock()
		step(c, r)
	}
}

// CloseAfterHeaders sends a response head promising a 10-byte body, then
// closes: the client gets its headers and an error reading the body.
func CloseAfterHeaders(c *Conn, r *Request) {
	c.Write("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n")
	c.Close()
}

// CloseMidBody sends a head with Content-Length declaredLen, then sent
// (shorter than declaredLen), then closes.
func CloseMidBody(declaredLen int, sent string) Handler {
	return func(c *Conn, r *Request) {
		c.Write(fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", declaredLen, sent))
		c.Close()
	}
}

// StallBeforeHeaders never answers: it waits until the client closes the
// conn (e.g. on its response-header timeout) or the server shuts down.
func StallBeforeHeaders(c *Conn, r *Request) {
	io.Copy(io.Discard, c.br) // returns on the client's FIN/RST or our Close
	c.Close()
}

// ResetOnReuse answers a conn's first request with 200 "ok" and resets the
// conn (RST) when a second request arrives on it, unanswered: a stale
// keep-alive conn as the client sees it.
func ResetOnReuse(c *Conn, r *Request) {
	if r.N == 0 {
		c.Reply(200, nil, "ok")
		return
	}
	c.Reset()
}

// CloseOnReuse is ResetOnReuse with a FIN instead of an RST: the client
// reads io.EOF where it expected a response.
func CloseOnReuse(c *Conn, r *Request) {
	if r.N == 0 {
		c.Reply(200, nil, "ok")
		return
	}
	c.Close()
}

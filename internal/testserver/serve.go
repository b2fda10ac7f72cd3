package testserver

import (
	"io"
	"net/http"
	"strings"
)

// serve reads requests on c one after another and hands each to the
// Handler, until the conn is closed or must be.
func (c *Conn) serve() {
	defer c.s.wg.Done()
	defer c.Close()
	for n := 0; ; n++ {
		// Idle until the first byte of a request arrives: that is the
		// window CloseIdleConns may close, as a keep-alive timeout would.
		if !c.setIdle() {
			return
		}
		if _, err := c.br.Peek(1); err != nil {
			return
		}
		if !c.setBusy() {
			return
		}
		if !c.handleOne(n) {
			return
		}
	}
}

// handleOne reads request n and runs the Handler; false if the conn must
// not carry another request.
func (c *Conn) handleOne(n int) bool {
	hr, err := http.ReadRequest(c.br)
	if err != nil {
		return false // malformed or cut short: nothing to record
	}
	r := &Request{
		ConnIndex: c.index, N: n,
		Method: hr.Method, Target: hr.RequestURI, Proto: hr.Proto,
		Host: hr.Host, Header: wireHeader(hr),
	}
	c.cur, c.body = r, nil
	hasBody := hr.Body != http.NoBody
	expect := hasBody && hr.ProtoAtLeast(1, 1) &&
		strings.EqualFold(hr.Header.Get("Expect"), "100-continue")

	if expect && c.s.NoContinue.Load() {
		c.body = hr.Body // the Handler decides: reply early, or Continue + ReadBody
	} else if hasBody {
		if expect {
			c.Continue() // RFC 9110 §10.1.1: the client may wait for this before sending
		}
		body, err := io.ReadAll(hr.Body)
		r.Body, r.Trailer, r.Incomplete = body, hr.Trailer, err != nil
		if err != nil {
			c.s.record(r)
			return false
		}
	}
	c.s.record(r)
	c.s.h(c, r)

	// An unread body leaves the framing unknown; a "close" request
	// (RFC 9112 §9.6) or an HTTP/1.0 one without keep-alive ends the conn.
	return !c.isClosed() && c.body == nil && !hr.Close
}

// wireHeader puts back the fields http.ReadRequest moves out of Header,
// so a test sees the head as the client sent it.
func wireHeader(hr *http.Request) http.Header {
	h := hr.Header
	if hr.Host != "" {
		h["Host"] = []string{hr.Host}
	}
	if len(hr.TransferEncoding) > 0 {
		h["Transfer-Encoding"] = hr.TransferEncoding
	}
	return h
}

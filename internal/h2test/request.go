package h2test

import (
	"fmt"

	"golang.org/x/net/http2"
)

// Request is a request's HEADERS as the server read them.
type Request struct {
	StreamID  uint32
	Method    string
	Path      string
	Authority string
	Header    []Header // regular fields, in order
	EndStream bool     // no body follows
}

// Get returns the value of the first regular field name, or "".
func (r *Request) Get(name string) string {
	for _, h := range r.Header {
		if h.Name == name {
			return h.Value
		}
	}
	return ""
}

func newRequest(mh *http2.MetaHeadersFrame) *Request {
	r := &Request{StreamID: mh.StreamID, EndStream: mh.StreamEnded()}
	for _, f := range mh.Fields {
		switch f.Name {
		case ":method":
			r.Method = f.Value
		case ":path":
			r.Path = f.Value
		case ":authority":
			r.Authority = f.Value
		default:
			if !f.IsPseudo() {
				r.Header = append(r.Header, Header{f.Name, f.Value})
			}
		}
	}
	return r
}

// control answers what a server must answer at any time: a client
// SETTINGS is acked, a PING is acked. It reports whether f was one of
// those (or another frame a script reading requests does not care about:
// SETTINGS ack, WINDOW_UPDATE, PRIORITY). A client GOAWAY is ErrGoAway.
func (c *Conn) control(f http2.Frame) (bool, error) {
	switch f := f.(type) {
	case *http2.SettingsFrame:
		if f.IsAck() {
			return true, nil
		}
		return true, c.Do(func(fr *http2.Framer) error { return fr.WriteSettingsAck() })
	case *http2.PingFrame:
		if f.IsAck() {
			return true, nil
		}
		return true, c.WritePing(true, f.Data)
	case *http2.GoAwayFrame:
		return true, fmt.Errorf("%w (code %v, last stream %d)", ErrGoAway, f.ErrCode, f.LastStreamID)
	case *http2.WindowUpdateFrame:
		if f.StreamID == 0 {
			c.ConnGrant += int64(f.Increment)
		}
		return true, nil
	case *http2.PriorityFrame:
		return true, nil
	}
	return false, nil
}

// ReadRequest reads frames until a request's HEADERS (with its
// CONTINUATIONs) arrives, answering control frames on the way. DATA and
// RST_STREAM of other streams are skipped; a body's DATA is credited back
// (WINDOW_UPDATE), so an upload on another stream keeps moving.
func (c *Conn) ReadRequest() (*Request, error) {
	for {
		f, err := c.ReadFrame()
		if err != nil {
			return nil, err
		}
		if ok, err := c.control(f); ok || err != nil {
			if err != nil {
				return nil, err
			}
			continue
		}
		switch f := f.(type) {
		case *http2.MetaHeadersFrame:
			return newRequest(f), nil
		case *http2.DataFrame:
			if err := c.credit(f); err != nil {
				return nil, err
			}
		}
	}
}

// credit returns a DATA frame's flow-control bytes to the client.
func (c *Conn) credit(f *http2.DataFrame) error {
	n := f.Length
	if n == 0 {
		return nil
	}
	return c.Do(func(fr *http2.Framer) error {
		if err := fr.WriteWindowUpdate(0, n); err != nil {
			return err
		}
		if f.StreamEnded() {
			return nil
		}
		return fr.WriteWindowUpdate(f.StreamID, n)
	})
}

// ReadBody reads stream id's DATA until END_STREAM (or a RST_STREAM of
// it), crediting every DATA frame back, and returns the body. Frames of
// other streams are skipped; requests that arrive meanwhile are returned
// in others, so the script can answer them.
func (c *Conn) ReadBody(id uint32) (body []byte, others []*Request, err error) {
	for {
		f, err := c.ReadFrame()
		if err != nil {
			return body, others, err
		}
		if ok, err := c.control(f); ok || err != nil {
			if err != nil {
				return body, others, err
			}
			continue
		}
		switch f := f.(type) {
		case *http2.MetaHeadersFrame:
			others = append(others, newRequest(f))
		case *http2.RSTStreamFrame:
			if f.StreamID == id {
				return body, others, fmt.Errorf("h2test: client reset stream %d: %v", id, f.ErrCode)
			}
		case *http2.DataFrame:
			if err := c.credit(f); err != nil {
				return body, others, err
			}
			if f.StreamID == id {
				body = append(body, f.Data()...)
				if f.StreamEnded() {
					return body, others, nil
				}
			}
		}
	}
}

// Serve answers requests with respond until the conn fails or the client
// sends GOAWAY, crediting request bodies back (respond runs on the
// script's goroutine, before the next frame is read; a request with a
// body gets it read first).
func (c *Conn) Serve(respond func(c *Conn, r *Request, body []byte)) error {
	var queue []*Request
	for {
		var r *Request
		if len(queue) > 0 {
			r, queue = queue[0], queue[1:]
		} else {
			var err error
			if r, err = c.ReadRequest(); err != nil {
				return err
			}
		}
		var body []byte
		if !r.EndStream {
			var others []*Request
			var err error
			body, others, err = c.ReadBody(r.StreamID)
			queue = append(queue, others...)
			if err != nil {
				return err
			}
		}
		respond(c, r, body)
	}
}

// Handle returns a script that does the handshake and serves every
// request with respond: an ordinary HTTP/2 server, as a base to misbehave
// from or as a healthy second origin.
func Handle(respond func(c *Conn, r *Request, body []byte)) func(*Conn) {
	return func(c *Conn) {
		if c.Handshake() != nil {
			return
		}
		c.Serve(respond)
	}
}

// OK answers every request 200 with body "ok".
func OK(c *Conn, r *Request, _ []byte) { c.WriteResponse(r.StreamID, 200, []byte("ok")) }

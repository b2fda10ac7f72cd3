package h2test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// readBound is how long one ReadFrame waits for the client: a script must
// not hang a test when the client does something else than expected.
const readBound = 10 * time.Second

// Conn is one accepted conn as the script sees it. Reads (ReadFrame and
// the helpers built on it) belong to the script's goroutine; the Write
// methods may be called from any goroutine (one mutex orders them).
type Conn struct {
	// Index counts the server's conns from 0 in accept order.
	Index int
	// NC is the raw conn, for raw bytes or a close at a chosen moment.
	NC net.Conn
	// Fr reads and writes frames; AllowIllegalWrites is on, so a script
	// can send what a broken or hostile server sends.
	Fr *http2.Framer

	// ClientSettings are the client's SETTINGS as Handshake read them;
	// ConnGrant sums the client's WINDOW_UPDATE increments on stream 0
	// seen by the reading helpers. Script goroutine only.
	ClientSettings map[http2.SettingID]uint32
	ConnGrant      int64

	done <-chan struct{}

	deadline time.Time // SetDeadline's; zero: readBound from each read

	wmu    sync.Mutex // guards Fr's writes, enc and encBuf
	enc    *hpack.Encoder
	encBuf bytes.Buffer
}

func newConn(nc net.Conn, i int, done <-chan struct{}) *Conn {
	c := &Conn{Index: i, NC: nc, done: done}
	c.Fr = http2.NewFramer(nc, nc)
	c.Fr.AllowIllegalWrites = true
	c.Fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	c.Fr.MaxHeaderListSize = 1 << 20
	c.enc = hpack.NewEncoder(&c.encBuf)
	return c
}

// Done is closed when the server closes.
func (c *Conn) Done() <-chan struct{} { return c.done }

// Park blocks until the server closes: the peer that stops reading.
func (c *Conn) Park() { <-c.done }

// Write sends raw bytes (in the frames' order).
func (c *Conn) Write(p []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_, err := c.NC.Write(p)
	return err
}

// Do runs f with the frame writer held, for frames the helpers do not
// cover (f calls c.Fr.WriteXxx).
func (c *Conn) Do(f func(fr *http2.Framer) error) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return f(c.Fr)
}

// ReadPreface reads the client connection preface.
func (c *Conn) ReadPreface() error {
	buf := make([]byte, len(http2.ClientPreface))
	c.NC.SetReadDeadline(time.Now().Add(readBound))
	if _, err := io.ReadFull(c.NC, buf); err != nil {
		return fmt.Errorf("h2test: reading the client preface: %w", err)
	}
	if string(buf) != http2.ClientPreface {
		return fmt.Errorf("h2test: bad client preface %q", buf)
	}
	return nil
}

// ReadFrame reads the next frame, waiting at most readBound, or until
// the SetDeadline time.
func (c *Conn) ReadFrame() (http2.Frame, error) {
	d := c.deadline
	if d.IsZero() {
		d = time.Now().Add(readBound)
	}
	c.NC.SetReadDeadline(d)
	return c.Fr.ReadFrame()
}

// SetDeadline makes ReadFrame and the helpers built on it (ReadRequest,
// ReadBody, Serve) fail at t, for a script that waits for frames that
// may never come; the zero time restores readBound per read.
func (c *Conn) SetDeadline(t time.Time) { c.deadline = t }

// Handshake reads the client preface and SETTINGS, sends the server's
// SETTINGS (settings, possibly none) and acks the client's. The client's
// ack of ours is left to ReadRequest, which skips it.
func (c *Conn) Handshake(settings ...http2.Setting) error {
	if err := c.ReadPreface(); err != nil {
		return err
	}
	f, err := c.ReadFrame()
	if err != nil {
		return err
	}
	sf, ok := f.(*http2.SettingsFrame)
	if !ok || sf.IsAck() {
		return fmt.Errorf("h2test: first client frame is %v, not SETTINGS", f.Header())
	}
	c.ClientSettings = map[http2.SettingID]uint32{}
	sf.ForeachSetting(func(s http2.Setting) error { c.ClientSettings[s.ID] = s.Val; return nil })
	return c.Do(func(fr *http2.Framer) error {
		if err := fr.WriteSettings(settings...); err != nil {
			return err
		}
		return fr.WriteSettingsAck()
	})
}

// StreamWindow is the client's initial stream receive window: its
// SETTINGS_INITIAL_WINDOW_SIZE, or the default 65,535.
func (c *Conn) StreamWindow() int64 {
	if v, ok := c.ClientSettings[http2.SettingInitialWindowSize]; ok {
		return int64(v)
	}
	return 65535
}

// Header is one header field; a response is a list, pseudo-headers first.
type Header struct{ Name, Value string }

// Status returns the :status field for code.
func Status(code int) Header { return Header{":status", strconv.Itoa(code)} }

// EncodeHeaders hpack-encodes fields with the conn's encoder (its dynamic
// table is the one the client decodes with, so the block must be sent).
func (c *Conn) EncodeHeaders(fields ...Header) []byte {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.encodeLocked(fields)
}

func (c *Conn) encodeLocked(fields []Header) []byte {
	c.encBuf.Reset()
	for _, f := range fields {
		c.enc.WriteField(hpack.HeaderField{Name: f.Name, Value: f.Value})
	}
	return bytes.Clone(c.encBuf.Bytes())
}

// WriteHeaders sends one HEADERS frame (END_HEADERS set) with fields.
func (c *Conn) WriteHeaders(streamID uint32, endStream bool, fields ...Header) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.Fr.WriteHeaders(http2.HeadersFrameParam{StreamID: streamID,
		BlockFragment: c.encodeLocked(fields), EndStream: endStream, EndHeaders: true})
}

// WriteData sends one DATA frame.
func (c *Conn) WriteData(streamID uint32, endStream bool, data []byte) error {
	return c.Do(func(fr *http2.Framer) error { return fr.WriteData(streamID, endStream, data) })
}

// WriteResponse sends a complete response: HEADERS with :status and
// content-length, then body in DATA frames of at most 16 KiB (the
// default SETTINGS_MAX_FRAME_SIZE), the last with END_STREAM.
func (c *Conn) WriteResponse(streamID uint32, status int, body []byte) error {
	fields := []Header{Status(status), {"content-length", strconv.Itoa(len(body))}}
	if err := c.WriteHeaders(streamID, len(body) == 0, fields...); err != nil || len(body) == 0 {
		return err
	}
	const chunk = 16 << 10
	for len(body) > 0 {
		n := min(len(body), chunk)
		if err := c.WriteData(streamID, n == len(body), body[:n]); err != nil {
			return err
		}
		body = body[n:]
	}
	return nil
}

// WriteRSTStream, WriteGoAway, WriteWindowUpdate, WritePing and
// WriteSettings send the frame of their name.
func (c *Conn) WriteRSTStream(streamID uint32, code http2.ErrCode) error {
	return c.Do(func(fr *http2.Framer) error { return fr.WriteRSTStream(streamID, code) })
}

func (c *Conn) WriteGoAway(lastStreamID uint32, code http2.ErrCode) error {
	return c.Do(func(fr *http2.Framer) error { return fr.WriteGoAway(lastStreamID, code, nil) })
}

func (c *Conn) WriteWindowUpdate(streamID, incr uint32) error {
	return c.Do(func(fr *http2.Framer) error { return fr.WriteWindowUpdate(streamID, incr) })
}

func (c *Conn) WritePing(ack bool, data [8]byte) error {
	return c.Do(func(fr *http2.Framer) error { return fr.WritePing(ack, data) })
}

func (c *Conn) WriteSettings(settings ...http2.Setting) error {
	return c.Do(func(fr *http2.Framer) error { return fr.WriteSettings(settings...) })
}

// ErrGoAway is returned by ReadRequest when the client sent GOAWAY.
var ErrGoAway = errors.New("h2test: client sent GOAWAY")

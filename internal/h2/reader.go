package h2

import (
	"errors"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// readerState is owned by the reader goroutine.
type readerState struct {
	gotSettings bool
	wantAcks    int   // SETTINGS we sent and the peer has not acked
	recvWindow  int32 // conn: bytes the peer may still send
	unacked     int32 // conn: bytes received, credit not yet returned
	bdp         bdpEstimator
	hdec        *hpack.Decoder
	block       headBlock // the header block being read
}

// maxControlBacklog bounds the frames the reader queues while the peer
// does not read them (PING, SETTINGS acks, RST_STREAM): a flood of frames
// that each demand an answer is ENHANCE_YOUR_CALM, not memory.
const maxControlBacklog = 1 << 20

var errControlBacklog = errors.New("h2: peer floods frames that need answers and does not read")

// readLoop is the conn's one goroutine: it reads frames until the conn
// fails or closes, then tears the conn down.
func (c *Conn) readLoop() {
	c.rd.wantAcks = 1 // our initial SETTINGS
	c.rd.bdp.init(!c.cfg.DisableAdaptiveWindow)
	c.teardown(c.readFrames())
}

func (c *Conn) readFrames() error {
	for {
		f, err := c.fr.ReadFrame()
		c.health.seen.Store(true)
		if err != nil {
			var se http2.StreamError
			if errors.As(err, &se) {
				if err := c.streamError(se.StreamID, se.Code, se); err != nil {
					return err
				}
				continue
			}
			return err
		}
		if !c.rd.gotSettings {
			sf, ok := f.(*http2.SettingsFrame)
			if !ok || sf.IsAck() {
				return connError(http2.ErrCodeProtocol, "first frame from server is not SETTINGS")
			}
		}
		if err := c.dispatch(f); err != nil {
			return err
		}
	}
}

func (c *Conn) dispatch(f http2.Frame) error {
	switch f := f.(type) {
	case *http2.HeadersFrame:
		c.startBlock(f)
		return c.onFragment(f.HeaderBlockFragment(), f.HeadersEnded())
	case *http2.ContinuationFrame:
		return c.onFragment(f.HeaderBlockFragment(), f.HeadersEnded())
	case *http2.DataFrame:
		return c.onData(f)
	case *http2.SettingsFrame:
		return c.onSettings(f)
	case *http2.WindowUpdateFrame:
		return c.onWindowUpdate(f)
	case *http2.PingFrame:
		return c.onPing(f)
	case *http2.RSTStreamFrame:
		return c.onRST(f)
	case *http2.GoAwayFrame:
		return c.onGoAway(f)
	case *http2.PushPromiseFrame:
		// We sent SETTINGS_ENABLE_PUSH=0 (§6.6, §8.4).
		return connError(http2.ErrCodeProtocol, "PUSH_PROMISE with push disabled")
	}
	return nil // PRIORITY, unknown types: ignored (§5.5)
}

// onFragment decodes a header fragment and, at END_HEADERS, hands the
// block on.
func (c *Conn) onFragment(frag []byte, end bool) error {
	if err := c.decodeFragment(frag, end); err != nil || !end {
		return err
	}
	b := &c.rd.block
	defer b.clearFields()
	if b.invalid != nil {
		return c.streamError(b.id, http2.ErrCodeProtocol, b.invalid)
	}
	return c.onHeaders(b)
}

// connErr is a connection error we detected: GOAWAY with its code.
type connErr struct {
	code   http2.ErrCode
	reason string
}

func (e *connErr) Error() string {
	return "http2: connection error: " + e.code.String() + ": " + e.reason
}

// Unwrap lets errors.As find x/net's ConnectionError, as x/net reports it.
func (e *connErr) Unwrap() error { return http2.ConnectionError(e.code) }

func connError(code http2.ErrCode, reason string) error { return &connErr{code, reason} }

// lookup returns the open stream id, or nil; idle reports that id was
// never opened (a frame on it is a connection error, §5.1).
func (c *Conn) lookup(id uint32) (s *stream, idle bool) {
	c.mu.Lock()
	s = c.streams[id]
	idle = s == nil && (id >= c.nextID || id%2 == 0)
	c.mu.Unlock()
	return s, idle
}

// streamError resets stream id with code: RST_STREAM, and the stream
// fails with an http2.StreamError (§5.4.2).
func (c *Conn) streamError(id uint32, code http2.ErrCode, cause error) error {
	s, idle := c.lookup(id)
	if s == nil && idle {
		return nil
	}
	if err := c.queueRST(id, code, true); err != nil {
		return err
	}
	if s != nil {
		se, ok := cause.(http2.StreamError)
		if !ok {
			se = http2.StreamError{StreamID: id, Code: code, Cause: cause}
		}
		s.fail(se, true)
		s.finish()
	}
	return nil
}

package h2

import (
	"errors"
	"io"

	"golang.org/x/net/http2"
)

// readerState is owned by whoever holds the conn's reads: the reader
// goroutine, or a caller while it reads its own response (handoff.go).
type readerState struct {
	gotSettings bool
	wantAcks    int   // SETTINGS we sent and the peer has not acked
	recvWindow  int32 // conn: bytes the peer may still send
	unacked     int32 // conn: bytes received, credit not yet returned
	bdp         bdpEstimator
	hdec        hpackDecoder
	block       headBlock  // the header block being read
	peerClosed  closedRing // streams the peer ended (END_STREAM or RST_STREAM)
	hbuf        []byte     // HEADERS payloads
	corked      bool       // the write queue is corked (see corkWhileReady)
	peeking     bool       // the read deadline is in the past (see peekFrame)
	canPeek     bool       // nc is a *tls.Conn whose deadlines work (see readSource)
	handErr     error      // a caller's read failed with it; the reader tears down (handoff.go)
}

// closedRing remembers the last streams the peer closed, so a DATA or
// HEADERS it sends on one later is told apart from a late frame on a stream
// we reset (which §5.1 says to ignore): the former is a connection error
// STREAM_CLOSED (§5.1, "closed").
type closedRing struct {
	ids  [closedRingSize]uint32
	next int
}

const closedRingSize = 32

func (r *closedRing) add(id uint32) {
	r.ids[r.next] = id
	r.next = (r.next + 1) % closedRingSize
}

func (r *closedRing) has(id uint32) bool {
	for _, x := range r.ids {
		if x == id {
			return true
		}
	}
	return false
}

// onClosedStream handles a DATA or HEADERS on a stream no longer open:
// an error if the peer itself had closed it, else ignored.
func (c *Conn) onClosedStream(id uint32) error {
	if c.rd.peerClosed.has(id) {
		return connError(http2.ErrCodeStreamClosed, "frame on a stream the server closed")
	}
	return nil
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
		c.corkWhileReady()
		if err := c.park(); err != nil {
			return err // a caller's read failed (handoff.go)
		}
		c.wq.holdRecheck() // the heads just dispatched (here or by a caller) may end a hold
		if err := c.readOne(); err != nil {
			return err
		}
	}
}

// readOne reads and handles one frame; an error ends the conn. It runs on
// whoever holds the conn's reads: the reader, or a caller (handoff.go).
func (c *Conn) readOne() error {
	f, err := c.readFrame()
	c.health.seen.Store(true)
	if errors.Is(err, http2.ErrFrameTooLarge) {
		return connError(http2.ErrCodeFrameSize, "frame larger than SETTINGS_MAX_FRAME_SIZE")
	}
	if err != nil {
		var se http2.StreamError
		if errors.As(err, &se) {
			return c.streamError(se.StreamID, se.Code, se)
		}
		return err
	}
	if !c.rd.gotSettings {
		sf, ok := f.(*http2.SettingsFrame)
		if !ok || sf.IsAck() {
			return connError(http2.ErrCodeProtocol, "first frame from server is not SETTINGS")
		}
	}
	if f == nil {
		return nil // a HEADERS frame, handled by readFrame
	}
	return c.dispatch(f)
}

// readFrame reads the next frame: the Framer checks its size and order
// (CONTINUATION right after its HEADERS); HEADERS are parsed here, into a
// buffer the reader reuses, which saves the Framer's HeadersFrame per
// response, and handled at once (nil frame).
func (c *Conn) readFrame() (http2.Frame, error) {
	fh, err := c.fr.ReadFrameHeader()
	if err != nil {
		return nil, err
	}
	if fh.Type != http2.FrameHeaders {
		return c.fr.ReadFrameForHeader(fh)
	}
	if !c.rd.gotSettings {
		return nil, connError(http2.ErrCodeProtocol, "first frame from server is not SETTINGS")
	}
	if cap(c.rd.hbuf) < int(fh.Length) {
		c.rd.hbuf = make([]byte, fh.Length)
	}
	p := c.rd.hbuf[:fh.Length]
	if _, err := io.ReadFull(c.br, p); err != nil {
		return nil, err
	}
	frag, err := headersFragment(fh, p)
	if err != nil {
		return nil, err
	}
	c.startBlock(fh.StreamID, fh.Flags.Has(http2.FlagHeadersEndStream))
	return nil, c.onFragment(frag, fh.Flags.Has(http2.FlagHeadersEndHeaders))
}

// headersFragment is a HEADERS payload without padding and priority
// (RFC 9113 §6.2), with x/net's checks and codes.
func headersFragment(fh http2.FrameHeader, p []byte) ([]byte, error) {
	if fh.StreamID == 0 {
		return nil, connError(http2.ErrCodeProtocol, "HEADERS frame with stream ID 0")
	}
	pad := 0
	if fh.Flags.Has(http2.FlagHeadersPadded) {
		if len(p) < 1 {
			return nil, connError(http2.ErrCodeFrameSize, "HEADERS too short for its padding")
		}
		pad, p = int(p[0]), p[1:]
	}
	if fh.Flags.Has(http2.FlagHeadersPriority) {
		if len(p) < 5 {
			return nil, connError(http2.ErrCodeFrameSize, "HEADERS too short for its priority")
		}
		p = p[5:]
	}
	if len(p) < pad {
		return nil, http2.StreamError{StreamID: fh.StreamID, Code: http2.ErrCodeProtocol, Cause: errPadding}
	}
	return p[:len(p)-pad], nil
}

var errPadding = errors.New("http2: padding longer than the HEADERS payload")

func (c *Conn) dispatch(f http2.Frame) error {
	switch f := f.(type) {
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
	mark, err := c.queueRSTMark(id, code, true)
	if err != nil {
		return err
	}
	if s != nil {
		s.rstMark.Store(mark)
		se, ok := cause.(http2.StreamError)
		if !ok {
			se = http2.StreamError{StreamID: id, Code: code, Cause: cause}
		}
		s.fail(se, true)
		s.finish()
	}
	return nil
}

package h2

import "golang.org/x/net/http2"

// The adaptive receive window (gRPC-go's bdp_estimator, hyper's adaptive
// window): while a body streams, one PING is kept in flight; the bytes
// received between its send and its ack are what one round trip carries.
// When they pass 2/3 of the stream window, the window is what limits the
// transfer, so both windows grow to twice the sample, up to
// maxAdaptiveWindow. Only DATA that does not end its stream starts a
// sample: a small response costs no PING.
type bdpEstimator struct {
	enabled bool
	pinging bool
	sample  int64 // bytes received since the PING went out
}

func (b *bdpEstimator) init(on bool) { b.enabled = on }

// sampleBDP counts n received bytes and starts a sample if none runs.
func (c *Conn) sampleBDP(n int32) {
	b := &c.rd.bdp
	if !b.enabled {
		return
	}
	if b.pinging {
		b.sample += int64(n)
		return
	}
	if c.streamWindow >= maxAdaptiveWindow { // written by this goroutine only
		b.enabled = false
		return
	}
	b.pinging, b.sample = true, 0
	c.queuePing(false, [8]byte{pingBDP}, true)
}

func (c *Conn) onBDPAck([8]byte) {
	b := &c.rd.bdp
	if !b.pinging {
		return
	}
	b.pinging = false
	w := int64(c.streamWindow)
	if b.sample*3 < w*2 {
		return
	}
	if nw := min(maxAdaptiveWindow, 2*b.sample); nw > w {
		c.growWindows(int32(nw))
	}
}

// maxConnWindow bounds the conn window the growth gives (4 stream windows).
const maxConnWindow = 4 * maxAdaptiveWindow

// growWindows raises the stream window to w (SETTINGS_INITIAL_WINDOW_SIZE,
// applied to open streams at once: §6.9.2) and the conn window to 4w.
func (c *Conn) growWindows(w int32) {
	c.mu.Lock()
	delta := w - c.streamWindow
	c.streamWindow = w
	for _, s := range c.streams {
		s.mu.Lock()
		s.recvAvail += delta
		s.window = w
		s.mu.Unlock()
	}
	c.mu.Unlock()
	var connInc int32
	if cw := min(4*int64(w), maxConnWindow); cw > int64(c.connWindow) {
		connInc = int32(cw) - c.connWindow
		c.connWindow = int32(cw)
		c.rd.recvWindow += connInc
	}
	q := &c.wq
	q.mu.Lock()
	if c.backlogLocked(true) != nil {
		return
	}
	q.buf = appendSettings(q.buf, http2.Setting{ID: http2.SettingInitialWindowSize, Val: uint32(w)})
	if connInc > 0 {
		q.buf = appendWindowUpdate(q.buf, 0, uint32(connInc))
	}
	c.rd.wantAcks++
	q.flushLocked(true)
}

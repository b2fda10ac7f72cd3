package h2

import (
	"golang.org/x/net/http2"
)

// unlimitedStreams stands for "no SETTINGS_MAX_CONCURRENT_STREAMS" in the
// server's first SETTINGS (x/net's choice too).
const unlimitedStreams = 1000

func (c *Conn) onSettings(f *http2.SettingsFrame) error {
	if f.IsAck() {
		if c.rd.wantAcks == 0 {
			return connError(http2.ErrCodeProtocol, "unexpected SETTINGS ack")
		}
		c.rd.wantAcks--
		return nil
	}
	first := !c.rd.gotSettings
	c.rd.gotSettings = true
	if err := f.ForeachSetting(func(s http2.Setting) error { return s.Valid() }); err != nil {
		return err // a ConnectionError with the right code (§6.5.2)
	}
	q := &c.wq
	q.mu.Lock() // the encoder's table size and the ack go together
	c.mu.Lock()
	err := c.applySettingsLocked(f, first)
	c.cond.Broadcast()
	c.mu.Unlock()
	if err != nil {
		q.mu.Unlock()
		return err
	}
	if v, ok := f.Value(http2.SettingHeaderTableSize); ok {
		c.henc.SetMaxDynamicTableSize(v)
		c.hcache.invalidate() // the next block starts with a size update
	}
	if err := c.backlogLocked(true); err != nil {
		return err
	}
	q.buf = appendSettingsAck(q.buf)
	q.flushLocked(true)
	return nil
}

// applySettingsLocked takes the peer's settings; c.mu is held.
func (c *Conn) applySettingsLocked(f *http2.SettingsFrame, first bool) error {
	sawMax := false
	err := f.ForeachSetting(func(s http2.Setting) error {
		switch s.ID {
		case http2.SettingMaxConcurrentStreams:
			c.maxStreams, sawMax = s.Val, true
		case http2.SettingMaxFrameSize:
			c.peerMaxFrame = s.Val
		case http2.SettingMaxHeaderListSize:
			c.peerMaxList = uint64(s.Val)
		case http2.SettingInitialWindowSize:
			// §6.9.2: the change applies to every open stream's window,
			// which may go negative; none may pass 2^31-1.
			delta := int64(s.Val) - int64(c.peerWindow)
			c.peerWindow = int32(s.Val)
			for _, st := range c.streams {
				st.sendWindow += delta
				if st.sendWindow > maxWindow {
					return connError(http2.ErrCodeFlowControl, "SETTINGS_INITIAL_WINDOW_SIZE overflows a stream window")
				}
			}
		}
		return nil
	})
	if first && !sawMax {
		c.maxStreams = unlimitedStreams
	}
	c.gotSettings = true
	return err
}

func (c *Conn) onWindowUpdate(f *http2.WindowUpdateFrame) error {
	inc := int64(f.Increment) // 0 is rejected by the Framer (§6.9)
	if f.StreamID == 0 {
		c.mu.Lock()
		c.sendWindow += inc
		over := c.sendWindow > maxWindow
		c.cond.Broadcast()
		c.mu.Unlock()
		if over {
			return connError(http2.ErrCodeFlowControl, "connection window overflow")
		}
		return nil
	}
	s, idle := c.lookup(f.StreamID)
	if s == nil {
		if idle {
			return connError(http2.ErrCodeProtocol, "WINDOW_UPDATE on an idle stream")
		}
		return nil
	}
	c.mu.Lock()
	s.sendWindow += inc
	over := s.sendWindow > maxWindow
	c.cond.Broadcast()
	c.mu.Unlock()
	if over {
		return c.streamError(s.id, http2.ErrCodeFlowControl, errStreamWindowOverflow)
	}
	return nil
}

func (c *Conn) onPing(f *http2.PingFrame) error {
	if !f.IsAck() {
		return c.queuePing(true, f.Data, true)
	}
	switch f.Data[0] {
	case pingHealth:
		c.ackedPing(pingOutHealth)
		c.health.onAck(f.Data)
	case pingDegraded:
		c.ackedPing(pingOutDegraded)
		c.health.onAck(f.Data)
	case pingBDP:
		c.onBDPAck(f.Data)
	}
	return nil
}

func (c *Conn) onRST(f *http2.RSTStreamFrame) error {
	s, idle := c.lookup(f.StreamID)
	if s == nil {
		if idle {
			return connError(http2.ErrCodeProtocol, "RST_STREAM on an idle stream")
		}
		return nil
	}
	c.ctr.peerResets.Add(1)
	c.rd.peerClosed.add(f.StreamID)
	s.mu.Lock()
	complete := s.recvEnded
	s.mu.Unlock()
	if complete && f.ErrCode == http2.ErrCodeNo {
		// §8.1: the response is whole, the server wants no more request
		// body. The body stays readable.
		s.mu.Lock()
		s.rstDone = true
		s.mu.Unlock()
		s.sendDone.Store(true)
		s.stop.Store(true)
		c.wakeWriters()
		return nil
	}
	se := http2.StreamError{StreamID: f.StreamID, Code: f.ErrCode, Cause: errFromPeer}
	if f.ErrCode == http2.ErrCodeRefusedStream {
		// §8.7: not processed; safe to replay on another conn.
		c.ctr.replays.Add(1)
		s.fail(s.notProcessed(se), true)
	} else {
		s.fail(se, true)
	}
	s.finish()
	return nil
}

func (c *Conn) onGoAway(f *http2.GoAwayFrame) error {
	c.ctr.goAways.Add(1)
	gerr := http2.GoAwayError{LastStreamID: f.LastStreamID, ErrCode: f.ErrCode, DebugData: string(f.DebugData())}
	c.mu.Lock()
	if !c.goAway || f.LastStreamID < c.goAwayID {
		c.goAwayID = f.LastStreamID
	}
	c.goAway, c.goAwayCode = true, f.ErrCode
	var gone []*stream
	for id, s := range c.streams {
		if id > c.goAwayID {
			gone = append(gone, s)
		}
	}
	drained := len(c.streams) == 0 && c.reserved == 0
	c.mu.Unlock()
	// §6.8: streams above Last-Stream-ID were not processed.
	for _, s := range gone {
		c.ctr.replays.Add(1)
		s.fail(s.notProcessed(gerr), true)
		s.finish()
	}
	if drained {
		c.closeDrained()
	}
	return nil
}

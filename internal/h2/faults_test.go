package h2

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/http2"
)

// zeros is an endless request body that allocates nothing.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }
func (zeros) Close() error               { return nil }

// A peer that stops reading during an upload: the pool's calls on the conn
// return at once while the write is stuck, and the conn fails within its
// write deadline with the stream.
func TestScriptedStalledPeerFailsOnlyItsConn(t *testing.T) {
	c, p := newPeer(t, Config{WriteTimeout: 300 * time.Millisecond},
		http2.Setting{ID: http2.SettingInitialWindowSize, Val: 1<<31 - 1})
	p.write(func(fr *http2.Framer) error { return fr.WriteWindowUpdate(0, 1<<31-1-65535) })
	p.deaf.Store(true)
	req, _ := http.NewRequest("POST", "http://x/", zeros{})
	ch := goRoundTrip(c, req)
	// Let the socket buffers fill and the flusher block.
	eventually(t, 5*time.Second, "upload did not start", func() bool { return c.Writes() > 3 })
	for i := 0; i < 20; i++ {
		start := time.Now()
		c.Available()
		c.InFlight()
		c.Err()
		if c.Reserve() == nil {
			c.Release()
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("pool calls took %v during a stuck write", d)
		}
		time.Sleep(10 * time.Millisecond)
	}
	r := wait(t, ch)
	var ne net.Error
	if r.err == nil || !errors.As(r.err, &ne) || !ne.Timeout() {
		t.Fatalf("upload to a deaf peer: %v, want a timeout", r.err)
	}
	if c.Err() == nil || c.Available() != 0 {
		t.Fatal("conn still usable after its write deadline")
	}
}

// dropUnreadBody makes a request on stream 1, answered with a head and
// some DATA, and drops its response unread and unclosed.
func dropUnreadBody(t *testing.T, c *Conn, p *peer) {
	t.Helper()
	ch := goRoundTrip(c, get(t, "http://x/"))
	p.headers()
	p.respond(1, false, "200")
	p.data(1, false, "unread")
	if r := wait(t, ch); r.err != nil {
		t.Fatal(r.err)
	}
}

// A body dropped without Close is reclaimed after GC: its stream reset
// (RST_STREAM CANCEL), the slot free, OnLeak told.
func TestScriptedLeakedBodyReclaimed(t *testing.T) {
	var leaks atomic.Int32
	var dc doneCounter
	c, p := newPeer(t, Config{OnStreamDone: dc.hook, OnLeak: func(*Conn, string, *url.URL) { leaks.Add(1) }}, http2.Setting{})
	dropUnreadBody(t, c, p)
	eventually(t, 10*time.Second, "leaked body not reclaimed", func() bool {
		runtime.GC()
		return leaks.Load() == 1
	})
	if code := p.expectRST(1); code != http2.ErrCodeCancel {
		t.Fatalf("RST code %v", code)
	}
	if c.InFlight() != 0 || dc.n.Load() != 1 || c.Err() != nil {
		t.Fatalf("after reclaim: InFlight=%d done=%d Err=%v", c.InFlight(), dc.n.Load(), c.Err())
	}
}

// A body dropped without Close is counted as leaked even when its conn
// fails before GC runs (the peer hangs up under the unread stream).
func TestScriptedLeakedBodyCountedAfterConnLoss(t *testing.T) {
	var leaks atomic.Int32
	c, p := newPeer(t, Config{OnLeak: func(*Conn, string, *url.URL) { leaks.Add(1) }}, http2.Setting{})
	dropUnreadBody(t, c, p)
	p.nc.Close()
	eventually(t, 10*time.Second, "conn not failed after the peer closed", func() bool { return c.Err() != nil })
	eventually(t, 10*time.Second, "leaked body not counted", func() bool {
		runtime.GC()
		return leaks.Load() == 1
	})
	if got := c.ctr.leaks.Load(); got != 1 {
		t.Fatalf("leaks counted %d, want 1", got)
	}
}

// gateConn holds the next socket write until released, so the test knows
// a write is in progress.
type gateConn struct {
	net.Conn
	mu     sync.Mutex
	armed  bool
	inside chan struct{}
	open   chan struct{}
	writes int
}

func (g *gateConn) Write(p []byte) (int, error) {
	g.mu.Lock()
	armed := g.armed
	g.armed = false
	g.writes++
	g.mu.Unlock()
	if armed {
		close(g.inside)
		<-g.open
	}
	return g.Conn.Write(p)
}

// HEADERS queued while a write is in progress go out together in the
// next write: 16 requests, 2 writes.
func TestScriptedWritesCoalesce(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		s, err := ln.Accept()
		if err == nil {
			defer s.Close()
			io.Copy(io.Discard, s)
		}
	}()
	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	g := &gateConn{Conn: nc, inside: make(chan struct{}), open: make(chan struct{})}
	c := newConn(t, Config{ReadIdleTimeout: -1, ResponseHeaderTimeout: 0}, g)
	g.mu.Lock()
	g.armed, g.writes = true, 0
	g.mu.Unlock()
	go c.RoundTrip(get(t, "http://x/")) // becomes the flusher and blocks in the gate
	<-g.inside
	var started sync.WaitGroup
	for i := 0; i < 15; i++ {
		started.Add(1)
		go func() {
			started.Done()
			c.RoundTrip(get(t, "http://x/"))
		}()
	}
	started.Wait()
	eventually(t, 5*time.Second, "streams not queued", func() bool { return c.InFlight() == 16 })
	close(g.open)
	eventually(t, 5*time.Second, "queued HEADERS not written", func() bool {
		c.wq.mu.Lock()
		defer c.wq.mu.Unlock()
		return len(c.wq.buf) == 0 && !c.wq.flushing
	})
	g.mu.Lock()
	n := g.writes
	g.mu.Unlock()
	if n != 2 {
		t.Fatalf("16 requests took %d writes, want 2 (one in progress, one for the 15 queued meanwhile)", n)
	}
	c.Close() // fails the 16 streams
}

// The adaptive window grows when a round trip carries most of a window.
func TestScriptedAdaptiveWindowGrows(t *testing.T) {
	c, p := newPeer(t, Config{}, http2.Setting{})
	ch := goRoundTrip(c, get(t, "http://x/"))
	p.headers()
	p.respond(1, false, "200")
	r := wait(t, ch)
	go io.Copy(io.Discard, r.resp.Body)
	chunk := string(make([]byte, 16384))
	// The first DATA starts a BDP sample (a PING); before acking it the
	// peer sends most of the window, as a fast link would.
	p.data(1, false, chunk)
	var ping *http2.PingFrame
	for ping == nil {
		select {
		case f := <-p.frames:
			if pf, ok := f.(*http2.PingFrame); ok && !pf.IsAck() && pf.Data[0] == pingBDP {
				ping = pf
			}
		case <-time.After(5 * time.Second):
			t.Fatal("no BDP PING")
		}
	}
	for sent := 16384; sent < defaultStreamWindow*3/4; sent += len(chunk) {
		p.data(1, false, chunk)
	}
	p.write(func(fr *http2.Framer) error { return fr.WritePing(true, ping.Data) })
	for {
		select {
		case f := <-p.frames:
			if sf, ok := f.(*gotSettings); ok && !sf.ack {
				v := sf.vals[http2.SettingInitialWindowSize]
				if v <= defaultStreamWindow {
					t.Fatalf("window set to %d", v)
				}
				p.write(func(fr *http2.Framer) error { return fr.WriteSettingsAck() })
				p.data(1, true, "")
				return
			}
		case <-time.After(5 * time.Second):
			t.Fatal("window did not grow")
		}
	}
}

// A server that never opens its window: the upload waits, and the
// caller's context ends it (RST_STREAM, slot free, conn kept).
func TestScriptedZeroWindowContextEnds(t *testing.T) {
	c, p := newPeer(t, Config{}, http2.Setting{ID: http2.SettingInitialWindowSize, Val: 0})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "POST", "http://x/", zeros{})
	ch := goRoundTrip(c, req)
	p.headers()
	r := wait(t, ch)
	if !errors.Is(r.err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the context's deadline", r.err)
	}
	if code := p.expectRST(1); code != http2.ErrCodeCancel {
		t.Fatalf("RST code %v", code)
	}
	eventually(t, 5*time.Second, "slot not freed", func() bool { return c.InFlight() == 0 })
	if c.Err() != nil || c.ctr.snapshot().FlowStalls == 0 {
		t.Fatalf("Err=%v stalls=%d", c.Err(), c.ctr.snapshot().FlowStalls)
	}
}

// A header block that never ends, in empty CONTINUATION frames, is cut.
func TestScriptedContinuationFlood(t *testing.T) {
	c, p := newPeer(t, Config{}, http2.Setting{})
	ch := goRoundTrip(c, get(t, "http://x/"))
	p.headers()
	p.write(func(fr *http2.Framer) error {
		return fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: []byte{0x88}})
	})
	for i := 0; i < maxBlockFrames+10; i++ {
		p.write(func(fr *http2.Framer) error { return fr.WriteContinuation(1, false, nil) })
	}
	if ga := p.expectGoAway(); ga.code != http2.ErrCodeEnhanceYourCalm {
		t.Fatalf("GOAWAY %v", ga.code)
	}
	if r := wait(t, ch); r.err == nil {
		t.Fatal("stream survived")
	}
}

// deafConn is a client conn whose writes, once deaf is set, block until
// their deadline or the close: a peer that stopped reading, without kernel
// buffers in the way.
type deafConn struct {
	net.Conn
	deaf     atomic.Bool
	closed   chan struct{}
	once     sync.Once
	mu       sync.Mutex
	deadline time.Time
	moved    chan struct{} // closed and replaced when the deadline moves
}

func newDeafConn(nc net.Conn) *deafConn {
	return &deafConn{Conn: nc, closed: make(chan struct{}), moved: make(chan struct{})}
}

func (d *deafConn) Write(p []byte) (int, error) {
	if !d.deaf.Load() {
		return d.Conn.Write(p)
	}
	for {
		d.mu.Lock()
		dl, moved := d.deadline, d.moved
		d.mu.Unlock()
		var tc <-chan time.Time
		if !dl.IsZero() {
			tm := time.NewTimer(time.Until(dl))
			defer tm.Stop()
			tc = tm.C
		}
		select {
		case <-d.closed:
			return 0, net.ErrClosed
		case <-tc:
			return 0, os.ErrDeadlineExceeded
		case <-moved:
		}
	}
}

func (d *deafConn) SetWriteDeadline(t time.Time) error {
	d.mu.Lock()
	d.deadline = t
	close(d.moved)
	d.moved = make(chan struct{})
	d.mu.Unlock()
	return d.Conn.SetWriteDeadline(t)
}

func (d *deafConn) Close() error {
	d.once.Do(func() { close(d.closed) })
	return d.Conn.Close()
}

// A server that floods PINGs and reads none of the acks: once the acks
// it does not take pile past maxControlBacklog, the conn fails with
// ENHANCE_YOUR_CALM instead of growing without end.
func TestScriptedPingFloodUnread(t *testing.T) {
	var d *deafConn
	peerWrap = func(nc net.Conn) net.Conn {
		d = newDeafConn(nc)
		return d
	}
	defer func() { peerWrap = nil }()
	c, p := newPeer(t, Config{}, http2.Setting{})
	ch := goRoundTrip(c, get(t, "http://x/"))
	p.headers()
	d.deaf.Store(true)
	n := maxControlBacklog/(frameHeaderLen+8) + 1000
	flood := make([]byte, 0, n*(frameHeaderLen+8))
	for i := 0; i < n; i++ {
		flood = appendPing(flood, false, [8]byte{1})
	}
	go p.nc.Write(flood)
	r := wait(t, ch)
	var ce http2.ConnectionError
	if !errors.As(r.err, &ce) || http2.ErrCode(ce) != http2.ErrCodeEnhanceYourCalm {
		t.Fatalf("err = %v, want ENHANCE_YOUR_CALM", r.err)
	}
	if c.Err() == nil {
		t.Fatal("conn usable after the flood")
	}
}

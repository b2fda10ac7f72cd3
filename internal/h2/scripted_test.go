package h2

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// peer is a scripted HTTP/2 server: x/net's Framer on the server side of a
// loopback TCP conn. A goroutine reads every client frame into frames
// (copied, so they outlive the next read); the test writes what it wants.
type peer struct {
	t      *testing.T
	nc     net.Conn
	fr     *http2.Framer // writes: test goroutine only (wmu)
	wmu    sync.Mutex
	henc   *hpack.Encoder
	hbuf   bytes.Buffer
	frames chan any
	done   chan struct{}
	closed chan struct{} // the test ended
	deaf   atomic.Bool   // stop reading (a peer that no longer reads its socket)
}

// copied frames, as the reader hands them over
type (
	gotHeaders struct {
		id     uint32
		end    bool
		fields []hpack.HeaderField
	}
	gotData struct {
		id   uint32
		end  bool
		data []byte
	}
	gotSettings struct {
		ack  bool
		vals map[http2.SettingID]uint32
	}
	gotGoAway struct {
		last uint32
		code http2.ErrCode
	}
)

// newPeer starts a scripted server and a client Conn with cfg connected to
// it; the server has read the preface and the client's SETTINGS, and sent
// its own settings (and the ack) when settings is non-nil.
func newPeer(t *testing.T, cfg Config, settings ...http2.Setting) (*Conn, *peer) {
	t.Helper()
	cnc, snc := tcpPair(t)
	var nc net.Conn = cnc
	if peerWrap != nil {
		nc = peerWrap(cnc)
	}
	return startPeer(t, cfg, nc, snc, settings)
}

// tcpPair is a connected loopback TCP pair: client side, server side.
func tcpPair(t *testing.T) (net.Conn, net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cnc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	snc, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	return cnc, snc
}

// startPeer is newPeer over a connected pair: nc for the client Conn,
// snc for the scripted server.
func startPeer(t *testing.T, cfg Config, nc, snc net.Conn, settings []http2.Setting) (*Conn, *peer) {
	t.Helper()
	p := &peer{t: t, nc: snc, frames: make(chan any, 1024), done: make(chan struct{}), closed: make(chan struct{})}
	p.fr = http2.NewFramer(snc, snc)
	p.fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	p.henc = hpack.NewEncoder(&p.hbuf)
	c, err := NewFactory(cfg).New(nc, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		close(p.closed)
		c.Close()
		snc.Close()
		<-p.done
	})
	preface := make([]byte, len(http2.ClientPreface))
	if _, err := io.ReadFull(snc, preface); err != nil || string(preface) != http2.ClientPreface {
		t.Fatalf("preface %q, %v", preface, err)
	}
	go p.read()
	if sf, ok := p.next().(*gotSettings); !ok || sf.ack {
		t.Fatalf("first client frame is not SETTINGS")
	}
	if settings != nil {
		p.write(func(fr *http2.Framer) error { return fr.WriteSettings(settings...) })
		p.write(func(fr *http2.Framer) error { return fr.WriteSettingsAck() })
		waitSettings(t, c)
	}
	return c, p
}

func (p *peer) read() {
	defer close(p.done)
	for {
		for p.deaf.Load() {
			time.Sleep(10 * time.Millisecond)
			if !p.alive() {
				close(p.frames)
				return
			}
		}
		f, err := p.fr.ReadFrame()
		if err != nil {
			close(p.frames)
			return
		}
		switch f := f.(type) {
		case *http2.MetaHeadersFrame:
			p.frames <- &gotHeaders{id: f.StreamID, end: f.StreamEnded(), fields: append([]hpack.HeaderField(nil), f.Fields...)}
		case *http2.DataFrame:
			p.frames <- &gotData{id: f.StreamID, end: f.StreamEnded(), data: append([]byte(nil), f.Data()...)}
		case *http2.SettingsFrame:
			gs := &gotSettings{ack: f.IsAck(), vals: map[http2.SettingID]uint32{}}
			f.ForeachSetting(func(s http2.Setting) error { gs.vals[s.ID] = s.Val; return nil })
			p.frames <- gs
		case *http2.PingFrame:
			cp := *f
			p.frames <- &cp
		case *http2.RSTStreamFrame:
			cp := *f
			p.frames <- &cp
		case *http2.WindowUpdateFrame:
			cp := *f
			p.frames <- &cp
		case *http2.GoAwayFrame:
			p.frames <- &gotGoAway{last: f.LastStreamID, code: f.ErrCode}
		default:
			p.frames <- f.Header()
		}
	}
}

// peerWrap, if set, wraps the client's side of the next newPeer.
var peerWrap func(net.Conn) net.Conn

// alive reports whether the server side of the conn is still open.
func (p *peer) alive() bool {
	select {
	case <-p.closed:
		return false
	default:
		return true
	}
}

func (p *peer) write(f func(fr *http2.Framer) error) {
	p.wmu.Lock()
	defer p.wmu.Unlock()
	if err := f(p.fr); err != nil {
		p.t.Errorf("peer write: %v", err)
	}
}

// next returns the next client frame other than WINDOW_UPDATE, SETTINGS
// acks and PINGs (which it acks), or fails the test after a while.
func (p *peer) next() any {
	p.t.Helper()
	for {
		select {
		case f, ok := <-p.frames:
			if !ok {
				return io.EOF
			}
			switch f := f.(type) {
			case *http2.WindowUpdateFrame:
				continue
			case *gotSettings:
				if f.ack {
					continue
				}
			case *http2.PingFrame:
				if !f.IsAck() {
					p.write(func(fr *http2.Framer) error { return fr.WritePing(true, f.Data) })
				}
				continue
			}
			return f
		case <-time.After(10 * time.Second):
			p.t.Fatal("no frame from the client")
			return nil
		}
	}
}

// headers reads the client's next frame, which must be HEADERS.
func (p *peer) headers() *gotHeaders {
	p.t.Helper()
	f := p.next()
	h, ok := f.(*gotHeaders)
	if !ok {
		p.t.Fatalf("got %T %+v, want HEADERS", f, f)
	}
	return h
}

// block encodes a header block of status (if any) and fields (name,
// value pairs) with the peer's HPACK state; the caller writes it next.
func (p *peer) block(status string, kv ...string) []byte {
	p.wmu.Lock()
	defer p.wmu.Unlock()
	p.hbuf.Reset()
	if status != "" {
		p.henc.WriteField(hpack.HeaderField{Name: ":status", Value: status})
	}
	for i := 0; i+1 < len(kv); i += 2 {
		p.henc.WriteField(hpack.HeaderField{Name: kv[i], Value: kv[i+1]})
	}
	return append([]byte(nil), p.hbuf.Bytes()...)
}

// respond sends a response head of status and fields (name, value pairs).
func (p *peer) respond(id uint32, end bool, status string, kv ...string) {
	block := p.block(status, kv...)
	p.write(func(fr *http2.Framer) error {
		return fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: block, EndStream: end, EndHeaders: true})
	})
}

func (p *peer) data(id uint32, end bool, b string) {
	p.write(func(fr *http2.Framer) error { return fr.WriteData(id, end, []byte(b)) })
}

// expectRST reads frames until a RST_STREAM for id, skipping DATA.
func (p *peer) expectRST(id uint32) http2.ErrCode {
	p.t.Helper()
	for {
		switch f := p.next().(type) {
		case *http2.RSTStreamFrame:
			if f.StreamID == id {
				return f.ErrCode
			}
		case *gotData:
		case error:
			p.t.Fatalf("conn ended before RST_STREAM on %d: %v", id, f)
		default:
			p.t.Fatalf("got %T %+v, want RST_STREAM on %d", f, f, id)
		}
	}
}

// expectGoAway reads frames until GOAWAY.
func (p *peer) expectGoAway() *gotGoAway {
	p.t.Helper()
	for {
		switch f := p.next().(type) {
		case *gotGoAway:
			return f
		case error:
			p.t.Fatalf("conn ended without GOAWAY: %v", f)
		}
	}
}

func field(h *gotHeaders, name string) string {
	for _, f := range h.fields {
		if f.Name == name {
			return f.Value
		}
	}
	return ""
}

// goRoundTrip runs RoundTrip on a goroutine.
type result struct {
	resp *http.Response
	err  error
}

func goRoundTrip(c *Conn, req *http.Request) chan result { return goDo(c, req, nil) }

// goDo runs c.Do(req, o) in a goroutine; its result comes on the channel.
func goDo(c *Conn, req *http.Request, o *Options) chan result {
	ch := make(chan result, 1)
	go func() {
		resp, err := c.Do(req, o)
		ch <- result{resp, err}
	}()
	return ch
}

func wait(t *testing.T, ch chan result) result {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("RoundTrip did not return")
		return result{}
	}
}

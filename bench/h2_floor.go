package main

// -h2-floor: the Go floor of the h2 download cell. One goroutine on one
// conn does everything: it writes the request's HEADERS, reads frames
// with x/net's Framer over crypto/tls, copies each DATA payload into a
// 32 KiB buffer (as the Transports' callers do), and gives the credit back
// once per response, under windows of 1 GiB. No pool, no hand-over
// between goroutines, no allocation per frame: what a Go client could do
// at best with crypto/tls, a ceiling for spool written in the same
// language (h2load is the C one).

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// nameFloor is the Go floor's row in the tables.
const nameFloor = "go floor"

// floorWindow is the floor's stream and conn receive window: it never
// waits for credit.
const floorWindow = 1 << 30

type floorClient struct {
	tc   *tls.Conn
	fr   *http2.Framer
	bw   *bufio.Writer
	henc *hpack.Encoder
	hbuf bytes.Buffer
	next uint32 // the next stream ID
	hdr  []hpack.HeaderField
	buf  []byte // the caller's buffer
}

func newFloorClient(t tlsTarget, path string) (*floorClient, error) {
	tc, err := tls.Dial("tcp", t.h2Addr, &tls.Config{RootCAs: t.pool, NextProtos: []string{"h2"}, ServerName: "127.0.0.1"})
	if err != nil {
		return nil, err
	}
	if p := tc.ConnectionState().NegotiatedProtocol; p != "h2" {
		tc.Close()
		return nil, fmt.Errorf("go floor: ALPN %q, want h2", p)
	}
	f := &floorClient{tc: tc, bw: bufio.NewWriter(tc), next: 1, buf: make([]byte, 32<<10)}
	f.fr = http2.NewFramer(f.bw, bufio.NewReaderSize(tc, 32<<10))
	f.henc = hpack.NewEncoder(&f.hbuf)
	f.hdr = []hpack.HeaderField{{Name: ":method", Value: "GET"}, {Name: ":scheme", Value: "https"},
		{Name: ":authority", Value: t.h2Addr}, {Name: ":path", Value: path}}
	f.bw.WriteString(http2.ClientPreface)
	f.fr.WriteSettings(http2.Setting{ID: http2.SettingEnablePush, Val: 0},
		http2.Setting{ID: http2.SettingInitialWindowSize, Val: floorWindow})
	f.fr.WriteWindowUpdate(0, floorWindow)
	if err := f.bw.Flush(); err != nil {
		tc.Close()
		return nil, err
	}
	return f, nil
}

func (f *floorClient) close() { f.tc.Close() }

// do makes one GET and reads its body to the end; it returns the body's size.
func (f *floorClient) do() (int, error) {
	f.hbuf.Reset()
	for _, h := range f.hdr {
		f.henc.WriteField(h)
	}
	id := f.next
	f.next += 2
	f.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: f.hbuf.Bytes(), EndStream: true, EndHeaders: true})
	if err := f.bw.Flush(); err != nil {
		return 0, err
	}
	n := 0
	for {
		fr, err := f.fr.ReadFrame()
		if err != nil {
			return n, err
		}
		switch fr := fr.(type) {
		case *http2.DataFrame:
			n += copy(f.buf, fr.Data())
			if fr.StreamEnded() {
				f.fr.WriteWindowUpdate(0, uint32(n)) // the stream is over: conn credit only
				return n, f.bw.Flush()
			}
		case *http2.SettingsFrame:
			if !fr.IsAck() {
				f.fr.WriteSettingsAck()
				f.bw.Flush()
			}
		case *http2.PingFrame:
			if !fr.IsAck() {
				f.fr.WritePing(true, fr.Data)
				f.bw.Flush()
			}
		case *http2.RSTStreamFrame:
			return n, fmt.Errorf("go floor: RST_STREAM %v", fr.ErrCode)
		case *http2.GoAwayFrame:
			return n, fmt.Errorf("go floor: GOAWAY %v", fr.ErrCode)
		}
	}
}

var errFloorShort = errors.New("go floor: short body")

// run downloads for d and returns the figures: rate and CPU per transfer
// (allocations and socket counts are not the point of this row).
func (f *floorClient) run(d time.Duration) h2Figures {
	var reqs int64
	var h hist
	c0, t0 := cpuTime(), time.Now()
	for time.Since(t0) < d {
		s := time.Now()
		n, err := f.do()
		if err == nil && n != bigSize {
			err = errFloorShort
		}
		if err != nil {
			return h2Figures{figures: figures{err: err}, srvUS: nan(), syscw: nan()}
		}
		h.add(time.Since(s))
		reqs++
	}
	el, cpu := time.Since(t0), cpuTime()-c0
	out := h2Figures{figures: figures{reqs: reqs, rps: float64(reqs) / el.Seconds(), p50: h.quantile(0.5), p99: h.quantile(0.99)},
		conns: 1, proto: "h2", syscw: nan(), srvUS: nan()}
	if reqs > 0 {
		out.cpuUS = float64(cpu.Nanoseconds()) / 1e3 / float64(reqs)
	}
	return out
}

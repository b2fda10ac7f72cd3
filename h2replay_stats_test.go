package spool_test

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/spoolhttp/spool"
	"github.com/spoolhttp/spool/internal/testutil"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// refusingH2Server is a scripted h2c server (x/net's Framer on the server
// side): it refuses every odd-numbered request's stream with
// REFUSED_STREAM (RFC 9113 §8.7: not processed) and answers the others
// 200 "ok". served counts the answered streams.
type refusingH2Server struct {
	ln      net.Listener
	served  atomic.Int64
	refused atomic.Int64
	wg      sync.WaitGroup
}

func newRefusingH2Server(t *testing.T) *refusingH2Server {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &refusingH2Server{ln: ln}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			s.wg.Add(1)
			go func() { defer s.wg.Done(); s.serve(nc) }()
		}
	}()
	t.Cleanup(func() { ln.Close(); s.wg.Wait() })
	return s
}

func (s *refusingH2Server) serve(nc net.Conn) {
	defer nc.Close()
	preface := make([]byte, len(http2.ClientPreface))
	if _, err := io.ReadFull(nc, preface); err != nil || string(preface) != http2.ClientPreface {
		return
	}
	fr := http2.NewFramer(nc, nc)
	fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	var hbuf bytes.Buffer
	henc := hpack.NewEncoder(&hbuf)
	if fr.WriteSettings() != nil {
		return
	}
	var n int
	for {
		f, err := fr.ReadFrame()
		if err != nil {
			return
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() {
				fr.WriteSettingsAck()
			}
		case *http2.PingFrame:
			if !f.IsAck() {
				fr.WritePing(true, f.Data)
			}
		case *http2.MetaHeadersFrame:
			n++
			if n%2 == 1 {
				s.refused.Add(1)
				fr.WriteRSTStream(f.StreamID, http2.ErrCodeRefusedStream)
				continue
			}
			hbuf.Reset()
			henc.WriteField(hpack.HeaderField{Name: ":status", Value: "200"})
			henc.WriteField(hpack.HeaderField{Name: "content-length", Value: "2"})
			fr.WriteHeaders(http2.HeadersFrameParam{StreamID: f.StreamID, BlockFragment: hbuf.Bytes(), EndHeaders: true})
			fr.WriteData(f.StreamID, true, []byte("ok"))
			s.served.Add(1)
		}
	}
}

// TestH2ReplayCountedOnce: a stream refused with REFUSED_STREAM is replayed
// (the server did not process it), and Stats.Requests still counts the
// requests the caller made, once each: the replay is not a new request.
func TestH2ReplayCountedOnce(t *testing.T) {
	s := newRefusingH2Server(t)
	p := new(http.Protocols)
	p.SetUnencryptedHTTP2(true)
	tr := &spool.Transport{Protocols: p}
	defer tr.CloseIdleConnections()
	const n = 10
	for i := range n {
		resp, err := tr.RoundTrip(testutil.NewRequest(t, "GET", "http://"+s.ln.Addr().String()+"/", nil))
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || string(b) != "ok" {
			t.Fatalf("request %d: body %q, %v", i, b, err)
		}
	}
	st := tr.Stats()
	if s.refused.Load() != n || s.served.Load() != n {
		t.Fatalf("server refused %d and served %d streams, want %d each (every request replayed once)", s.refused.Load(), s.served.Load(), n)
	}
	if st.Total.Requests != n {
		t.Fatalf("Stats.Requests = %d after %d requests, each replayed once after REFUSED_STREAM; want %d", st.Total.Requests, n, n)
	}
	if st.H2.NotProcessed != n || st.Total.Dials != 1 {
		t.Fatalf("H2.NotProcessed %d, dials %d: want %d replays on the one conn", st.H2.NotProcessed, st.Total.Dials, n)
	}
}

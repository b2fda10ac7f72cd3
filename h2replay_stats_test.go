package spool_test

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/spoolhttp/spool"
	"github.com/spoolhttp/spool/internal/testutil"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// refusingH2Server is a scripted h2c server (x/net's Framer on the server
// side): it refuses run streams in a row with REFUSED_STREAM (RFC 9113
// §8.7: not processed), then answers one 200 "ok", and so on.
type refusingH2Server struct {
	run     int
	ln      net.Listener
	served  atomic.Int64
	refused atomic.Int64
	wg      sync.WaitGroup
}

func newRefusingH2Server(t *testing.T, run int) *refusingH2Server {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &refusingH2Server{ln: ln, run: run}
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
			if n%(s.run+1) != 0 {
				s.refused.Add(1)
				fr.WriteRSTStream(f.StreamID, http2.ErrCodeRefusedStream)
				continue
			}
			s.served.Add(1) // before the answer, which the test may read at once
			hbuf.Reset()
			henc.WriteField(hpack.HeaderField{Name: ":status", Value: "200"})
			henc.WriteField(hpack.HeaderField{Name: "content-length", Value: "2"})
			fr.WriteHeaders(http2.HeadersFrameParam{StreamID: f.StreamID, BlockFragment: hbuf.Bytes(), EndHeaders: true})
			fr.WriteData(f.StreamID, true, []byte("ok"))
		}
	}
}

// TestH2ReplayCountedOnce: a stream refused with REFUSED_STREAM is replayed
// (the server did not process it), and Stats.Requests still counts the
// requests the caller made, once each: a replay is not a new request.
func TestH2ReplayCountedOnce(t *testing.T) {
	for _, run := range []int{1, 3} {
		t.Run(strconv.Itoa(run), func(t *testing.T) {
			s := newRefusingH2Server(t, run)
			tr := h2cTransport()
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
			if s.refused.Load() != int64(n*run) || s.served.Load() != n {
				t.Fatalf("server refused %d and served %d streams, want %d and %d", s.refused.Load(), s.served.Load(), n*run, n)
			}
			if st.Total.Requests != n {
				t.Fatalf("Stats.Requests = %d after %d requests, each replayed %d times after REFUSED_STREAM; want %d", st.Total.Requests, n, run, n)
			}
			if st.H2.NotProcessed != uint64(n*run) || st.Total.Dials != 1 {
				t.Fatalf("H2.NotProcessed %d, dials %d: want %d replays on the one conn", st.H2.NotProcessed, st.Total.Dials, n*run)
			}
		})
	}
}

// TestH2ReplayBounded: a server that refuses every stream gets the request
// 1+maxH2Replays (7) times, as net/http's HTTP/2, then the caller gets the
// refusal, a typed StreamError.
func TestH2ReplayBounded(t *testing.T) {
	s := newRefusingH2Server(t, 1<<30)
	tr := h2cTransport()
	defer tr.CloseIdleConnections()
	_, err := tr.RoundTrip(testutil.NewRequest(t, "GET", "http://"+s.ln.Addr().String()+"/", nil))
	var se http2.StreamError
	if !errors.As(err, &se) || se.Code != http2.ErrCodeRefusedStream {
		t.Fatalf("err %v, want the REFUSED_STREAM StreamError", err)
	}
	if got := s.refused.Load(); got != 7 {
		t.Fatalf("server refused %d streams, want 7 (the request and 6 replays)", got)
	}
	if st := tr.Stats(); st.Total.Requests != 1 {
		t.Fatalf("Stats.Requests = %d, want 1", st.Total.Requests)
	}
}

func h2cTransport() *spool.Transport {
	p := new(http.Protocols)
	p.SetUnencryptedHTTP2(true)
	return &spool.Transport{Protocols: p}
}

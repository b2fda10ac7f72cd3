package faulttest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/spoolhttp/spool"
	"github.com/spoolhttp/spool/internal/h2test"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// fuzzStreams is how many requests share the fuzzed conn. After a warm-up
// on stream 1 they are streams 3, 5 and 7 (sent concurrently, so in any
// order), which the seeds answer.
const fuzzStreams = 3

// fuzzBound: every request of one input must end within it; the server
// half-closes after the input, so a request still waiting hung.
const fuzzBound = 5 * time.Second

// FuzzH2ServerBytes plays arbitrary bytes as the server's side of an
// HTTP/2 conn (the model: hyperium/h2's fuzz_e2e), after a valid preface
// and SETTINGS and a warm-up exchange, while three requests wait on the
// conn; then the server half-closes. Whatever the bytes: no panic, every
// request and body read ends within fuzzBound, every failure is typed, and
// afterwards the Transport holds no active conn or stream and no
// goroutine is left.
func FuzzH2ServerBytes(f *testing.F) {
	for _, seed := range fuzzSeeds() {
		f.Add(seed)
	}
	f.Fuzz(runFuzzInput)
}

// runFuzzInput is one run of FuzzH2ServerBytes.
func runFuzzInput(t *testing.T, input []byte) {
	base := runtime.NumGoroutine()
	srv := h2test.NewServer(t, func(c *h2test.Conn) { playInput(c, input) })
	tr := &spool.Transport{Protocols: h2cOnly()}
	defer tr.Close() // on a failure too: goleak checks the whole binary
	ctx, cancel := context.WithTimeout(context.Background(), fuzzBound)
	defer cancel()
	if _, err := getAll(ctx, tr, srv.URL+"/warm"); err != nil {
		t.Fatalf("warm-up: %v", err)
	}
	var wg sync.WaitGroup
	errs := make([]error, fuzzStreams)
	for i := range fuzzStreams {
		wg.Go(func() { errs[i] = fuzzRequest(ctx, tr, srv.URL) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			fuzzRequireTyped(t, err)
		}
	}
	deadline := time.Now().Add(fuzzBound)
	for st := tr.Stats().Total; st.Active != 0 || st.Streams != 0; st = tr.Stats().Total {
		if time.Now().After(deadline) {
			t.Fatalf("after the input: %+v", st)
		}
		time.Sleep(time.Millisecond)
	}
	tr.Close()
	srv.Close()
	waitGoroutines(t, base)
}

// fuzzRequest GETs url and reads up to 1 MiB of the body.
func fuzzRequest(ctx context.Context, tr *spool.Transport, url string) error {
	resp, err := get(ctx, tr, url+"/fuzz")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	return err
}

// fuzzRequireTyped is requireTyped for the fuzzer: the context's deadline
// here means a hang.
func fuzzRequireTyped(t *testing.T, err error) {
	t.Helper()
	if errors.Is(err, context.DeadlineExceeded) && !isSpoolTimeout(err) {
		buf := make([]byte, 256<<10)
		buf = buf[:runtime.Stack(buf, true)]
		t.Fatalf("hung for %v: %v\ngoroutines:\n%s", fuzzBound, err, buf)
	}
	var se *spool.Error
	var ne net.Error
	_, coded := h2Code(err)
	if !errors.As(err, &se) && !coded && !errors.As(err, &ne) && !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("untyped error %T: %v", err, err)
	}
}

func h2cOnly() *http.Protocols {
	p := new(http.Protocols)
	p.SetUnencryptedHTTP2(true)
	return p
}

// playInput is the fuzzed server: handshake, answer the warm-up, wait for
// the fuzzStreams requests (a short while: some may never come), write the
// input as it is, half-close, and read until the client closes or sends
// GOAWAY. A conn
// after the first (a retry) gets the handshake and a close.
func playInput(c *h2test.Conn, input []byte) {
	if c.Handshake() != nil || c.Index > 0 {
		return
	}
	warm, err := c.ReadRequest()
	if err != nil {
		return
	}
	c.WriteResponse(warm.StreamID, 200, []byte("warm"))
	// The pool may put a request on a conn of its own: wait a bounded time.
	c.SetDeadline(time.Now().Add(time.Second))
	for range fuzzStreams {
		if _, err := c.ReadRequest(); err != nil {
			break
		}
	}
	c.SetDeadline(time.Time{})
	c.Write(input)
	if tc, ok := c.NC.(*net.TCPConn); ok {
		tc.CloseWrite()
	}
	// Read until the client closes or sends GOAWAY: after its GOAWAY it
	// lingers for our close, and waiting for its close would cost each
	// such input the client's linger bound.
	for {
		f, err := c.Fr.ReadFrame()
		if _, goAway := f.(*http2.GoAwayFrame); err != nil || goAway {
			return
		}
	}
}

// fuzzSeeds are valid server frame sequences for streams 3, 5 and 7:
// full responses, a trailer, resets, a GOAWAY, PINGs, SETTINGS and window
// updates.
func fuzzSeeds() [][]byte {
	var seeds [][]byte
	frames := func(write func(fr *http2.Framer, enc func(...hpack.HeaderField) []byte)) {
		var buf, hbuf bytes.Buffer
		fr := http2.NewFramer(&buf, nil)
		henc := hpack.NewEncoder(&hbuf)
		enc := func(fields ...hpack.HeaderField) []byte {
			hbuf.Reset()
			for _, f := range fields {
				henc.WriteField(f)
			}
			return bytes.Clone(hbuf.Bytes())
		}
		write(fr, enc)
		seeds = append(seeds, buf.Bytes())
	}
	status := hpack.HeaderField{Name: ":status", Value: "200"}
	frames(func(fr *http2.Framer, enc func(...hpack.HeaderField) []byte) {
		for _, id := range []uint32{3, 5, 7} {
			fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: enc(status), EndHeaders: true})
			fr.WriteData(id, true, []byte("hello"))
		}
	})
	frames(func(fr *http2.Framer, enc func(...hpack.HeaderField) []byte) {
		fr.WriteSettings(http2.Setting{ID: http2.SettingMaxFrameSize, Val: 1 << 20})
		fr.WritePing(false, [8]byte{1})
		fr.WriteWindowUpdate(0, 1<<20)
		fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 3, BlockFragment: enc(status,
			hpack.HeaderField{Name: "content-length", Value: "3"}), EndHeaders: true})
		fr.WriteData(3, false, []byte("abc"))
		fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 3, BlockFragment: enc(
			hpack.HeaderField{Name: "x-trailer", Value: "t"}), EndHeaders: true, EndStream: true})
		fr.WriteRSTStream(5, http2.ErrCodeCancel)
		fr.WriteGoAway(5, http2.ErrCodeNo, nil)
	})
	frames(func(fr *http2.Framer, enc func(...hpack.HeaderField) []byte) {
		block := enc(status, hpack.HeaderField{Name: "x-long", Value: string(bytes.Repeat([]byte("v"), 300))})
		fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 7, BlockFragment: block[:10]})
		fr.WriteContinuation(7, true, block[10:])
		fr.WriteData(7, true, nil)
		fr.WriteGoAway(3, http2.ErrCodeProtocol, []byte("debug"))
	})
	seeds = append(seeds, nil, []byte{0, 0, 0, 4, 0, 0, 0, 0, 0}) // nothing; an empty SETTINGS
	return seeds
}

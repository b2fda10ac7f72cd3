package spool_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/spoolhttp/spool"
	"github.com/spoolhttp/spool/internal/testnet"
	"github.com/spoolhttp/spool/internal/testutil"
)

// How the HTTP/1 codec frames request bodies is visible only on the wire,
// so these tests read the raw bytes in a synctest bubble over testnet:
// fake time shows a probe's wait exactly. HTTP/2 has no chunked framing.

// rawSeen is one request as the server's socket saw it.
type rawSeen struct {
	raw    string        // head and body bytes as they came
	head   time.Duration // when the head was in, since the bubble's start
	body   string
	te     []string
	length int64
}

// rawRecorder serves addr in the bubble: each request is recorded and
// answered 200 with an empty body.
type rawRecorder struct {
	mu   sync.Mutex
	seen []rawSeen
	wg   sync.WaitGroup
	ln   net.Listener
}

func newRawRecorder(t *testing.T, n *testnet.Network, addr string, start time.Time) *rawRecorder {
	t.Helper()
	ln, err := n.Listen(addr)
	if err != nil {
		t.Fatal(err)
	}
	s := &rawRecorder{ln: ln}
	s.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.wg.Go(func() { s.serve(c, start) })
		}
	})
	return s
}

func (s *rawRecorder) serve(c net.Conn, start time.Time) {
	defer c.Close()
	var raw bytes.Buffer
	br := bufio.NewReader(io.TeeReader(c, &raw))
	for {
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		seen := rawSeen{head: time.Since(start), te: req.TransferEncoding, length: req.ContentLength}
		b, _ := io.ReadAll(req.Body)
		seen.body = string(b)
		seen.raw = raw.String()
		raw.Reset()
		s.mu.Lock()
		s.seen = append(s.seen, seen)
		s.mu.Unlock()
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
	}
}

func (s *rawRecorder) stop() { s.ln.Close(); s.wg.Wait() }

func (s *rawRecorder) last(t *testing.T) rawSeen {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.seen) == 0 {
		t.Fatal("the server saw no request")
	}
	return s.seen[len(s.seen)-1]
}

// TestUnknownLengthBodyFraming: a body of unknown length (ContentLength 0
// with a Body, or -1) is framed as net/http frames it (TestRequestWriteTransport):
// probed for its first byte only for methods that usually carry no body,
// so an empty one goes without any body; other methods go chunked.
func TestUnknownLengthBodyFraming(t *testing.T) {
	const noFraming = ""
	cases := []struct {
		method  string
		clen    int64
		body    string
		framing string // "chunked", "length" or noFraming
		rawPart string // must appear in the raw request
	}{
		{"GET", 0, "", noFraming, ""},
		{"GET", -1, "", noFraming, ""},
		{"DELETE", -1, "", noFraming, ""},
		{"OPTIONS", 0, "", noFraming, ""},
		{"GET", 7, "foobody", "length", "Content-Length: 7"},
		// The probed byte goes as its own chunk, as net/http sends it.
		{"GET", -1, "foobody", "chunked", "\r\n1\r\nf\r\n"},
		{"POST", -1, "foobody", "chunked", "foobody"},
		{"POST", -1, "", "chunked", "\r\n\r\n0\r\n\r\n"},
		{"PUT", 0, "", "chunked", "\r\n\r\n0\r\n\r\n"},
		{"PATCH", 0, "x", "chunked", "\r\n1\r\nx\r\n"},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%s/clen=%d/%q", tc.method, tc.clen, tc.body), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var n testnet.Network
				s := newRawRecorder(t, &n, "api.test:80", time.Now())
				defer s.stop()
				tr := &spool.Transport{DialContext: n.Dial}
				defer tr.Close()
				req := testutil.NewRequest(t, tc.method, "http://api.test/", nil)
				req.Body = io.NopCloser(strings.NewReader(tc.body))
				req.ContentLength = tc.clen
				resp, err := tr.RoundTrip(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				got := s.last(t)
				framing := noFraming
				switch {
				case len(got.te) > 0:
					framing = "chunked"
				case got.length > 0:
					framing = "length"
				}
				if framing != tc.framing || got.body != tc.body || !strings.Contains(got.raw, tc.rawPart) {
					t.Fatalf("framing %q body %q, want %q %q with %q in\n%q", framing, got.body, tc.framing, tc.body, tc.rawPart, got.raw)
				}
				if tc.framing == noFraming && (strings.Contains(got.raw, "Content-Length") || strings.Contains(got.raw, "Transfer-Encoding")) {
					t.Fatalf("an empty body was framed:\n%q", got.raw)
				}
			})
		})
	}
}

// TestStreamedUploadNotProbed: a streamed POST (a pipe fed later) reaches
// the server at once, chunked; only a GET waits for the probe's bound
// (200ms, as net/http) before going chunked.
func TestStreamedUploadNotProbed(t *testing.T) {
	for _, tc := range []struct {
		method string
		head   time.Duration
	}{{"POST", 0}, {"PUT", 0}, {"GET", 200 * time.Millisecond}} {
		t.Run(tc.method, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var n testnet.Network
				s := newRawRecorder(t, &n, "api.test:80", time.Now())
				defer s.stop()
				tr := &spool.Transport{DialContext: n.Dial}
				defer tr.Close()
				pr, pw := io.Pipe()
				req := testutil.NewRequest(t, tc.method, "http://api.test/", pr)
				type result struct {
					resp *http.Response
					err  error
				}
				ch := make(chan result, 1)
				go func() {
					resp, err := tr.RoundTrip(req)
					ch <- result{resp, err}
				}()
				time.Sleep(time.Second) // fake time: the head went at its moment
				io.WriteString(pw, "data")
				pw.Close()
				r := <-ch
				if r.err != nil {
					t.Fatal(r.err)
				}
				r.resp.Body.Close()
				got := s.last(t)
				if len(got.te) == 0 || got.body != "data" {
					t.Fatalf("te %q body %q, want chunked %q", got.te, got.body, "data")
				}
				if got.head != tc.head {
					t.Fatalf("the head reached the server at %v, want %v", got.head, tc.head)
				}
			})
		})
	}
}

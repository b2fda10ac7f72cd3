package spool_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spoolhttp/spool"
	"github.com/spoolhttp/spool/internal/h1"
	"github.com/spoolhttp/spool/internal/testutil"
)

// Request bodies over the modes (h1, h1-tls, h2) against net/http's server.

// TestRequestBodyLengthMismatch: a body longer or shorter than its
// ContentLength fails the request (net/http's TestTransportPersistConnLeakShortBody)
// instead of being cut to the declared length; the next request works.
// Both a rewindable body (read before the HEADERS on h2) and a streamed
// one. On HTTP/1 the error is a ContentLengthError with net/http's
// text; on HTTP/2 a longer body has net/http's HTTP/2 text, and a shorter
// one fails too and resets the stream (net/http's HTTP/2 sends the short
// body with END_STREAM under a Content-Length it contradicts, a
// malformed request, RFC 9113 §8.1.1), so the server never reads a
// complete body of the wrong length.
func TestRequestBodyLengthMismatch(t *testing.T) {
	var accepted atomic.Int32 // bodies the server read to their end
	forEachMode(t, func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.Copy(io.Discard, r.Body); err == nil && r.Method == "POST" {
			accepted.Add(1)
		}
	}, nil, func(t *testing.T, s *modeServer) {
		accepted.Store(0)
		for _, tc := range []struct {
			body     string
			clen     int64
			streamed bool
		}{{"Hello", 3, false}, {"Hel", 5, false}, {"Hello", 3, true}, {"Hel", 5, true}} {
			var body io.Reader = strings.NewReader(tc.body)
			if tc.streamed {
				body = io.MultiReader(body) // no GetBody: streamed after the HEADERS
			}
			req := testutil.NewRequest(t, "POST", s.URL, body)
			req.ContentLength = tc.clen
			resp, err := s.tr.RoundTrip(req)
			if err == nil {
				resp.Body.Close()
				t.Fatalf("body %q (streamed %v) with ContentLength %d: no error", tc.body, tc.streamed, tc.clen)
			}
			var cl *h1.ContentLengthError
			switch {
			case protoOf(t) == 1 && (!errors.As(err, &cl) || cl.ContentLength != tc.clen || cl.BodyLength != int64(len(tc.body))):
				t.Fatalf("body %q with ContentLength %d: %v, want a ContentLengthError with both lengths", tc.body, tc.clen, err)
			case protoOf(t) == 2 && int64(len(tc.body)) > tc.clen &&
				!strings.Contains(err.Error(), "http2: request body larger than specified content length"):
				t.Fatalf("body %q with ContentLength %d: %v, want net/http's HTTP/2 text", tc.body, tc.clen, err)
			}
		}
		// HTTP/1 may send the declared bytes of a longer body before it
		// learns there are more (the conn is then closed); HTTP/2 checks
		// before the stream ends.
		if n := accepted.Load(); protoOf(t) == 2 && n != 0 {
			t.Fatalf("the server read %d complete bodies of the wrong length", n)
		}
		resp, err := s.tr.RoundTrip(testutil.NewRequest(t, "GET", s.URL, nil))
		if err != nil {
			t.Fatalf("the next request: %v", err)
		}
		resp.Body.Close()
	})
}

// TestConnectTunnelBidirectional: a CONNECT request's body is the client's
// half of the tunnel (net/http's TestTransportCONNECTBidi): written
// unframed and at once, while the response body reads the server's half.
// Over HTTP/2 the tunnel is a stream (RFC 9113 §8.5): :method CONNECT and
// :authority only (the target is req.Host, as net/http's HTTP/2 takes it;
// URL.Opaque is the HTTP/1 request target), the body DATA frames of no
// declared length.
func TestConnectTunnelBidirectional(t *testing.T) {
	const target = "backend:443"
	forEachMode(t, func(w http.ResponseWriter, r *http.Request) {
		wantLen := int64(0) // HTTP/1: unframed, nothing declared
		if r.ProtoMajor == 2 {
			wantLen = -1 // DATA frames until END_STREAM
		}
		if r.Method != "CONNECT" || r.RequestURI != target || r.Host != target || r.ContentLength != wantLen || len(r.TransferEncoding) != 0 {
			t.Errorf("%s %q host %q length %d te %q, want CONNECT %q unframed", r.Method, r.RequestURI, r.Host, r.ContentLength, r.TransferEncoding, target)
			w.WriteHeader(500)
			return
		}
		echoTunnel(w, r)
	}, nil, func(t *testing.T, s *modeServer) {
		pr, pw := io.Pipe()
		defer pw.Close()
		req := testutil.NewRequest(t, "CONNECT", s.URL, pr)
		req.URL.Opaque = target
		req.Host = target
		resp, err := (&http.Client{Transport: s.tr}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
		br := bufio.NewReader(resp.Body)
		for _, word := range []string{"foo", "bar", "baz"} {
			io.WriteString(pw, word+"\n")
			got, err := br.ReadString('\n')
			if err != nil || got != strings.ToUpper(word)+"\n" {
				t.Fatalf("tunnel echoed %q, %v; want %q", got, err, strings.ToUpper(word))
			}
		}
	})
}

// TestConnectRefusedConnNotReused: a CONNECT body of unknown length goes
// unframed, so a server that refuses the tunnel (407, keeping the conn)
// reads it as the next request and answers it. That conn must not serve
// the next request, or the stray answer is taken for its response (a
// poisoned pool; net/http reuses it). The CONNECT itself does not ask
// for Connection: close (a proxy would end the tunnel it opens).
func TestConnectRefusedConnNotReused(t *testing.T) {
	forEachMode(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Method == "CONNECT" {
			if r.Close {
				t.Errorf("the CONNECT head asked to close the conn")
			}
			w.WriteHeader(http.StatusProxyAuthRequired)
			return
		}
		io.WriteString(w, r.URL.Path)
	}, nil, func(t *testing.T, s *modeServer) {
		for i := range 5 {
			req := testutil.NewRequest(t, "CONNECT", s.URL, strings.NewReader("GET /stray HTTP/1.1\r\nHost: x\r\n\r\n"))
			req.ContentLength = 0 // unknown: the tunnel's first bytes
			req.URL.Opaque = "backend:443"
			resp, err := s.tr.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusProxyAuthRequired {
				t.Fatalf("CONNECT: status %d", resp.StatusCode)
			}
			resp, err = s.tr.RoundTrip(testutil.NewRequest(t, "GET", s.URL+"/next", nil))
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if string(b) != "/next" {
				t.Fatalf("round %d: GET /next was answered %q", i, b)
			}
		}
		// HTTP/2 frames the tunnel's bytes as DATA of the CONNECT's own
		// stream, which the refusal ends: nothing stray, so the conn is
		// kept for the next requests.
		if n := s.conns.Load(); protoOf(t) == 2 && n != 1 {
			t.Fatalf("server saw %d conns, want 1: a refused CONNECT stream must not cost the HTTP/2 conn", n)
		}
	})
}

// closeSignalPipe is a pipe's reading end as a request body: Close closes
// the pipe (a pending Read returns) and closes closed.
type closeSignalPipe struct {
	*io.PipeReader
	once   sync.Once
	closed chan struct{}
}

func (p *closeSignalPipe) Close() error {
	p.once.Do(func() { close(p.closed) })
	return p.PipeReader.Close()
}

// TestConnectTunnelCloseClosesClientHalf: closing a CONNECT tunnel (its
// response body) closes the request body too, so the writer of the
// client's half, blocked in that body's Read, ends with the tunnel
// (RoundTrip closes req.Body on every path) instead of waiting for a
// caller who has moved on.
func TestConnectTunnelCloseClosesClientHalf(t *testing.T) {
	forEachMode(t, func(w http.ResponseWriter, r *http.Request) {
		if r.ProtoMajor == 2 { // the tunnel is the stream (RFC 9113 §8.5)
			w.WriteHeader(200)
			w.(http.Flusher).Flush()
			io.Copy(io.Discard, r.Body)
			return
		}
		nc, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		defer nc.Close()
		io.WriteString(nc, "HTTP/1.1 200 OK\r\n\r\n")
		io.Copy(io.Discard, nc)
	}, nil, func(t *testing.T, s *modeServer) {
		pr, pw := io.Pipe()
		defer pw.Close()
		body := &closeSignalPipe{PipeReader: pr, closed: make(chan struct{})}
		req := testutil.NewRequest(t, "CONNECT", s.URL, body)
		req.URL.Opaque = "backend:443"
		resp, err := s.tr.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		// HTTP/1 hands back the conn as a writable body; on HTTP/2 (as
		// net/http's) the body reads the stream and req.Body writes it.
		if _, ok := resp.Body.(io.Writer); resp.StatusCode != 200 || !ok && protoOf(t) == 1 {
			t.Fatalf("status %d, body %T: want 200 and a tunnel", resp.StatusCode, resp.Body)
		}
		io.WriteString(pw, "hello\n") // the writer is running and back in Read
		resp.Body.Close()
		select {
		case <-body.closed:
		case <-time.After(10 * time.Second):
			t.Fatal("the request body was not closed with the tunnel")
		}
	})
}

// readFromConn counts the ReadFrom calls on a dialed TCP conn, and those
// that TCPConn.ReadFrom can send by sendfile (a file right inside a
// LimitedReader, or bare).
type readFromConn struct {
	*net.TCPConn
	calls, sendfile *atomic.Int32
}

func (c readFromConn) ReadFrom(r io.Reader) (int64, error) {
	c.calls.Add(1)
	inner := r
	if lr, ok := r.(*io.LimitedReader); ok {
		inner = lr.R
	}
	if _, ok := inner.(*os.File); ok {
		c.sendfile.Add(1)
	}
	return c.TCPConn.ReadFrom(r)
}

// TestFileBodySentByReadFrom: a file body with a ContentLength goes to a
// plain TCP conn through the conn's ReadFrom (sendfile), not through a
// user-space buffer, as net/http's TestTransportRequestWriteRoundTrip
// expects; chunked bodies, in-memory bodies, TLS and HTTP/2 copy.
func TestFileBodySentByReadFrom(t *testing.T) {
	const size = 1 << 10
	content := bytes.Repeat([]byte("0123456789abcdef"), size/16)
	newFile := func(t *testing.T) io.Reader {
		f, err := os.CreateTemp(t.TempDir(), "body")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		f.Write(content)
		f.Seek(0, 0)
		return f
	}
	newBuffer := func(*testing.T) io.Reader { return bytes.NewBuffer(bytes.Clone(content)) }
	var calls, sendfile atomic.Int32
	forEachMode(t, func(w http.ResponseWriter, r *http.Request) {
		if b, _ := io.ReadAll(r.Body); !bytes.Equal(b, content) {
			t.Errorf("server read %d bytes, want the %d of the file", len(b), len(content))
		}
	}, func(tr *spool.Transport) {
		tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return readFromConn{c.(*net.TCPConn), &calls, &sendfile}, nil
		}
	}, func(t *testing.T, s *modeServer) {
		for _, tc := range []struct {
			name     string
			body     func(*testing.T) io.Reader
			clen     int64
			readFrom bool
		}{
			{"file, length", newFile, size, true},
			{"file in NopCloser, length", func(t *testing.T) io.Reader { return io.NopCloser(newFile(t)) }, size, true},
			{"file, no length", newFile, 0, false},
			{"file, length -1", newFile, -1, false},
			{"buffer, length", newBuffer, size, false},
			{"buffer, no length", newBuffer, 0, false},
		} {
			calls.Store(0)
			sendfile.Store(0)
			req := testutil.NewRequest(t, "PUT", s.URL, tc.body(t))
			req.ContentLength = tc.clen
			resp, err := s.tr.RoundTrip(req)
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			resp.Body.Close()
			want := tc.readFrom && protoOf(t) == 1 && !strings.HasPrefix(s.URL, "https")
			if got := calls.Load() > 0; got != want || calls.Load() != sendfile.Load() {
				t.Errorf("%s: ReadFrom called %v (%d times, %d of them with the file where sendfile finds it), want %v",
					tc.name, got, calls.Load(), sendfile.Load(), want)
			}
		}
	})
}

// stuckReader blocks every Read until unblock is closed, then reports EOF;
// Close does not interrupt it (a caller's body that ignores Close).
type stuckReader struct{ unblock chan struct{} }

func (r stuckReader) Read([]byte) (int, error) { <-r.unblock; return 0, io.EOF }

// TestResponseUsableWhileRequestBodyReadStuck: a server answers early
// while the request body's Read blocks and ignores Close (net/http's
// TestTransportNoReuseAfterEarlyResponse): the response is read and
// closed without waiting for that Read, the conn is not reused, and the
// next request goes on a new conn.
func TestResponseUsableWhileRequestBodyReadStuck(t *testing.T) {
	const size = 256 << 10
	forEachMode(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Method == "GET" {
			io.WriteString(w, "bar")
			return
		}
		if r.ProtoMajor == 2 {
			io.WriteString(w, "foo") // the stream ends; the server resets the upload
			return
		}
		nc, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		io.WriteString(nc, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nfoo") // keep-alive
		go func() { io.Copy(io.Discard, nc); nc.Close() }()
	}, nil, func(t *testing.T, s *modeServer) {
		stuck := stuckReader{make(chan struct{})}
		defer close(stuck.unblock)
		body := io.MultiReader(strings.NewReader(strings.Repeat("x", size-1)), stuck)
		req := testutil.NewRequest(t, "POST", s.URL, body)
		req.ContentLength = size
		done := make(chan error, 1)
		go func() {
			resp, err := s.tr.RoundTrip(req)
			if err != nil {
				done <- err
				return
			}
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err == nil && string(b) != "foo" {
				err = fmt.Errorf("body %q", b)
			}
			done <- err
		}()
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("reading and closing the response hung on the stuck request body")
		}
		resp, err := s.tr.RoundTrip(testutil.NewRequest(t, "GET", s.URL, nil))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) != "bar" {
			t.Fatalf("GET: %q", b)
		}
		if protoOf(t) == 1 && s.conns.Load() != 2 {
			t.Fatalf("server saw %d conns, want 2: the conn of the stuck upload must not be reused", s.conns.Load())
		}
	})
}

// TestStreamedBodyChunksReachServerAsRead: a body of unknown length that
// trickles reaches the server as it is read, one chunk per Read, not when
// a buffer fills or the body ends (net/http flushes after each chunk:
// TestTransportFlushesBodyChunks). The server echoes each line as it gets
// it and the client writes the next line only after reading the echo, so
// a transport that holds the chunks back hangs here.
func TestStreamedBodyChunksReachServerAsRead(t *testing.T) {
	forEachMode(t, func(w http.ResponseWriter, r *http.Request) {
		http.NewResponseController(w).EnableFullDuplex()
		w.WriteHeader(200)
		w.(http.Flusher).Flush()
		sc := bufio.NewScanner(r.Body)
		for sc.Scan() {
			fmt.Fprintf(w, "got %s\n", sc.Text())
			w.(http.Flusher).Flush()
		}
	}, nil, func(t *testing.T, s *modeServer) {
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second) // did not hang
		defer cancel()
		pr, pw := io.Pipe()
		defer pw.Close()
		resp, err := s.tr.RoundTrip(testutil.NewRequest(t, "POST", s.URL, pr).WithContext(ctx))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		echo := bufio.NewReader(resp.Body)
		for i := range 3 {
			fmt.Fprintf(pw, "line%d\n", i)
			got, err := echo.ReadString('\n')
			if want := fmt.Sprintf("got line%d\n", i); got != want || err != nil {
				t.Fatalf("echo %d: %q, %v; want %q (the chunk stayed in the client's buffer)", i, got, err, want)
			}
		}
		pw.Close()
		if rest, err := io.ReadAll(echo); err != nil || len(rest) != 0 {
			t.Fatalf("after the body ended: %q, %v", rest, err)
		}
	})
}

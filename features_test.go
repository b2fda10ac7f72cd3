package spool_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/textproto"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/spoolhttp/spool"
	"github.com/spoolhttp/spool/internal/testserver"
	"github.com/spoolhttp/spool/internal/testutil"
)

func gzipped(s string) string {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	io.WriteString(zw, s)
	zw.Close()
	return b.String()
}

func TestTransparentGzip(t *testing.T) {
	var seen sync.Map
	s := testserver.New(t, func(c *testserver.Conn, r *testserver.Request) {
		seen.Store(r.N, r.Header.Get("Accept-Encoding"))
		c.Reply(200, http.Header{"Content-Encoding": {"gzip"}}, gzipped("hello, gzip"))
	})
	tr := testutil.NewTransport(t, nil)
	resp, err := tr.RoundTrip(testutil.NewRequest(t, "GET", s.URL(), nil))
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || string(b) != "hello, gzip" {
		t.Fatalf("body %q err %v", b, err)
	}
	if !resp.Uncompressed || resp.Header.Get("Content-Encoding") != "" || resp.ContentLength != -1 {
		t.Fatalf("headers not fixed: %v %v %d", resp.Uncompressed, resp.Header, resp.ContentLength)
	}
	if ae, _ := seen.Load(0); ae != "gzip" {
		t.Fatalf("Accept-Encoding sent %q", ae)
	}
	// The caller's own Accept-Encoding: no decoding, bytes as sent.
	req := testutil.NewRequest(t, "GET", s.URL(), nil)
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err = tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != gzipped("hello, gzip") || resp.Uncompressed {
		t.Fatal("decoded a body the caller asked to encode itself")
	}
	if st := tr.Stats().Total; st.Dials != 1 {
		t.Fatalf("gzip bodies did not reuse the conn: %+v", st)
	}
}

func TestZstdAndBombLimit(t *testing.T) {
	big := strings.Repeat("a", 1<<20)
	enc, _ := zstd.NewWriter(nil)
	zbig := string(enc.EncodeAll([]byte(big), nil))
	enc.Close()
	s := testserver.New(t, func(c *testserver.Conn, r *testserver.Request) {
		c.Reply(200, http.Header{"Content-Encoding": {"zstd"}}, zbig)
	})
	tr := testutil.NewTransport(t, &spool.Transport{ExtraEncodings: true})
	resp, err := tr.RoundTrip(testutil.NewRequest(t, "GET", s.URL(), nil))
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || len(b) != len(big) {
		t.Fatalf("zstd: %d bytes, err %v", len(b), err)
	}
	tr2 := testutil.NewTransport(t, &spool.Transport{ExtraEncodings: true, MaxDecompressedBytes: 1000})
	resp, err = tr2.RoundTrip(testutil.NewRequest(t, "GET", s.URL(), nil))
	if err != nil {
		t.Fatal(err)
	}
	b, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	if !errors.Is(err, spool.ErrDecompressedTooLarge) || len(b) > 1000 {
		t.Fatalf("bomb: read %d bytes, err %v", len(b), err)
	}
}

// Every httptrace hook the issue lists fires, in order, on an upload
// with Expect: 100-continue over a fresh then a reused conn.
func TestHTTPTraceHooks(t *testing.T) {
	s := testserver.New(t, func(c *testserver.Conn, r *testserver.Request) {
		c.Write("HTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\n")
		c.Reply(200, nil, "ok")
	})
	tr := testutil.NewTransport(t, &spool.Transport{ExpectContinueTimeout: 5e9})
	var mu sync.Mutex
	var events []string
	var wrote atomic.Int32
	ev := func(s string) { mu.Lock(); events = append(events, s); mu.Unlock() }
	trace := &httptrace.ClientTrace{
		GetConn:              func(string) { ev("GetConn") },
		GotConn:              func(i httptrace.GotConnInfo) { ev("GotConn reused=" + boolStr(i.Reused)) },
		PutIdleConn:          func(err error) { ev("PutIdleConn") },
		DNSStart:             func(httptrace.DNSStartInfo) { ev("DNSStart") },
		DNSDone:              func(httptrace.DNSDoneInfo) { ev("DNSDone") },
		ConnectStart:         func(string, string) { ev("ConnectStart") },
		ConnectDone:          func(string, string, error) { ev("ConnectDone") },
		WroteHeaderField:     func(k string, v []string) {},
		WroteHeaders:         func() { ev("WroteHeaders") },
		Wait100Continue:      func() { ev("Wait100Continue") },
		Got100Continue:       func() { ev("Got100Continue") },
		Got1xxResponse:       func(code int, h textproto.MIMEHeader) error { ev("Got1xx " + h.Get("Link")); return nil },
		WroteRequest:         func(httptrace.WroteRequestInfo) { wrote.Add(1) }, // from the body writer goroutine: order not fixed
		GotFirstResponseByte: func() { ev("GotFirstResponseByte") },
	}
	url := strings.Replace(s.URL(), "127.0.0.1", "localhost", 1)
	for i := 0; i < 2; i++ {
		req := testutil.NewRequest(t, "PUT", url, strings.NewReader("data"))
		req.Header.Set("Expect", "100-continue")
		req = req.WithContext(httptrace.WithClientTrace(context.Background(), trace))
		resp, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	got := strings.Join(events, ", ")
	want := "GetConn, DNSStart, DNSDone, ConnectStart, ConnectDone, GotConn reused=false, WroteHeaders, Wait100Continue, " +
		"GotFirstResponseByte, Got100Continue, Got1xx , Got1xx </s.css>, PutIdleConn, " +
		"GetConn, GotConn reused=true, WroteHeaders, Wait100Continue, GotFirstResponseByte, Got100Continue, Got1xx , Got1xx </s.css>, PutIdleConn"
	if wrote.Load() != 2 {
		t.Errorf("WroteRequest fired %d times, want 2", wrote.Load())
	}
	if got != want {
		t.Fatalf("trace:\n got %s\nwant %s", got, want)
	}
}

func boolStr(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// 101 Switching Protocols hands the conn over as a writable body.
func TestSwitchingProtocols(t *testing.T) {
	s := testserver.New(t, func(c *testserver.Conn, r *testserver.Request) {
		c.Write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n")
		buf := make([]byte, 5)
		n, _ := io.ReadFull(c, buf)
		c.Write("echo:" + string(buf[:n]))
		c.Close()
	})
	tr := testutil.NewTransport(t, nil)
	req := testutil.NewRequest(t, "GET", s.URL(), nil)
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "echo")
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	rw, ok := resp.Body.(io.ReadWriteCloser)
	if resp.StatusCode != 101 || !ok {
		t.Fatalf("status %d, body %T", resp.StatusCode, resp.Body)
	}
	io.WriteString(rw, "hello")
	b, _ := io.ReadAll(rw)
	rw.Close()
	if string(b) != "echo:hello" {
		t.Fatalf("got %q", b)
	}
}

func TestChunkedUploadWithTrailersAndResponseTrailers(t *testing.T) {
	s := testserver.New(t, func(c *testserver.Conn, r *testserver.Request) {
		c.Write("HTTP/1.1 200 OK\r\nTrailer: X-Sum\r\nTransfer-Encoding: chunked\r\n\r\n" +
			"5\r\n" + string(r.Body[:5]) + "\r\n0\r\nX-Sum: " + r.Trailer.Get("X-Check") + "\r\n\r\n")
	})
	tr := testutil.NewTransport(t, nil)
	pr, pw := io.Pipe()
	go func() { io.WriteString(pw, "streamed body"); pw.Close() }()
	req := testutil.NewRequest(t, "POST", s.URL(), pr)
	req.Trailer = http.Header{"X-Check": nil}
	req.Trailer.Set("X-Check", "42")
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || string(b) != "strea" || resp.Trailer.Get("X-Sum") != "42" {
		t.Fatalf("body %q err %v trailer %v", b, err, resp.Trailer)
	}
	r := s.Requests()[0]
	if string(r.Body) != "streamed body" || r.Header.Get("Transfer-Encoding") != "chunked" {
		t.Fatalf("server got %q %v", r.Body, r.Header)
	}
}

// TLS through spool against net/http's own test server.
func TestHTTPS(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "secure "+r.Proto)
	}))
	defer srv.Close()
	tr := testutil.NewTransport(t, &spool.Transport{TLSClientConfig: &tls.Config{RootCAs: srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs}})
	c := &http.Client{Transport: tr}
	for i := 0; i < 3; i++ {
		if _, got := testutil.Get(t, c, srv.URL); got != "secure HTTP/1.1" {
			t.Fatalf("got %q", got)
		}
	}
	if st := tr.Stats().Total; st.Dials != 1 || st.Reuses != 2 {
		t.Fatalf("stats %+v", st)
	}
}

package h2test_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/spoolhttp/spool/internal/h2test"
	"go.uber.org/goleak"
	"golang.org/x/net/http2"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// h2Client is net/http's Transport speaking HTTP/2 only (h2c by prior
// knowledge for http://, ALPN h2 for https://): the harness is shown with
// a client that is not spool's.
func h2Client(t *testing.T, s *h2test.Server) *http.Client {
	var p http.Protocols
	p.SetUnencryptedHTTP2(true)
	p.SetHTTP2(true)
	tr := &http.Transport{Protocols: &p, TLSClientConfig: s.ClientTLS}
	if s.ClientTLS != nil {
		conf := s.ClientTLS.Clone()
		conf.NextProtos = []string{"h2"}
		tr.TLSClientConfig = conf
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

// Handle(OK) is an ordinary HTTP/2 server, over h2c and over TLS, and the
// script sees the request's pseudo-headers and body.
func TestHandleServesRequests(t *testing.T) {
	for _, mk := range []func(testing.TB, func(*h2test.Conn)) *h2test.Server{h2test.NewServer, h2test.NewTLSServer} {
		var gotPath, gotBody string
		s := mk(t, h2test.Handle(func(c *h2test.Conn, r *h2test.Request, body []byte) {
			gotPath, gotBody = r.Path, string(body)
			c.WriteResponse(r.StreamID, 201, []byte("made"))
		}))
		resp, err := h2Client(t, s).Post(s.URL+"/x?y", "text/plain", strings.NewReader("upload"))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 201 || string(b) != "made" || resp.ProtoMajor != 2 {
			t.Fatalf("%s: %d %q proto %d", s.URL, resp.StatusCode, b, resp.ProtoMajor)
		}
		if gotPath != "/x?y" || gotBody != "upload" {
			t.Fatalf("server saw path %q body %q", gotPath, gotBody)
		}
		if s.Accepted() != 1 {
			t.Fatalf("accepted %d conns, want 1", s.Accepted())
		}
		s.Close()
	}
}

// A script can send any frame: here a RST_STREAM instead of a response,
// which the client reports as a stream error.
func TestScriptSendsFrames(t *testing.T) {
	s := h2test.NewServer(t, func(c *h2test.Conn) {
		if c.Handshake(http2.Setting{ID: http2.SettingMaxConcurrentStreams, Val: 10}) != nil {
			return
		}
		r, err := c.ReadRequest()
		if err != nil {
			return
		}
		c.WriteRSTStream(r.StreamID, http2.ErrCodeInternal)
		c.Park()
	})
	_, err := h2Client(t, s).Get(s.URL)
	if err == nil || !strings.Contains(err.Error(), "INTERNAL_ERROR") {
		t.Fatalf("err = %v, want the stream reset", err)
	}
}

// A parked script (a peer that stops reading) ends when the server
// closes, and the client then sees its conn gone.
func TestParkEndsOnClose(t *testing.T) {
	s := h2test.NewServer(t, func(c *h2test.Conn) {
		if c.Handshake() == nil {
			c.Park()
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", s.URL, nil)
	errc := make(chan error, 1)
	go func() {
		resp, err := h2Client(t, s).Do(req)
		if err == nil {
			resp.Body.Close()
		}
		errc <- err
	}()
	for s.Accepted() == 0 {
		time.Sleep(time.Millisecond)
	}
	s.Close()
	if err := <-errc; err == nil || ctx.Err() != nil {
		t.Fatalf("err = %v (ctx %v), want the closed conn's error before the deadline", err, ctx.Err())
	}
}

// SetDeadline bounds a script's wait for frames that never come: here the
// client sends no request, and ReadRequest fails at the deadline.
func TestSetDeadlineBoundsReads(t *testing.T) {
	errc := make(chan error, 1)
	s := h2test.NewServer(t, func(c *h2test.Conn) {
		c.SetDeadline(time.Now().Add(100 * time.Millisecond))
		errc <- c.ReadPreface()
		_, err := c.ReadFrame()
		errc <- err
	})
	nc, err := net.Dial("tcp", strings.TrimPrefix(s.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	io.WriteString(nc, http2.ClientPreface)
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	var ne net.Error
	if err := <-errc; !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("ReadFrame after the deadline: %v, want a timeout", err)
	}
}

package testserver_test

import (
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/spoolhttp/spool/internal/testserver"
)

// newClient is a plain net/http client whose idle conns are closed at the
// end of the test (before the server's own cleanup runs).
func newClient(t *testing.T, tr *http.Transport) *http.Client {
	if tr == nil {
		tr = &http.Transport{}
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

func get(t *testing.T, c *http.Client, url string) (string, error) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

type at struct{ conn, n int }

func where(rs []testserver.Request) []at {
	var out []at
	for _, r := range rs {
		out = append(out, at{r.ConnIndex, r.N})
	}
	return out
}

func wantWhere(t *testing.T, s *testserver.Server, want ...at) {
	t.Helper()
	got := where(s.Requests())
	if len(got) != len(want) {
		t.Fatalf("requests landed at %v, want %v", got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("requests landed at %v, want %v", got, want)
		}
	}
}

// TestReuseByConnIndex: two sequential GETs on one keep-alive client land
// on conn 0 as requests 0 and 1.
func TestReuseByConnIndex(t *testing.T) {
	s := testserver.New(t, testserver.OK("hi"))
	c := newClient(t, nil)
	for range 2 {
		if body, err := get(t, c, s.URL()+"/x?y=1"); err != nil || body != "hi" {
			t.Fatalf("got %q, %v", body, err)
		}
	}
	wantWhere(t, s, at{0, 0}, at{0, 1})
	r := s.Requests()[0]
	if r.Method != "GET" || r.Target != "/x?y=1" || r.Proto != "HTTP/1.1" || r.Host != s.Addr() {
		t.Errorf("recorded %+v", r)
	}
	if s.ConnCount() != 1 || s.OpenConns() != 1 {
		t.Errorf("ConnCount %d OpenConns %d, want 1 and 1", s.ConnCount(), s.OpenConns())
	}
}

// TestCloseIdleConns: after the server drops its idle conns, the next
// request lands on conn 1.
func TestCloseIdleConns(t *testing.T) {
	s := testserver.New(t, testserver.OK("hi"))
	c := newClient(t, nil)
	if _, err := get(t, c, s.URL()); err != nil {
		t.Fatal(err)
	}
	s.CloseIdleConns()
	if s.OpenConns() != 0 {
		t.Fatalf("OpenConns = %d after CloseIdleConns", s.OpenConns())
	}
	if _, err := get(t, c, s.URL()); err != nil {
		t.Fatal(err)
	}
	wantWhere(t, s, at{0, 0}, at{1, 0})
}

// TestScriptCloseMidBody: the second request's response is cut short, so
// the client's body read fails.
func TestScriptCloseMidBody(t *testing.T) {
	s := testserver.New(t, testserver.Script(
		testserver.OK("first"),
		testserver.CloseMidBody(100, "partial"),
	))
	c := newClient(t, nil)
	if body, _ := get(t, c, s.URL()); body != "first" {
		t.Fatalf("first body %q", body)
	}
	body, err := get(t, c, s.URL())
	if !errors.Is(err, io.ErrUnexpectedEOF) || body != "partial" {
		t.Fatalf("got %q, %v; want \"partial\" and io.ErrUnexpectedEOF", body, err)
	}
	// The last step repeats: the third request is also cut short, on a new conn.
	if _, err := get(t, c, s.URL()); err == nil {
		t.Fatal("third request: no error")
	}
	wantWhere(t, s, at{0, 0}, at{0, 1}, at{1, 0})
}

// TestCloseAfterHeaders: headers arrive, the body read fails.
func TestCloseAfterHeaders(t *testing.T) {
	s := testserver.New(t, testserver.CloseAfterHeaders)
	resp, err := newClient(t, nil).Get(s.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if _, err := io.ReadAll(resp.Body); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("body read: %v", err)
	}
}

// TestStallBeforeHeaders: the client's own timeout ends the exchange; the
// request is still recorded.
func TestStallBeforeHeaders(t *testing.T) {
	s := testserver.New(t, testserver.StallBeforeHeaders)
	_, err := newClient(t, &http.Transport{ResponseHeaderTimeout: 100 * time.Millisecond}).Get(s.URL())
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("err = %v, want a timeout", err)
	}
	wantWhere(t, s, at{0, 0})
}

// TestResetOnReuse: the second GET hits the reset on conn 0; net/http
// retries it (idempotent, nothing read) on conn 1.
func TestResetOnReuse(t *testing.T) {
	s := testserver.New(t, testserver.ResetOnReuse)
	c := newClient(t, nil)
	for i := range 2 {
		if body, err := get(t, c, s.URL()); err != nil || body != "ok" {
			t.Fatalf("GET %d: %q, %v", i, body, err)
		}
	}
	wantWhere(t, s, at{0, 0}, at{0, 1}, at{1, 0})
}

// TestDribble: a response written a byte at a time still parses.
func TestDribble(t *testing.T) {
	s := testserver.New(t, func(c *testserver.Conn, r *testserver.Request) {
		c.Dribble("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", time.Millisecond)
	})
	if body, err := get(t, newClient(t, nil), s.URL()); err != nil || body != "ok" {
		t.Fatalf("got %q, %v", body, err)
	}
}

// TestRawClient: the server also serves a hand-written client, and Reply
// with "Connection: close" closes after answering.
func TestRawClient(t *testing.T) {
	s := testserver.New(t, func(c *testserver.Conn, r *testserver.Request) {
		c.Reply(404, http.Header{"Connection": {"close"}, "X-Why": {"gone"}}, "nope")
	})
	nc, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	io.WriteString(nc, "GET /a HTTP/1.1\r\nHost: h\r\n\r\n")
	got, err := io.ReadAll(nc)
	want := "HTTP/1.1 404 Not Found\r\nConnection: close\r\nX-Why: gone\r\nContent-Length: 4\r\n\r\nnope"
	if err != nil || string(got) != want {
		t.Fatalf("got %q, %v", got, err)
	}
	if !strings.EqualFold(s.Requests()[0].Host, "h") {
		t.Errorf("Host %q", s.Requests()[0].Host)
	}
}

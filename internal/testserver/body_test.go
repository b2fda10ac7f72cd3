package testserver_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/spoolhttp/spool/internal/testserver"
)

// TestChunkedBody: a body of unknown length arrives chunked and is
// recorded whole.
func TestChunkedBody(t *testing.T) {
	s := testserver.New(t, testserver.OK(""))
	body := io.MultiReader(strings.NewReader("hello, "), strings.NewReader("world"))
	req, _ := http.NewRequest("POST", s.URL(), body)
	resp, err := newClient(t, nil).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	r := s.Requests()[0]
	if string(r.Body) != "hello, world" || r.Header.Get("Transfer-Encoding") != "chunked" {
		t.Fatalf("recorded body %q header %v", r.Body, r.Header)
	}
}

// TestExpectContinue: by default the server sends 100 Continue, so the
// client does not sit out its ExpectContinueTimeout.
func TestExpectContinue(t *testing.T) {
	s := testserver.New(t, testserver.OK("got it"))
	c := newClient(t, &http.Transport{ExpectContinueTimeout: 10 * time.Second})
	req, _ := http.NewRequest("PUT", s.URL(), strings.NewReader("payload"))
	req.Header.Set("Expect", "100-continue")
	start := time.Now()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v: the client waited out its timeout, no 100 sent?", d)
	}
	if got := string(s.Requests()[0].Body); got != "payload" {
		t.Errorf("body %q", got)
	}
}

// TestNoContinue: the handler refuses before the body is sent; the body
// never reaches the server.
func TestNoContinue(t *testing.T) {
	s := testserver.New(t, func(c *testserver.Conn, r *testserver.Request) {
		c.Reply(http.StatusExpectationFailed, http.Header{"Connection": {"close"}}, "")
	})
	s.NoContinue.Store(true)
	c := newClient(t, &http.Transport{ExpectContinueTimeout: 10 * time.Second})
	req, _ := http.NewRequest("PUT", s.URL(), strings.NewReader("payload"))
	req.Header.Set("Expect", "100-continue")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusExpectationFailed {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if r := s.Requests()[0]; r.Body != nil {
		t.Errorf("body %q was read", r.Body)
	}
}

// TestNoContinueAccept: a NoContinue handler may still accept the body.
func TestNoContinueAccept(t *testing.T) {
	s := testserver.New(t, func(c *testserver.Conn, r *testserver.Request) {
		c.Continue()
		b, _ := c.ReadBody()
		c.Reply(200, nil, "len="+string(rune('0'+len(b))))
	})
	s.NoContinue.Store(true)
	c := newClient(t, &http.Transport{ExpectContinueTimeout: 10 * time.Second})
	req, _ := http.NewRequest("PUT", s.URL(), strings.NewReader("abc"))
	req.Header.Set("Expect", "100-continue")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "len=3" || string(s.Requests()[0].Body) != "abc" {
		t.Fatalf("reply %q, recorded %q", b, s.Requests()[0].Body)
	}
}

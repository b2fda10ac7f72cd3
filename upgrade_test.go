package spool_test

import (
	"bufio"
	"io"
	"net/http"
	"testing"

	"github.com/spoolhttp/spool/internal/testutil"
)

// A WebSocket upgrade stays on HTTP/1.1 even where the origin speaks
// HTTP/2, as with net/http (issue 11 bug 10, TestH12_WebSocketUpgrade):
// the 101's body is the conn, both ways; other requests still use h2.
func TestWebSocketUpgradeStaysOnHTTP1(t *testing.T) {
	forEachMode(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "websocket" {
			io.WriteString(w, r.Proto)
			return
		}
		if r.ProtoMajor != 1 {
			http.Error(w, "upgrade over "+r.Proto, http.StatusBadRequest)
			return
		}
		c, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		defer c.Close()
		brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
		brw.Flush()
		line, _ := brw.ReadString('\n')
		brw.WriteString("echo " + line)
		brw.Flush()
	}, nil, func(t *testing.T, s *modeServer) {
		req := testutil.NewRequest(t, "GET", s.URL, nil)
		req.Header.Set("Connection", "Upgrade")
		req.Header.Set("Upgrade", "websocket")
		resp, err := s.tr.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusSwitchingProtocols || resp.ProtoMajor != 1 {
			b, _ := io.ReadAll(resp.Body)
			t.Fatalf("%s %s %q, want 101 on HTTP/1.1", resp.Proto, resp.Status, b)
		}
		rw, ok := resp.Body.(io.ReadWriteCloser)
		if !ok {
			t.Fatalf("101 body %T is not writable", resp.Body)
		}
		io.WriteString(rw, "hi\n")
		if line, err := bufio.NewReader(rw).ReadString('\n'); err != nil || line != "echo hi\n" {
			t.Fatalf("through the upgraded conn: %q, %v", line, err)
		}
		// The origin's other requests keep their protocol.
		_, body := testutil.Get(t, &http.Client{Transport: s.tr}, s.URL)
		if want := map[int]string{1: "HTTP/1.1", 2: "HTTP/2.0"}[protoOf(t)]; body != want {
			t.Errorf("plain request over %q, want %q", body, want)
		}
	})
}

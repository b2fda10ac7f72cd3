package faulttest

import (
	"errors"
	"io"
	"net/http/httptrace"
	"net/textproto"
	"strings"
	"testing"

	"github.com/spoolhttp/spool"
	"github.com/spoolhttp/spool/internal/testserver"
	"github.com/spoolhttp/spool/internal/testutil"
)

// TestF7_HeaderFlood: endless or huge headers fail with a
// HeaderLimitError that names MaxResponseHeaderBytes after reading at most
// the limit plus a few KiB; a flood of 1xx responses is bounded too.
func TestF7_HeaderFlood(t *testing.T) {
	line := "X-Flood: " + strings.Repeat("a", 100) + "\r\n"
	for _, tc := range []struct {
		name   string
		prefix string
		chunk  func() []byte
		limit  int
	}{
		{"endless-lines-64KiB", "HTTP/1.1 200 OK\r\n", repeatBytes(line, 32<<10), 64 << 10},
		{"endless-lines-default-1MiB", "HTTP/1.1 200 OK\r\n", repeatBytes(line, 32<<10), 0},
		{"one-endless-line", "HTTP/1.1 200 OK\r\nX-Big: ", repeatBytes("b", 32<<10), 64 << 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := floodServer(t, tc.prefix, tc.chunk)
			limit := tc.limit
			if limit == 0 {
				limit = 1 << 20
			}
			err := boundedFailure(t, s.URL(), limit, nil)
			if tc.limit == 0 {
				// boundedFailure set MaxResponseHeaderBytes to the default
				// explicitly; check the zero value's limit too.
				var cnt testutil.CountingDialer
				tr := testutil.NewTransport(t, &spool.Transport{DialContext: cnt.DialContext})
				_, err = tr.RoundTrip(testutil.NewRequest(t, "GET", s.URL(), nil))
				if r := cnt.Read.Load(); r > int64(limit+8<<10) {
					t.Errorf("zero Transport read %d bytes, default limit %d", r, limit)
				}
			}
			var he *spool.HeaderLimitError
			if !errors.As(err, &he) || he.Limit != limit || !strings.Contains(err.Error(), "server response headers exceeded") {
				t.Errorf("err %v: want a HeaderLimitError with net/http's text (%d)", err, limit)
			}
		})
	}

	t.Run("1000x103", func(t *testing.T) {
		early := "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload; as=style\r\n\r\n"
		s := testserver.New(t, func(c *testserver.Conn, r *testserver.Request) {
			c.Write(strings.Repeat(early, 1000))
			c.Reply(200, nil, "ok")
		})
		var cnt testutil.CountingDialer
		tr := testutil.NewTransport(t, &spool.Transport{DialContext: cnt.DialContext})
		n1xx := 0
		trace := &httptrace.ClientTrace{Got1xxResponse: func(int, textproto.MIMEHeader) error { n1xx++; return nil }}
		req := testutil.NewRequest(t, "GET", s.URL(), nil)
		req = req.WithContext(httptrace.WithClientTrace(req.Context(), trace))
		resp, err := tr.RoundTrip(req)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			t.Fatalf("1,000 interim responses accepted (%d seen): want the flood cut off", n1xx)
		}
		var pe *spool.ProtocolError
		if !errors.As(err, &pe) {
			t.Errorf("err %v: want a ProtocolError", err)
		}
		total := len(early) * 1000
		if r := cnt.Read.Load(); r > 64<<10 || n1xx > 100 {
			t.Errorf("read %d of %d bytes, %d interim responses: flood not bounded", r, total, n1xx)
		} else {
			t.Logf("cut after %d interim responses, %d of %d bytes read: %v", n1xx, r, total, err)
		}
		if cnt.Open.Load() != 0 || held(tr) != 0 {
			t.Errorf("conn left open (%d) or held (%d)", cnt.Open.Load(), held(tr))
		}
	})
	t.Run("5x103-then-200", func(t *testing.T) {
		// A normal amount of early hints still works (net/http allows 5).
		early := "HTTP/1.1 103 Early Hints\r\nLink: </a>; rel=preload\r\n\r\n"
		s := testserver.New(t, func(c *testserver.Conn, r *testserver.Request) {
			c.Write(strings.Repeat(early, 5))
			c.Reply(200, nil, "ok")
		})
		tr := testutil.NewTransport(t, nil)
		resp, err := tr.RoundTrip(testutil.NewRequest(t, "GET", s.URL(), nil))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(b) != "ok" {
			t.Fatalf("%d %q", resp.StatusCode, b)
		}
	})
}

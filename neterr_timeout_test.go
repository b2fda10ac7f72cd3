package spool_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/spoolhttp/spool"
	"github.com/spoolhttp/spool/internal/testutil"
)

// The most common timeout check in Go works on spool's timeouts, through
// http.Client as net/http's do (bug 3).
func TestTimeoutsAreNetErrors(t *testing.T) {
	stalled := stall(t)
	for _, c := range []struct {
		name string
		tr   *spool.Transport
		url  string
	}{
		{"ResponseHeaderTimeout", &spool.Transport{ResponseHeaderTimeout: 50 * time.Millisecond}, "http://" + stalled + "/"},
		{"TLSHandshakeTimeout", &spool.Transport{TLSHandshakeTimeout: 50 * time.Millisecond}, "https://" + stalled + "/"},
	} {
		t.Run(c.name, func(t *testing.T) {
			defer c.tr.Close()
			_, err := (&http.Client{Transport: c.tr}).Get(c.url)
			ne, ok := err.(net.Error)
			if !ok || !ne.Timeout() {
				t.Fatalf("err %T %v: not a net.Error timeout", err, err)
			}
			var ue *url.Error
			if !errors.As(err, &ue) || !ue.Timeout() || !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("err %v: url.Error not a timeout, or not a deadline", err)
			}
		})
	}
	t.Run("Client.Timeout", func(t *testing.T) {
		tr := &spool.Transport{}
		defer tr.Close()
		_, err := (&http.Client{Transport: tr, Timeout: 50 * time.Millisecond}).Get("http://" + stalled + "/")
		if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
			t.Fatalf("err %T %v: not a net.Error timeout", err, err)
		}
	})
	t.Run("spool's own BodyReadTimeout", func(t *testing.T) {
		tr := &spool.Transport{BodyReadTimeout: 50 * time.Millisecond}
		defer tr.Close()
		u := rawAnswerThenStall(t, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nab")
		resp, err := tr.RoundTrip(testutil.NewRequest(t, "GET", u, nil))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		_, err = io.ReadAll(resp.Body)
		var se *spool.Error
		var ne net.Error
		if !errors.As(err, &se) || !errors.As(err, &ne) || !ne.Timeout() || !ne.Temporary() || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err %T %v: want a *spool.Error that is a net.Error timeout", err, err)
		}
	})
}

func rawAnswerThenStall(t *testing.T, answer string) string {
	s := testutil.NewRawServer(t, func(_ int, c net.Conn) {
		br := bufio.NewReader(c)
		for {
			line, err := br.ReadString('\n')
			if err != nil || line == "\r\n" {
				break
			}
		}
		io.WriteString(c, answer)
		io.Copy(io.Discard, br)
	})
	return s.URL()
}

// ResponseHeaderTimeout is net/http's net.Error timeout over every mode,
// HTTP/2 included (net/http's TestTransportResponseHeaderTimeout).
func TestResponseHeaderTimeoutIsNetErrorOverModes(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	forEachMode(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}, func(tr *spool.Transport) { tr.ResponseHeaderTimeout = 50 * time.Millisecond },
		func(t *testing.T, s *modeServer) {
			_, err := (&http.Client{Transport: s.tr}).Get(s.URL)
			var ue *url.Error
			if !errors.As(err, &ue) {
				t.Fatalf("err %T %v, want a *url.Error", err, err)
			}
			ne, ok := ue.Err.(net.Error)
			if !ok || !ne.Timeout() || !ne.Temporary() || !strings.Contains(err.Error(), "timeout awaiting response headers") {
				t.Fatalf("err %T %v: want net/http's header timeout, a net.Error", ue.Err, err)
			}
		})
}

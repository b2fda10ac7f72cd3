package faulttest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/spoolhttp/spool"
	"github.com/spoolhttp/spool/internal/testnet"
	"github.com/spoolhttp/spool/internal/testutil"
)

// slowBodyServer sends a 1,000-byte body ten bytes every 100 ms; with
// stallAfter > 0 it stops after that many bytes and waits for the client
// to go. It reports when it saw the client close.
func slowBodyServer(t *testing.T, n *testnet.Network, stallAfter int, clientGone chan<- time.Time) *bubbleServer {
	body := strings.Repeat("0123456789", 100)
	return newBubbleServer(t, n, "slow.test:80", func(c net.Conn, br *bufio.Reader) {
		if _, err := readReq(br); err != nil {
			return
		}
		g := gone(c, br)
		fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n", len(body))
		for i := 0; i < len(body); i += 10 {
			if stallAfter > 0 && i >= stallAfter {
				break
			}
			select {
			case <-g:
				clientGone <- time.Now()
				return
			case <-time.After(100 * time.Millisecond):
			}
			c.Write([]byte(body[i : i+10]))
		}
		<-g
		clientGone <- time.Now()
	})
}

// TestF4_SlowBody: a body that trickles arrives intact under a
// BodyReadTimeout longer than its gaps; a cancel mid-body returns at its
// instant; Body.Close racing a blocked Read returns at once; the per-read
// idle timeout fires exactly BodyReadTimeout after the last progress. The
// conn is closed after every abort.
func TestF4_SlowBody(t *testing.T) {
	want := strings.Repeat("0123456789", 100)
	t.Run("intact", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			var n testnet.Network
			gone := make(chan time.Time, 1)
			srv := slowBodyServer(t, &n, 0, gone)
			defer srv.stop()
			tr := &spool.Transport{DialContext: n.Dial, BodyReadTimeout: time.Second}
			defer tr.Close()
			resp, err := tr.RoundTrip(testutil.NewRequest(t, "GET", "http://slow.test/", nil))
			if err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil || string(b) != want {
				t.Fatalf("read %d bytes, err %v", len(b), err)
			}
			if st := tr.Stats().Total; st.Idle != 1 {
				t.Errorf("conn not pooled after a complete body: %+v", st)
			}
		})
	})
	t.Run("cancel", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			var n testnet.Network
			gone := make(chan time.Time, 1)
			srv := slowBodyServer(t, &n, 0, gone)
			defer srv.stop()
			tr := &spool.Transport{DialContext: n.Dial, BodyReadTimeout: time.Second}
			defer tr.Close()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, "GET", "http://slow.test/", nil)
			resp, err := tr.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			start := time.Now()
			time.AfterFunc(3350*time.Millisecond, cancel)
			b, err := io.ReadAll(resp.Body)
			if took := time.Since(start); took != 3350*time.Millisecond {
				t.Errorf("Read returned %v after start, want exactly at the cancel (3.35s)", took)
			}
			if !errors.Is(err, context.Canceled) || !strings.HasPrefix(want, string(b)) || len(b) == 0 {
				t.Errorf("read %d bytes, err %v; want a prefix and context.Canceled", len(b), err)
			}
			checkConnGone(t, gone, tr, "server did not see the conn closed after the cancel")
		})
	})
	t.Run("close-during-read", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			var n testnet.Network
			gone := make(chan time.Time, 1)
			srv := slowBodyServer(t, &n, 300, gone) // then stalls
			defer srv.stop()
			tr := &spool.Transport{DialContext: n.Dial}
			defer tr.Close()
			resp, err := tr.RoundTrip(testutil.NewRequest(t, "GET", "http://slow.test/", nil))
			if err != nil {
				t.Fatal(err)
			}
			readErr := make(chan error, 1)
			go func() {
				_, err := io.ReadAll(resp.Body)
				readErr <- err
			}()
			time.Sleep(10 * time.Second) // the reader is blocked in the stall
			synctest.Wait()
			start := time.Now()
			resp.Body.Close()
			if took := time.Since(start); took != 0 {
				t.Errorf("Close took %v with a Read blocked", took)
			}
			if err := <-readErr; err == nil {
				t.Error("the blocked Read returned no error after Close")
			}
			if took := time.Since(start); took != 0 {
				t.Errorf("the blocked Read returned %v after Close", took)
			}
			checkConnGone(t, gone, tr, "server did not see the conn closed")
		})
	})
	t.Run("BodyReadTimeout", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			var n testnet.Network
			gone := make(chan time.Time, 1)
			srv := slowBodyServer(t, &n, 500, gone)
			defer srv.stop()
			tr := &spool.Transport{DialContext: n.Dial, BodyReadTimeout: 2 * time.Second}
			defer tr.Close()
			start := time.Now()
			resp, err := tr.RoundTrip(testutil.NewRequest(t, "GET", "http://slow.test/", nil))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			// The 500th byte left at 5s (50 writes, 100ms apart).
			if took := time.Since(start); took != 7*time.Second {
				t.Errorf("Read failed %v after start, want 7s (last byte at 5s + 2s)", took)
			}
			var te *spool.TimeoutError
			if len(b) != 500 || !errors.As(err, &te) || te.What != "BodyReadTimeout" || !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("read %d bytes, err %v; want 500 and a BodyReadTimeout", len(b), err)
			}
			var se *spool.Error
			if !errors.As(err, &se) || se.Op != spool.OpReadBody {
				t.Errorf("err %v: want Op %q", err, spool.OpReadBody)
			}
			checkConnGone(t, gone, tr, "server did not see the conn closed after the timeout")
		})
	})
}

// checkConnGone waits for the bubble to settle, then checks that the
// server saw its conn closed (what says why otherwise) and that the
// transport holds no conn.
func checkConnGone(t *testing.T, gone <-chan time.Time, tr *spool.Transport, what string) {
	t.Helper()
	synctest.Wait()
	select {
	case <-gone:
	default:
		t.Error(what)
	}
	if k := held(tr); k != 0 {
		t.Errorf("transport holds %d conns", k)
	}
}

package testutil_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spoolhttp/spool"
	"github.com/spoolhttp/spool/internal/testutil"
)

// The child server is another process (another pid) that sees the env the
// test gave it; Get reaches it over a Transport from NewTransport.
func TestChildServer(t *testing.T) {
	addr := testutil.StartChildServer(t, greetingEnv+"=hello")
	c := &http.Client{Transport: testutil.NewTransport(t, nil)}
	resp, body := testutil.Get(t, c, "http://"+addr+"/")
	var pid int
	var greeting string
	if _, err := fmt.Sscanf(body, "%d %s", &pid, &greeting); err != nil || resp.StatusCode != 200 {
		t.Fatalf("%s %q: %v", resp.Status, body, err)
	}
	if pid == os.Getpid() || greeting != "hello" {
		t.Fatalf("child answered pid %d (ours %d), greeting %q", pid, os.Getpid(), greeting)
	}
}

// NewTransport's Transport is closed when the test ends: later requests
// fail with ErrTransportClosed.
func TestNewTransportClosedWithTest(t *testing.T) {
	var tr *spool.Transport
	t.Run("user", func(t *testing.T) { tr = testutil.NewTransport(t, nil) })
	_, err := tr.RoundTrip(testutil.NewRequest(t, "GET", "http://127.0.0.1:1/", nil))
	if !errors.Is(err, spool.ErrTransportClosed) {
		t.Fatalf("err %v, want ErrTransportClosed", err)
	}
}

// Each conn reaches the handler as a *net.TCPConn with its index, and
// Accepted counts it.
func TestRawServer(t *testing.T) {
	s := testutil.NewRawServer(t, func(i int, c net.Conn) {
		_, tcp := c.(*net.TCPConn)
		fmt.Fprintf(c, "conn %d tcp %v\n", i, tcp)
	})
	for i := range 2 {
		c, err := net.Dial("tcp", s.Addr())
		if err != nil {
			t.Fatal(err)
		}
		line, err := bufio.NewReader(c).ReadString('\n')
		c.Close()
		if want := fmt.Sprintf("conn %d tcp true\n", i); line != want || err != nil {
			t.Fatalf("got %q %v, want %q", line, err, want)
		}
	}
	if n := s.Accepted(); n != 2 {
		t.Fatalf("Accepted %d, want 2", n)
	}
}

// Close closes the conns of handlers still running and waits for them.
func TestRawServerCloseEndsHandlers(t *testing.T) {
	var ended atomic.Bool
	s := testutil.NewRawServer(t, func(_ int, c net.Conn) {
		io.Copy(io.Discard, c) // until the conn is closed
		ended.Store(true)
	})
	c, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	testutil.WaitFor(t, "the conn to be accepted", func() bool { return s.Accepted() == 1 })
	s.Close()
	if !ended.Load() {
		t.Fatal("Close returned before the handler")
	}
}

// CountingDialer counts dials (failed ones too), bytes read and open conns.
func TestCountingDialer(t *testing.T) {
	s := testutil.NewRawServer(t, func(_ int, c net.Conn) { io.WriteString(c, "hello") })
	var d testutil.CountingDialer
	c, err := d.DialContext(context.Background(), "tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	if b, err := io.ReadAll(c); string(b) != "hello" || err != nil {
		t.Fatalf("read %q %v", b, err)
	}
	if d.Read.Load() != 5 || d.Open.Load() != 1 || d.Max.Load() != 1 {
		t.Fatalf("read %d, open %d, max %d; want 5, 1, 1", d.Read.Load(), d.Open.Load(), d.Max.Load())
	}
	c.Close()
	c.Close() // counted once
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := d.DialContext(ctx, "tcp", s.Addr()); err == nil {
		t.Fatal("dial with a canceled context succeeded")
	}
	if d.Dials.Load() != 2 || d.Open.Load() != 0 || d.Max.Load() != 1 {
		t.Fatalf("dials %d, open %d, max %d; want 2, 0, 1", d.Dials.Load(), d.Open.Load(), d.Max.Load())
	}
}

// WaitFor returns once another goroutine makes the condition true.
func TestWaitFor(t *testing.T) {
	var done atomic.Bool
	time.AfterFunc(10*time.Millisecond, func() { done.Store(true) })
	testutil.WaitFor(t, "the timer", done.Load)
}

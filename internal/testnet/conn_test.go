package testnet_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/spoolhttp/spool/internal/testnet"
)

// pair returns a connected client and server end on a fresh network.
func pair(t *testing.T) (client, server *testnet.Conn) {
	t.Helper()
	var n testnet.Network
	l, err := n.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	c, err := n.Dial(context.Background(), "tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	s, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(); s.Close() })
	return c.(*testnet.Conn), s.(*testnet.Conn)
}

// TestEcho shows the basic use: an echo server goroutine behind a
// Listener, a client that dials with Network.Dial (usable as a
// DialContext field) and writes before it reads.
func TestEcho(t *testing.T) {
	var n testnet.Network
	l, err := n.Listen("example.com:80")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		s, err := l.Accept()
		if err != nil {
			return
		}
		defer s.Close()
		io.Copy(s, s) // echo until the client closes
	}()

	c, err := n.Dial(context.Background(), "tcp", "example.com:80")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(c, "hello\n"); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil || line != "hello\n" {
		t.Fatalf("got %q, %v", line, err)
	}
	c.Close()
	<-done
	l.Close()

	tc := c.(*testnet.Conn)
	if tc.BytesWritten() != 6 || tc.BytesRead() != 6 {
		t.Errorf("counters: wrote %d read %d, want 6 and 6", tc.BytesWritten(), tc.BytesRead())
	}
	if got := l.(*testnet.Listener).Accepted(); got != 1 {
		t.Errorf("Accepted = %d, want 1", got)
	}
	if got := c.RemoteAddr().String(); got != "example.com:80" {
		t.Errorf("RemoteAddr = %s", got)
	}
}

// TestWriteDoesNotBlock: a single goroutine can write a large request
// before anyone reads.
func TestWriteDoesNotBlock(t *testing.T) {
	c, s := pair(t)
	big := make([]byte, 1<<20)
	if n, err := c.Write(big); n != len(big) || err != nil {
		t.Fatalf("Write = %d, %v", n, err)
	}
	got, err := io.ReadAll(io.LimitReader(s, int64(len(big))))
	if err != nil || len(got) != len(big) {
		t.Fatalf("read %d, %v", len(got), err)
	}
}

// TestReadDeadlineFakeTime: inside synctest the deadline fires at the
// exact fake instant, and the error looks like net's.
func TestReadDeadlineFakeTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, s := pair(t)
		start := time.Now()
		c.SetReadDeadline(start.Add(3 * time.Second))
		_, err := c.Read(make([]byte, 1))
		if got := time.Since(start); got != 3*time.Second {
			t.Errorf("Read returned after %v, want exactly 3s", got)
		}
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() || !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("err = %v, want a net.Error timeout wrapping os.ErrDeadlineExceeded", err)
		}
		// Clearing the deadline makes the conn usable again.
		c.SetReadDeadline(time.Time{})
		s.Write([]byte("x"))
		if n, err := c.Read(make([]byte, 1)); n != 1 || err != nil {
			t.Fatalf("after clearing the deadline: %d, %v", n, err)
		}
	})
}

// TestDeadlineMovedWhileBlocked: extending a deadline during a blocked
// Read is honoured; a past deadline wakes the reader at once.
func TestDeadlineMovedWhileBlocked(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, _ := pair(t)
		start := time.Now()
		c.SetReadDeadline(start.Add(time.Second))
		go func() {
			time.Sleep(500 * time.Millisecond)
			c.SetReadDeadline(start.Add(5 * time.Second))
		}()
		c.Read(make([]byte, 1))
		if got := time.Since(start); got != 5*time.Second {
			t.Errorf("Read returned after %v, want 5s", got)
		}

		c.SetReadDeadline(time.Time{})
		go func() {
			time.Sleep(time.Second)
			c.SetReadDeadline(time.Now()) // what context.AfterFunc cancellation does
		}()
		start = time.Now()
		_, err := c.Read(make([]byte, 1))
		if !errors.Is(err, os.ErrDeadlineExceeded) || time.Since(start) != time.Second {
			t.Errorf("after %v: %v", time.Since(start), err)
		}
	})
}

// TestWriteDeadline: writes never block, so only a passed deadline fails.
func TestWriteDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, _ := pair(t)
		c.SetWriteDeadline(time.Now().Add(time.Second))
		if _, err := c.Write([]byte("x")); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second)
		_, err := c.Write([]byte("x"))
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("err = %v", err)
		}
	})
}

// TestCloseDrainsThenEOF: the peer reads buffered bytes, then io.EOF;
// writes to a closed peer are accepted and dropped; the closer's own ops
// fail with net.ErrClosed.
func TestCloseDrainsThenEOF(t *testing.T) {
	c, s := pair(t)
	s.Write([]byte("bye"))
	s.Close()
	got, err := io.ReadAll(c)
	if string(got) != "bye" || err != nil {
		t.Fatalf("ReadAll = %q, %v", got, err)
	}
	if _, err := c.Write([]byte("late")); err != nil {
		t.Errorf("write to closed peer: %v, want nil (dropped like a kernel would)", err)
	}
	if _, err := s.Read(make([]byte, 1)); !errors.Is(err, net.ErrClosed) {
		t.Errorf("read after own Close: %v, want net.ErrClosed", err)
	}
	if err := s.Close(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("second Close: %v", err)
	}
}

// TestCloseWakesBlockedReader: Close from another goroutine ends a Read.
func TestCloseWakesBlockedReader(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, s := pair(t)
		go func() {
			time.Sleep(time.Second)
			s.Close()
		}()
		if _, err := c.Read(make([]byte, 1)); err != io.EOF {
			t.Errorf("peer closed: %v, want io.EOF", err)
		}
		c2, _ := pair(t)
		go func() {
			time.Sleep(time.Second)
			c2.Close()
		}()
		if _, err := c2.Read(make([]byte, 1)); !errors.Is(err, net.ErrClosed) {
			t.Errorf("own close: %v, want net.ErrClosed", err)
		}
	})
}

// TestReset: the peer's reads and writes fail with ECONNRESET in a
// *net.OpError, and bytes it had not read are lost.
func TestReset(t *testing.T) {
	c, s := pair(t)
	s.Write([]byte("lost"))
	s.Reset()
	_, err := c.Read(make([]byte, 8))
	var op *net.OpError
	if !errors.As(err, &op) || op.Op != "read" || !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("read after reset: %v", err)
	}
	if _, err := c.Write([]byte("x")); !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("write after reset: %v", err)
	}
}

// TestCloseWrite: a half-close lets the peer see EOF while we still read.
func TestCloseWrite(t *testing.T) {
	c, s := pair(t)
	c.Write([]byte("req"))
	c.CloseWrite()
	got, _ := io.ReadAll(s)
	s.Write([]byte("resp:" + string(got)))
	s.Close()
	back, err := io.ReadAll(c)
	if string(back) != "resp:req" || err != nil {
		t.Fatalf("got %q, %v", back, err)
	}
}

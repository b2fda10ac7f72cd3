package testnet_test

import (
	"context"
	"errors"
	"net"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/spoolhttp/spool/internal/testnet"
)

// TestDialRefused: no listener looks like a real refused connect.
func TestDialRefused(t *testing.T) {
	var n testnet.Network
	_, err := n.Dial(context.Background(), "tcp", "10.0.0.1:443")
	var op *net.OpError
	if !errors.As(err, &op) || op.Op != "dial" || !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("err = %#v", err)
	}
	if n.Dials("10.0.0.1:443") != 1 {
		t.Errorf("Dials = %d", n.Dials("10.0.0.1:443"))
	}

	// A closed listener refuses too, and resets what it never accepted.
	l, _ := n.Listen("10.0.0.1:443")
	c, err := n.Dial(context.Background(), "tcp", "10.0.0.1:443")
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	if _, err := c.Read(make([]byte, 1)); !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("backlog conn after listener close: %v", err)
	}
	if _, err := n.Dial(context.Background(), "tcp", "10.0.0.1:443"); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("dial after close: %v", err)
	}
	if _, err := l.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Accept after close: %v", err)
	}
}

// TestDialBlackhole: the dial hangs until ctx ends, in fake time.
func TestDialBlackhole(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var n testnet.Network
		n.SetDialFault("db:5432", testnet.DialFault{Blackhole: true})
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		start := time.Now()
		_, err := n.Dial(ctx, "tcp", "db:5432")
		if time.Since(start) != 30*time.Second {
			t.Errorf("gave up after %v, want 30s", time.Since(start))
		}
		var ne net.Error
		if !errors.Is(err, context.DeadlineExceeded) || !errors.As(err, &ne) || !ne.Timeout() {
			t.Fatalf("err = %v", err)
		}
	})
}

// TestDialDelay: a delayed dial connects after exactly the delay, unless
// ctx ends first.
func TestDialDelay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var n testnet.Network
		l, _ := n.Listen("api:80")
		defer l.Close()
		n.SetDialFault("api:80", testnet.DialFault{Delay: 2 * time.Second})

		start := time.Now()
		c, err := n.Dial(t.Context(), "tcp", "api:80")
		if err != nil || time.Since(start) != 2*time.Second {
			t.Fatalf("after %v: %v", time.Since(start), err)
		}
		c.Close()

		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		if _, err := n.Dial(ctx, "tcp", "api:80"); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v", err)
		}
		n.SetDialFault("api:80", testnet.DialFault{}) // removes the fault
		start = time.Now()
		c, err = n.Dial(t.Context(), "tcp", "api:80")
		if err != nil || time.Since(start) != 0 {
			t.Fatalf("after %v: %v", time.Since(start), err)
		}
		c.Close()
	})
}

// TestDialError: a scripted error comes back inside a *net.OpError.
func TestDialError(t *testing.T) {
	var n testnet.Network
	n.SetDialFault("h:1", testnet.DialFault{Err: syscall.ENETUNREACH})
	_, err := n.Dial(context.Background(), "tcp", "h:1")
	var op *net.OpError
	if !errors.As(err, &op) || !errors.Is(err, syscall.ENETUNREACH) {
		t.Fatalf("err = %v", err)
	}
}

// TestListenAddrInUse mirrors EADDRINUSE.
func TestListenAddrInUse(t *testing.T) {
	var n testnet.Network
	l, _ := n.Listen("127.0.0.1:8080")
	defer l.Close()
	if _, err := n.Listen("127.0.0.1:8080"); !errors.Is(err, syscall.EADDRINUSE) {
		t.Fatalf("err = %v", err)
	}
}

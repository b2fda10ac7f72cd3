package h1

import (
	"crypto/tls"
	"errors"
	"net"
	"syscall"

	"github.com/spoolhttp/spool/internal/pool"
)

var (
	errBusy       = errors.New("h1: conn busy")
	errStrayBytes = errors.New("h1: idle connection received unsolicited bytes")
)

// rawConn finds the socket under nc (through TLS) for the checkout peek.
func rawConn(nc net.Conn) syscall.RawConn {
	if tc, ok := nc.(*tls.Conn); ok {
		nc = tc.NetConn()
	}
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	return rc
}

// peek looks at an idle socket without blocking or consuming: EAGAIN means
// healthy; EOF means the server closed it (keep-alive timeout); any byte is
// unsolicited (a late response, a TLS alert) and the framing is in doubt.
func (c *Conn) peek() error {
	if c.peekFn == nil {
		var buf [1]byte
		c.peekFn = func(fd uintptr) bool {
			c.peekN, _, c.peekErr = syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
			return true
		}
	}
	if err := c.raw.Read(c.peekFn); err != nil {
		return err
	}
	switch {
	case c.peekErr == syscall.EAGAIN || c.peekErr == syscall.EWOULDBLOCK:
		return nil
	case c.peekErr != nil:
		return c.peekErr
	case c.peekN == 0:
		return pool.ErrServerClosed
	default:
		return errStrayBytes
	}
}

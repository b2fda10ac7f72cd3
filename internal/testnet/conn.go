package testnet

import (
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// errReset is the pipe's marker for an RST; Conn turns it into the
// *net.OpError a real socket returns.
var errReset = errors.New("testnet: connection reset")

// Conn is one end of an in-memory TCP connection. It implements net.Conn
// and behaves like a loopback socket with unbounded kernel buffers:
//
//   - Write never blocks; bytes wait until the peer reads them.
//   - Close sends FIN: the peer reads buffered bytes, then io.EOF. Writes
//     to a peer that closed succeed and are dropped (a real kernel accepts
//     them too; the failure shows up on the next read).
//   - Reset sends RST: the peer's reads and writes fail at once with
//     ECONNRESET, and bytes it had not read are lost.
//   - Deadlines fail operations with os.ErrDeadlineExceeded (Timeout() is
//     true), at the exact fake instant inside a synctest bubble.
//
// Errors have the shapes net returns: *net.OpError wrapping net.ErrClosed,
// os.ErrDeadlineExceeded or an *os.SyscallError, and a bare io.EOF.
type Conn struct {
	local, remote net.Addr
	in, out       *pipe // in: peer → us; out: us → peer
	rd, wd        *deadline

	closeOnce sync.Once
	closed    chan struct{} // closed by Close or Reset: our own ops fail with net.ErrClosed
	wrClosed  atomic.Bool   // CloseWrite was called

	nread, nwritten atomic.Int64
}

// newPair connects a client end and a server end.
func newPair(clientAddr, serverAddr net.Addr) (client, server *Conn) {
	c2s, s2c := newPipe(), newPipe()
	return newConn(clientAddr, serverAddr, s2c, c2s), newConn(serverAddr, clientAddr, c2s, s2c)
}

func newConn(local, remote net.Addr, in, out *pipe) *Conn {
	return &Conn{
		local: local, remote: remote, in: in, out: out,
		rd: newDeadline(), wd: newDeadline(),
		closed: make(chan struct{}),
	}
}

// Read reads buffered bytes, waiting (durably, for synctest) for more.
func (c *Conn) Read(b []byte) (int, error) {
	for {
		if isClosed(c.closed) {
			return 0, c.opErr("read", net.ErrClosed)
		}
		// As in internal/poll, an expired deadline wins over available data.
		if c.rd.expired() {
			return 0, c.opErr("read", os.ErrDeadlineExceeded)
		}
		if len(b) == 0 {
			return 0, nil
		}
		n, err, wait := c.in.read(b)
		if wait == nil {
			c.nread.Add(int64(n))
			return n, c.ioErr("read", err)
		}
		select {
		case <-wait:
		case <-c.rd.wait():
		case <-c.closed:
		}
	}
}

// Write queues b for the peer. It never blocks, so the write deadline only
// matters when it has already passed.
func (c *Conn) Write(b []byte) (int, error) {
	switch {
	case isClosed(c.closed):
		return 0, c.opErr("write", net.ErrClosed)
	case c.wd.expired():
		return 0, c.opErr("write", os.ErrDeadlineExceeded)
	case c.wrClosed.Load():
		return 0, c.opErr("write", os.NewSyscallError("write", syscall.EPIPE))
	}
	if err := c.out.write(b); err != nil {
		return 0, c.ioErr("write", err)
	}
	c.nwritten.Add(int64(len(b)))
	return len(b), nil
}

// Close sends FIN. The peer reads what is buffered, then io.EOF.
func (c *Conn) Close() error {
	if !c.markClosed() {
		return c.opErr("close", net.ErrClosed)
	}
	c.out.closeWrite()
	c.in.closeRead()
	return nil
}

// Reset closes with RST (a socket with SO_LINGER 0): the peer's next read
// or write fails with ECONNRESET and its unread bytes are lost.
func (c *Conn) Reset() error {
	if !c.markClosed() {
		return c.opErr("close", net.ErrClosed)
	}
	c.out.resetPipe()
	c.in.resetPipe()
	return nil
}

// CloseWrite half-closes, like (*net.TCPConn).CloseWrite: the peer reads
// io.EOF, we can still read.
func (c *Conn) CloseWrite() error {
	if isClosed(c.closed) {
		return c.opErr("close", net.ErrClosed)
	}
	c.wrClosed.Store(true)
	c.out.closeWrite()
	return nil
}

// markClosed reports whether this call is the one that closed c.
func (c *Conn) markClosed() bool {
	first := false
	c.closeOnce.Do(func() {
		first = true
		close(c.closed)
		c.rd.stop()
		c.wd.stop()
	})
	return first
}

func (c *Conn) LocalAddr() net.Addr  { return c.local }
func (c *Conn) RemoteAddr() net.Addr { return c.remote }

func (c *Conn) SetDeadline(t time.Time) error {
	if err := c.SetReadDeadline(t); err != nil {
		return err
	}
	return c.SetWriteDeadline(t)
}

func (c *Conn) SetReadDeadline(t time.Time) error  { return c.setDeadline(c.rd, t) }
func (c *Conn) SetWriteDeadline(t time.Time) error { return c.setDeadline(c.wd, t) }

func (c *Conn) setDeadline(d *deadline, t time.Time) error {
	if isClosed(c.closed) {
		return c.opErr("set", net.ErrClosed)
	}
	d.set(t)
	return nil
}

// BytesRead is the number of bytes Read has returned.
func (c *Conn) BytesRead() int64 { return c.nread.Load() }

// BytesWritten is the number of bytes Write has accepted.
func (c *Conn) BytesWritten() int64 { return c.nwritten.Load() }

// ioErr shapes a pipe error like net does: io.EOF bare, the rest in an
// *net.OpError.
func (c *Conn) ioErr(op string, err error) error {
	switch err {
	case nil, io.EOF:
		return err
	case errReset:
		return c.opErr(op, os.NewSyscallError(op, syscall.ECONNRESET))
	}
	return c.opErr(op, err)
}

func (c *Conn) opErr(op string, err error) error {
	return &net.OpError{Op: op, Net: "tcp", Source: c.local, Addr: c.remote, Err: err}
}

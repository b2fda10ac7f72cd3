package main

import (
	"context"
	"errors"
	"net"
	"sync/atomic"
	"syscall"
)

// ioCounts are the socket operations of one client's connections. The
// counting conn sits below TLS (it is what DialContext returns and the
// Transport runs its TLS client over), so a Write is one call that puts
// TLS records on the socket: what a write syscall is, save a partial write
// that the runtime finishes with another.
type ioCounts struct {
	writes, reads, dials atomic.Int64
	wbytes, rbytes       atomic.Int64
}

// ioSnap is a copy of the counters at one moment.
type ioSnap struct{ writes, reads, dials, wbytes, rbytes int64 }

func (c *ioCounts) snap() ioSnap {
	return ioSnap{c.writes.Load(), c.reads.Load(), c.dials.Load(), c.wbytes.Load(), c.rbytes.Load()}
}

func (s ioSnap) sub(o ioSnap) ioSnap {
	return ioSnap{s.writes - o.writes, s.reads - o.reads, s.dials - o.dials, s.wbytes - o.wbytes, s.rbytes - o.rbytes}
}

// countingDialer returns a DialContext whose conns count into c.
func countingDialer(c *ioCounts) func(ctx context.Context, network, addr string) (net.Conn, error) {
	var d net.Dialer
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		nc, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		c.dials.Add(1)
		return &countConn{Conn: nc, c: c}, nil
	}
}

// countConn counts the Read and Write calls that reach the socket.
type countConn struct {
	net.Conn
	c *ioCounts
}

func (cc *countConn) Write(p []byte) (int, error) {
	cc.c.writes.Add(1)
	n, err := cc.Conn.Write(p)
	cc.c.wbytes.Add(int64(n))
	return n, err
}

func (cc *countConn) Read(p []byte) (int, error) {
	cc.c.reads.Add(1)
	n, err := cc.Conn.Read(p)
	cc.c.rbytes.Add(int64(n))
	return n, err
}

// errNoSyscallConn: the wrapped conn offers no raw access.
// NetConn returns the socket: spool's HTTP/2 reader peeks into TLS
// records only over a conn that unwraps to one (its read deadline and
// errors reach crypto/tls unchanged, as here), so the counting conn must
// not switch that off and make spool's figures differ from production.
func (cc *countConn) NetConn() net.Conn { return cc.Conn }

var errNoSyscallConn = errors.New("countConn: underlying conn is not a syscall.Conn")

// SyscallConn passes the socket's raw conn through, so a client that
// checks an idle conn's health with a non-blocking peek (spool's HTTP/1
// checkout) does the same work here as on a plain *net.TCPConn. The peek
// is a read (recvfrom with MSG_PEEK), not a write, and is not counted.
func (cc *countConn) SyscallConn() (syscall.RawConn, error) {
	sc, ok := cc.Conn.(syscall.Conn)
	if !ok {
		return nil, errNoSyscallConn
	}
	return sc.SyscallConn()
}

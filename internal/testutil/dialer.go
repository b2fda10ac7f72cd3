package testutil

import (
	"context"
	"net"
	"sync/atomic"
)

// CountingDialer is a DialContext for spool.Transport that dials real TCP
// and counts dials and what its conns read, so a test can bound what the
// transport consumed from a hostile peer, and whether it closed them. The
// zero value is ready.
//
// The conns it returns are wrapped, so they do not offer syscall.Conn: the
// transport's checkout peek (internal/h1) does not see the socket.
type CountingDialer struct {
	Dials atomic.Int64 // DialContext calls, failed ones included
	Read  atomic.Int64 // bytes read from all its conns
	Open  atomic.Int64 // conns dialed and not yet closed
	Max   atomic.Int64 // the most conns open at once
}

// DialContext dials addr and returns the counted conn.
func (d *CountingDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	d.Dials.Add(1)
	var nd net.Dialer
	nc, err := nd.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	n := d.Open.Add(1)
	for {
		m := d.Max.Load()
		if n <= m || d.Max.CompareAndSwap(m, n) {
			break
		}
	}
	return &countedConn{Conn: nc, d: d}, nil
}

// countedConn is a net.Conn whose reads and first Close are counted in d.
type countedConn struct {
	net.Conn
	d      *CountingDialer
	closed atomic.Bool
}

func (c *countedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.d.Read.Add(int64(n))
	return n, err
}

func (c *countedConn) Close() error {
	if !c.closed.Swap(true) {
		c.d.Open.Add(-1)
	}
	return c.Conn.Close()
}

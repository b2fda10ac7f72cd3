// Package testnet is an in-memory network for unit tests of timing and
// faults. Nothing in it touches a socket, so goroutines blocked on its
// conns are durably blocked inside a testing/synctest bubble and fake time
// advances past dial delays and deadlines at once. It works the same
// outside synctest and under -race.
//
// Create the Network inside the bubble that uses it: channels and timers
// made outside a bubble are not durably blocking inside it.
package testnet

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// firstPort is where ports for ":0" listeners and dialing ends start,
// far from the well-known ones tests name explicitly.
const firstPort = 40000

// Network routes Dial to Listen by exact address string. The zero value is
// ready to use.
type Network struct {
	mu        sync.Mutex
	listeners map[string]*Listener // guarded by mu
	faults    map[string]DialFault // guarded by mu
	dials     map[string]int       // guarded by mu; Dial attempts per address
	lastPort  int                  // guarded by mu
}

// DialFault changes what Dial does for one address. Delay applies first
// (in fake time under synctest, cut short by ctx); then Blackhole, then Err.
type DialFault struct {
	Delay     time.Duration // wait this long before connecting
	Blackhole bool          // never connect: block until ctx is done (a dropped SYN)
	Err       error         // fail with this error (wrapped in *net.OpError unless it is one)
}

// SetDialFault sets the fault for addr; the zero DialFault removes it.
func (n *Network) SetDialFault(addr string, f DialFault) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.faults == nil {
		n.faults = make(map[string]DialFault)
	}
	if f == (DialFault{}) {
		delete(n.faults, addr)
		return
	}
	n.faults[addr] = f
}

// Listen listens on addr ("host:port"). Port 0 picks a free port; read it
// back from Addr. Any host name is allowed: it is only a key for Dial.
func (n *Network) Listen(addr string) (net.Listener, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, &net.OpError{Op: "listen", Net: "tcp", Err: err}
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if port == "0" {
		addr = net.JoinHostPort(host, strconv.Itoa(n.nextPortLocked()))
	}
	if _, busy := n.listeners[addr]; busy {
		return nil, &net.OpError{Op: "listen", Net: "tcp", Addr: makeAddr(addr),
			Err: os.NewSyscallError("bind", syscall.EADDRINUSE)}
	}
	if n.listeners == nil {
		n.listeners = make(map[string]*Listener)
	}
	l := &Listener{nw: n, key: addr, addr: makeAddr(addr), changed: make(chan struct{})}
	n.listeners[addr] = l
	return l, nil
}

// Dial connects to the listener on addr and returns the client end, a
// *Conn. Its signature fits http.Transport.DialContext. With no listener
// it fails like a real refused connect: a *net.OpError wrapping
// syscall.ECONNREFUSED. A ctx that ends first fails it with ctx.Err()
// wrapped (so errors.Is(err, context.DeadlineExceeded) holds).
func (n *Network) Dial(ctx context.Context, network, addr string) (net.Conn, error) {
	n.mu.Lock()
	if n.dials == nil {
		n.dials = make(map[string]int)
	}
	n.dials[addr]++
	f := n.faults[addr]
	n.mu.Unlock()

	raddr := makeAddr(addr)
	fail := func(err error) error {
		var op *net.OpError
		if errors.As(err, &op) {
			return err
		}
		return &net.OpError{Op: "dial", Net: network, Addr: raddr, Err: err}
	}
	if err := ctx.Err(); err != nil {
		return nil, fail(err)
	}
	if f.Delay > 0 {
		t := time.NewTimer(f.Delay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, fail(ctx.Err())
		}
	}
	if f.Blackhole {
		<-ctx.Done()
		return nil, fail(ctx.Err())
	}
	if f.Err != nil {
		return nil, fail(f.Err)
	}

	n.mu.Lock()
	l := n.listeners[addr]
	local := makeAddr(net.JoinHostPort("127.0.0.1", strconv.Itoa(n.nextPortLocked())))
	n.mu.Unlock()
	refused := fail(os.NewSyscallError("connect", syscall.ECONNREFUSED))
	if l == nil {
		return nil, refused
	}
	client, server := newPair(local, l.addr)
	if !l.enqueue(server) { // closed between lookup and enqueue
		return nil, refused
	}
	return client, nil
}

// Dials is the number of Dial calls made for addr, failed ones included.
func (n *Network) Dials(addr string) int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.dials[addr]
}

func (n *Network) removeListener(key string, l *Listener) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.listeners[key] == l {
		delete(n.listeners, key)
	}
}

func (n *Network) nextPortLocked() int {
	if n.lastPort == 0 {
		n.lastPort = firstPort - 1
	}
	n.lastPort++
	return n.lastPort
}

// makeAddr gives a *net.TCPAddr for "ip:port" (what real conns return)
// and a plain named address for host names.
func makeAddr(hostport string) net.Addr {
	if ap, err := netip.ParseAddrPort(hostport); err == nil {
		return net.TCPAddrFromAddrPort(ap)
	}
	return hostAddr(hostport)
}

// hostAddr is an address whose host is a name, not an IP.
type hostAddr string

func (a hostAddr) Network() string { return "tcp" }
func (a hostAddr) String() string  { return string(a) }

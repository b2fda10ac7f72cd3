package dial

import (
	"context"
	"fmt"
	"net"

	"golang.org/x/net/proxy"

	"github.com/spoolhttp/spool/internal/errs"
)

// maxSOCKSHostLen is the longest host name SOCKS5 can carry: the DOMAINNAME
// address type has a one-byte length (RFC 1928 §5). Checked before any byte
// is sent, since curl's CVE-2023-38545 came from mishandling longer names.
const maxSOCKSHostLen = 255

// viaSOCKS reaches the origin through a SOCKS5 proxy. socks5 resolves the
// origin host here and sends the proxy an IP; socks5h sends the host name
// for the proxy to resolve. TLS to https origins runs inside the tunnel.
func (d *Dialer) viaSOCKS(ctx context.Context, t Target) (Result, error) {
	paddr, err := proxyAddr(t.Proxy)
	if err != nil {
		return Result{}, err
	}
	host, port, _ := net.SplitHostPort(t.Addr) // validated by Target.validate
	if len(host) > maxSOCKSHostLen {
		return Result{}, &errs.Error{Op: errs.OpProxy, Addr: paddr, Err: fmt.Errorf(
			"host name of %d bytes is longer than SOCKS5 allows (%d)", len(host), maxSOCKSHostLen)}
	}
	dest := t.Addr
	if t.Proxy.Scheme == "socks5" {
		ips, err := d.lookup(ctx, host)
		if err != nil {
			return Result{}, &errs.Error{Op: errs.OpDial, Addr: t.Addr, Err: err}
		}
		// One address: the proxy connects for us, so trying the next one
		// would mean a whole new SOCKS session; the first is the preferred.
		dest = net.JoinHostPort(ips[0], port)
	}

	var auth *proxy.Auth
	if u := t.Proxy.User; u != nil {
		pass, _ := u.Password()
		auth = &proxy.Auth{User: u.Username(), Password: pass}
	}
	fwd := &socksForward{d: d}
	sd, err := proxy.SOCKS5("tcp", paddr, auth, fwd)
	if err != nil {
		return Result{}, &errs.Error{Op: errs.OpProxy, Addr: paddr, Err: err}
	}
	// x/net's SOCKS5 dialer implements proxy.ContextDialer; ctx bounds the
	// negotiation and it clears the deadlines it set.
	if _, err := sd.(proxy.ContextDialer).DialContext(ctx, "tcp", dest); err != nil {
		if fwd.err != nil {
			return Result{}, proxyConnect(fwd.err) // reaching the proxy failed: Op dial
		}
		return Result{}, &errs.Error{Op: errs.OpProxy, Addr: paddr, Err: err}
	}
	// After a successful CONNECT reply the stream is the origin's, byte for
	// byte: hand back the raw conn, not x/net's wrapper, so the pool keeps
	// access to the *net.TCPConn (health checks through syscall.RawConn).
	conn := fwd.conn
	if t.Scheme == "http" {
		return Result{Conn: conn}, nil
	}
	return d.clientTLS(ctx, conn, t.Addr, t.originLeg())
}

// socksForward is the dialer x/net's SOCKS5 client uses to reach the proxy:
// spool's own TCP dial (Config.DialContext, trace hooks, Op dial errors),
// remembering the conn and error so viaSOCKS can use them directly.
// Used for one dial only.
type socksForward struct {
	d    *Dialer
	conn net.Conn
	err  error
}

func (f *socksForward) Dial(network, addr string) (net.Conn, error) {
	return f.DialContext(context.Background(), network, addr)
}

func (f *socksForward) DialContext(ctx context.Context, _, addr string) (net.Conn, error) {
	f.conn, f.err = f.d.dialTCP(ctx, addr)
	return f.conn, f.err
}

package dial

import (
	"context"
	"errors"
	"net"
	"net/http/httptrace"
	"net/netip"
	"time"

	"github.com/spoolhttp/spool/internal/errs"
)

const (
	// DefaultDialTimeout bounds name resolution plus all connect attempts of
	// one dial with the default dialer, as net/http's DefaultTransport does.
	DefaultDialTimeout = 30 * time.Second

	// DefaultKeepAlive is the TCP keep-alive period of default-dialed conns,
	// so idle pooled conns to vanished peers are eventually noticed.
	DefaultKeepAlive = 30 * time.Second

	// minAttemptTimeout is the least time one address gets when the dial
	// timeout is shared among several; below it a slow but healthy first
	// address would be abandoned for the next one too eagerly (net uses 2s).
	minAttemptTimeout = 2 * time.Second
)

// dialTCP connects to addr ("host:port") with Config.DialContext or, when nil,
// with spool's own loop. Errors are *errs.Error with Op dial.
//
// httptrace: the default path fires DNSStart/DNSDone around its lookup and
// ConnectStart/ConnectDone around each attempt itself, and hides ctx's values
// from the net package (see valuelessContext). A custom DialContext gets ctx
// as is; if it uses net.Dialer, net fires the hooks, as with net/http.
func (d *Dialer) dialTCP(ctx context.Context, addr string) (net.Conn, error) {
	if d.cfg.DialContext != nil {
		conn, err := d.cfg.DialContext(ctx, "tcp", addr)
		if err == nil && conn == nil {
			err = errors.New("DialContext returned neither a conn nor an error")
		}
		if err != nil {
			return nil, errs.Wrap(errs.OpDial, addr, false, err)
		}
		return conn, nil
	}

	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, &errs.Error{Op: errs.OpDial, Addr: addr, Err: err}
	}
	ctx, cancel := context.WithTimeout(ctx, DefaultDialTimeout)
	defer cancel()

	ips, err := d.lookup(ctx, host)
	if err != nil {
		// The shape net.Dialer gives a failed lookup, so callers that
		// assert it (as on net/http) find the same (DESIGN decision 7).
		return nil, &errs.Error{Op: errs.OpDial, Addr: addr, Err: &net.OpError{Op: "dial", Net: "tcp", Err: err}}
	}
	trace := httptrace.ContextClientTrace(ctx)
	nd := net.Dialer{KeepAlive: DefaultKeepAlive}
	var first error
	for i, ip := range ips {
		ipport := net.JoinHostPort(ip, port)
		if trace != nil && trace.ConnectStart != nil {
			trace.ConnectStart("tcp", ipport)
		}
		actx, acancel := attemptContext(valuelessContext{ctx}, len(ips)-i)
		conn, err := nd.DialContext(actx, "tcp", ipport)
		acancel()
		if trace != nil && trace.ConnectDone != nil {
			trace.ConnectDone("tcp", ipport, err)
		}
		if err == nil {
			return conn, nil
		}
		if first == nil {
			// The first address is the one the resolver preferred; its error
			// is the most telling one (net.Dialer reports the same).
			first = err
		}
		if ctx.Err() != nil {
			break
		}
	}
	return nil, &errs.Error{Op: errs.OpDial, Addr: addr, Err: first}
}

// lookup returns host's addresses in resolver order, or host itself when it
// is an IP literal (no DNS, so no DNS trace events).
func (d *Dialer) lookup(ctx context.Context, host string) ([]string, error) {
	if _, err := netip.ParseAddr(host); err == nil {
		return []string{host}, nil
	}
	trace := httptrace.ContextClientTrace(ctx)
	if trace != nil && trace.DNSStart != nil {
		trace.DNSStart(httptrace.DNSStartInfo{Host: host})
	}
	addrs, err := d.cfg.Resolver.LookupIPAddr(valuelessContext{ctx}, host)
	if err == nil && len(addrs) == 0 {
		err = &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	if trace != nil && trace.DNSDone != nil {
		trace.DNSDone(httptrace.DNSDoneInfo{Addrs: addrs, Err: err})
	}
	if err != nil {
		return nil, err
	}
	ips := make([]string, len(addrs))
	for i, a := range addrs {
		ips[i] = a.String() // keeps an IPv6 zone
	}
	return ips, nil
}

// attemptContext gives one connect attempt its share of the remaining time
// when left addresses (this one included) are still to try, so a black-holed
// first address cannot eat the whole budget.
func attemptContext(ctx context.Context, left int) (context.Context, context.CancelFunc) {
	deadline, ok := ctx.Deadline()
	if !ok || left <= 1 {
		return ctx, func() {}
	}
	share := time.Until(deadline) / time.Duration(left)
	if share < minAttemptTimeout {
		share = minAttemptTimeout
	}
	return context.WithTimeout(ctx, share)
}

// valuelessContext is a context with the deadline and cancellation of its
// parent but none of its values. httptrace.WithClientTrace also stores hooks
// under a net-internal key, and the net package fires those on its own: for
// the resolver's UDP/TCP connections to name servers too, which would show
// up as ConnectStart events that are no connect attempt of ours. spool fires
// the hooks itself instead, exactly once per lookup and per attempt, and
// gives net a context it cannot find them in.
type valuelessContext struct{ context.Context }

func (valuelessContext) Value(any) any { return nil }

// AfterFunc lets context.WithTimeout over a valuelessContext register with
// the parent instead of starting a goroutine to watch it.
func (c valuelessContext) AfterFunc(f func()) (stop func() bool) {
	return context.AfterFunc(c.Context, f)
}

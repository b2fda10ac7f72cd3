package main

import (
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/spoolhttp/spool"
)

// headerFlag collects repeated -H 'Key: Value' flags.
type headerFlag struct{ h http.Header }

func (f *headerFlag) String() string { return "" }

func (f *headerFlag) Set(s string) error {
	k, v, ok := strings.Cut(s, ":")
	k = strings.TrimSpace(k)
	if !ok || k == "" || strings.ContainsAny(k, " \t") {
		return errors.New(`want "Key: Value"`)
	}
	if f.h == nil {
		f.h = make(http.Header)
	}
	f.h.Add(k, strings.TrimSpace(v))
	return nil
}

// readBody turns a body flag into bytes: "@file" reads the file ("@-"
// standard input), anything else is the body itself.
func readBody(arg string, stdin io.Reader) ([]byte, error) {
	name, ok := strings.CutPrefix(arg, "@")
	switch {
	case !ok:
		return []byte(arg), nil
	case name == "-":
		return io.ReadAll(stdin)
	}
	return os.ReadFile(name)
}

// parseInterspersed parses flags that may come before or after positional
// arguments (`spool get URL -v`), which flag.Parse alone does not; after a
// "--" everything is positional.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos, rest []string
	for i, a := range args {
		if a == "--" {
			args, rest = args[:i], args[i+1:]
			break
		}
	}
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return append(pos, rest...), nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// newFlagSet returns a quiet FlagSet: errors are reported by the caller in
// one line and --help prints usage to stdout.
func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// parseURL accepts a URL with or without its http:// scheme.
func parseURL(raw string) (*url.URL, error) {
	if !strings.Contains(raw, "://") {
		raw = "http://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, err
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("URL %q: scheme must be http or https", raw)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("URL %q has no host", raw)
	}
	return u, nil
}

// transportOpts are the flags that shape a transport, shared by bench and get.
type transportOpts struct {
	conns    int // idle connections kept per host
	http2    bool
	insecure bool
	proxy    string
}

func (o *transportOpts) register(fs *flag.FlagSet) {
	fs.BoolVar(&o.http2, "http2", false, "")
	fs.BoolVar(&o.insecure, "insecure", false, "")
	fs.BoolVar(&o.insecure, "k", false, "")
	fs.StringVar(&o.proxy, "proxy", "", "")
}

func (o transportOpts) proxyFunc() (func(*http.Request) (*url.URL, error), error) {
	if o.proxy == "" {
		return nil, nil
	}
	u, err := url.Parse(o.proxy)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("--proxy %q: want a URL like http://host:3128", o.proxy)
	}
	return http.ProxyURL(u), nil
}

// newTransport builds the transport the CLI measures; tests swap it for
// net/http's while spool's is under construction elsewhere.
var newTransport = func(o transportOpts) http.RoundTripper {
	proxy, _ := o.proxyFunc() // validated while parsing flags
	return &spool.Transport{
		MaxIdleConnsPerHost: o.conns,
		ForceAttemptHTTP2:   o.http2,
		TLSClientConfig:     &tls.Config{InsecureSkipVerify: o.insecure},
		Proxy:               proxy,
	}
}

// newNetHTTP is net/http's Transport configured like newTransport, for
// --compare.
func newNetHTTP(o transportOpts) *http.Transport {
	proxy, _ := o.proxyFunc()
	return &http.Transport{
		MaxIdleConnsPerHost: o.conns,
		ForceAttemptHTTP2:   o.http2,
		TLSClientConfig:     &tls.Config{InsecureSkipVerify: o.insecure},
		Proxy:               proxy,
	}
}

// serveDebugPage serves spool.DebugHandler for rt on addr until stop,
// and says where.
func serveDebugPage(addr string, rt http.RoundTripper, info io.Writer) (stop func(), err error) {
	tr, ok := rt.(*spool.Transport)
	if !ok {
		return nil, errors.New("the debug page needs spool's Transport")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: spool.DebugHandler(tr), ReadHeaderTimeout: debugReadHeaderTimeout}
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.Serve(ln)
	}()
	fmt.Fprintf(info, "debug page: http://%s/ (while the load runs)\n", ln.Addr())
	return func() { srv.Close(); <-done }, nil
}

// debugReadHeaderTimeout keeps a stalled client of the debug page from
// holding a conn for the whole run.
const debugReadHeaderTimeout = 10 * time.Second

func closeIdle(rt http.RoundTripper) {
	if c, ok := rt.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// brief reduces a request error to what a person needs in one line:
// "connection refused", "lookup x: no such host", "timeout".
func brief(err error) string {
	var dns *net.DNSError
	var errno syscall.Errno
	var timeout interface{ Timeout() bool }
	switch {
	case errors.As(err, &dns):
		return dns.Error()
	case errors.As(err, &errno):
		return errno.Error()
	case errors.As(err, &timeout) && timeout.Timeout():
		return "timeout"
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return err.Error()
}

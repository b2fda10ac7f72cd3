package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptrace"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spoolhttp/spool"
)

const getUsage = `Usage: spool get [flags] URL

Sends one request through spool.Transport and writes the response body to
standard output. With -v it also prints the request and response heads to
standard error and a timing breakdown: DNS lookup, TCP connect, TLS
handshake, server processing, content transfer.

Flags:
  -X METHOD            request method (default GET, POST with -d)
  -H 'Key: Value'      request header, repeatable
  -d BODY              request body, or @file (@- reads standard input)
  -o FILE              write the body to FILE instead of standard output
  -L                   follow redirects (up to 10)
  --timeout D          whole-request timeout (default 30s)
  --http2              attempt HTTP/2 (ALPN over TLS)
  -k, --insecure       skip TLS certificate verification
  --proxy URL          send through this proxy
  -v, --verbose        print heads and timings to standard error

Examples:
  spool get -v https://example.com/
  spool get -X POST -H 'Content-Type: application/json' -d @req.json http://127.0.0.1:8080/api
  spool get -L -o page.html http://example.com/
`

// maxRedirects bounds -L, as curl's and net/http's defaults do.
const maxRedirects = 10

type getOpts struct {
	url       string
	method    string
	header    http.Header
	body      []byte
	hasBody   bool
	output    string
	follow    bool
	verbose   bool
	timeout   time.Duration
	transport transportOpts
}

func parseGet(args []string, stdin io.Reader) (*getOpts, error) {
	o := &getOpts{transport: transportOpts{conns: 1}}
	var headers headerFlag
	var body string
	fs := o.flags(&headers, &body)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return nil, err
	}
	return o, o.finish(fs, pos, headers, body, stdin)
}

func (o *getOpts) flags(headers *headerFlag, body *string) *flag.FlagSet {
	fs := newFlagSet("get")
	fs.StringVar(&o.method, "X", "", "")
	fs.Var(headers, "H", "")
	fs.StringVar(body, "d", "", "")
	fs.StringVar(&o.output, "o", "", "")
	fs.BoolVar(&o.follow, "L", false, "")
	fs.BoolVar(&o.verbose, "v", false, "")
	fs.BoolVar(&o.verbose, "verbose", false, "")
	fs.DurationVar(&o.timeout, "timeout", 30*time.Second, "")
	o.transport.register(fs)
	return fs
}

// finish checks the parsed flags and fills in what they imply.
func (o *getOpts) finish(fs *flag.FlagSet, pos []string, headers headerFlag, body string, stdin io.Reader) error {
	if len(pos) != 1 {
		return fmt.Errorf("want one URL, got %d arguments", len(pos))
	}
	u, err := parseURL(pos[0])
	if err != nil {
		return err
	}
	if _, err := o.transport.proxyFunc(); err != nil {
		return err
	}
	o.url, o.header = u.String(), headers.h
	fs.Visit(func(f *flag.Flag) { o.hasBody = o.hasBody || f.Name == "d" })
	if o.hasBody {
		if o.body, err = readBody(body, stdin); err != nil {
			return err
		}
	}
	if o.method == "" {
		o.method = map[bool]string{true: "POST", false: "GET"}[o.hasBody]
	}
	return nil
}

func runGet(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parseGet(args, os.Stdin)
	if errors.Is(err, flag.ErrHelp) {
		io.WriteString(stdout, getUsage)
		return exitOK
	}
	if err != nil {
		return usageError(stderr, "get", err)
	}
	return get(ctx, o, stdout, stderr)
}

func get(ctx context.Context, o *getOpts, stdout, stderr io.Writer) int {
	what := "get " + o.url
	tr := newTransport(o.transport)
	defer closeIdle(tr)
	rec := &recorder{}
	client := &http.Client{Transport: tr, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if !o.follow {
			return http.ErrUseLastResponse
		}
		if len(via) > maxRedirects {
			return fmt.Errorf("stopped after %d redirects", maxRedirects)
		}
		if o.verbose { // the hop that redirected, then the next one starts
			writeHeads(stderr, via[len(via)-1], req.Response, rec.headers())
			fmt.Fprintln(stderr, "*", "following redirect to", req.URL)
		}
		rec.reset(time.Now())
		return nil
	}}
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	req, err := o.request(httptrace.WithClientTrace(ctx, rec.trace()))
	if err != nil {
		return usageError(stderr, "get", err)
	}
	var out io.Writer = stdout
	if o.output != "" {
		f, err := os.Create(o.output)
		if err != nil {
			return failure(stderr, "-o", err)
		}
		defer f.Close()
		out = f
	}
	rec.reset(time.Now())
	resp, err := client.Do(req)
	if err != nil {
		return failure(stderr, what, err)
	}
	defer resp.Body.Close()
	if o.verbose {
		writeHeads(stderr, resp.Request, resp, rec.headers())
	}
	if _, err := io.Copy(out, resp.Body); err != nil {
		return failure(stderr, what+": reading body", err)
	}
	rec.set(func(t *Timeline) { t.BodyDone = time.Now() })
	if o.verbose {
		t := rec.timeline()
		phases, total := Phases(t)
		writePhases(stderr, phases, total, t.Reused)
	}
	return exitOK
}

// request builds the request o describes. The User-Agent is set here so
// that -v shows what is sent.
func (o *getOpts) request(ctx context.Context) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, o.method, o.url, bytes.NewReader(o.body))
	if err != nil {
		return nil, err
	}
	if !o.hasBody {
		req.Body, req.GetBody, req.ContentLength = nil, nil, 0
	}
	for k, vs := range o.header {
		req.Header[k] = vs
	}
	if h := req.Header.Get("Host"); h != "" {
		req.Host = h
		req.Header.Del("Host")
	}
	if req.Header.Get("User-Agent") == "" {
		req.Header.Set("User-Agent", spool.DefaultUserAgent)
	}

	return req, nil
}

// writeHeads prints one exchange like curl -v: the request head with "> ",
// the response head with "< ". wrote holds the header fields the transport
// reported writing; when it reported none, the request's own are shown.
func writeHeads(w io.Writer, req *http.Request, resp *http.Response, wrote [][2]string) {
	proto := "HTTP/1.1" // what spool speaks unless HTTP/2 was negotiated
	if resp != nil && resp.ProtoMajor == 2 {
		proto = "HTTP/2"
	}
	fmt.Fprintf(w, "> %s %s %s\n", req.Method, req.URL.RequestURI(), proto)
	if len(wrote) == 0 {
		host := req.Host
		if host == "" {
			host = req.URL.Host
		}
		wrote = append(wrote, [2]string{"Host", host})
		for _, k := range slices.Sorted(maps.Keys(req.Header)) {
			for _, v := range req.Header[k] {
				wrote = append(wrote, [2]string{k, v})
			}
		}
	}
	for _, kv := range wrote {
		fmt.Fprintf(w, "> %s: %s\n", kv[0], kv[1])
	}
	fmt.Fprintln(w, ">")
	if resp == nil {
		return
	}
	fmt.Fprintf(w, "< %s %s\n", resp.Proto, resp.Status)
	for _, k := range slices.Sorted(maps.Keys(resp.Header)) {
		fmt.Fprintf(w, "< %s: %s\n", k, strings.Join(resp.Header[k], ", "))
	}
	fmt.Fprintln(w, "<")
}

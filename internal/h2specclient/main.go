// Command h2specclient is the HTTP/2 client h2specd drives: h2specd serves
// one test case per port and runs this program once per case with the
// case's URL as its last argument (scripts/h2spec.sh wires it up). It sends
// one GET through spool.Transport (or net/http's, with -nethttp, for
// comparison), reads the body, and exits: h2specd judges the case from what
// it sees on the wire (frames, RST_STREAM, GOAWAY, the close), not from the
// exit code, which only says whether the request succeeded.
//
// h2c is HTTP/2 with prior knowledge (Protocols with only UnencryptedHTTP2);
// https is TLS with ALPN h2 and the certificate not verified (h2specd's is
// self-signed; -gencert writes one).
package main

import (
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/spoolhttp/spool"
)

// defaultTimeout bounds one case: h2specd waits 2 s for the client's
// reaction and gives the whole command 3 s before it aborts the run, so the
// client must be done before that even when the server never answers.
const defaultTimeout = 2200 * time.Millisecond

// settleTime is how long the client lives on after its request ended,
// before it closes its conns and exits: a program does not usually end
// right after a failed request, and the frames the engine queued on the
// way (a RST_STREAM, a GOAWAY with its code) must get their chance to
// reach the wire before the process exit closes the socket.
const settleTime = 250 * time.Millisecond

// hardExitMargin is how long past its timeout and settle the process may run.
const hardExitMargin = 200 * time.Millisecond

func main() {
	nethttp := flag.Bool("nethttp", false, "use net/http's Transport instead of spool's")
	timeout := flag.Duration("timeout", defaultTimeout, "bound on the whole request")
	gencert := flag.String("gencert", "", "write a CA-signed server.pem and server.key into this directory and exit")
	verbose := flag.Bool("v", false, "print the outcome")
	flag.Parse()
	if *gencert != "" {
		if err := writeCert(*gencert); err != nil {
			fmt.Fprintln(os.Stderr, "h2specclient:", err)
			os.Exit(2)
		}
		return
	}
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: h2specclient [-nethttp] [-timeout d] URL")
		os.Exit(2)
	}
	// A client that ignores its context past the bound (net/http redials
	// after each GOAWAY of case 1/1 without end) must still leave before
	// h2specd's 3 s, or h2specd aborts the whole run.
	time.AfterFunc(*timeout+settleTime+hardExitMargin, func() {
		fmt.Fprintf(os.Stderr, "h2specclient: %s: still running after %v: exiting\n", flag.Arg(0), *timeout)
		os.Exit(3)
	})
	rt, closeRT := transport(*nethttp)
	err := get(rt, flag.Arg(0), *timeout)
	time.Sleep(settleTime)
	closeRT()
	if *verbose {
		fmt.Printf("%s: %v\n", flag.Arg(0), err)
	}
	if err != nil {
		os.Exit(1)
	}
}

// transport returns an HTTP/2-only RoundTripper (h2c prior knowledge for
// http://, ALPN h2 for https://) and the function that closes its conns.
func transport(nethttp bool) (http.RoundTripper, func()) {
	var p http.Protocols
	p.SetHTTP2(true)
	p.SetUnencryptedHTTP2(true)
	tlsConf := &tls.Config{InsecureSkipVerify: true} // h2specd serves a throwaway cert (-gencert); what is tested is HTTP/2
	if nethttp {
		t := &http.Transport{Protocols: &p, TLSClientConfig: tlsConf, ForceAttemptHTTP2: true}
		return t, t.CloseIdleConnections
	}
	t := &spool.Transport{Protocols: &p, TLSClientConfig: tlsConf, ForceAttemptHTTP2: true}
	return t, func() { t.Close() }
}

func get(rt http.RoundTripper, url string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := rt.RoundTrip(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, resp.Body)
	return err
}

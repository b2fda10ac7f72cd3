package retry_test

import (
	"context"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/spoolhttp/spool"
	"github.com/spoolhttp/spool/retry"
)

// The default policy over what a real spool.Transport returns now that its
// errors read like net/http's (DESIGN decision 7): the not-sent faults
// (dial, proxy dial, TLS handshake timeout) are retried whatever the
// method, a certificate or an invalid request never, a lost exchange only
// for an idempotent request.
func TestDefaultPolicyOnSpoolErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := ln.Addr().String()
	ln.Close()
	stall, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer stall.Close()
	go func() { // accepts and never answers
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		for {
			c, err := stall.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	tlsSrv := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	tlsSrv.Config.ErrorLog = discardLog()
	tlsSrv.StartTLS()
	defer tlsSrv.Close()
	proxyDown := http.ProxyURL(&url.URL{Scheme: "http", Host: refused})
	for _, c := range []struct {
		name   string
		tr     *spool.Transport
		method string
		url    string
		retry  bool
	}{
		{"refused POST", &spool.Transport{}, "POST", "http://" + refused + "/", true},
		{"proxy refused POST", &spool.Transport{Proxy: proxyDown}, "POST", "http://origin.test/", true},
		{"TLS handshake timeout POST", &spool.Transport{TLSHandshakeTimeout: 20 * time.Millisecond}, "POST", "https://" + stall.Addr().String() + "/", true},
		{"certificate GET", &spool.Transport{}, "GET", tlsSrv.URL, false},
		{"unsupported scheme GET", &spool.Transport{}, "GET", "ftp://" + refused + "/", false},
		{"header timeout GET", &spool.Transport{ResponseHeaderTimeout: 20 * time.Millisecond}, "GET", "http://" + stall.Addr().String() + "/", true},
		{"header timeout POST", &spool.Transport{ResponseHeaderTimeout: 20 * time.Millisecond}, "POST", "http://" + stall.Addr().String() + "/", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			defer c.tr.Close()
			req, _ := http.NewRequestWithContext(context.Background(), c.method, c.url, nil)
			_, err := c.tr.RoundTrip(req)
			if err == nil {
				t.Fatal("no error")
			}
			if d := retry.DefaultPolicy(req, nil, err, 1); d.Retry != c.retry {
				t.Errorf("err %T %v: %+v, want retry %v", err, err, d, c.retry)
			}
			var se *spool.Error
			if errors.As(err, &se) {
				t.Errorf("err %v is a *spool.Error; net/http has an error of its own here", err)
			}
		})
	}
}

func discardLog() *log.Logger { return log.New(io.Discard, "", 0) }

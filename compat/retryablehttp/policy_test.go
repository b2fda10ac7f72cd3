// Package retryablehttp_test checks that hashicorp/go-retryablehttp, the
// most used retry library over net/http, classifies spool's errors as it
// classifies net/http's (issue 11): its policies assert
// *tls.CertificateVerificationError and match net/http's texts, so an error
// of another shape is retried when it must not be, or the reverse. A module
// of its own, so the library stays out of spool's go.mod.
package retryablehttp_test

import (
	"context"
	"crypto/tls"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/spoolhttp/spool"
)

// transports returns net/http's and spool's, configured alike.
func transports(cfg *tls.Config) map[string]http.RoundTripper {
	return map[string]http.RoundTripper{
		"net/http": &http.Transport{TLSClientConfig: cfg},
		"spool":    &spool.Transport{TLSClientConfig: cfg},
	}
}

type fault struct {
	name      string
	cfg       *tls.Config
	do        func(c *http.Client) (*http.Response, error)
	wantRetry bool // what retryablehttp decides on net/http's outcome
}

func get(u string) func(*http.Client) (*http.Response, error) {
	return func(c *http.Client) (*http.Response, error) { return c.Get(u) }
}

func faults(t *testing.T) []fault {
	tlsSrv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(tlsSrv.Close)
	// net/http's server logs the client's refusal of its certificate.
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/503":
			w.WriteHeader(http.StatusServiceUnavailable)
		case "/501":
			w.WriteHeader(http.StatusNotImplemented)
		case "/loop":
			http.Redirect(w, r, "/loop", http.StatusFound)
		}
	}))
	t.Cleanup(srv.Close)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := ln.Addr().String()
	ln.Close()
	return []fault{
		{"TLS verification failure", nil, get(tlsSrv.URL), false},
		{"invalid header", nil, func(c *http.Client) (*http.Response, error) {
			req, _ := http.NewRequest("GET", srv.URL, nil)
			req.Header.Set("X-Bad", "a\r\nb")
			return c.Do(req)
		}, false},
		{"unsupported scheme", nil, get("ftp://" + refused + "/"), false},
		{"too many redirects", nil, get(srv.URL + "/loop"), false},
		{"connection refused", nil, get("http://" + refused + "/"), true},
		{"503", nil, get(srv.URL + "/503"), true},
		{"501", nil, get(srv.URL + "/501"), false},
	}
}

// Both policies, on both transports' outcomes for the same fault: the same
// decision, and for ErrorPropagatedRetryPolicy the same error text.
func TestRetryPoliciesClassifyAlike(t *testing.T) {
	policies := map[string]retryablehttp.CheckRetry{
		"DefaultRetryPolicy":         retryablehttp.DefaultRetryPolicy,
		"ErrorPropagatedRetryPolicy": retryablehttp.ErrorPropagatedRetryPolicy,
	}
	for _, f := range faults(t) {
		t.Run(f.name, func(t *testing.T) {
			type verdict struct {
				retry bool
				err   string
			}
			got := map[string]map[string]verdict{}
			for tname, rt := range transports(f.cfg) {
				c := &http.Client{Transport: rt}
				resp, err := f.do(c)
				if resp != nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				got[tname] = map[string]verdict{}
				for pname, p := range policies {
					retry, perr := p(context.Background(), resp, err)
					v := verdict{retry: retry}
					if perr != nil {
						v.err = perr.Error()
					}
					got[tname][pname] = v
				}
				c.CloseIdleConnections()
			}
			for pname := range policies {
				std, sp := got["net/http"][pname], got["spool"][pname]
				if std.retry != f.wantRetry {
					t.Errorf("%s on net/http: retry %v, the case expects %v (err %q)", pname, std.retry, f.wantRetry, std.err)
				}
				if sp != std {
					t.Errorf("%s: spool %+v, net/http %+v", pname, sp, std)
				}
			}
		})
	}
}

// The library's client end to end over spool: what it must not retry is
// tried once, what it must retry is tried RetryMax+1 times.
func TestRetryableClientOverSpool(t *testing.T) {
	var hits atomic.Int32
	tlsSrv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer tlsSrv.Close()
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	for _, c := range []struct {
		url   string
		tries int32
	}{{tlsSrv.URL, 1}, {srv.URL, 3}} {
		tr := &spool.Transport{}
		var tries atomic.Int32
		rc := retryablehttp.NewClient()
		rc.HTTPClient = &http.Client{Transport: tr}
		rc.Logger = nil
		rc.RetryMax = 2
		rc.RetryWaitMin, rc.RetryWaitMax = time.Millisecond, time.Millisecond
		rc.RequestLogHook = func(retryablehttp.Logger, *http.Request, int) { tries.Add(1) }
		resp, err := rc.Get(c.url)
		if err == nil {
			resp.Body.Close()
		}
		if n := tries.Load(); n != c.tries {
			t.Errorf("%s: %d tries, want %d (err %v)", c.url, n, c.tries, err)
		}
		tr.Close()
	}
}

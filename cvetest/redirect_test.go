package cvetest

import (
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spoolhttp/spool"
	"github.com/spoolhttp/spool/internal/testutil"
	"github.com/spoolhttp/spool/retry"
)

const (
	secretAuth   = "Bearer top-secret"
	secretCookie = "session=top-secret"
)

// twoHosts serves a.example and b.example from two origins, reached
// through a dialer that maps the names, so Host and URL are real names.
type twoHosts struct {
	a, b *origin
	dial map[string]string
}

func startTwoHosts(t *testing.T, ha, hb http.HandlerFunc) *twoHosts {
	h := &twoHosts{a: startOrigin(t, false, ha), b: startOrigin(t, false, hb)}
	h.dial = map[string]string{
		"a.example:80": strings.TrimPrefix(h.a.URL, "http://"),
		"b.example:80": strings.TrimPrefix(h.b.URL, "http://"),
	}
	return h
}

func redirectTo(loc string, code int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, loc, code) }
}

func secretReq(t *testing.T, u string) *http.Request {
	req := withTimeout(t, testutil.NewRequest(t, "GET", u, nil), 10*time.Second)
	req.Header.Set("Authorization", secretAuth)
	req.Header.Set("Cookie", secretCookie)
	return req
}

// wantSecrets checks whether each request o saw carried the secrets.
func wantSecrets(t *testing.T, who string, o *origin, want bool) {
	t.Helper()
	got := o.seen()
	if len(got) == 0 {
		t.Fatalf("%s saw no request", who)
	}
	for _, r := range got {
		has := r.Header.Get("Authorization") == secretAuth || strings.Contains(r.Header.Get("Cookie"), "top-secret")
		if has != want {
			t.Errorf("%s %s: Authorization %q Cookie %q; want secrets=%v", who, r.Path, r.Header.Get("Authorization"), r.Header.Get("Cookie"), want)
		}
	}
}

func do(t *testing.T, c *http.Client, req *http.Request) *http.Response {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// Go CVE-2023-45289 and CVE-2024-45336: http.Client forwarded
// Authorization and Cookie on redirects to hosts that were not the
// original's (an IPv6 zone fooled the domain match; a chain a → b → a
// restored them). With spool.Transport under http.Client the secrets stay
// with the original host.
func TestCVE_2023_45289_SensitiveHeadersOnCrossHostRedirect(t *testing.T) {
	for _, code := range []int{301, 302, 303, 307, 308} {
		t.Run(http.StatusText(code), func(t *testing.T) {
			h := startTwoHosts(t, redirectTo("http://b.example/landed", code), nil)
			tr := testutil.NewTransport(t, &spool.Transport{DialContext: mapDialer(h.dial)})
			resp := do(t, &http.Client{Transport: tr}, secretReq(t, "http://a.example/start"))
			if resp.Request.URL.Host != "b.example" {
				t.Fatalf("ended at %s", resp.Request.URL)
			}
			wantSecrets(t, "a.example", h.a, true)
			wantSecrets(t, "b.example", h.b, false)
		})
	}
	t.Run("same host keeps them", func(t *testing.T) {
		var n atomic.Int32
		h := startTwoHosts(t, func(w http.ResponseWriter, r *http.Request) {
			if n.Add(1) == 1 {
				http.Redirect(w, r, "/landed", http.StatusFound)
			}
		}, nil)
		tr := testutil.NewTransport(t, &spool.Transport{DialContext: mapDialer(h.dial)})
		do(t, &http.Client{Transport: tr}, secretReq(t, "http://a.example/start"))
		if len(h.a.seen()) != 2 {
			t.Fatalf("a.example saw %d requests", len(h.a.seen()))
		}
		wantSecrets(t, "a.example", h.a, true)
	})
	t.Run("IPv6 zone that looks like a subdomain", func(t *testing.T) {
		// CVE-2023-45289 proper: "[::1%25.a.example]" ends in ".a.example".
		h := startTwoHosts(t, redirectTo("http://[::1%25.a.example]/landed", http.StatusFound), nil)
		h.dial["[::1%.a.example]:80"] = h.dial["b.example:80"]
		tr := testutil.NewTransport(t, &spool.Transport{DialContext: mapDialer(h.dial)})
		resp, err := (&http.Client{Transport: tr}).Do(secretReq(t, "http://a.example/start"))
		if err == nil {
			resp.Body.Close()
		}
		if len(h.b.seen()) > 0 { // refusing the odd host is fine too
			wantSecrets(t, "zoned host", h.b, false)
		}
	})
}

func TestCVE_2024_45336_RedirectChainBackToOriginalHost(t *testing.T) {
	var n atomic.Int32
	h := startTwoHosts(t,
		func(w http.ResponseWriter, r *http.Request) {
			if n.Add(1) == 1 {
				http.Redirect(w, r, "http://b.example/hop", http.StatusTemporaryRedirect)
			}
		},
		redirectTo("http://a.example/back", http.StatusTemporaryRedirect))
	tr := testutil.NewTransport(t, &spool.Transport{DialContext: mapDialer(h.dial)})
	resp := do(t, &http.Client{Transport: tr}, secretReq(t, "http://a.example/start"))
	if resp.Request.URL.String() != "http://a.example/back" {
		t.Fatalf("ended at %s", resp.Request.URL)
	}
	a := h.a.seen()
	if len(a) != 2 || a[0].Header.Get("Authorization") != secretAuth {
		t.Fatalf("a.example saw %+v", a)
	}
	// The last hop comes back to a.example, but after a foreign host:
	// the secrets must not be restored.
	if v := a[1].Header.Get("Authorization"); v != "" {
		t.Errorf("a.example/back got Authorization %q after a detour through b.example", v)
	}
	if v := a[1].Header.Get("Cookie"); v != "" {
		t.Errorf("a.example/back got Cookie %q after a detour through b.example", v)
	}
	wantSecrets(t, "b.example", h.b, false)
}

// retry.Transport sits below http.Client: a retry is the same request
// again, to the same host, with the same headers, and a redirect after a
// retry is still the client's, which drops the secrets across hosts.
func TestCVE_2024_45336_RetryKeepsTargetRedirectDropsSecrets(t *testing.T) {
	newRetry := func(t *testing.T, h *twoHosts) *retry.Transport {
		tr := testutil.NewTransport(t, &spool.Transport{DialContext: mapDialer(h.dial)})
		return &retry.Transport{Next: tr, Backoff: retry.Constant(0), MaxAttempts: 3}
	}
	t.Run("retry keeps host and headers", func(t *testing.T) {
		var n atomic.Int32
		h := startTwoHosts(t, func(w http.ResponseWriter, r *http.Request) {
			if n.Add(1) < 3 {
				w.WriteHeader(http.StatusServiceUnavailable)
			}
		}, nil)
		rt := newRetry(t, h)
		req := secretReq(t, "http://a.example/flaky?q=1")
		resp, err := rt.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("status %d after retries", resp.StatusCode)
		}
		got := h.a.seen()
		if len(got) != 3 {
			t.Fatalf("a.example saw %d attempts, want 3", len(got))
		}
		for i, r := range got {
			if r.Host != "a.example" || r.Path != "/flaky" || r.Header.Get("Authorization") != secretAuth || r.Header.Get("Cookie") != secretCookie {
				t.Errorf("attempt %d: host %q path %q headers %v", i+1, r.Host, r.Path, r.Header)
			}
		}
		if len(h.b.seen()) != 0 {
			t.Fatal("a retry went to b.example")
		}
		if req.Header.Get("Authorization") != secretAuth || req.URL.Host != "a.example" {
			t.Fatal("the caller's request was modified")
		}
	})
	t.Run("307 to another host after a retry", func(t *testing.T) {
		var n atomic.Int32
		h := startTwoHosts(t, func(w http.ResponseWriter, r *http.Request) {
			if n.Add(1) == 1 {
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
			http.Redirect(w, r, "http://b.example/landed", http.StatusTemporaryRedirect)
		}, nil)
		c := &http.Client{Transport: newRetry(t, h)}
		resp := do(t, c, secretReq(t, "http://a.example/start"))
		if resp.Request.URL.Host != "b.example" || resp.StatusCode != 200 {
			t.Fatalf("ended at %s with %d", resp.Request.URL, resp.StatusCode)
		}
		if len(h.a.seen()) != 2 {
			t.Fatalf("a.example saw %d attempts, want 2", len(h.a.seen()))
		}
		wantSecrets(t, "a.example", h.a, true)
		wantSecrets(t, "b.example", h.b, false)
	})
	t.Run("retried 307 POST to another host", func(t *testing.T) {
		var n atomic.Int32
		h := startTwoHosts(t, func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			if n.Add(1) == 1 {
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
			http.Redirect(w, r, "http://b.example/landed", http.StatusTemporaryRedirect)
		}, func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			io.WriteString(w, string(b))
		})
		c := &http.Client{Transport: newRetry(t, h)}
		req := withTimeout(t, testutil.NewRequest(t, "PUT", "http://a.example/up", strings.NewReader("payload")), 10*time.Second)
		req.Header.Set("Authorization", secretAuth)
		req.Header.Set("Cookie", secretCookie)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) != "payload" {
			t.Fatalf("b.example echoed %q, want the replayed body", b)
		}
		wantSecrets(t, "a.example", h.a, true)
		wantSecrets(t, "b.example", h.b, false)
	})
}

package testnet_test

import (
	"errors"
	"io"
	"net/http"
	"testing"
	"testing/synctest"
	"time"

	"github.com/spoolhttp/spool/internal/testnet"
)

// TestHTTPOverTestnet shows the intended use: a transport whose
// DialContext is Network.Dial, a server on a testnet Listener, and a
// timeout observed at its exact fake time.
func TestHTTPOverTestnet(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var n testnet.Network
		l, err := n.Listen("api.test:80")
		if err != nil {
			t.Fatal(err)
		}
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/slow" {
				select { // until the client gives up and closes the conn
				case <-r.Context().Done():
				case <-time.After(time.Minute):
				}
			}
			io.WriteString(w, "hi")
		})}
		go srv.Serve(l)
		defer srv.Close()

		tr := &http.Transport{DialContext: n.Dial, ResponseHeaderTimeout: 2 * time.Second}
		defer tr.CloseIdleConnections()
		client := &http.Client{Transport: tr}

		resp, err := client.Get("http://api.test/")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(body) != "hi" {
			t.Fatalf("body %q", body)
		}

		start := time.Now()
		_, err = client.Get("http://api.test/slow")
		if err == nil || time.Since(start) != 2*time.Second {
			t.Fatalf("after %v: %v", time.Since(start), err)
		}
		var te interface{ Timeout() bool }
		if !errors.As(err, &te) || !te.Timeout() {
			t.Errorf("err %v is not a timeout", err)
		}
		if got := l.(*testnet.Listener).Accepted(); got != 1 {
			t.Errorf("Accepted = %d, want 1: /slow reused the first conn", got)
		}
	})
}

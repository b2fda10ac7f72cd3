package spool_test

import (
	"net/http"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/spoolhttp/spool"
	"github.com/spoolhttp/spool/internal/testnet"
)

// TestH2InSuccessiveBubbles: HTTP/2 conns in one testing/synctest bubble
// after another. Nothing the engine recycles (a stream's wake channel) may
// cross from one bubble to the next: a channel used outside its bubble is
// a fatal error that ends the whole test binary.
func TestH2InSuccessiveBubbles(t *testing.T) {
	for range 4 {
		synctest.Test(t, func(t *testing.T) {
			var n testnet.Network
			l, err := n.Listen("api.test:80")
			if err != nil {
				t.Fatal(err)
			}
			srv := &http.Server{Handler: http.HandlerFunc(hello), Protocols: new(http.Protocols)}
			srv.Protocols.SetUnencryptedHTTP2(true)
			go srv.Serve(l)
			defer srv.Close()
			p := new(http.Protocols)
			p.SetUnencryptedHTTP2(true)
			tr := &spool.Transport{DialContext: n.Dial, Protocols: p}
			defer tr.Close()
			var wg sync.WaitGroup
			for range 8 {
				wg.Go(func() {
					if err := doGet(t, tr, "http://api.test/"); err != nil {
						t.Error(err)
					}
				})
			}
			wg.Wait()
		})
	}
}

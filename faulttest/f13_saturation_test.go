package faulttest

import (
	"bufio"
	"context"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/spoolhttp/spool"
	"github.com/spoolhttp/spool/internal/testnet"
)

// TestF13_PoolSaturation: MaxConnsPerHost=10, 5,000 concurrent requests to
// a 50 ms endpoint, half cancelled at random times (synctest, so the
// 12.5 s of serving take no real time). The server never has more than
// 10 conns open at once (counted server-side, exact: the accept loop lets
// every pending close land before it counts); every uncancelled request
// succeeds; a cancelled one returns at its cancel instant; goroutines are
// back to the baseline after CloseIdleConnections.
func TestF13_PoolSaturation(t *testing.T) {
	total := scale(5000, 1000)
	synctest.Test(t, func(t *testing.T) {
		var n testnet.Network
		ln, err := n.Listen("api.test:80")
		if err != nil {
			t.Fatal(err)
		}
		var trp *spool.Transport
		var mu sync.Mutex
		open, maxOpen := 0, 0
		var conns sync.WaitGroup
		// serve reads requests in one goroutine, so the client's close is
		// seen at once even while a request is being "processed", and
		// answers each after 50 ms.
		serve := func(c net.Conn) {
			defer conns.Done()
			reqs := make(chan struct{}, 16)
			eof := make(chan struct{})
			conns.Go(func() {
				defer close(eof)
				br := bufio.NewReader(c)
				for {
					if _, err := readReq(br); err != nil {
						mu.Lock()
						open--
						mu.Unlock()
						return
					}
					reqs <- struct{}{}
				}
			})
			defer c.Close()
			for {
				select {
				case <-eof:
					return
				case <-reqs:
				}
				select {
				case <-eof:
					return
				case <-time.After(50 * time.Millisecond):
				}
				if _, err := io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"); err != nil {
					return
				}
			}
		}
		acceptDone := make(chan struct{})
		go func() {
			defer close(acceptDone)
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				synctest.Wait() // let every close already made reach the server
				mu.Lock()
				open++
				maxOpen = max(maxOpen, open)
				if open > 10 && trp != nil {
					st := trp.Stats().Total
					t.Logf("open %d; client: active %d idle %d dialing %d waiting %d; closes %+v", open, st.Active, st.Idle, st.Dialing, st.Waiting, st.Closes)
				}
				mu.Unlock()
				conns.Add(1)
				go serve(c)
			}
		}()
		base := bubbleGoroutines()

		tr := &spool.Transport{DialContext: n.Dial, MaxConnsPerHost: 10}
		mu.Lock()
		trp = tr
		mu.Unlock()
		type result struct {
			cancelled bool
			cancelAt  time.Duration
			err       error
			returned  time.Duration
		}
		results := make([]result, total)
		start := time.Now()
		var wg sync.WaitGroup
		for i := range total {
			ctx, cancel := context.WithCancel(context.Background())
			r := &results[i]
			if i%2 == 1 {
				r.cancelled = true
				r.cancelAt = rand.N(3 * time.Second)
				time.AfterFunc(r.cancelAt, cancel)
			}
			wg.Go(func() {
				defer cancel()
				req, _ := http.NewRequestWithContext(ctx, "GET", "http://api.test/", nil)
				resp, err := tr.RoundTrip(req)
				if err == nil {
					_, err = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				r.err, r.returned = err, time.Since(start)
			})
		}
		wg.Wait()

		var ok, okCancelled, failed int
		for i, r := range results {
			switch {
			case !r.cancelled && r.err != nil:
				if failed++; failed <= 5 {
					t.Errorf("uncancelled request %d: %v", i, r.err)
				}
			case r.cancelled && r.err != nil:
				if r.returned != r.cancelAt {
					if failed++; failed <= 5 {
						t.Errorf("request %d cancelled at %v returned at %v: %v", i, r.cancelAt, r.returned, r.err)
					}
				}
			case r.cancelled:
				okCancelled++
			default:
				ok++
			}
		}
		mu.Lock()
		t.Logf("%d requests: %d ok, %d cancelled ones finished first; max %d server conns; %v fake time",
			total, ok, okCancelled, maxOpen, time.Since(start))
		if maxOpen > 10 {
			t.Errorf("the server saw %d conns open at once, MaxConnsPerHost 10", maxOpen)
		}
		mu.Unlock()

		tr.CloseIdleConnections()
		synctest.Wait()
		if g := bubbleGoroutines(); g > base {
			t.Errorf("%d goroutines after CloseIdleConnections, baseline %d", g, base)
		}
		tr.Close()
		ln.Close()
		<-acceptDone
		conns.Wait()
	})
}

package h2

import (
	"context"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// Many concurrent streams ending every way (read to EOF, early Close,
// cancelled before or after the head, uploads) on a server allowing few
// at once: every RoundTrip reports OnStreamDone once, and afterwards
// nothing is in flight and the conn is healthy.
func TestStressStreamAccounting(t *testing.T) {
	h := func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if r.URL.Path == "/slow" {
			select {
			case <-r.Context().Done():
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
		w.Write([]byte(strings.Repeat("x", 40<<10)))
	}
	s := newTLSServer(t, h, 8)
	var dc doneCounter
	c := newConn(t, Config{OnStreamDone: dc.hook}, s.dial(t))
	waitSettings(t, c)
	const n = 300
	var wg sync.WaitGroup
	var started, refused int32
	var mu sync.Mutex
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c.Reserve() != nil { // full: wait for a slot, as the pool would
				time.Sleep(time.Millisecond)
			}
			mu.Lock()
			started++
			mu.Unlock()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			path, body := "/", io.Reader(nil)
			switch rand.IntN(5) {
			case 0:
				path = "/slow"
				time.AfterFunc(time.Duration(rand.IntN(30))*time.Millisecond, cancel)
			case 1:
				body = strings.NewReader(strings.Repeat("u", 100<<10))
			}
			req, _ := http.NewRequestWithContext(ctx, "POST", s.URL+path, body)
			resp, err := c.RoundTrip(req)
			if err != nil {
				if Refused(err) {
					mu.Lock()
					refused++
					mu.Unlock()
				}
				return
			}
			if rand.IntN(2) == 0 {
				io.CopyN(io.Discard, resp.Body, 1000)
			} else {
				io.Copy(io.Discard, resp.Body)
			}
			resp.Body.Close()
		}()
	}
	wg.Wait()
	eventually(t, 10*time.Second, "streams still counted", func() bool { return c.InFlight() == 0 && dc.n.Load() == started })
	if c.Err() != nil || c.Available() != 8 {
		t.Fatalf("after the storm: Err=%v Available=%d", c.Err(), c.Available())
	}
	t.Logf("%d streams, %d refused; %+v", started, refused, c.ctr.snapshot())
}

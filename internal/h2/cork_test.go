package h2

import (
	"io"
	"net/http"
	"sync"
	"testing"
	"time"
)

// Over TLS the reader looks for ready frames with the read deadline in the
// past while streams share the conn (peekFrame). Bursts of concurrent
// streams must all succeed on the one conn, and once the burst is over the
// reader's wait for the next frame must block as usual: a deadline left in
// the past would fail the idle conn at once.
func TestTLSConcurrentBurstsThenIdleKeepConn(t *testing.T) {
	s := newTLSServer(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }, 0)
	c := newConn(t, Config{}, s.dial(t))
	do := func() error {
		resp, err := c.RoundTrip(get(t, s.URL+"/"))
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err == nil && string(b) != "ok" {
			t.Errorf("body %q", b)
		}
		return err
	}
	for round := 0; round < 3; round++ {
		var wg sync.WaitGroup
		for w := 0; w < 16; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 50; i++ {
					if err := do(); err != nil {
						t.Errorf("round %d: %v", round, err)
						return
					}
				}
			}()
		}
		wg.Wait()
		time.Sleep(50 * time.Millisecond) // idle: the reader waits on the socket
		if err := c.Err(); err != nil {
			t.Fatalf("round %d: idle conn failed after a burst: %v", round, err)
		}
	}
	if err := do(); err != nil {
		t.Fatalf("request after the bursts: %v", err)
	}
	if n := s.conns.Load(); n != 1 {
		t.Errorf("server saw %d conns, want 1", n)
	}
}

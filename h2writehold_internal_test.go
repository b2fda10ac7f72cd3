package spool

import (
	"testing"
	"time"
)

// HTTP2WriteHold reaches the HTTP/2 conns' config, through Clone too (0:
// the engine's default, negative: off).
func TestHTTP2WriteHoldPlumbed(t *testing.T) {
	for _, d := range []time.Duration{0, -1, 3 * time.Millisecond} {
		tr := &Transport{HTTP2WriteHold: d}
		c := tr.Clone()
		t.Cleanup(func() { tr.Close(); c.Close() })
		if got := tr.state().h2Config("").WriteHold; got != d {
			t.Errorf("HTTP2WriteHold %v: the h2 config has %v", d, got)
		}
		if got := c.state().h2Config("").WriteHold; got != d {
			t.Errorf("HTTP2WriteHold %v: the clone's h2 config has %v", d, got)
		}
	}
}

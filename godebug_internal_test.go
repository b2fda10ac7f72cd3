package spool

import "testing"

// godebugLookup reads GODEBUG as the runtime does: the last setting of a
// name wins, and a bisect pattern after '#' is not part of the value.
func TestGODEBUGLookup(t *testing.T) {
	cases := []struct {
		s, v string
		ok   bool
	}{
		{"", "", false},
		{"http2client=0", "0", true},
		{"netdns=go,http2client=0", "0", true},
		{"http2client=0,http2client=1", "1", true},
		{"http2client=1,x=y,http2client=0", "0", true},
		{"http2client=0#0x1", "0", true},
		{"xhttp2client=0,http2clientx=0", "", false},
		{"http2client", "", false},
		{"http2client=", "", true},
	}
	for _, c := range cases {
		v, ok := godebugLookup(c.s, "http2client")
		if v != c.v || ok != c.ok {
			t.Errorf("godebugLookup(%q) = %q, %v; want %q, %v", c.s, v, ok, c.v, c.ok)
		}
	}
}

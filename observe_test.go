package spool

import (
	"testing"

	"github.com/spoolhttp/spool/internal/pool"
)

func TestTargetOf(t *testing.T) {
	for _, tc := range []struct {
		key  string
		want Target
	}{
		{"http://example.com:80", Target{Scheme: "http", Host: "example.com", Port: 80}},
		{"https://127.0.0.3:8443", Target{Scheme: "https", Host: "127.0.0.3", Port: 8443}},
		{"https://[::1]:443", Target{Scheme: "https", Host: "::1", Port: 443}},
		{"http://u:#ab12@proxy:3128|https://example.com:443", Target{Proxy: "http://u:#ab12@proxy:3128", Scheme: "https", Host: "example.com", Port: 443}},
		{"socks5://a|b@proxy:1080|http://[2001:db8::1]:8080", Target{Proxy: "socks5://a|b@proxy:1080", Scheme: "http", Host: "2001:db8::1", Port: 8080}},
	} {
		tc.want.Key = tc.key
		if got := targetOf(pool.Key(tc.key)); got != tc.want {
			t.Errorf("targetOf(%q) = %+v, want %+v", tc.key, got, tc.want)
		}
	}
	if n := testing.AllocsPerRun(100, func() { targetOf("http://u@proxy:3128|https://example.com:443") }); n != 0 {
		t.Errorf("targetOf allocates %.0f times", n)
	}
}

package spool_test

import (
	"context"
	"net"
	"net/http"
	"testing"

	"github.com/spoolhttp/spool"
	"github.com/spoolhttp/spool/internal/testutil"
)

const cannedResp = "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Sun, 22 Nov 2026 10:00:00 GMT\r\nContent-Type: text/plain\r\nContent-Length: 12\r\nConnection: keep-alive\r\n\r\nhello, world"

// observerCases are the Transports the observer's cost is measured on:
// none, and one that does nothing (the events are made and delivered).
var observerCases = []struct {
	name string
	obs  spool.Observer
}{{"nil", nil}, {"nop", spool.NopObserver{}}}

func cannedTransport(obs spool.Observer) *spool.Transport {
	conn := &cannedConn{resp: cannedResp}
	return &spool.Transport{
		Observer:    obs,
		DialContext: func(context.Context, string, string) (net.Conn, error) { return conn, nil },
	}
}

// BenchmarkObserver is the observer's own cost per keep-alive GET, side
// by side over the in-memory cannedConn (no syscall, no server): nil
// against NopObserver, whose events are all made and delivered.
//
//	go test -run '^$' -bench Observer -benchmem -count 6 .
func BenchmarkObserver(b *testing.B) {
	for _, c := range observerCases {
		b.Run(c.name, func(b *testing.B) {
			tr := cannedTransport(c.obs)
			defer tr.Close()
			req, _ := http.NewRequest("GET", "http://example.test/", nil)
			buf := make([]byte, 512)
			b.ReportAllocs()
			for b.Loop() {
				getAndRead(b, tr, req, buf)
			}
		})
	}
}

// TestObserverAllocs pins what an Observer costs in allocations: nothing
// per request, with or without one (the events are structs passed by
// value; the conn keeps its exchObs for its life).
func TestObserverAllocs(t *testing.T) {
	if testutil.RaceEnabled {
		t.Skip("the race detector adds allocations")
	}
	var counts []float64
	for _, c := range observerCases {
		tr := cannedTransport(c.obs)
		req, _ := http.NewRequest("GET", "http://example.test/", nil)
		buf := make([]byte, 512)
		getAndRead(t, tr, req, buf) // dial and warm the buffer pools
		counts = append(counts, testing.AllocsPerRun(1000, func() { getAndRead(t, tr, req, buf) }))
		tr.Close()
	}
	t.Logf("allocations per round trip: nil observer %.1f, NopObserver %.1f", counts[0], counts[1])
	if counts[0] > 8 || counts[1] != counts[0] {
		t.Fatalf("allocations per round trip: nil observer %.1f (budget 8), NopObserver %.1f (want the same)", counts[0], counts[1])
	}
}

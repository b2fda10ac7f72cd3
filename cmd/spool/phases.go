package main

import (
	"crypto/tls"
	"net/http/httptrace"
	"sync"
	"time"
)

// Timeline holds the instants httptrace reports for one request (one hop
// of a redirect chain). A zero instant means the event did not happen,
// e.g. no DNS lookup for an IP address and no connect on a reused conn.
type Timeline struct {
	Start        time.Time // the request was handed to the client
	DNSStart     time.Time
	DNSDone      time.Time
	ConnectStart time.Time // first dial attempt
	ConnectDone  time.Time // last dial attempt finished
	TLSStart     time.Time
	TLSDone      time.Time
	GotConn      time.Time
	WroteRequest time.Time
	FirstByte    time.Time
	BodyDone     time.Time // the body was read to its end
	Reused       bool
}

// Phase is one span of a request, Start measured from Timeline.Start.
type Phase struct {
	Name       string
	Start, Dur time.Duration
	Skipped    bool // did not happen (reused connection, IP address, plain HTTP)
}

// Phases splits a request's time as httpstat does: DNS lookup, TCP
// connect, TLS handshake, server processing (request written → first
// response byte) and content transfer (first byte → end of body). Total
// runs from Start to BodyDone and includes what lies between the phases.
// Pure: it only reads t.
func Phases(t Timeline) (phases []Phase, total time.Duration) {
	span := func(name string, from, to time.Time) Phase {
		if from.IsZero() || to.IsZero() {
			return Phase{Name: name, Skipped: true}
		}
		return Phase{Name: name, Start: max(0, from.Sub(t.Start)), Dur: max(0, to.Sub(from))}
	}
	phases = []Phase{
		span("DNS lookup", t.DNSStart, t.DNSDone),
		span("TCP connect", t.ConnectStart, t.ConnectDone),
		span("TLS handshake", t.TLSStart, t.TLSDone),
		span("server processing", t.WroteRequest, t.FirstByte),
		span("content transfer", t.FirstByte, t.BodyDone),
	}
	if !t.Start.IsZero() && !t.BodyDone.IsZero() {
		total = max(0, t.BodyDone.Sub(t.Start))
	}
	return phases, total
}

// recorder fills a Timeline from httptrace hooks, which a transport may
// call from other goroutines.
type recorder struct {
	mu    sync.Mutex
	t     Timeline
	wrote [][2]string // header fields as the transport wrote them
}

func (r *recorder) set(f func(t *Timeline)) {
	r.mu.Lock()
	f(&r.t)
	r.mu.Unlock()
}

// reset starts a new hop.
func (r *recorder) reset(now time.Time) {
	r.mu.Lock()
	r.t, r.wrote = Timeline{Start: now}, nil
	r.mu.Unlock()
}

func (r *recorder) timeline() Timeline {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.t
}

func (r *recorder) headers() [][2]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.wrote
}

func (r *recorder) trace() *httptrace.ClientTrace {
	now := time.Now
	return &httptrace.ClientTrace{
		DNSStart: func(httptrace.DNSStartInfo) { r.set(func(t *Timeline) { t.DNSStart = now() }) },
		DNSDone:  func(httptrace.DNSDoneInfo) { r.set(func(t *Timeline) { t.DNSDone = now() }) },
		ConnectStart: func(string, string) {
			r.set(func(t *Timeline) {
				if t.ConnectStart.IsZero() {
					t.ConnectStart = now()
				}
			})
		},
		ConnectDone:       func(string, string, error) { r.set(func(t *Timeline) { t.ConnectDone = now() }) },
		TLSHandshakeStart: func() { r.set(func(t *Timeline) { t.TLSStart = now() }) },
		TLSHandshakeDone:  func(tls.ConnectionState, error) { r.set(func(t *Timeline) { t.TLSDone = now() }) },
		GotConn: func(info httptrace.GotConnInfo) {
			r.set(func(t *Timeline) { t.GotConn, t.Reused = now(), info.Reused })
		},
		WroteHeaderField: func(key string, value []string) {
			r.mu.Lock()
			for _, v := range value {
				r.wrote = append(r.wrote, [2]string{key, v})
			}
			r.mu.Unlock()
		},
		WroteRequest:         func(httptrace.WroteRequestInfo) { r.set(func(t *Timeline) { t.WroteRequest = now() }) },
		GotFirstResponseByte: func() { r.set(func(t *Timeline) { t.FirstByte = now() }) },
	}
}

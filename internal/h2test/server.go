// Package h2test is a scripted HTTP/2 server for tests: a loopback TCP
// listener (h2c with prior knowledge, or TLS with ALPN h2) that hands each
// accepted conn to the test's script as a *Conn, which speaks frames
// through x/net's http2.Framer on the server side. The script decides
// everything: read the client preface and SETTINGS, send any frame (legal
// or not, or raw bytes), answer some streams and not others, stop reading.
//
// It imports nothing of spool, so any test package can use it; the
// scripts talk to spool only through what the client sends on the wire.
package h2test

import (
	"crypto/tls"
	"net"
	"sync"
	"sync/atomic"
	"testing"
)

// Server accepts conns and runs the script on each, one goroutine per
// conn. Close (also run at the test's end) closes the listener and every
// conn, closes Done, and waits for the scripts to return.
type Server struct {
	// URL is http://host:port for h2c, https://host:port for TLS.
	URL string
	// ClientTLS trusts the server's certificate and offers only h2 (TLS
	// servers only; nil for h2c).
	ClientTLS *tls.Config

	ln       net.Listener
	script   func(*Conn)
	accepted atomic.Int64
	done     chan struct{}
	closing  sync.Once
	wg       sync.WaitGroup
	mu       sync.Mutex // guards conns
	conns    []net.Conn
}

// NewServer starts an h2c (prior knowledge) server on 127.0.0.1.
func NewServer(t testing.TB, script func(*Conn)) *Server {
	return NewServerAt(t, "127.0.0.1:0", script)
}

// NewServerAt starts an h2c server on addr, e.g. "127.0.0.2:0" for a
// second origin that shares no pool key with the first.
func NewServerAt(t testing.TB, addr string, script func(*Conn)) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{URL: "http://" + ln.Addr().String(), ln: ln, script: script, done: make(chan struct{})}
	s.start(t)
	return s
}

// NewTLSServer starts a TLS server on 127.0.0.1 that negotiates h2 by
// ALPN, with a fresh self-signed certificate that ClientTLS trusts.
func NewTLSServer(t testing.TB, script func(*Conn)) *Server {
	t.Helper()
	serverConf, clientConf, err := selfSigned()
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{URL: "https://" + ln.Addr().String(), ClientTLS: clientConf,
		ln: tls.NewListener(ln, serverConf), script: script, done: make(chan struct{})}
	s.start(t)
	return s
}

func (s *Server) start(t testing.TB) {
	t.Cleanup(s.Close)
	s.wg.Go(s.acceptLoop)
}

func (s *Server) acceptLoop() {
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		select {
		case <-s.done:
			s.mu.Unlock()
			nc.Close()
			return
		default:
		}
		s.conns = append(s.conns, nc)
		s.mu.Unlock()
		i := int(s.accepted.Add(1)) - 1
		s.wg.Go(func() {
			defer nc.Close()
			s.script(newConn(nc, i, s.done))
		})
	}
}

// Accepted is the number of conns accepted so far.
func (s *Server) Accepted() int { return int(s.accepted.Load()) }

// Done is closed when the server closes: a script that parks (a peer that
// stops reading) waits on it.
func (s *Server) Done() <-chan struct{} { return s.done }

// Close closes the listener and every conn and waits for the scripts.
func (s *Server) Close() {
	s.closing.Do(func() {
		s.mu.Lock()
		close(s.done)
		s.ln.Close()
		for _, c := range s.conns {
			c.Close()
		}
		s.mu.Unlock()
		s.wg.Wait()
	})
}

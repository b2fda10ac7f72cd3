// Package testserver is a scripted HTTP/1 server on real loopback TCP for
// fault tests of a client. It parses requests itself and lets a Handler
// answer with exact bytes, stall, close or reset, and it records every
// request with the index of the connection it came on, so a test can
// prove which requests shared a connection.
package testserver

import (
	"bufio"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
)

// Request is one request the server read. ConnIndex is the accept order
// of its connection (0, 1, ...), N its position on that connection.
type Request struct {
	ConnIndex int
	N         int
	Method    string
	Target    string // the request-target as sent, e.g. "/a?b=c"
	Proto     string // "HTTP/1.1"
	Host      string
	Header    http.Header // as sent, Host and Transfer-Encoding included
	Body      []byte      // nil if the handler was called before the body was read (NoContinue)
	Trailer   http.Header // trailers of a chunked body
	// Incomplete: the connection failed before the whole body arrived;
	// Body holds what did. The Handler is not called for such a request.
	Incomplete bool
}

// Handler answers one request on c. The request's body has been read
// (unless NoContinue applies). When it returns, the server reads the next
// request on c, unless c was closed or reset, the request asked for
// "Connection: close", or its body was left unread.
type Handler func(c *Conn, r *Request)

// Server is a running scripted server. New starts it; t.Cleanup stops it.
type Server struct {
	// NoContinue, when set, makes the server call the Handler for a
	// request with "Expect: 100-continue" before it sends 100 Continue or
	// reads the body, so the Handler can refuse early (417, 413). Such a
	// Handler owns the conn: it may call c.Continue and c.ReadBody,
	// otherwise the conn is closed after it. Set it before traffic. (An
	// atomic, since a plain field written after New would race with the
	// conn goroutines: the race detector sees no ordering through TCP.)
	NoContinue atomic.Bool

	t    testing.TB
	h    Handler
	ln   net.Listener
	done chan struct{} // closed by Close; ends Stall and Dribble early
	wg   sync.WaitGroup

	mu     sync.Mutex
	closed bool           // guarded by mu
	conns  map[*Conn]bool // guarded by mu; open conns
	count  int            // guarded by mu; conns accepted so far
	reqs   []*Request     // guarded by mu
}

// New starts a server on 127.0.0.1:0 that answers every request with h.
// t.Cleanup closes the listener and every conn and waits for the
// server's goroutines (a Handler blocked on something else blocks it).
func New(t testing.TB, h Handler) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("testserver: %v", err)
	}
	s := &Server{t: t, h: h, ln: ln, done: make(chan struct{}), conns: make(map[*Conn]bool)}
	s.wg.Add(1)
	go s.acceptLoop()
	t.Cleanup(s.Close)
	return s
}

// Addr is "127.0.0.1:port".
func (s *Server) Addr() string { return s.ln.Addr().String() }

// URL is "http://127.0.0.1:port".
func (s *Server) URL() string { return "http://" + s.Addr() }

// Requests returns a copy of every request read so far, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Request, len(s.reqs))
	for i, r := range s.reqs {
		out[i] = *r
	}
	return out
}

// ConnCount is the number of conns accepted so far.
func (s *Server) ConnCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.count
}

// OpenConns is the number of conns the server has not closed yet.
func (s *Server) OpenConns() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// CloseIdleConns closes, now, every conn that is between requests, as a
// server's keep-alive timeout would. A conn whose Handler has already sent
// its final response with Reply counts as idle, so a client that has read
// a response finds its conn closed when this returns. A conn still busy
// with a request is closed when its Handler returns; it never reads
// another request.
func (s *Server) CloseIdleConns() {
	s.mu.Lock()
	var idle []*Conn
	for c := range s.conns {
		if c.idle || c.replied {
			idle = append(idle, c)
		} else {
			c.closeWhenIdle = true
		}
	}
	s.mu.Unlock()
	for _, c := range idle {
		c.closeAfterReply()
	}
}

// Close stops the server: closes the listener and all conns and waits
// for its goroutines. It is safe to call more than once.
func (s *Server) Close() {
	s.mu.Lock()
	first := !s.closed
	s.closed = true
	var open []*Conn
	for c := range s.conns {
		open = append(open, c)
	}
	s.mu.Unlock()
	if first {
		close(s.done)
		s.ln.Close()
	}
	for _, c := range open {
		c.Close()
	}
	s.wg.Wait()
}

func (s *Server) acceptLoop() {
	defer s.wg.Done()
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			return // listener closed
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			nc.Close()
			return
		}
		c := &Conn{s: s, index: s.count, nc: nc.(*net.TCPConn), br: bufio.NewReader(nc), idle: true}
		s.count++
		s.conns[c] = true
		// Add under mu, before Close can see closed and Wait.
		s.wg.Add(1)
		s.mu.Unlock()
		go c.serve()
	}
}

func (s *Server) record(r *Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reqs = append(s.reqs, r)
}

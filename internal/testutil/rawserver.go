package testutil

import (
	"net"
	"sync"
	"sync/atomic"
	"testing"
)

// RawServer is a loopback TCP listener that hands every accepted conn, as
// the *net.TCPConn it is, to a handler on its own goroutine: for tests that
// need exact bytes on the wire. The conn is closed when the handler
// returns; when the test ends the listener and every open conn are closed
// and the handlers are waited for.
type RawServer struct {
	ln       net.Listener
	handle   func(i int, c net.Conn)
	wg       sync.WaitGroup // the accept loop and every running handler
	accepted atomic.Int64   // conns handed to handle

	mu   sync.Mutex
	open map[net.Conn]bool // guarded by mu; conns whose handler runs
	done bool              // guarded by mu; Close has begun
}

// NewRawServer starts a RawServer; handle gets each conn with its index,
// 0 for the first one accepted.
func NewRawServer(t testing.TB, handle func(i int, c net.Conn)) *RawServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &RawServer{ln: ln, handle: handle, open: make(map[net.Conn]bool)}
	s.wg.Add(1)
	go s.acceptLoop()
	t.Cleanup(s.Close)
	return s
}

func (s *RawServer) acceptLoop() {
	defer s.wg.Done()
	for i := 0; ; i++ {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		// Under mu so that Close, once it has begun, sees every handler
		// it must close and wait for: a conn accepted after that is
		// closed unhandled.
		s.mu.Lock()
		if s.done {
			s.mu.Unlock()
			c.Close()
			return
		}
		s.open[c] = true
		s.wg.Add(1)
		s.mu.Unlock()
		s.accepted.Add(1)
		go s.serve(i, c)
	}
}

func (s *RawServer) serve(i int, c net.Conn) {
	defer s.wg.Done()
	defer func() {
		s.mu.Lock()
		delete(s.open, c)
		s.mu.Unlock()
		c.Close()
	}()
	s.handle(i, c)
}

// Addr is the listener's host:port.
func (s *RawServer) Addr() string { return s.ln.Addr().String() }

// URL is "http://" + Addr().
func (s *RawServer) URL() string { return "http://" + s.Addr() }

// Accepted is how many conns have been handed to the handler so far.
func (s *RawServer) Accepted() int64 { return s.accepted.Load() }

// Close closes every open conn and the listener and waits for the
// handlers to return. It runs when the test ends; calling it earlier, or
// again, is safe.
func (s *RawServer) Close() {
	s.mu.Lock()
	s.done = true
	for c := range s.open {
		c.Close()
	}
	s.mu.Unlock()
	s.ln.Close()
	s.wg.Wait()
}

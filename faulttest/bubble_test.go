package faulttest

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/spoolhttp/spool/internal/testnet"
)

// bubbleServer is a raw server on a testnet.Network, for synctest bubbles:
// handle gets each conn with a bufio.Reader over it. stop closes the
// listener and every conn and waits for the handlers, so the bubble can end.
type bubbleServer struct {
	ln    net.Listener
	wg    sync.WaitGroup
	mu    sync.Mutex
	conns []net.Conn
}

func newBubbleServer(t *testing.T, n *testnet.Network, addr string, handle func(c net.Conn, br *bufio.Reader)) *bubbleServer {
	t.Helper()
	ln, err := n.Listen(addr)
	if err != nil {
		t.Fatal(err)
	}
	s := &bubbleServer{ln: ln}
	s.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.conns = append(s.conns, c)
			s.mu.Unlock()
			s.wg.Go(func() {
				defer c.Close()
				handle(c, bufio.NewReader(c))
			})
		}
	})
	return s
}

func (s *bubbleServer) stop() {
	s.ln.Close()
	s.mu.Lock()
	for _, c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// gone returns a channel closed when the peer of c closes (or c fails):
// it reads c to EOF in a goroutine, so use it only once the request is in.
func gone(c net.Conn, br *bufio.Reader) <-chan struct{} {
	ch := make(chan struct{})
	go func() {
		io.Copy(io.Discard, br)
		close(ch)
	}()
	return ch
}

// dribble writes s one byte every apart until done, or until the client
// has gone; false if the client went first.
func dribble(c net.Conn, s string, every time.Duration, g <-chan struct{}) bool {
	for i := range len(s) {
		select {
		case <-g:
			return false
		case <-time.After(every):
		}
		if _, err := c.Write([]byte{s[i]}); err != nil {
			return false
		}
	}
	return true
}

// readReq reads a request head and its body.
func readReq(br *bufio.Reader) (*http.Request, error) {
	req, err := http.ReadRequest(br)
	if err != nil {
		return nil, err
	}
	io.Copy(io.Discard, req.Body)
	return req, nil
}

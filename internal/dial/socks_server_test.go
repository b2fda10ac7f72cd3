package dial

import (
	"encoding/binary"
	"io"
	"net"
	"strconv"
	"sync"
	"testing"
)

// socksServer is a minimal SOCKS5 server (RFC 1928, RFC 1929) for tests:
// CONNECT only; no-auth or username/password; IPv4, IPv6 and domain address
// types. hosts overrides name resolution for domain requests.
type socksServer struct {
	user, pass string            // required credentials; user == "" means no auth
	hosts      map[string]string // domain → IP used instead of DNS

	mu       sync.Mutex
	accepted int
	lastAtyp byte   // address type of the last request
	lastHost string // host of the last request as sent
	conns    connTracker
}

const (
	socksAtypIPv4   = 1
	socksAtypDomain = 3
	socksAtypIPv6   = 4
)

func startSOCKS(t *testing.T, s *socksServer) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.conns.wg.Add(1)
	go func() {
		defer s.conns.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.accepted++
			s.mu.Unlock()
			s.conns.add(c)
			s.conns.wg.Add(1)
			go func() { defer s.conns.wg.Done(); s.serve(c) }()
		}
	}()
	t.Cleanup(func() { ln.Close(); s.conns.closeAll() })
	return ln.Addr().String()
}

func (s *socksServer) serve(c net.Conn) {
	b := make([]byte, 512)
	if _, err := io.ReadFull(c, b[:2]); err != nil || b[0] != 5 {
		c.Close()
		return
	}
	methods := b[2 : 2+int(b[1])]
	if _, err := io.ReadFull(c, methods); err != nil {
		c.Close()
		return
	}
	want := byte(0) // no authentication
	if s.user != "" {
		want = 2 // username/password
	}
	if !containsByte(methods, want) {
		c.Write([]byte{5, 0xff})
		c.Close()
		return
	}
	c.Write([]byte{5, want})
	if want == 2 && !s.authenticate(c, b) {
		c.Close()
		return
	}
	host, port, ok := s.readRequest(c, b)
	if !ok {
		c.Close()
		return
	}
	if ip, ok := s.hosts[host]; ok {
		host = ip
	}
	dst, err := net.Dial("tcp", net.JoinHostPort(host, port))
	if err != nil {
		c.Write([]byte{5, 5, 0, socksAtypIPv4, 0, 0, 0, 0, 0, 0}) // connection refused
		c.Close()
		return
	}
	c.Write([]byte{5, 0, 0, socksAtypIPv4, 0, 0, 0, 0, 0, 0})
	s.conns.splice(c, dst)
}

// authenticate runs the RFC 1929 subnegotiation.
func (s *socksServer) authenticate(c net.Conn, b []byte) bool {
	readField := func() (string, bool) {
		if _, err := io.ReadFull(c, b[:1]); err != nil {
			return "", false
		}
		n := int(b[0])
		_, err := io.ReadFull(c, b[:n])
		return string(b[:n]), err == nil
	}
	if _, err := io.ReadFull(c, b[:1]); err != nil || b[0] != 1 {
		return false
	}
	user, ok1 := readField()
	pass, ok2 := readField()
	if !ok1 || !ok2 || user != s.user || pass != s.pass {
		c.Write([]byte{1, 1})
		return false
	}
	c.Write([]byte{1, 0})
	return true
}

func (s *socksServer) readRequest(c net.Conn, b []byte) (host, port string, ok bool) {
	if _, err := io.ReadFull(c, b[:4]); err != nil || b[1] != 1 { // CONNECT only
		return "", "", false
	}
	atyp := b[3]
	switch atyp {
	case socksAtypIPv4, socksAtypIPv6:
		n := net.IPv4len
		if atyp == socksAtypIPv6 {
			n = net.IPv6len
		}
		if _, err := io.ReadFull(c, b[:n]); err != nil {
			return "", "", false
		}
		host = net.IP(b[:n]).String()
	case socksAtypDomain:
		if _, err := io.ReadFull(c, b[:1]); err != nil {
			return "", "", false
		}
		n := int(b[0])
		if _, err := io.ReadFull(c, b[:n]); err != nil {
			return "", "", false
		}
		host = string(b[:n])
	default:
		return "", "", false
	}
	if _, err := io.ReadFull(c, b[:2]); err != nil {
		return "", "", false
	}
	s.mu.Lock()
	s.lastAtyp, s.lastHost = atyp, host
	s.mu.Unlock()
	return host, strconv.Itoa(int(binary.BigEndian.Uint16(b[:2]))), true
}

func (s *socksServer) last() (atyp byte, host string, accepted int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastAtyp, s.lastHost, s.accepted
}

func containsByte(bs []byte, x byte) bool {
	for _, b := range bs {
		if b == x {
			return true
		}
	}
	return false
}

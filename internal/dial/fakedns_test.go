package dial

import (
	"context"
	"encoding/binary"
	"io"
	"net"
	"net/netip"
	"sync"

	"golang.org/x/net/dns/dnsmessage"
)

// fakeResolver returns a Resolver whose only name server answers every A
// query with ips, in order, and every other query with no records. It speaks
// DNS over a net.Pipe with TCP framing (the Go resolver uses stream framing
// for conns that are not PacketConns), so no socket or real DNS is involved.
// The returned wait blocks until every server goroutine has ended.
func fakeResolver(ips ...string) (r *net.Resolver, wait func()) {
	var wg sync.WaitGroup
	r = &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		client, server := net.Pipe()
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer server.Close()
			for serveDNSQuery(server, ips) {
			}
		}()
		return client, nil
	}}
	return r, wg.Wait
}

// serveDNSQuery answers one length-prefixed query; false when the conn ends.
func serveDNSQuery(c net.Conn, ips []string) bool {
	var n [2]byte
	if _, err := io.ReadFull(c, n[:]); err != nil {
		return false
	}
	q := make([]byte, binary.BigEndian.Uint16(n[:]))
	if _, err := io.ReadFull(c, q); err != nil {
		return false
	}
	var msg dnsmessage.Message
	if err := msg.Unpack(q); err != nil || len(msg.Questions) != 1 {
		return false
	}
	question := msg.Questions[0]
	msg.Header.Response, msg.Header.Authoritative = true, true
	if question.Type == dnsmessage.TypeA {
		for _, ip := range ips {
			msg.Answers = append(msg.Answers, dnsmessage.Resource{
				Header: dnsmessage.ResourceHeader{Name: question.Name, Type: dnsmessage.TypeA, Class: dnsmessage.ClassINET, TTL: 60},
				Body:   &dnsmessage.AResource{A: netip.MustParseAddr(ip).As4()},
			})
		}
	}
	resp, err := msg.Pack()
	if err != nil {
		return false
	}
	binary.BigEndian.PutUint16(n[:], uint16(len(resp)))
	_, err = c.Write(append(n[:], resp...))
	return err == nil
}

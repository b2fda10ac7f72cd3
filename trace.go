package spool

import (
	"net"
	"net/http/httptrace"

	"github.com/spoolhttp/spool/internal/pool"
)

// The httptrace hooks of the pool's side of a request. The codec
// (internal/wire, internal/h1) fires the wire hooks and internal/dial the
// DNS, connect and TLS ones.

func traceGetConn(t *httptrace.ClientTrace, hostPort string) {
	if t != nil && t.GetConn != nil {
		t.GetConn(hostPort)
	}
}

func traceGotConn(t *httptrace.ClientTrace, c net.Conn, info pool.GetInfo) {
	if t != nil && t.GotConn != nil {
		t.GotConn(httptrace.GotConnInfo{Conn: c, Reused: info.Reused, WasIdle: info.WasIdle, IdleTime: info.IdleTime})
	}
}

func tracePutIdle(t *httptrace.ClientTrace, reusable bool) {
	if t != nil && t.PutIdleConn != nil {
		var err error
		if !reusable {
			err = errNotReusable
		}
		t.PutIdleConn(err)
	}
}

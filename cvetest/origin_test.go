package cvetest

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
)

// origin is a net/http server (plain or TLS) that records every request's
// headers and the serial number of the conn it came on.
type origin struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []seen // guarded by mu
}

type seen struct {
	Conn   int64
	Host   string
	Path   string
	Header http.Header
}

type connKey struct{}

// startOrigin starts an origin; h (optional) answers after recording, else 200 "origin".
func startOrigin(t testing.TB, useTLS bool, h http.HandlerFunc) *origin {
	t.Helper()
	o := &origin{}
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o.mu.Lock()
		o.reqs = append(o.reqs, seen{Conn: r.Context().Value(connKey{}).(int64), Host: r.Host, Path: r.URL.Path, Header: r.Header.Clone()})
		o.mu.Unlock()
		if h != nil {
			h(w, r)
			return
		}
		io.WriteString(w, "origin")
	}))
	srv.Config.ConnContext = func(ctx context.Context, c net.Conn) context.Context {
		return context.WithValue(ctx, connKey{}, conns.Add(1))
	}
	srv.Config.ErrorLog = discardLogger()
	if useTLS {
		srv.TLS = loopbackCert(t).serverConfig()
		srv.StartTLS()
	} else {
		srv.Start()
	}
	o.Server = srv
	t.Cleanup(srv.Close)
	return o
}

func (o *origin) seen() []seen {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]seen(nil), o.reqs...)
}

// proxyServer is a scripted HTTP proxy: absolute-form requests are
// answered by the proxy itself ("proxied"), CONNECT tunnels are spliced
// to the target. It records each request line, its Proxy-Authorization
// and the index of the client conn.
type proxyServer struct {
	*rawServer
	log syncList // "conn METHOD target auth"
}

func startProxy(t testing.TB) *proxyServer {
	t.Helper()
	p := &proxyServer{}
	p.rawServer = startRaw(t, func(c *rawConn) {
		for {
			req := c.ReadRequest()
			if req == nil {
				return
			}
			io.Copy(io.Discard, req.Body)
			p.log.add(fmt.Sprintf("%d %s %s %s", c.Index, req.Method, req.RequestURI, req.Header.Get("Proxy-Authorization")))
			if req.Method != "CONNECT" {
				c.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\nproxied")
				continue
			}
			up, err := net.Dial("tcp", req.RequestURI)
			if err != nil {
				c.WriteString("HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
				return
			}
			c.WriteString("HTTP/1.1 200 Connection Established\r\n\r\n")
			splice(c, up)
			return
		}
	})
	return p
}

// splice copies both ways until either side ends, then closes both.
func splice(c *rawConn, up net.Conn) {
	done := make(chan struct{}, 2)
	go func() { io.Copy(up, c.BR); done <- struct{}{} }()
	go func() { io.Copy(c.Conn, up); done <- struct{}{} }()
	<-done
	up.Close()
	c.Conn.Close()
	<-done
}

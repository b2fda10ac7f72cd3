package main

import (
	"io"
	"log"
	"net"
	"net/http"
	"sync/atomic"
)

// helloBody is what the embedded server answers: 12 bytes.
const helloBody = "hello, world"

// embeddedServer is the loopback net/http server `spool bench` measures
// when it is given no URL. It counts its open connections: each holds a
// server goroutine in this process.
type embeddedServer struct {
	URL   string
	srv   *http.Server
	conns atomic.Int64
}

func startEmbedded() (*embeddedServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	e := &embeddedServer{URL: "http://" + ln.Addr().String() + "/"}
	e.srv = &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			io.WriteString(w, helloBody)
		}),
		ConnState: func(_ net.Conn, s http.ConnState) {
			switch s {
			case http.StateNew:
				e.conns.Add(1)
			case http.StateClosed, http.StateHijacked:
				e.conns.Add(-1)
			}
		},
		ErrorLog: log.New(io.Discard, "", 0),
	}
	go e.srv.Serve(ln)
	return e, nil
}

// Conns is the number of connections open on the server side.
func (e *embeddedServer) Conns() int { return int(e.conns.Load()) }

// Close closes the listener and every connection.
func (e *embeddedServer) Close() { e.srv.Close() }

package main

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"
)

// serveFallback is the whole life of the fallback server process: it serves
// the same locations as the nginx config until it is killed.
func serveFallback(mode string) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench server:", err)
		os.Exit(1)
	}
	lns := []net.Listener{ln}
	addrs := ln.Addr().String()
	if mode == "scale" {
		ln2, err := net.Listen("tcp", "0.0.0.0:0")
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench server:", err)
			os.Exit(1)
		}
		lns = append(lns, ln2)
		addrs += " " + ln2.Addr().String()
	}
	h := fallbackHandler()
	for _, l := range lns[1:] {
		go func() { _ = http.Serve(l, h) }()
	}
	fmt.Println(addrs)
	_ = http.Serve(ln, h)
}

// fallbackHandler serves /, /big, /upload, /chunked and /slow like nginx.
func fallbackHandler() http.Handler {
	big := bigBody()
	bigLen := strconv.Itoa(len(big))
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header()["Content-Type"] = []string{"text/plain"}
		w.Header()["Content-Length"] = []string{"12"}
		io.WriteString(w, helloBody)
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		w.Header()["Content-Length"] = []string{bigLen}
		_, _ = io.Copy(w, bytes.NewReader(big))
	})
	mux.HandleFunc("/upload", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		io.WriteString(w, "ok")
	})
	mux.HandleFunc("/chunked", func(w http.ResponseWriter, r *http.Request) {
		w.Header()["Content-Type"] = []string{"text/html"}
		io.WriteString(w, helloBody)
		w.(http.Flusher).Flush() // no Content-Length after a flush: chunked
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(slowDelay)
		io.WriteString(w, helloBody)
	})
	return mux
}

package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/spoolhttp/spool"
	"github.com/valyala/fasthttp"
)

// Names of the clients under test, in the tables' order.
const (
	nameSpool   = "spool"
	nameNetHTTP = "net/http"
	nameFast    = "fasthttp"
	nameRaw     = "raw floor"
)

// request is what one worker sends, again and again.
type request struct {
	method string
	url    string
	body   []byte // nil: no body
}

// client is one client under test, configured for a number of workers.
type client interface {
	// newWorker returns a worker's private state; its do is called from
	// that worker's goroutine only.
	newWorker(r request) (worker, error)
	closeIdle()
}

// worker sends one request and reads its response fully.
type worker interface{ do() error }

// newClient builds the client name, configured fairly for workers
// concurrent callers: each keeps up to workers idle connections.
func newClient(name string, workers int) client {
	switch name {
	case nameSpool:
		return &rtClient{rt: &spool.Transport{MaxIdleConnsPerHost: workers}}
	case nameNetHTTP:
		return &rtClient{rt: &http.Transport{MaxIdleConnsPerHost: workers}}
	case nameFast:
		return &fastClient{c: &fasthttp.Client{
			MaxConnsPerHost:     workers,
			MaxConnWaitTimeout:  10 * time.Second, // never ErrNoFreeConns
			MaxIdleConnDuration: 10 * time.Minute, // idle conns live the whole run, as with the others
		}}
	case nameRaw:
		return &rawClient{}
	}
	panic("unknown client " + name)
}

// closeIdler is implemented by both http.RoundTrippers under test.
type closeIdler interface {
	http.RoundTripper
	CloseIdleConnections()
}

// rtClient drives an http.RoundTripper (spool or net/http's Transport)
// through RoundTrip: the Transport is what spool replaces.
type rtClient struct{ rt closeIdler }

func (c *rtClient) closeIdle() { c.rt.CloseIdleConnections() }

func (c *rtClient) newWorker(r request) (worker, error) {
	req, err := http.NewRequest(r.method, r.url, nil)
	if err != nil {
		return nil, err
	}
	w := &rtWorker{rt: c.rt, req: req, buf: make([]byte, 32<<10), body: r.body}
	if r.body != nil {
		req.ContentLength = int64(len(r.body))
		req.GetBody = func() (io.ReadCloser, error) {
			return io.NopCloser(bytes.NewReader(r.body)), nil
		}
	}
	return w, nil
}

type rtWorker struct {
	rt   http.RoundTripper
	req  *http.Request // reused: nothing of it changes between requests
	buf  []byte
	body []byte
	rd   reusableBody
}

// reusableBody is a request body rewound before each request, so sending
// a body costs the clients no allocation of ours.
type reusableBody struct{ bytes.Reader }

func (*reusableBody) Close() error { return nil }

func (w *rtWorker) do() error {
	if w.body != nil {
		w.rd.Reset(w.body)
		w.req.Body = &w.rd
	}
	resp, err := w.rt.RoundTrip(w.req)
	if err != nil {
		return err
	}
	if err := readAndClose(resp, w.buf); err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}

// fastClient drives a fasthttp.Client with one Request and Response per
// worker, reused (fasthttp's intended use).
type fastClient struct{ c *fasthttp.Client }

func (c *fastClient) closeIdle() { c.c.CloseIdleConnections() }

func (c *fastClient) newWorker(r request) (worker, error) {
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	req.SetRequestURI(r.url)
	req.Header.SetMethod(r.method)
	if r.body != nil {
		req.SetBodyRaw(r.body)
	}
	return &fastWorker{c: c.c, req: req, resp: resp}, nil
}

type fastWorker struct {
	c    *fasthttp.Client
	req  *fasthttp.Request
	resp *fasthttp.Response
}

func (w *fastWorker) do() error {
	if err := w.c.Do(w.req, w.resp); err != nil {
		return err
	}
	if w.resp.StatusCode() != http.StatusOK {
		return fmt.Errorf("status %d", w.resp.StatusCode())
	}
	return nil
}

// rawClient is the floor: one private keep-alive socket per worker, one
// write of a fixed request and reads until the known response length (one
// read in practice), no parsing.
type rawClient struct{ conns []net.Conn }

func (c *rawClient) closeIdle() {
	for _, cn := range c.conns {
		cn.Close()
	}
	c.conns = nil
}

func (c *rawClient) newWorker(r request) (worker, error) {
	if r.method != http.MethodGet || r.body != nil {
		return nil, errors.New("raw floor: GET only")
	}
	req, err := http.NewRequest(r.method, r.url, nil)
	if err != nil {
		return nil, err
	}
	conn, err := net.Dial("tcp", req.URL.Host)
	if err != nil {
		return nil, err
	}
	c.conns = append(c.conns, conn)
	w := &rawWorker{
		conn: conn,
		req:  []byte("GET " + req.URL.RequestURI() + " HTTP/1.1\r\nHost: " + req.URL.Host + "\r\nUser-Agent: raw\r\n\r\n"),
		buf:  make([]byte, 32<<10),
	}
	if w.size, err = w.learnSize(); err != nil {
		conn.Close()
		return nil, err
	}
	return w, nil
}

type rawWorker struct {
	conn net.Conn
	req  []byte
	buf  []byte
	size int // bytes of one whole response
}

func (w *rawWorker) do() error {
	if _, err := w.conn.Write(w.req); err != nil {
		return err
	}
	for got := 0; got < w.size; {
		n, err := w.conn.Read(w.buf[got:])
		if err != nil {
			return err
		}
		got += n
	}
	return nil
}

// learnSize sends one request and parses its response once, to learn the
// length every later response has (the Date header has a fixed width).
func (w *rawWorker) learnSize() (int, error) {
	if _, err := w.conn.Write(w.req); err != nil {
		return 0, err
	}
	_ = w.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	defer w.conn.SetReadDeadline(time.Time{})
	got := 0
	for {
		n, err := w.conn.Read(w.buf[got:])
		if err != nil {
			return 0, err
		}
		got += n
		if size, ok := responseSize(w.buf[:got]); ok {
			if got != size {
				return 0, fmt.Errorf("raw floor: read %d bytes, response has %d", got, size)
			}
			return size, nil
		}
	}
}

// responseSize returns the length of the response at the start of b (head
// plus Content-Length), once b holds the whole head.
func responseSize(b []byte) (int, bool) {
	end := bytes.Index(b, []byte("\r\n\r\n"))
	if end < 0 {
		return 0, false
	}
	head := string(b[:end])
	const key = "\r\ncontent-length:"
	for i := 0; i+len(key) <= len(head); i++ {
		if !strings.EqualFold(head[i:i+len(key)], key) {
			continue
		}
		rest := head[i+len(key):]
		j := 0
		for j < len(rest) && rest[j] != '\r' {
			j++
		}
		n, err := strconv.Atoi(strings.TrimSpace(rest[:j]))
		if err != nil {
			return 0, false
		}
		return end + 4 + n, true
	}
	return 0, false
}

// readAndClose reads a response body to EOF through buf (the workers'
// own, so a request allocates no buffer) and closes it.
func readAndClose(resp *http.Response, buf []byte) error {
	for {
		_, err := resp.Body.Read(buf)
		if err == io.EOF {
			return resp.Body.Close()
		}
		if err != nil {
			resp.Body.Close()
			return err
		}
	}
}

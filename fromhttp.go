package spool

import (
	"context"
	"net"
	"net/http"
)

// FromHTTPTransport returns a spool Transport configured like t: every
// field of http.Transport that spool has under the same name is copied
// (Proxy, DialContext, DialTLSContext, TLSClientConfig (cloned),
// TLSHandshakeTimeout, DisableKeepAlives, DisableCompression, MaxIdleConns,
// MaxIdleConnsPerHost, MaxConnsPerHost, IdleConnTimeout,
// ResponseHeaderTimeout, ExpectContinueTimeout, ProxyConnectHeader
// (cloned), GetProxyConnectHeader, OnProxyConnectResponse, MaxResponseHeaderBytes, ReadBufferSize,
// WriteBufferSize, ForceAttemptHTTP2, Protocols (copied)), and the deprecated Dial
// and DialTLS become DialContext and DialTLSContext when those are nil, as
// net/http falls back to them. A program that builds an *http.Transport
// switches in one line:
//
//	client := &http.Client{Transport: spool.FromHTTPTransport(tr)}
//
// Not copied, for spool has no such setting: TLSNextProto (spool speaks HTTP/2 itself) and HTTP2. spool's own fields
// keep their defaults. t is read once: later changes to it are not seen.
//
// Libraries that configure the transport of an http.Client by asserting
// *http.Transport (resty's SetTLSClientConfig and SetProxy, for instance)
// do nothing, or fail, on a spool Transport: configure those settings on
// the spool Transport itself (TLSClientConfig, Proxy).
func FromHTTPTransport(t *http.Transport) *Transport {
	s := &Transport{
		Proxy:                  t.Proxy,
		DialContext:            t.DialContext,
		DialTLSContext:         t.DialTLSContext,
		TLSClientConfig:        t.TLSClientConfig.Clone(),
		TLSHandshakeTimeout:    t.TLSHandshakeTimeout,
		DisableKeepAlives:      t.DisableKeepAlives,
		DisableCompression:     t.DisableCompression,
		MaxIdleConns:           t.MaxIdleConns,
		MaxIdleConnsPerHost:    t.MaxIdleConnsPerHost,
		MaxConnsPerHost:        t.MaxConnsPerHost,
		IdleConnTimeout:        t.IdleConnTimeout,
		ResponseHeaderTimeout:  t.ResponseHeaderTimeout,
		ExpectContinueTimeout:  t.ExpectContinueTimeout,
		ProxyConnectHeader:     t.ProxyConnectHeader.Clone(),
		GetProxyConnectHeader:  t.GetProxyConnectHeader,
		OnProxyConnectResponse: t.OnProxyConnectResponse,
		MaxResponseHeaderBytes: t.MaxResponseHeaderBytes,
		ReadBufferSize:         t.ReadBufferSize,
		WriteBufferSize:        t.WriteBufferSize,
		ForceAttemptHTTP2:      t.ForceAttemptHTTP2,
	}
	if t.Protocols != nil {
		p := *t.Protocols
		s.Protocols = &p
	}
	//lint:ignore SA1019 net/http still honours the deprecated dialers.
	if dial := t.Dial; s.DialContext == nil && dial != nil {
		s.DialContext = func(_ context.Context, network, addr string) (net.Conn, error) { return dial(network, addr) }
	}
	//lint:ignore SA1019 as above.
	if dial := t.DialTLS; s.DialTLSContext == nil && dial != nil {
		s.DialTLSContext = func(_ context.Context, network, addr string) (net.Conn, error) { return dial(network, addr) }
	}
	return s
}

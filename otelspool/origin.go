package otelspool

import (
	"net"
	"strconv"
	"strings"

	"go.opentelemetry.io/otel/attribute"
)

// Attribute keys of the OpenTelemetry semantic conventions (HTTP, server,
// network and URL registries) and spool's own.
const (
	attrServerAddress   = attribute.Key("server.address")
	attrServerPort      = attribute.Key("server.port")
	attrURLScheme       = attribute.Key("url.scheme")
	attrProtocolVersion = attribute.Key("network.protocol.version")
	attrConnState       = attribute.Key("http.connection.state")
	attrMethod          = attribute.Key("http.request.method")
	attrStatusCode      = attribute.Key("http.response.status_code")
	attrErrorType       = attribute.Key("error.type")

	// attrProxy names the proxy of a proxied pool key (scheme://host:port,
	// without credentials), so conns through different proxies to one
	// origin stay apart.
	attrProxy       = attribute.Key("spool.proxy")
	attrCloseReason = attribute.Key("spool.close.reason")
	attrDialOutcome = attribute.Key("spool.dial.outcome")
)

// origin is a pool key taken apart: the server a conn talks HTTP with and
// the proxy, if any, it goes through.
type origin struct {
	scheme, host string
	port         int
	proxy        string
}

// parseKey reads a spool pool key, "scheme://host:port" or
// "proxyscheme://[user[:#mac]@]proxyhost:port|scheme://host:port" (see
// spool.Stats). A key it cannot read keeps its text as server.address, so
// its conns are still counted.
func parseKey(key string) origin {
	var o origin
	if i := strings.LastIndexByte(key, '|'); i >= 0 {
		o.proxy = stripUser(key[:i])
		key = key[i+1:]
	}
	scheme, addr, ok := strings.Cut(key, "://")
	if !ok {
		o.host = key
		return o
	}
	o.scheme = scheme
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		o.host = addr
		return o
	}
	o.host = host
	o.port, _ = strconv.Atoi(port)
	return o
}

// stripUser drops the user (and the password's MAC) from a proxy's part of
// the key: metrics name the proxy, not who logs in to it.
func stripUser(proxy string) string {
	scheme, rest, ok := strings.Cut(proxy, "://")
	if !ok {
		return proxy
	}
	if i := strings.LastIndexByte(rest, '@'); i >= 0 {
		rest = rest[i+1:]
	}
	return scheme + "://" + rest
}

// attrs are the origin's attributes: server.address, server.port and
// url.scheme (all required or recommended on the HTTP client metrics),
// spool.proxy when proxied, then extra.
func (o origin) attrs(extra ...attribute.KeyValue) []attribute.KeyValue {
	kv := make([]attribute.KeyValue, 0, 4+len(extra))
	kv = append(kv, attrServerAddress.String(o.host))
	if o.port != 0 {
		kv = append(kv, attrServerPort.Int(o.port))
	}
	if o.scheme != "" {
		kv = append(kv, attrURLScheme.String(o.scheme))
	}
	if o.proxy != "" {
		kv = append(kv, attrProxy.String(o.proxy))
	}
	return append(kv, extra...)
}

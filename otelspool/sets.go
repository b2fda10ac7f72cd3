package otelspool

import (
	"strconv"
	"strings"
	"sync"

	"github.com/spoolhttp/spool"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// maxCachedSets bounds the attribute-set cache. Its keys are bounded per
// host (methods are folded into the known ones, statuses and error types
// are few); a crawler's endless hosts are not, so past this many sets the
// cache starts over rather than grow.
const maxCachedSets = 4096

// Instruments whose attribute sets are cached (each takes a different
// subset of the event's fields).
const (
	kindActive  uint8 = iota // method, server
	kindRequest              // method, status, error, version, server
	kindQueue                // method, version, server
	kindConn                 // version, server
	kindDial                 // outcome, server
)

type setKey struct {
	kind    uint8
	key     string // the pool key: server.address, server.port, url.scheme, spool.proxy
	method  string
	proto   string
	status  int
	errType string // error.type; spool.dial.outcome for kindDial
}

// setCache maps a setKey to the options of a Record, built once:
// building an attribute.Set sorts and allocates, and so does the variadic
// slice of a call through an interface; a map lookup under a read lock
// does neither.
type setCache struct {
	mu sync.RWMutex
	m  map[setKey][]metric.RecordOption // guarded by mu
}

func (c *setCache) get(k setKey, t *spool.Target) []metric.RecordOption {
	k.method = knownMethod(k.method)
	c.mu.RLock()
	opts, ok := c.m[k]
	c.mu.RUnlock()
	if ok {
		return opts
	}
	opts = []metric.RecordOption{metric.WithAttributeSet(attribute.NewSet(k.attrs(t)...))}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= maxCachedSets {
		c.m = make(map[setKey][]metric.RecordOption)
	}
	c.m[k] = opts
	c.mu.Unlock()
	return opts
}

func (k *setKey) attrs(t *spool.Target) []attribute.KeyValue {
	kv := make([]attribute.KeyValue, 0, 9)
	kv = append(kv, attrServerAddress.String(t.Host), attrServerPort.Int(t.Port), attrURLScheme.String(t.Scheme))
	if t.Proxy != "" {
		kv = append(kv, attrProxy.String(stripUser(t.Proxy)))
	}
	if k.kind == kindDial {
		return append(kv, attrDialOutcome.String(k.errType))
	}
	if k.kind != kindConn {
		kv = append(kv, attrMethod.String(k.method))
	}
	if v := protocolVersion(k.proto); v != "" && k.kind != kindActive {
		kv = append(kv, attrProtocolVersion.String(v))
	}
	if k.status != 0 {
		kv = append(kv, attrStatusCode.Int(k.status))
	}
	if k.errType != "" {
		kv = append(kv, attrErrorType.String(k.errType))
	}
	return kv
}

// protocolVersion is network.protocol.version: "1.1", "1.0", "2".
func protocolVersion(proto string) string {
	switch proto {
	case "":
		return ""
	case spool.ProtoHTTP2:
		return "2"
	}
	return strings.TrimPrefix(proto, "HTTP/")
}

// knownMethod folds methods outside RFC 9110 and PATCH into "_OTHER", as
// the conventions require, so a client sending arbitrary methods cannot
// grow the number of series.
func knownMethod(m string) string {
	switch m {
	case "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH":
		return m
	case "":
		return "GET"
	}
	return "_OTHER"
}

// statusErrorType is error.type for a response whose status is an error
// for a client (4xx, 5xx): the code as a string.
func statusErrorType(status int) string {
	if status >= 400 {
		return strconv.Itoa(status)
	}
	return ""
}

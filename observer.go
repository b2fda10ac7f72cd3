package spool

import "time"

// Observer receives a Transport's pool and exchange events (set
// Transport.Observer before first use). It is the source for metrics
// (package otelspool, promspool) and for the debug page; Stats counts the
// same events.
//
// Calls are made outside the pool's lock, on the goroutine that did the
// work: the caller of RoundTrip or of the body's Read and Close, a dial
// goroutine, the pool's idle timer, the leak reclaimer. Methods must be
// safe for concurrent use and quick; they must not call RoundTrip (Stats is
// fine). Events are small structs passed by value: nothing is allocated for
// them, and a nil Observer costs a nil check and nothing else.
//
// Order. The events of one request come in order on its goroutine:
// RequestStarted, one GotConn per attempt (a transparent retry makes two),
// one Response, and, when Response had no error, one BodyDone (not for 101
// Switching Protocols, whose conn leaves the pool: ConnClosed with
// CloseDetached). The events of one conn are Dialed (with a nil Err),
// ConnState transitions and one ConnClosed; Dialed comes before the others
// (and a failed dial's Dialed before its request's Response). Beyond that,
// events of different goroutines come in no particular order, so a conn's
// "went idle" may be seen after its "taken from idle": counts kept as sums
// of +1/-1 (open conns by state, active requests) are exact once the
// goroutines are done.
//
// Embed NopObserver to implement only some methods and stay compatible
// when methods are added.
type Observer interface {
	// Dialed: a dial ended. Err nil: a new conn (it counts as active until
	// a ConnState says it went idle). Err non-nil: no conn; Conn is 0.
	Dialed(DialEvent)
	// ConnClosed: a conn left the pool (closed, or detached for an
	// upgrade). Every conn of a successful Dialed gets one.
	ConnClosed(ConnClosedEvent)
	// ConnState: a conn went idle (put back with nothing in flight) or was
	// taken from the idle list.
	ConnState(ConnStateEvent)
	// RequestStarted: a request was routed and asks the pool for a conn.
	// Requests rejected before that (invalid, Proxy failed) have no events.
	RequestStarted(RequestEvent)
	// GotConn: the request got a conn, at once or after waiting in the
	// queue (for a dial or for a conn to be freed).
	GotConn(GotConnEvent)
	// Response: the round trip ended with the response head, or failed.
	// One per RequestStarted.
	Response(ResponseEvent)
	// BodyDone: the response body ended. One per Response without error
	// (a response without a body has one at once, with 0 bytes).
	BodyDone(BodyEvent)
}

// NopObserver does nothing. Embed it in an Observer that handles only some
// events.
type NopObserver struct{}

func (NopObserver) Dialed(DialEvent)            {}
func (NopObserver) ConnClosed(ConnClosedEvent)  {}
func (NopObserver) ConnState(ConnStateEvent)    {}
func (NopObserver) RequestStarted(RequestEvent) {}
func (NopObserver) GotConn(GotConnEvent)        {}
func (NopObserver) Response(ResponseEvent)      {}
func (NopObserver) BodyDone(BodyEvent)          {}

// Target is where a conn or request goes, as the pool keys it. Its fields
// are what OpenTelemetry's HTTP client conventions take as attributes:
// server.address is Host, server.port Port, url.scheme Scheme.
type Target struct {
	// Key is the pool key, as in Stats.Hosts: "https://example.com:443",
	// or "http://proxy:3128|https://example.com:443" through a proxy.
	Key    string
	Scheme string // the origin's: "http" or "https"
	Host   string // the origin's host name or IP: lower case, no brackets, no port
	Port   int    // the origin's port, the scheme's default filled in
	Proxy  string // the proxy part of Key; "" without a proxy
}

// Proto values of the events: a conn's protocol, and a response's version
// (which may also be "HTTP/1.0"). OpenTelemetry's network.protocol.version
// is the part after "HTTP/", "2.0" being "2".
const (
	ProtoHTTP1 = "HTTP/1.1"
	ProtoHTTP2 = "HTTP/2.0"
)

// DialEvent is the end of a dial.
type DialEvent struct {
	Target
	Conn       uint64        // the new conn's ID (1, 2, … in the Transport); 0 when Err != nil
	Proto      string        // ProtoHTTP1 or ProtoHTTP2; "" when Err != nil
	TLS        bool          // the conn's socket speaks TLS (to the origin; to the proxy for http:// through an https proxy)
	TLSResumed bool          // its handshake resumed a session (no full handshake)
	Duration   time.Duration // DNS, connect, proxy and TLS: the whole dial
	Err        error         // the dial failed (counted in Stats' DialErrors)
}

// ConnClosedEvent is a conn leaving the pool.
type ConnClosedEvent struct {
	Target
	Conn     uint64
	Proto    string
	Reason   CloseReason
	Idle     bool          // it was idle when closed (else active, for open-conn counts)
	Lifetime time.Duration // since the dial ended
	Requests int           // requests (HTTP/2: streams) it carried
}

// ConnStateEvent is a conn moving between active and idle.
type ConnStateEvent struct {
	Target
	Conn  uint64
	Proto string
	Idle  bool // true: it went idle (was active); false: taken from idle (now active)
}

// RequestEvent is a request entering the pool.
type RequestEvent struct {
	Target
	Method string // as sent: "" is sent as GET and reported as GET
}

// GotConnEvent is a request getting its conn.
type GotConnEvent struct {
	Target
	Method  string
	Conn    uint64
	Proto   string
	Reused  bool          // the conn had carried a request before
	WasIdle bool          // it came off the idle list
	Queued  bool          // no conn was at hand: it waited for a dial or a freed conn
	Wait    time.Duration // how long it waited (0 unless Queued), dial time included
	Retry   bool          // the transparent retry after a reused conn failed (see Transport)
}

// ResponseEvent is the end of a round trip: the response head arrived
// (Err nil) or the request failed.
type ResponseEvent struct {
	Target
	Method   string
	Conn     uint64        // the conn that carried it; 0 if it got none
	Proto    string        // the response's version; the conn's protocol, or "", on error
	Status   int           // 0 on error
	Duration time.Duration // since RequestStarted
	Err      error         // as RoundTrip returned it
}

// BodyEvent is the end of a response body.
type BodyEvent struct {
	Target
	Method   string
	Conn     uint64
	Proto    string
	Status   int
	Bytes    int64         // body bytes the caller's Reads took off the conn or stream, before any decompression (an early Close's drain is not counted)
	End      BodyEnd       // how it ended
	Duration time.Duration // since RequestStarted
	Err      error         // the read error for BodyError
}

// BodyEnd says how a response body ended.
type BodyEnd uint8

const (
	BodyEOF        BodyEnd = iota // read to the end
	BodyEarlyClose                // closed before the end, or Close interrupted a Read (drained for reuse, or its conn closed)
	BodyLeaked                    // never closed; reclaimed after GC (Stats' LeakedBodies)
	BodyError                     // a read failed (conn broken, stream reset, timeout)
)

var bodyEndNames = [...]string{BodyEOF: "eof", BodyEarlyClose: "early_close", BodyLeaked: "leaked", BodyError: "error"}

// String returns "eof", "early_close", "leaked" or "error".
func (e BodyEnd) String() string {
	if int(e) < len(bodyEndNames) {
		return bodyEndNames[e]
	}
	return "unknown"
}

// CloseReason says why a conn left the pool. All but CloseDetached are the
// fields of Stats' CloseCounts.
type CloseReason uint8

const (
	CloseIdleTimeout  CloseReason = iota // idle past IdleConnTimeout
	CloseEvicted                         // idle limits (LRU), CloseIdleConnections or Close
	CloseServerClosed                    // the server closed an idle conn
	CloseBroken                          // I/O error, protocol error, cancellation
	CloseLifetime                        // MaxConnLifetime
	CloseMaxRequests                     // MaxRequestsPerConn
	CloseLeaked                          // a body never closed
	CloseEarlyClose                      // Body.Close before EOF and the drain bound was hit
	CloseNotReusable                     // Connection: close, HTTP/1.0, close-delimited body, DisableKeepAlives
	CloseDetached                        // handed to the caller (101 Switching Protocols); not closed, not in CloseCounts
)

var closeReasonNames = [...]string{
	CloseIdleTimeout:  "idle_timeout",
	CloseEvicted:      "evicted",
	CloseServerClosed: "server_closed",
	CloseBroken:       "broken",
	CloseLifetime:     "lifetime",
	CloseMaxRequests:  "max_requests",
	CloseLeaked:       "leaked",
	CloseEarlyClose:   "early_close",
	CloseNotReusable:  "not_reusable",
	CloseDetached:     "detached",
}

// String returns the reason's name, the JSON name of its CloseCounts field
// ("idle_timeout", "evicted", …, "detached").
func (r CloseReason) String() string {
	if int(r) < len(closeReasonNames) {
		return closeReasonNames[r]
	}
	return "unknown"
}

// JoinObservers returns an Observer that calls each of obs in turn (nil
// ones skipped), or nil if none is left.
func JoinObservers(obs ...Observer) Observer {
	var list multiObserver
	for _, o := range obs {
		if o != nil {
			list = append(list, o)
		}
	}
	switch len(list) {
	case 0:
		return nil
	case 1:
		return list[0]
	}
	return list
}

type multiObserver []Observer

func (m multiObserver) Dialed(e DialEvent) {
	for _, o := range m {
		o.Dialed(e)
	}
}

func (m multiObserver) ConnClosed(e ConnClosedEvent) {
	for _, o := range m {
		o.ConnClosed(e)
	}
}

func (m multiObserver) ConnState(e ConnStateEvent) {
	for _, o := range m {
		o.ConnState(e)
	}
}

func (m multiObserver) RequestStarted(e RequestEvent) {
	for _, o := range m {
		o.RequestStarted(e)
	}
}

func (m multiObserver) GotConn(e GotConnEvent) {
	for _, o := range m {
		o.GotConn(e)
	}
}

func (m multiObserver) Response(e ResponseEvent) {
	for _, o := range m {
		o.Response(e)
	}
}

func (m multiObserver) BodyDone(e BodyEvent) {
	for _, o := range m {
		o.BodyDone(e)
	}
}

package promspool_test

import (
	"testing"
	"time"

	"github.com/spoolhttp/spool"
	"github.com/spoolhttp/spool/promspool"
)

// BenchmarkEvents is the collector's own work for one request on a reused
// conn: the events the Transport sends into NewCollector's observer.
//
//	go test -run '^$' -bench Events -benchmem ./promspool
func BenchmarkEvents(b *testing.B) {
	tr := &spool.Transport{}
	defer tr.Close()
	promspool.NewCollector(tr)
	o := tr.Observer
	tg := spool.Target{Key: "http://127.0.0.1:8080", Scheme: "http", Host: "127.0.0.1", Port: 8080}
	b.ReportAllocs()
	for b.Loop() {
		o.RequestStarted(spool.RequestEvent{Target: tg, Method: "GET"})
		o.ConnState(spool.ConnStateEvent{Target: tg, Conn: 1, Proto: spool.ProtoHTTP1})
		o.GotConn(spool.GotConnEvent{Target: tg, Method: "GET", Conn: 1, Proto: spool.ProtoHTTP1, Reused: true, WasIdle: true})
		o.Response(spool.ResponseEvent{Target: tg, Method: "GET", Conn: 1, Proto: spool.ProtoHTTP1, Status: 200, Duration: 40 * time.Microsecond})
		o.BodyDone(spool.BodyEvent{Target: tg, Method: "GET", Conn: 1, Proto: spool.ProtoHTTP1, Status: 200, Bytes: 5})
		o.ConnState(spool.ConnStateEvent{Target: tg, Conn: 1, Proto: spool.ProtoHTTP1, Idle: true})
	}
}

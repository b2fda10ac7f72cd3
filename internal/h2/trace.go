package h2

import "net/http/httptrace"

// The httptrace hooks net/http's HTTP/2 calls from its conn; GetConn and
// GotConn are the root's, Got1xxResponse, Got100Continue and
// WroteHeaderField are called where they happen.

func traceWroteHeaders(t *httptrace.ClientTrace) {
	if t != nil && t.WroteHeaders != nil {
		t.WroteHeaders()
	}
}

func traceWroteRequest(t *httptrace.ClientTrace, err error) {
	if t != nil && t.WroteRequest != nil {
		t.WroteRequest(httptrace.WroteRequestInfo{Err: err})
	}
}

func traceWait100Continue(t *httptrace.ClientTrace) {
	if t != nil && t.Wait100Continue != nil {
		t.Wait100Continue()
	}
}

func traceFirstByte(t *httptrace.ClientTrace) {
	if t != nil && t.GotFirstResponseByte != nil {
		t.GotFirstResponseByte()
	}
}

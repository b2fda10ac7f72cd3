package retry

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"syscall"
	"testing"

	"github.com/spoolhttp/spool/internal/errs"
)

type permanentErr struct{ permanent bool }

func (e permanentErr) Error() string   { return fmt.Sprintf("permanent=%v", e.permanent) }
func (e permanentErr) Permanent() bool { return e.permanent }

// tlsErrors are certificate verification failures as spool and net/http
// report them.
func tlsErrors() []error {
	return []error{
		&errs.Error{Op: errs.OpTLS, Err: &tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}},
		&errs.Error{Op: errs.OpTLS, Err: x509.HostnameError{Host: "example.test"}},
		fmt.Errorf("handshake: %w", x509.CertificateInvalidError{Reason: x509.Expired}),
		x509.UnknownAuthorityError{},
	}
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func TestDefaultPolicyErrors(t *testing.T) {
	get := func() *http.Request { r, _ := http.NewRequest("GET", "http://h/", nil); return r }
	post := func() *http.Request { r, _ := http.NewRequest("POST", "http://h/", nil); return r }
	done, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tc := range []struct {
		name  string
		req   *http.Request
		err   error
		retry bool
	}{
		{"dial op", get(), &errs.Error{Op: errs.OpDial, Err: errors.New("x")}, true},
		{"pool wait op", get(), &errs.Error{Op: errs.OpPoolWait, Err: errors.New("queue full")}, true},
		{"refused", get(), errRefused, true},
		{"reset", get(), &net.OpError{Op: "read", Err: syscall.ECONNRESET}, true},
		{"broken pipe", get(), &errs.Error{Op: errs.OpWrite, Err: syscall.EPIPE}, true},
		{"unexpected EOF", get(), &errs.Error{Op: errs.OpAwaitHeaders, Err: io.ErrUnexpectedEOF}, true},
		{"net timeout", get(), timeoutErr{}, true},
		{"spool timeout", get(), &errs.Error{Op: errs.OpAwaitHeaders, Err: &errs.TimeoutError{What: "ResponseHeaderTimeout"}}, true},
		{"deadline from the os", get(), &net.OpError{Op: "read", Err: os.ErrDeadlineExceeded}, true},
		{"net.OpError read", get(), &net.OpError{Op: "read", Err: errors.New("x")}, true},
		{"tls alert", get(), &errs.Error{Op: errs.OpTLS, Err: &net.OpError{Op: "remote error", Err: errors.New("tls: handshake failure")}}, false},
		{"tls handshake reset", post(), &errs.Error{Op: errs.OpTLS, Err: syscall.ECONNRESET}, true},
		{"host not found", get(), &net.OpError{Op: "dial", Err: &net.DNSError{Name: "h", IsNotFound: true}}, false},
		{"dns timeout", get(), &net.OpError{Op: "dial", Err: &net.DNSError{Name: "h", IsTimeout: true}}, true},
		{"post dial refused", post(), errRefused, true},
		{"post net dial", post(), &net.OpError{Op: "dial", Err: syscall.ETIMEDOUT}, true},
		{"post reset", post(), &net.OpError{Op: "read", Err: syscall.ECONNRESET}, false},
		{"post timeout", post(), timeoutErr{}, false},
		{"caller ctx done", get().WithContext(done), errRefused, false},
		{"canceled", get(), fmt.Errorf("x: %w", context.Canceled), false},
		{"permanent", get(), fmt.Errorf("x: %w", permanentErr{true}), false},
		{"not permanent", get(), &net.OpError{Op: "read", Err: permanentErr{false}}, true},
		{"permanent in a join", get(), errors.Join(permanentErr{false}, &net.OpError{Op: "read", Err: permanentErr{true}}), false},
		{"unknown", get(), errors.New("boom"), false},
	} {
		d := DefaultPolicy(tc.req, nil, tc.err, 1)
		if d.Retry != tc.retry || d.Reason == "" {
			t.Errorf("%s: %+v, want retry=%v", tc.name, d, tc.retry)
		}
	}
	for _, err := range tlsErrors() {
		if d := DefaultPolicy(get(), nil, err, 1); d.Retry {
			t.Errorf("%T retried", err)
		}
	}
}

func TestRulesIsPermanent(t *testing.T) {
	type protocolError struct{ error }
	r := Rules{IsPermanent: func(err error) bool {
		var pe protocolError
		return errors.As(err, &pe)
	}}
	req, _ := http.NewRequest("GET", "http://h/", nil)
	err := &errs.Error{Op: errs.OpAwaitHeaders, Err: protocolError{io.ErrUnexpectedEOF}}
	if d := r.Decide(req, nil, err, 1); d.Retry || d.Reason != "permanent error" {
		t.Fatalf("%+v", d)
	}
	if d := r.Decide(req, nil, io.ErrUnexpectedEOF, 1); !d.Retry {
		t.Fatalf("%+v", d)
	}
}

func TestDefaultPolicyResponses(t *testing.T) {
	for _, tc := range []struct {
		method string
		header string
		status int
		retry  bool
	}{
		{"GET", "", 200, false},
		{"GET", "", 404, false},
		{"GET", "", 500, false},
		{"GET", "", 429, true},
		{"GET", "", 502, true},
		{"GET", "", 503, true},
		{"GET", "", 504, true},
		{"", "", 503, true},
		{"HEAD", "", 503, true},
		{"OPTIONS", "", 503, true},
		{"TRACE", "", 503, true},
		{"PUT", "", 503, true},
		{"DELETE", "", 503, true},
		{"POST", "", 503, false},
		{"PATCH", "", 429, false},
		{"POST", "Idempotency-Key", 503, true},
		{"PATCH", "X-Idempotency-Key", 504, true},
	} {
		req := &http.Request{Method: tc.method, Header: http.Header{}}
		if tc.header != "" {
			req.Header[tc.header] = nil // presence alone counts
		}
		d := DefaultPolicy(req, &http.Response{StatusCode: tc.status}, nil, 1)
		if d.Retry != tc.retry {
			t.Errorf("%s %s %d: %+v, want retry=%v", tc.method, tc.header, tc.status, d, tc.retry)
		}
	}
}

package spool_test

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/spoolhttp/spool"
)

// notInSpool are http.Transport's fields spool has no setting for (see
// FromHTTPTransport's doc); Dial and DialTLS are adapted, not copied.
var notInSpool = map[string]bool{"Dial": true, "DialTLS": true, "TLSNextProto": true, "HTTP2": true}

// FromHTTPTransport copies every field of http.Transport that spool has
// under the same name: each is set to a non-zero value and must arrive.
// A field net/http gains later fails the test until it is copied or
// listed in notInSpool.
func TestFromHTTPTransportCopiesEveryField(t *testing.T) {
	src := &http.Transport{}
	sv := reflect.ValueOf(src).Elem()
	st := sv.Type()
	spoolType := reflect.TypeOf(spool.Transport{})
	var copied []string
	for i := range st.NumField() {
		f := st.Field(i)
		if !f.IsExported() {
			continue
		}
		sf, ok := spoolType.FieldByName(f.Name)
		if !ok {
			if !notInSpool[f.Name] {
				t.Errorf("http.Transport.%s: neither copied (spool has no such field) nor listed as not in spool", f.Name)
			}
			continue
		}
		if sf.Type != f.Type {
			t.Errorf("%s: spool's is %v, net/http's %v", f.Name, sf.Type, f.Type)
			continue
		}
		sv.Field(i).Set(nonZero(t, f.Type))
		copied = append(copied, f.Name)
	}
	dst := reflect.ValueOf(spool.FromHTTPTransport(src)).Elem()
	for _, name := range copied {
		want, got := sv.FieldByName(name), dst.FieldByName(name)
		switch {
		case got.IsZero():
			t.Errorf("%s not copied", name)
		case want.Kind() == reflect.Func:
			if want.Pointer() != got.Pointer() {
				t.Errorf("%s: another func", name)
			}
		case name == "TLSClientConfig":
			if c := got.Interface().(*tls.Config); c == src.TLSClientConfig || c.ServerName != src.TLSClientConfig.ServerName {
				t.Errorf("TLSClientConfig: not a clone of the original")
			}
		case !reflect.DeepEqual(want.Interface(), got.Interface()):
			t.Errorf("%s: %v, want %v", name, got, want)
		}
	}
	if len(copied) < 20 {
		t.Errorf("only %d fields copied: %v", len(copied), copied)
	}
}

// nonZero makes a non-zero value of type typ for the fields http.Transport has.
func nonZero(t *testing.T, typ reflect.Type) reflect.Value {
	switch typ {
	case reflect.TypeOf(time.Duration(0)):
		return reflect.ValueOf(7 * time.Second)
	case reflect.TypeOf(&tls.Config{}):
		return reflect.ValueOf(&tls.Config{ServerName: "copied.example"})
	case reflect.TypeOf(http.Header{}):
		return reflect.ValueOf(http.Header{"X-Copied": {"1"}})
	case reflect.TypeOf(&http.Protocols{}):
		p := &http.Protocols{}
		p.SetHTTP1(true)
		return reflect.ValueOf(p)
	}
	switch typ.Kind() {
	case reflect.Bool:
		return reflect.ValueOf(true).Convert(typ)
	case reflect.Int, reflect.Int64:
		return reflect.ValueOf(7).Convert(typ)
	case reflect.Func:
		return reflect.MakeFunc(typ, func([]reflect.Value) []reflect.Value {
			out := make([]reflect.Value, typ.NumOut())
			for i := range out {
				out[i] = reflect.Zero(typ.Out(i))
			}
			return out
		})
	}
	t.Fatalf("no non-zero value for %v", typ)
	return reflect.Value{}
}

// The deprecated Dial and DialTLS still dial, as net/http falls back to them.
func TestFromHTTPTransportAdaptsDial(t *testing.T) {
	called := false
	tr := spool.FromHTTPTransport(&http.Transport{Dial: func(network, addr string) (net.Conn, error) {
		called = true
		a, b := net.Pipe()
		go func() {
			b.Read(make([]byte, 4096)) // the whole head: a pipe write waits for its reader
			io.WriteString(b, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
			b.Close()
		}()
		return a, nil
	}})
	defer tr.Close()
	req, _ := http.NewRequestWithContext(context.Background(), "GET", "http://dial.test/", nil)
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !called || string(b) != "ok" {
		t.Fatalf("Dial called %v, body %q", called, b)
	}
}

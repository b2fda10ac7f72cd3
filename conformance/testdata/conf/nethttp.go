//go:build conf_nethttp

package conf

import (
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"sync"
	"time"
	"unsafe"
)

// TransportName names the transport under test in the table.
const TransportName = "net/http"

// ConfTransport is net/http's own Transport: the baseline.
type ConfTransport = http.Transport

// DefaultUserAgent is the User-Agent net/http sends by default.
const DefaultUserAgent = "Go-http-client/1.1"

const matchByText = false

func fromHTTPTransport(tr *http.Transport) http.RoundTripper { return tr }

//go:linkname maxWriteWaitBeforeConnReuse net/http.maxWriteWaitBeforeConnReuse
var maxWriteWaitBeforeConnReuse time.Duration

// MaxWriteWaitBeforeConnReuse is export_test.go's: net/http's own knob
// (how long a response waits for the request body's write to finish
// before the conn may be reused).
var MaxWriteWaitBeforeConnReuse = &maxWriteWaitBeforeConnReuse

//go:linkname testHookEnterRoundTrip net/http.testHookEnterRoundTrip
var testHookEnterRoundTrip func()

// SetEnterRoundTripHook is export_test.go's: f runs as RoundTrip starts.
func SetEnterRoundTripHook(f func()) {
	if f == nil {
		f = func() {}
	}
	testHookEnterRoundTrip = f
}

// The pool introspection hooks of export_test.go, read the same way from
// outside net/http: reflect with unsafe over Transport's unexported
// fields, under the same locks.

func field(t *http.Transport, name string) reflect.Value {
	f := reflect.ValueOf(t).Elem().FieldByName(name)
	return reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem()
}

func locked(t *http.Transport, mu string) func() {
	m := field(t, mu).Addr().Interface().(*sync.Mutex)
	m.Lock()
	return m.Unlock
}

// ConfIdleConnKeys is export_test.go's IdleConnKeysForTesting.
func ConfIdleConnKeys(t *http.Transport) []string {
	defer locked(t, "idleMu")()
	keys := []string{}
	for _, k := range field(t, "idleConn").MapKeys() {
		keys = append(keys, k.Interface().(fmt.Stringer).String())
	}
	slices.Sort(keys)
	return keys
}

// ConfIdleConnKeyCount is export_test.go's IdleConnKeyCountForTesting.
func ConfIdleConnKeyCount(t *http.Transport) int {
	defer locked(t, "idleMu")()
	return field(t, "idleConn").Len()
}

// ConfIdleConnCount is export_test.go's IdleConnCountForTesting.
func ConfIdleConnCount(t *http.Transport, scheme, addr string) int {
	defer locked(t, "idleMu")()
	m := field(t, "idleConn")
	for _, k := range m.MapKeys() {
		if k.Interface().(fmt.Stringer).String() == "|"+scheme+"|"+addr {
			return m.MapIndex(k).Len()
		}
	}
	return 0
}

// ConfNumPendingRequests is export_test.go's NumPendingRequestsForTesting.
func ConfNumPendingRequests(t *http.Transport) int {
	defer locked(t, "reqMu")()
	return field(t, "reqCanceler").Len()
}

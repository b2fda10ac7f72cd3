//go:build conf_nethttp

package conf

import (
	"net/http"
	"time"
	_ "unsafe" // go:linkname
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

// ConfMaxWriteWait is what main_test.go's TestMain sets through
// export_test.go's MaxWriteWaitBeforeConnReuse: net/http's own knob.
var ConfMaxWriteWait = &maxWriteWaitBeforeConnReuse

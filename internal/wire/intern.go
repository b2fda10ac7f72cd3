package wire

// Interning: the keys and a few values that appear in most responses are
// taken from these tables instead of the head's string, so they cost
// neither an allocation nor bytes in the per-response head string, and a
// caller keeping a key does not keep the whole head alive.

// commonKeys are canonical response header names seen in most traffic.
var commonKeys = []string{
	"Accept-Ranges", "Access-Control-Allow-Credentials", "Access-Control-Allow-Headers",
	"Access-Control-Allow-Methods", "Access-Control-Allow-Origin", "Access-Control-Expose-Headers",
	"Age", "Allow", "Alt-Svc", "Cache-Control", "Connection", "Content-Disposition",
	"Content-Encoding", "Content-Language", "Content-Length", "Content-Location",
	"Content-Range", "Content-Security-Policy", "Content-Type", "Date", "Etag", "Expires",
	"Keep-Alive", "Last-Modified", "Link", "Location", "Pragma", "Proxy-Authenticate",
	"Referrer-Policy", "Retry-After", "Server", "Set-Cookie", "Strict-Transport-Security",
	"Trailer", "Transfer-Encoding", "Upgrade", "Vary", "Via", "Www-Authenticate",
	"X-Content-Type-Options", "X-Frame-Options", "X-Request-Id", "X-Xss-Protection",
}

// commonValues are header values frequent enough to intern.
var commonValues = []string{
	"keep-alive", "close", "Keep-Alive", "chunked", "gzip", "br", "deflate", "identity",
	"bytes", "none", "0", "*", "nosniff", "no-cache", "no-store", "Accept-Encoding",
	"text/plain; charset=utf-8", "text/html; charset=utf-8", "text/html", "text/plain",
	"application/json", "application/json; charset=utf-8", "application/octet-stream",
	"DENY", "SAMEORIGIN", "upgrade", "websocket",
}

var (
	keyTable   = makeTable(commonKeys)
	valueTable = makeTable(commonValues)
)

func makeTable(list []string) map[string]string {
	m := make(map[string]string, len(list))
	for _, s := range list {
		m[s] = s
	}
	return m
}

// internKey returns the interned copy of canonical key b, or "" if b is not
// a common key. The map index with string(b) does not allocate.
func internKey(b []byte) string { return keyTable[string(b)] }

// internValue is internKey for values.
func internValue(b []byte) string {
	if len(b) > 32 { // longer than every entry: skip the hash
		return ""
	}
	return valueTable[string(b)]
}

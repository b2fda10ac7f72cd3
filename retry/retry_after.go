package retry

import (
	"math"
	"net/http"
	"strings"
	"time"
)

// parseRetryAfter reads a Retry-After field value (RFC 9110 §10.2.3):
//
//	Retry-After = HTTP-date / delay-seconds
//
// relative to now. ok is false when the field is absent or malformed; the
// caller then falls back to its backoff. A date in the past means retry at
// once. A delay too large for a Duration saturates (and so exceeds any cap).
func parseRetryAfter(v string, now time.Time) (d time.Duration, ok bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if isDigits(v) {
		// delay-seconds = 1*DIGIT (§10.2.3): a non-negative decimal
		// integer; no sign, fraction or exponent.
		const maxSeconds = math.MaxInt64 / int64(time.Second)
		var n int64
		for i := 0; i < len(v); i++ {
			n = n*10 + int64(v[i]-'0')
			if n > maxSeconds {
				return math.MaxInt64, true
			}
		}
		return time.Duration(n) * time.Second, true
	}
	// HTTP-date (§5.6.7): recipients accept IMF-fixdate and the obsolete
	// RFC 850 and asctime forms, which http.ParseTime does.
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return max(t.Sub(now), 0), true
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// honorsRetryAfter says which statuses' Retry-After we wait for: 503
// (§15.6.4, §10.2.3: how long the service is expected to be unavailable)
// and 429 (RFC 6585 §4: how long to wait before a new request). On a 3xx it
// means something else (a minimum delay before following a redirect) and
// redirects are the client's job, not ours.
func honorsRetryAfter(code int) bool {
	return code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable
}

package dial

import "crypto/tls"

// DefaultSessionCacheSize is the number of TLS sessions a Dialer keeps for
// resumption: enough for the distinct hosts of a busy client, small enough
// (a session is a few KiB) not to matter for memory.
const DefaultSessionCacheSize = 256

// newSessionCache returns the cache a Dialer shares among all its dials.
//
// net/http leaves ClientSessionCache nil, so every new connection pays a full
// handshake. spool resumes by default: a resumed TLS 1.3 handshake skips the
// certificate chain and its verification. It applies only when the caller's
// tls.Config has no cache of its own; a caller who wants no resumption sets
// tls.Config.SessionTicketsDisabled.
func newSessionCache() tls.ClientSessionCache {
	return tls.NewLRUClientSessionCache(DefaultSessionCacheSize)
}

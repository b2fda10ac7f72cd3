package spool

import (
	"os"
	"runtime/debug"
	"strings"
	"sync"
)

// http2ClientOff reports GODEBUG=http2client=0, net/http's documented
// switch (net/http doc.go) that turns HTTP/2 off in every client, whatever
// the Transport's fields say. A program moved to spool keeps its meaning:
// read once per Transport, at first use, like the fields.
func http2ClientOff() bool {
	return godebug("http2client") == "0"
}

// godebug returns setting name as the runtime sees it: the GODEBUG
// environment variable first, then the binary's default (go.mod's godebug
// lines and //go:debug directives), as internal/godebug orders them.
func godebug(name string) string {
	if v, ok := godebugLookup(os.Getenv("GODEBUG"), name); ok {
		return v
	}
	v, _ := godebugLookup(defaultGODEBUG(), name)
	return v
}

// defaultGODEBUG is the binary's default GODEBUG, recorded in its build info.
var defaultGODEBUG = sync.OnceValue(func() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	for _, s := range bi.Settings {
		if s.Key == "DefaultGODEBUG" {
			return s.Value
		}
	}
	return ""
})

// godebugLookup finds name in a GODEBUG string "k=v,k2=v2": a later
// setting overrides an earlier one, and a "#pattern" suffix (bisect) is not
// part of the value.
func godebugLookup(s, name string) (string, bool) {
	v, found := "", false
	for kv := range strings.SplitSeq(s, ",") {
		k, val, ok := strings.Cut(kv, "=")
		if ok && k == name {
			v, found = val, true
		}
	}
	if i := strings.IndexByte(v, '#'); i >= 0 {
		v = v[:i]
	}
	return v, found
}

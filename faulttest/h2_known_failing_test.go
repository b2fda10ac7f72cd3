package faulttest

import (
	"os"
	"runtime"
	"testing"

	"github.com/spoolhttp/spool/internal/h2test"
)

// The tests in this file hold spool to issue 10 where neither the x/net
// adapter nor, at the time of writing, the new engine meets it. They skip
// unless SPOOL_H2_KNOWN_FAILING=1, so CI stays green while they fail;
// whoever fixes one moves its test out of this file (and drops the skip).
//
//	SPOOL_H2_KNOWN_FAILING=1 go test -run KnownFailing -v ./faulttest
func knownFailing(t *testing.T) {
	if os.Getenv("SPOOL_H2_KNOWN_FAILING") != "1" {
		t.Skip("known failing (issue 10); SPOOL_H2_KNOWN_FAILING=1 runs it")
	}
}

// A GET that the pool put on the conn whose write is stuck (its HEADERS
// queued behind the blocked DATA, so never on the wire) fails with that
// conn at its write deadline instead of being replayed on a fresh conn
// (DESIGN decision 3: a request nothing of which was written is retried).
func TestH2KnownFailingStuckConnProbeReplayed(t *testing.T) {
	knownFailing(t)
	base := runtime.NumGoroutine()
	stalled := h2test.NewServer(t, stallScript)
	other := h2test.NewServerAt(t, "127.0.0.2:0", h2test.Handle(h2test.OK))
	tr := h2cTransport(t, nil)
	stalledUpload(t, tr, stalled, other.URL, true)
	other.Close()
	requireClean(t, tr, base)
}

package promspool_test

import (
	"testing"

	"github.com/spoolhttp/spool/internal/testutil"
)

// skipCoreRace skips, under -race only, a test whose traffic has a queued
// request take an HTTP/1 conn the instant the previous response body
// ends. That trips a data race in the core, not here: body.end calls
// checkin and then bodyDone, which reads the conn's exchObs (method,
// start, conn ID) while the next request's h1Obs rewrites it (observe.go),
// so BodyDone can also carry the next exchange's fields. Without -race the
// test runs and passes (scripts/test.sh runs the module both ways). Delete
// this once the core emits BodyDone before checkin.
func skipCoreRace(t *testing.T) {
	t.Helper()
	if testutil.RaceEnabled {
		t.Skip("core data race: body.end emits BodyDone after checkin (see skipCoreRace)")
	}
}

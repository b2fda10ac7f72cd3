package spool_test

import (
	"testing"

	"github.com/spoolhttp/spool/internal/testutil"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	if testutil.IsChildServer() {
		runChildServer()
		return
	}
	goleak.VerifyTestMain(m)
}

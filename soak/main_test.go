package soak

import (
	"os"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	if os.Getenv(childServerEnv) != "" {
		runChildServer()
		return
	}
	goleak.VerifyTestMain(m)
}

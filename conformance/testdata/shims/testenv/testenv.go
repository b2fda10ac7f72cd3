// Package testenv stands in for Go's internal/testenv with the few helpers
// net/http's tests use.
package testenv

import (
	"context"
	"os"
	"os/exec"
	"testing"
)

// SkipFlaky skips a test known to be flaky upstream.
func SkipFlaky(t testing.TB, issue int) {
	t.Helper()
	t.Skipf("skipping known flaky test: golang.org/issue/%d", issue)
}

// Builder is the name of the Go builder, empty off the Go builders.
func Builder() string { return os.Getenv("GO_BUILDER_NAME") }

// Command is exec.Command bound to the test.
func Command(t testing.TB, name string, args ...string) *exec.Cmd {
	t.Helper()
	return exec.Command(name, args...)
}

// CommandContext is exec.CommandContext bound to the test.
func CommandContext(t testing.TB, ctx context.Context, name string, args ...string) *exec.Cmd {
	t.Helper()
	return exec.CommandContext(ctx, name, args...)
}

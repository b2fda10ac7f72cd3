// Package synctest stands in for Go's internal/synctest with the part
// testing/synctest offers publicly.
package synctest

import "testing/synctest"

// Wait is testing/synctest.Wait.
func Wait() { synctest.Wait() }

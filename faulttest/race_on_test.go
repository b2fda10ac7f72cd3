//go:build race

package faulttest

// raceEnabled scales the heaviest rows down under the race detector, which
// slows goroutine-heavy code by an order of magnitude.
const raceEnabled = true

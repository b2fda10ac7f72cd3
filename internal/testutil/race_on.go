//go:build race

package testutil

// RaceEnabled reports whether the race detector is on: it adds allocations
// (so allocation pins skip) and slows goroutine-heavy code by an order of
// magnitude (so the heaviest fault rows scale down).
const RaceEnabled = true

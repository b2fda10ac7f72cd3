//go:build !race

package h2

// raceEnabled: the race detector adds allocations (race_on_test.go).
const raceEnabled = false

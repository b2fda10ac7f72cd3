//go:build race

package h2

// raceEnabled: the race detector adds allocations, so allocation pins skip.
const raceEnabled = true

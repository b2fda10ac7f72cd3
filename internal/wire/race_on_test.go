//go:build race

package wire

// raceEnabled: the race detector adds allocations, so allocation pins skip.
const raceEnabled = true

//go:build race

package spool_test

// raceEnabled: the race detector adds allocations, so allocation pins skip.
const raceEnabled = true

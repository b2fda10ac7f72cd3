package load

import (
	"runtime"
	"time"
)

// usage is the process's cost counters at one instant. They are process
// wide: an in-process server's work is counted too.
type usage struct {
	mallocs    uint64
	allocBytes uint64
	cpu        time.Duration // user + system
}

func readUsage() usage {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return usage{mallocs: ms.Mallocs, allocBytes: ms.TotalAlloc, cpu: cpuTime()}
}

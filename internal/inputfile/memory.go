package inputfile

import (
	"os"
	"runtime/debug"
)

// softMemoryLimit is the heap size from which compile and allocate make the
// garbage collector run more often rather than let the heap grow to twice
// the live data (GOGC=100). Parsing a file at its cap keeps 100-250 MB live
// for a moment, and under an address-space limit (ulimit -v 2000000) the
// Go runtime's own reservations (~1.2 GB, more with cgo's per-thread malloc
// arenas) leave about 500 MB for the heap: without the limit, the doubling
// alone overran it. A soft limit slows the collector's pacing only; it
// never fails an allocation. GOMEMLIMIT in the environment wins.
const softMemoryLimit = 384 << 20

// LimitMemory sets softMemoryLimit for one command (compile, allocate) and returns the function
// that restores the previous limit.
func LimitMemory() (restore func()) {
	if os.Getenv("GOMEMLIMIT") != "" {
		return func() {}
	}
	prev := debug.SetMemoryLimit(softMemoryLimit)
	return func() { debug.SetMemoryLimit(prev) }
}

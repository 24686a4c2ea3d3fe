//go:build unix

package tables

import (
	"syscall"
	"time"
)

// processCPU is the CPU time (user+system, all threads including the GC)
// this process has used. Benchmarks report it next to wall time because
// the shared CI machine is often oversubscribed, which inflates ns/op but
// not CPU time.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

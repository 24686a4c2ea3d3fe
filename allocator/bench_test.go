package allocator

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"
)

// cpuTime is this process's user+system CPU time. The benchmarks report it
// per op beside wall time because the build machine is shared: wall time
// includes waiting for a core, CPU time does not (it does include the
// garbage collector's work on other threads).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func BenchmarkAllocate(b *testing.B) {
	for _, mode := range []Mode{Split, Preferred} {
		for _, n := range []int{1000, 10000, 100000} {
			p := RandomProblem(n, 2000, mode, 42)
			b.Run(fmt.Sprintf("%s/fgs=%d/links=2000", mode, n), func(b *testing.B) {
				b.ReportAllocs()
				var events int
				c0 := cpuTime()
				for b.Loop() {
					r, err := Allocate(context.Background(), p)
					if err != nil {
						b.Fatal(err)
					}
					events = r.Events
				}
				b.ReportMetric(float64(events), "events")
				b.ReportMetric(float64(cpuTime()-c0)/float64(b.N), "cpu-ns/op")
			})
		}
	}
}

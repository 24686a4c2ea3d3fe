package allocator

import (
	"context"
	"fmt"
	"math/rand/v2"
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

// benchProblem builds a random problem of nFG flow groups with 1–4 paths of
// 1–4 hops on nLinks links. Capacities and functions are chosen so that
// most links saturate and FGs have a few breakpoints.
func benchProblem(nFG, nLinks int, mode Mode, seed uint64) *Problem {
	rng := rand.New(rand.NewPCG(seed, 1))
	p := &Problem{Mode: mode}
	for i := 0; i < nLinks; i++ {
		// Capacity scales with the FG density so every size saturates alike.
		p.Links = append(p.Links, Link{Name: fmt.Sprintf("l%d", i), Capacity: float64(nFG) / float64(nLinks) * (5 + 10*rng.Float64()) * 1e9})
	}
	for g := 0; g < nFG; g++ {
		fg := FlowGroup{Name: fmt.Sprintf("fg%d", g)}
		switch rng.IntN(3) {
		case 0:
			fg.Function = WeightFunction(float64(1 + rng.IntN(4)))
		default:
			x, y := 0.0, 0.0
			for k := 0; k < 1+rng.IntN(3); k++ {
				x += 1e9 * (0.5 + rng.Float64())
				y += 1e9 * 3 * rng.Float64()
				fg.Function.Points = append(fg.Function.Points, Point{Share: x, Rate: y})
			}
		}
		if rng.IntN(2) == 0 {
			fg.Demand = Limit(1e9 * 5 * rng.Float64())
		}
		for k := 0; k < 1+rng.IntN(4); k++ {
			pa := Path{Weight: 1 + float64(rng.IntN(3))}
			hops := 1 + rng.IntN(4)
			start := rng.IntN(nLinks)
			for h := 0; h < hops; h++ {
				pa.Links = append(pa.Links, p.Links[(start+h*7919)%nLinks].Name)
			}
			fg.Paths = append(fg.Paths, pa)
		}
		p.FlowGroups = append(p.FlowGroups, fg)
	}
	return p
}

func BenchmarkAllocate(b *testing.B) {
	for _, mode := range []Mode{Split, Preferred} {
		for _, n := range []int{1000, 10000, 100000} {
			p := benchProblem(n, 2000, mode, 42)
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

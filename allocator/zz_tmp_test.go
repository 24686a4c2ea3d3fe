package allocator

import (
	"context"
	"testing"
	"time"
)

func TestTmpPhases(t *testing.T) {
	for _, n := range []int{10000, 100000} {
		for _, mode := range []Mode{Split, Preferred} {
			p := benchProblem(n, 2000, mode, 42)
			reps := 1000000 / n
			var tv, tn, tr, tres time.Duration
			for i := 0; i < reps; i++ {
				c0 := cpuTime()
				pl, _ := p.validate()
				c1 := cpuTime()
				s := newFiller(p, pl)
				c2 := cpuTime()
				s.run(context.Background(), nil2())
				c3 := cpuTime()
				s.result(p)
				c4 := cpuTime()
				tv += c1 - c0; tn += c2 - c1; tr += c3 - c2; tres += c4 - c3
			}
			d := time.Duration(reps)
			t.Logf("%s n=%d validate %v newFiller %v run %v result %v", mode, n, tv/d, tn/d, tr/d, tres/d)
		}
	}
}

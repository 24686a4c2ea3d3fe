package allocator

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
)

// BenchmarkPhases times the stages of Allocate separately, to show
// which of them grows faster than the problem (issue 4's scaling
// criterion): flatten (validation, and the per-FG and per-path arrays
// built while the problem is read), setup (link incidences, breakpoint
// sort), the water-fill events, and assembling the result.
func BenchmarkPhases(b *testing.B) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, mode := range []Mode{Split, Preferred} {
		for _, n := range []int{10000, 100000} {
			p := RandomProblem(n, 2000, mode, 42)
			name := fmt.Sprintf("%s/fgs=%d", mode, n)
			b.Run(name+"/flatten", func(b *testing.B) {
				for b.Loop() {
					if _, err := p.flatten(true); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run(name+"/setup", func(b *testing.B) {
				for b.Loop() {
					b.StopTimer()
					s, err := p.flatten(true)
					if err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
					s.setup()
				}
			})
			b.Run(name+"/fill", func(b *testing.B) {
				for b.Loop() {
					b.StopTimer()
					s, _ := p.flatten(true)
					s.setup()
					b.StartTimer()
					if err := s.run(context.Background(), log); err != nil {
						b.Fatal(err)
					}
				}
			})
			s, err := p.flatten(true)
			if err != nil {
				b.Fatal(err)
			}
			s.setup()
			if err := s.run(context.Background(), log); err != nil {
				b.Fatal(err)
			}
			b.Run(name+"/result", func(b *testing.B) {
				for b.Loop() {
					// result only reads the filler's state (trimOverload
					// works on its own copy of the path rates).
					s.result(p)
				}
			})
		}
	}
}

// BenchmarkWalkProblem is a floor for the phases above: it only reads the
// problem once, in order (every FG's name, function, and every path's link
// names), and allocates nothing. Its growth from 10k to 100k FGs is what
// the memory hierarchy alone costs; no allocator can grow less than the
// input it must read.
func BenchmarkWalkProblem(b *testing.B) {
	for _, n := range []int{10000, 100000} {
		p := RandomProblem(n, 2000, Split, 42)
		b.Run(fmt.Sprintf("fgs=%d", n), func(b *testing.B) {
			var sum int
			for b.Loop() {
				sum = 0
				for i := range p.FlowGroups {
					fg := &p.FlowGroups[i]
					sum += len(fg.Name) + len(fg.Function.Points)
					for _, pa := range fg.Paths {
						for _, l := range pa.Links {
							sum += len(l) + int(l[len(l)-1])
						}
					}
				}
			}
			if sum == 0 {
				b.Fatal("walked nothing")
			}
		})
	}
}

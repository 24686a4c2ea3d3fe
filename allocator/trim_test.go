package allocator

import (
	"fmt"
	"log/slog"
	"math"
	"testing"
)

// trimOverloadReference is the first implementation of trimOverload,
// which walks each overloaded link's incidence list and recomputes every
// load after each pass. The sweep-per-pass version must give the same
// bits.
func trimOverloadReference(s *filler, pr []float64) ([]float64, []float64) {
	nl := len(s.capa)
	loads := make([]float64, nl)
	computeLoads := func() {
		clear(loads)
		for pa := range pr {
			if r := pr[pa]; r != 0 {
				for _, l := range s.links(int32(pa)) {
					loads[l] += r
				}
			}
		}
	}
	computeLoads()
	var trim, factor []float64
	var touched []int32
	for pass := 0; pass < 8; pass++ {
		touched = touched[:0]
		for l := 0; l < nl; l++ {
			if loads[l] <= s.capa[l] {
				continue
			}
			f := s.capa[l] / loads[l] * (1 - trimMargin)
			if s.capa[l] <= 0 {
				f = 0
			}
			if factor == nil {
				factor = make([]float64, len(s.fg))
				trim = make([]float64, len(s.fg))
				for g := range trim {
					trim[g], factor[g] = 1, 1
				}
			}
			for k, g := range s.incFG[s.incStart[l]:s.incStart[l+1]] {
				if g < 0 || pr[s.incPath[s.incStart[l]+int32(k)]] == 0 {
					continue
				}
				if factor[g] == 1 {
					touched = append(touched, g)
				}
				factor[g] = math.Min(factor[g], f)
			}
		}
		if len(touched) == 0 {
			break
		}
		for _, g := range touched {
			for q := s.fgPath[g]; q < s.fgPath[g+1]; q++ {
				pr[q] *= factor[g]
			}
			trim[g] *= factor[g]
			factor[g] = 1
		}
		computeLoads()
	}
	return loads, trim
}

func sameBits(a, b []float64) bool {
	if len(a) != len(b) || (a == nil) != (b == nil) {
		return false
	}
	for i := range a {
		if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
			return false
		}
	}
	return true
}

// TestTrimOverloadMatchesReference runs both trims on the path rates of
// random allocations (the benchmark's problems, small) and compares loads,
// factors and trimmed path rates bit for bit. It fails if no case trims
// at all, since it would then compare nothing interesting.
func TestTrimOverloadMatchesReference(t *testing.T) {
	trimmed := 0
	for _, mode := range []Mode{Split, Preferred} {
		for _, size := range []struct{ fgs, links int }{{50, 10}, {500, 60}, {3000, 200}} {
			for seed := uint64(1); seed <= 3; seed++ {
				t.Run(fmt.Sprintf("%s/%d/%d/%d", mode, size.fgs, size.links, seed), func(t *testing.T) {
					p := RandomProblem(size.fgs, size.links, mode, seed)
					s, err := p.flatten(true)
					if err != nil {
						t.Fatal(err)
					}
					s.setup()
					if err := s.run(t.Context(), slog.New(slog.DiscardHandler)); err != nil {
						t.Fatal(err)
					}
					pr := make([]float64, len(s.path))
					for pa := range pr {
						if mode == Preferred {
							pr[pa] = s.pathRate[pa]
						} else {
							pr[pa] = s.path[pa].w * s.rate(int(s.path[pa].fg))
						}
					}
					prRef := append([]float64(nil), pr...)
					loads, trim := s.trimOverload(pr)
					wantLoads, wantTrim := trimOverloadReference(s, prRef)
					if trim != nil {
						trimmed++
					}
					if !sameBits(loads, wantLoads) {
						t.Errorf("loads differ from the reference")
					}
					if !sameBits(trim, wantTrim) {
						t.Errorf("trim factors differ from the reference (nil: %v, want nil: %v)", trim == nil, wantTrim == nil)
					}
					if !sameBits(pr, prRef) {
						t.Errorf("trimmed path rates differ from the reference")
					}
					for l := range loads {
						if loads[l] > s.capa[l] {
							t.Errorf("link %d: load %v above capacity %v after trimming", l, loads[l], s.capa[l])
						}
					}
				})
			}
		}
	}
	if trimmed == 0 {
		t.Fatal("no case needed trimming; the comparison tested nothing")
	}
	t.Logf("%d cases trimmed", trimmed)
}

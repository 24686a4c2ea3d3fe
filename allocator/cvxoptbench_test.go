package allocator

import (
	"flag"
	"fmt"
	"math"
	"os/exec"
	"testing"
	"time"
)

// cvxoptMaxFGs is the largest problem BenchmarkAlphaFairVsCvxopt hands to
// cvxopt (its sparse KKT factorisation fills in; see docs/performance.md
// for what it took at each size).
var cvxoptMaxFGs = flag.Int("cvxopt-max-fgs", 1000, "largest number of flow groups BenchmarkAlphaFairVsCvxopt also solves with cvxopt")

// BenchmarkAlphaFairVsCvxopt solves the #20 benchmark problems (nFG FGs
// with 4 paths of 1–4 hops each, a third with demands) with AlphaFair and,
// in the same run, with cvxopt's solvers.cp on sparse matrices
// (testdata/alphafair_cvxopt_sparse.py), both to a relative duality gap of
// 1e-6. It reports both CPU times, their ratio and the relative difference
// of the optimal objectives (equal accuracy: it must be ≤ 2e-6, or the
// benchmark fails; relative to Σŵ for α = 1, as the gap). Without /usr/bin/python3 and cvxopt, or above
// -cvxopt-max-fgs, only AlphaFair runs.
func BenchmarkAlphaFairVsCvxopt(b *testing.B) {
	py := "/usr/bin/python3"
	haveCvxopt := exec.Command(py, "-c", "import cvxopt").Run() == nil
	for _, size := range []struct{ fgs, links int }{{100, 20}, {1000, 200}, {1000, 2000}, {10000, 2000}} {
		p := benchAlphaProblem4(size.fgs, size.links, 11)
		for _, alpha := range []float64{0.5, 1, 2} {
			b.Run(fmt.Sprintf("fg=%d/paths=4/links=%d/alpha=%v", size.fgs, size.links, alpha), func(b *testing.B) {
				var r *AlphaResult
				c0 := cpuTime()
				for i := 0; i < b.N; i++ {
					var err error
					if r, err = AlphaFair(p, alpha); err != nil {
						b.Fatal(err)
					}
				}
				ours := time.Duration(float64(cpuTime()-c0) / float64(b.N))
				b.ReportMetric(ours.Seconds(), "ours-cpu-s")
				b.ReportMetric(r.RelGap, "ours-rel-gap")
				b.ReportMetric(float64(r.Iterations), "newton-steps")
				// The objective in full, to compare with a separate cvxopt
				// run (testdata/alphafair_cvxopt_sparse.py) where this one
				// skips it.
				b.Logf("objective %.12g, relative gap %.3g, %d Newton steps, CPU %.2f s", r.Objective, r.RelGap, r.Iterations, ours.Seconds())
				if !haveCvxopt || size.fgs > *cvxoptMaxFGs {
					return
				}
				b.StopTimer()
				refs, err := runCvxopt(py, []cvxoptInst{cvxoptInstance(p, r)}, "1e-6")
				if err != nil || refs[0] == nil {
					b.Fatalf("cvxopt: %v", err)
				}
				ref := refs[0]
				den := math.Abs(ref.Objective)
				if alpha == 1 {
					den = 0
					for _, w := range cvxoptInstance(p, r).W {
						den += w
					}
				}
				diff := math.Abs(r.Objective-ref.Objective) / den
				b.ReportMetric(ref.CPU, "cvxopt-cpu-s")
				b.ReportMetric(ref.RelGap, "cvxopt-rel-gap")
				b.ReportMetric(ref.CPU/ours.Seconds(), "speedup")
				b.ReportMetric(diff, "objective-diff")
				// "unknown" is cvxopt stopping on numerical difficulty; its
				// point counts if its own certificate is as tight as ours.
				ok := ref.Status == "optimal" || ref.RelGap <= 1e-6 && ref.PInf <= 1e-6
				if !ok || diff > 2e-6 {
					b.Errorf("cvxopt %s (relative gap %.2g, primal infeasibility %.2g), objective %.10g vs ours %.10g (relative %.2g)", ref.Status, ref.RelGap, ref.PInf, ref.Objective, r.Objective, diff)
				}
			})
		}
	}
}

package allocator

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

// TestAlphaFairAccuracySurvey counts, on 40 random single-path problems per
// α (≤ 8 links, ≤ 12 FGs, a third with demands), how many the solver
// certifies: relative gap ≤ 1e-6 (every instance must), and FGGap ≤ 1e-6
// (the gap relative to every FG's own utility scale, which bounds each
// FG's deviation). For α ≥ 10 it also compares, on the FG-certified
// instances, every FG's rate with Allocate's weighted max-min, which the
// α-fair optimum approaches like log(FGs)/α: each must be within
// 2·ln(12)/α relative (ln 12/α ≈ 0.25 at α = 10, 0.05 at α = 50).
func TestAlphaFairAccuracySurvey(t *testing.T) {
	for _, alpha := range []float64{0.5, 1, 2, 10, 50} {
		rng := rand.New(rand.NewPCG(77, uint64(alpha*10)))
		n, relOK, fgOK, failed := 40, 0, 0, 0
		worstMM := 0.0
		for k := 0; k < n; k++ {
			p := randomAlphaProblem(rng, 1)
			r, err := AlphaFair(p, alpha)
			if errors.Is(err, ErrNotConverged) {
				failed++
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.RelGap <= 1e-6 {
				relOK++
			} else {
				t.Errorf("α=%v instance %d: relative gap %.2g", alpha, k, r.RelGap)
			}
			if r.FGGap > 1e-6 {
				continue
			}
			fgOK++
			if alpha < 10 {
				continue
			}
			mm, err := Allocate(context.Background(), p)
			if err != nil {
				t.Fatal(err)
			}
			for i := range p.FlowGroups {
				e := relErr(r.FlowGroups[i].Rate, mm.FlowGroups[i].Rate)
				worstMM = max(worstMM, e)
				if e > 2*math.Log(12)/alpha {
					t.Errorf("α=%v instance %d %s: %g, max-min %g", alpha, k, p.FlowGroups[i].Name, r.FlowGroups[i].Rate, mm.FlowGroups[i].Rate)
				}
			}
		}
		t.Logf("α=%v: %d problems, %d not converged, %d with relative gap ≤ 1e-6, %d with FG gap ≤ 1e-6; worst FG rate vs max-min (α ≥ 10, FG-certified) %.3g",
			alpha, n, failed, relOK, fgOK, worstMM)
		if failed > 0 && alpha <= 2 {
			t.Errorf("α=%v: %d not converged", alpha, failed)
		}
	}
}

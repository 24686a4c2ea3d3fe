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
// certifies: relative gap ≤ 1e-6 and FGGap ≤ 1e-6 (the gap relative to
// every FG's own utility scale, which bounds each FG's deviation); every
// instance must reach both (before the capped-FG scaling and certificate
// cuts of alphalevels.go, 2 at α = 50 and 1 at α = 100 did not reach
// FGGap ≤ 1e-6). For α ≥ 10 it also
// compares with Allocate's weighted max-min m (the smallest max-min fair
// share), on the FG-certified instances:
//
//   - the smallest α-fair share f_min lies in [m·(W/w_min)^(−1/(α−1)), m]
//     (W the sum of the weights): max-min maximises the smallest share, so
//     f_min ≤ m; and the α-fair optimum's objective is at least that of the
//     max-min allocation, Σ w f^(1−α) ≤ Σ w f*^(1−α) ≤ W·m^(1−α), so
//     w_min·f_min^(1−α) ≤ W·m^(1−α). Both with the solver's 1e-5 slack.
//   - every FG's rate is within 2·ln(12)/α relative of max-min's (an
//     empirical bound, from the ln(L)/(2α) of the linear network's closed
//     form; not proven for general networks).
func TestAlphaFairAccuracySurvey(t *testing.T) {
	for _, alpha := range []float64{0.5, 1, 2, 10, 30, 50} {
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
			m, fmin, W, wmin := math.Inf(1), math.Inf(1), 0.0, math.Inf(1)
			for i, g := range r.FlowGroups {
				if g.Rate > 0 {
					m, fmin = min(m, mm.FlowGroups[i].FairShare), min(fmin, g.Rate/g.Weight)
					W, wmin = W+g.Weight, min(wmin, g.Weight)
				}
			}
			if lo := m * math.Pow(W/wmin, -1/(alpha-1)); fmin < lo*(1-1e-5) || fmin > m*(1+1e-5) {
				t.Errorf("α=%v instance %d: smallest share %g outside [%g, %g]", alpha, k, fmin, lo, m)
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
		if fgOK < n {
			t.Errorf("α=%v: only %d of %d FG-certified", alpha, fgOK, n)
		}
	}
}

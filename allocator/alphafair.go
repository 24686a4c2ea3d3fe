package allocator

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
)

// α-fair network utility maximisation, a code path separate from the
// max-min water-fill of Allocate (which it does not touch).
//
// Problem (path formulation). FG i has paths p, each a set of links; x_ip ≥ 0
// is FG i's rate on path p and s_i = Σ_p x_ip its rate. With the FG's weight
// w_i (bits/s per unit of fair share, as in Allocate) the objective is
//
//	maximise Σ_i w_i · U_α(s_i / w_i)
//	s.t.     Σ_{paths p ∋ l} x_ip ≤ c_l   for every link l
//	         s_i ≤ d_i                    for every FG with a cap
//
// with U_α(f) = f^(1−α)/(1−α) for α ≠ 1 and log f for α = 1. s_i/w_i is the
// FG's fair share, so the objective is the weighted α-fair utility of the
// fair shares. Up to a constant it equals Σ_i w_i^α · U_α(s_i): for α = 1 it
// is Σ w_i log s_i (proportional fairness, one link shared ∝ w), for α = 0
// total throughput, and as α → ∞ its optimum tends to the weighted max-min
// allocation (equal fair shares s_i/w_i at each bottleneck), i.e. to what
// Allocate computes. (With Σ w_i U_α(s_i) instead, the weights would fade as
// w_i^(1/α) and large α would give unweighted max-min.)
//
// Solver: a primal barrier interior-point method on x with Newton steps
// (Boyd & Vandenberghe, Convex Optimization, §11.3), feasible from the start.
// Each Newton system H Δ = −g has H = B + Aᵀ diag(ω_l/slack_l²) A with B
// block-diagonal per FG (diagonal plus rank one). It is solved by the
// Woodbury identity through one dense Cholesky factorisation of an m×m
// matrix over the m links that carry paths, O(m³ + Σ_FG (links of the FG)²),
// refined twice against H; when that loses accuracy (late iterations, links
// nearly full) the step falls back to a dense Cholesky factorisation of H
// over the n paths, O(n³). After each centring the barrier gives dual
// prices λ_l = ω_l/(t·slack_l) and μ_i = ω_i/(t·(d_i − s_i)); the Lagrange
// dual function at (λ, μ) has a closed form, so the reported duality gap is
// a certificate (an upper bound on the distance to the optimal objective),
// not an estimate. The barrier weights ω are re-set after each centring in
// proportion to each constraint's scale (see reweight), so that FGs whose
// utility terms are tiny (large α) are solved to the same relative accuracy
// as the others. The method stops when the gap relative to gapScale
// (|objective| for α ≤ 2, Σ_i s_i·MU_i above, Σ ŵ_i for α = 1) is ≤ the
// tolerance (default 1e-6) and, for α > 0, the gap relative to each FG's own
// utility scale is too, or float64 precision runs out (AlphaResult.FGGap).
// For α > contFrom the solve starts from the allocation at a smaller α
// (continuation, see alphaFairOnce). For α > 1 the problem is solved in
// levels of fair share (alphaFairLevels), and for α > 2 a result that is
// not converged or not certified is solved again with other level cuts
// (alphaFairRetry).

// MaxAlpha is the largest α AlphaFair accepts. Beyond it the utilities
// (fair shares to the power −α) outrun float64 on ordinary problems: on
// random multipath problems the retries were not tuned on, 4 of 500 at
// α = 70 and 4 of 500 at α = 100 missed the per-FG certificate, some
// grossly (NaN, stationarity 1), against no error and no KKT violation in
// 9,650 at α ≤ 50 (docs/allocator.md, "Known limits"). At α = 50 the
// allocation is within about ln(FGs)/α of max-min anyway, and max-min is
// objective maxmin.
const MaxAlpha = 50

// Continuation for large α: a solve with α > contFrom starts from the
// allocation at α/contStep (solved to a relative gap of contTol, itself
// warm-started the same way down to α ≤ contFrom).
const (
	contFrom = 20
	contStep = 3
	contTol  = 1e-3
)

// gapScale is what AlphaResult.RelGap divides the gap by: Σ_i s_i·MU_i,
// the objective's first-order change when every rate is scaled by 1 + ε,
// divided by ε. So RelGap ≤ ε says the optimum is at most what scaling
// every FG's rate by 1 + ε would add. It is Σŵ for α = 1 (the objective, a
// sum of logs, has no scale of its own) and (α − 1)·|U| for α > 1; |U|
// itself for α ≤ 2, where it is at least as large (α < 1: |U| =
// Σ s·MU/(1 − α); α = 0: the throughput). Why not |U| for large α too:
// |U| = Σ s·MU/(α − 1) shrinks against the prices' scale (Σ λ_l c_l ≈
// Σ s·MU at the optimum), so a gap of 1e-6·|U| at α = 100 asked for link
// slacks 99 times tighter than at α = 2, beyond what float64 Newton
// systems can follow: multipath problems stalled with the gap at
// 1.6–2e-6·|U| and then lost it (4 of 40 random problems did not converge).
func gapScale(alpha, obj, sumW float64) float64 {
	if alpha == 1 {
		return sumW
	}
	return max(1, alpha-1) * math.Abs(obj)
}

// ErrNotConverged is returned (wrapped) when AlphaFair reaches its Newton
// step limit before the duality gap reaches the tolerance.
var ErrNotConverged = errors.New("allocator: α-fair solver did not converge")

// AlphaOption changes how AlphaFair runs.
type AlphaOption func(*alphaOptions)

type alphaOptions struct {
	tol      float64
	maxSteps int
	// uscale, per problem FG (0 or absent: 1), multiplies an FG's utility
	// term by κ ≤ 1 (see alphaFairLevels: only for FGs expected at their
	// cap; α > 1).
	uscale []float64
	// lv is how alphaFairLevels cuts levels (the zero value: the first
	// try, see levelVariants).
	lv levelVariant
	// ctx, when set, ends the solve: it is checked before every Newton
	// step (a solve at 10k FGs takes a minute, and retries at large α
	// several).
	ctx context.Context
}

// WithContext makes AlphaFair stop with ctx's error when ctx ends (it is
// checked before every Newton step). Allocate passes its own.
func WithContext(ctx context.Context) AlphaOption { return func(o *alphaOptions) { o.ctx = ctx } }

// WithGapTolerance sets the relative duality gap at which AlphaFair stops
// (default 1e-6).
func WithGapTolerance(rel float64) AlphaOption { return func(o *alphaOptions) { o.tol = rel } }

// WithMaxNewtonSteps bounds the total number of Newton steps (default 3000).
func WithMaxNewtonSteps(n int) AlphaOption { return func(o *alphaOptions) { o.maxSteps = n } }

// AlphaResult is an α-fair allocation with its optimality certificate.
//
// Prices and marginal utilities are those of the normalised problem the
// solver works on: rates in units of RateScale bits/s, fair shares in units
// of ShareScale. An FG's marginal utility is (f_i/ShareScale)^(−α) with f_i =
// Rate/Weight its fair share, and at the optimum (KKT), for every path p of
// FG i: MarginalUtility_i ≤ Σ_{l∈p} Price_l + DemandPrice_i, with equality
// on the paths it uses.
type AlphaResult struct {
	Alpha      float64
	FlowGroups []AlphaGroupResult
	Links      []AlphaLinkResult
	// Objective is Σ_i ŵ_i U_α(f_i/ShareScale) with ŵ_i = w_i/WeightScale.
	Objective float64
	// Gap is the certified duality gap (dual bound − Objective) in the same
	// units; RelGap is Gap/(max(1, α−1)·|Objective|) (Gap/Σŵ_i for
	// α = 1), i.e. relative to Σ_i s_i·MU_i for α ≥ 2 (see gapScale).
	Gap, RelGap float64
	// FGGap is Gap relative to the smallest FG utility scale ŵ_i·f_i^(1−α)
	// (s_i times its marginal utility; the throughput for α = 0). AlphaFair
	// aims for FGGap ≤ the tolerance too, which bounds every FG's
	// deviation. For α > 1 it solves in levels of fair share
	// (alphalevels.go), so that shares spread beyond float64's range
	// (f^(−α) spanning more than 16 digits) are each solved at their own
	// scale; where that cannot be done (a chain of shares each close to the
	// next), it returns the one-solve iterate with the smallest FGGap among
	// those with RelGap ≤ tol, and FGGap says so.
	FGGap float64
	// Iterations is the number of Newton steps; Centerings the number of
	// barrier parameter values used.
	Iterations, Centerings             int
	RateScale, ShareScale, WeightScale float64
}

type afSnapshot struct {
	x, om, od, op []float64
	t, fgGap      float64
}

// AlphaGroupResult is one FG's α-fair rate.
type AlphaGroupResult struct {
	Name  string
	Rate  float64 // bits/s
	Paths []PathResult
	// Children share Rate by Allocate's max-min water-fill.
	Children []ChildResult
	// Weight is the α-fair weight used (bits/s per unit of fair share): the
	// bandwidth function's weight, or the slope of its first segment.
	Weight float64
	// Cap is the upper bound used: min(demand, top of the bandwidth
	// function); +Inf for none.
	Cap float64
	// MarginalUtility and DemandPrice are in normalised units (see
	// AlphaResult). Both are 0 for an FG fixed at 0 (cap 0 or no path with
	// capacity).
	MarginalUtility, DemandPrice float64
}

// AlphaLinkResult is a link's load and congestion price.
type AlphaLinkResult struct {
	Name     string
	Load     float64 // bits/s
	Capacity float64
	// Price is the link's dual variable (congestion price) in normalised
	// units; 0 for a link no path uses.
	Price float64
}

// alphaWeight is the α-fair weight of f: its weight, or for a
// piecewise-linear function the slope of its first segment (its weight
// near 0); and the top of f (+Inf if unbounded).
func alphaWeight(f BandwidthFunction) (w, top float64) {
	if len(f.Points) == 0 {
		if f.Weight == 0 {
			return 1, math.Inf(1)
		}
		return f.Weight, math.Inf(1)
	}
	for _, pt := range f.Points {
		if pt.Share > 0 {
			w = pt.Rate / pt.Share
			break
		}
	}
	return w, f.Points[len(f.Points)-1].Rate
}

// afSolver is the normalised problem: only FGs that can get a positive
// rate, only paths whose links all have capacity, only links some path uses.
type afSolver struct {
	alpha float64
	// eps weighs the α = 0 tie-break ε·Σ ŵ log(s/ŵ) added to the
	// barrier's objective (0 for α > 0); see AlphaFair.
	eps   float64
	grp   []int     // problem FG index of each solver FG
	w     []float64 // normalised weights
	d     []float64 // normalised caps, +Inf for none
	gPath []int     // paths of solver FG g: gPath[g]..gPath[g+1]-1
	pOrig []int     // path index within its problem FG
	pLink [][]int32 // solver link indices of each path
	c     []float64 // normalised capacities of solver links
	m     int

	x, s, load []float64
	t          float64
	// k is each FG's utility multiplier κ (nil: all 1); see
	// alphaOptions.uscale.
	k []float64

	// Newton scratch: 1/slack per link, β and γ per FG, work vectors.
	invSl, beta, gamma, tmpY, tmpR, tmpZ []float64
	// Barrier weights of the link, demand and x ≥ 0 constraints (see
	// reweight).
	om, od, op            []float64
	linkPaths             [][]int32 // paths on each link (direct solves)
	H                     []float64
	woodbury, directSteps int

	// Iterative link solve (m > denseLinks): the diagonal of M, CG
	// scratch, and the CG iterations spent.
	sparse                     bool
	mDiag, cgR, cgP, cgQ, cgZ  []float64
	cgPath                     []float64
	cgIters, inexact, cgSolves int
	retries                    int // Newton steps solved again with a fresh factor
	// The CG preconditioner is the Cholesky factor of an earlier M
	// (facValid), refreshed (refactor) once the CG iterations since cost
	// about as much as a factorisation; Jacobi until the first refresh.
	refactor, facValid bool
	sinceFactor        float64
	fac                []float64
	nnz                int
}

// denseLinks is the largest number of links for which the Newton system's
// link-space matrix M is formed and factorised densely (O(m³) a step);
// above it M is applied matrix-free, O(path-link incidences), in a
// Jacobi-preconditioned conjugate gradient.
const denseLinks = 300

// directPaths is the largest number of paths for which a Newton step may
// fall back to a dense factorisation in path space (O(n³), n² memory).
const directPaths = 2500

// kap is FG g's utility multiplier κ.
func (a *afSolver) kap(g int) float64 {
	if a.k == nil {
		return 1
	}
	return a.k[g]
}

func (a *afSolver) util(f float64) float64 {
	switch a.alpha {
	case 0:
		return f
	case 1:
		return math.Log(f)
	}
	return math.Pow(f, 1-a.alpha) / (1 - a.alpha)
}

// fill computes s and the link loads of x.
func (a *afSolver) fill(x []float64) {
	clear(a.load)
	for g := range a.w {
		sum := 0.0
		for p := a.gPath[g]; p < a.gPath[g+1]; p++ {
			sum += x[p]
			for _, l := range a.pLink[p] {
				a.load[l] += x[p]
			}
		}
		a.s[g] = sum
	}
}

// objective is Σ ŵ U(s/ŵ) at the current s.
func (a *afSolver) objective() float64 {
	v := 0.0
	for g, w := range a.w {
		v += a.kap(g) * w * a.util(a.s[g]/w)
	}
	return v
}

// tieBreak is the α = 0 regularisation ε·Σ ŵ log(s/ŵ) at the current s
// (0 for α > 0); see AlphaFair.
func (a *afSolver) tieBreak() float64 {
	if a.eps == 0 {
		return 0
	}
	v := 0.0
	for g, w := range a.w {
		v += w * math.Log(a.s[g]/w)
	}
	return a.eps * v
}

// barrier is F = −t·objective − Σ log slacks at x, or +Inf outside the
// domain.
func (a *afSolver) barrier(x []float64) float64 {
	for _, v := range x {
		if !(v > 0) {
			return math.Inf(1)
		}
	}
	a.fill(x)
	F := -a.t * (a.objective() + a.tieBreak())
	for l, c := range a.c {
		sl := c - a.load[l]
		if !(sl > 0) {
			return math.Inf(1)
		}
		F -= a.om[l] * math.Log(sl)
	}
	for g, d := range a.d {
		if !math.IsInf(d, 1) {
			sl := d - a.s[g]
			if !(sl > 0) {
				return math.Inf(1)
			}
			F -= a.od[g] * math.Log(sl)
		}
	}
	for p, v := range x {
		F -= a.op[p] * math.Log(v)
	}
	if math.IsNaN(F) {
		return math.Inf(1)
	}
	return F
}

// newton computes the Newton step Δ at a.x (a.fill must be current) and
// returns gᵀΔ (= −λ², the Newton decrement squared). H = B + Aᵀ·diag(1/sl²)·A
// with B_g = diag(1/x²) + γ_g·11ᵀ per FG; H⁻¹ is applied by the Woodbury
// identity through the Cholesky factor of M = diag(sl²) + A·B⁻¹·Aᵀ (m×m),
// and the solution is refined twice against H itself (the Woodbury form
// subtracts nearly equal vectors once links are almost full).
func (a *afSolver) newton(grad, delta []float64, M []float64, scratch []float64, touched []int32) (float64, error) {
	m := a.m
	if a.invSl == nil {
		a.invSl = make([]float64, m)
		a.beta = make([]float64, len(a.w))
		a.gamma = make([]float64, len(a.w))
		a.tmpY = make([]float64, len(a.x))
		a.tmpR = make([]float64, len(a.x))
		a.tmpZ = make([]float64, m)
	}
	for l := range a.c {
		a.invSl[l] = 1 / (a.c[l] - a.load[l])
	}
	// In sparse mode M is formed densely only to refresh the CG
	// preconditioner (see cgSolve).
	buildDense := !a.sparse || a.refactor
	if a.sparse {
		if a.mDiag == nil {
			a.mDiag = make([]float64, m)
		}
		for l := 0; l < m; l++ {
			sl := a.c[l] - a.load[l]
			a.mDiag[l] = sl * sl / a.om[l]
		}
	}
	if buildDense {
		clear(M)
		for l := 0; l < m; l++ {
			sl := a.c[l] - a.load[l]
			M[l*m+l] = sl * sl / a.om[l]
		}
	}
	for g, w := range a.w {
		f := a.s[g] / w
		dphi := a.kap(g) * math.Pow(f, -a.alpha)
		gamma := 0.0
		if a.alpha > 0 {
			gamma = a.kap(g) * a.t * a.alpha * math.Pow(f, -a.alpha-1) / w
		} else if a.eps > 0 {
			// U(f) = f + ε log f (the α = 0 tie-break).
			dphi += a.eps / f
			gamma = a.t * a.eps / (f * f * w)
		}
		dinv := 0.0
		if !math.IsInf(a.d[g], 1) {
			dinv = 1 / (a.d[g] - a.s[g])
			gamma += a.od[g] * dinv * dinv
			dinv *= a.od[g]
		}
		a.gamma[g] = gamma
		sx2 := 0.0 // σ = Σx²
		for p := a.gPath[g]; p < a.gPath[g+1]; p++ {
			gp := -a.t*dphi + dinv - a.op[p]/a.x[p]
			for _, l := range a.pLink[p] {
				gp += a.om[l] * a.invSl[l]
			}
			grad[p] = gp
			sx2 += a.x[p] * a.x[p] / a.op[p]
		}
		// B_g⁻¹ = D − k·D11ᵀD with D = diag(x²), k = γ/(1+γσ). Written as
		// (D − D11ᵀD/σ) + (β/σ)·D11ᵀD with β = 1/(1+γσ), both terms PSD, to
		// avoid the cancellation of D − k·D11ᵀD when γσ ≫ 1.
		beta := 1 / (1 + gamma*sx2)
		a.beta[g] = beta
		lo, hi := a.gPath[g], a.gPath[g+1]
		touched = touched[:0]
		for p := lo; p < hi; p++ {
			x2 := a.x[p] * a.x[p] / a.op[p]
			for _, l := range a.pLink[p] {
				if scratch[l] == 0 {
					touched = append(touched, l)
				}
				scratch[l] += x2
			}
		}
		if a.sparse {
			// Only the diagonal of M (the CG preconditioner):
			// u_l − u_l²/σ + (β/σ)·u_l² per link of the FG.
			for _, l := range touched {
				u := scratch[l]
				a.mDiag[l] += u*max(sx2-u, 0)/sx2 + beta*u*u/sx2
				if !buildDense {
					scratch[l] = 0
				}
			}
			if !buildDense {
				continue
			}
		}
		// (β/σ)·u uᵀ, u = Σ_p x_p² a_p.
		for _, l := range touched {
			ul := scratch[l] * beta / sx2
			for _, l2 := range touched {
				M[int(l)*m+int(l2)] += ul * scratch[l2]
			}
		}
		for _, l := range touched {
			scratch[l] = 0
		}
		// A(D − D11ᵀD/σ)Aᵀ = Σ_{p<q} x_p²x_q²/σ · (a_p − a_q)(a_p − a_q)ᵀ.
		for p := lo; p < hi; p++ {
			for q := p + 1; q < hi; q++ {
				c := a.x[p] * a.x[p] / a.op[p] * a.x[q] * a.x[q] / a.op[q] / sx2
				addDiffOuter(M, m, a.pLink[p], a.pLink[q], c)
			}
		}
	}
	clear(delta)
	if a.sparse && buildDense {
		a.refactor = false
		a.facValid = cholFactor(M, m) == nil
		a.sinceFactor = 0
	}
	if !a.sparse && cholFactor(M, m) != nil {
		return a.direct(grad, delta)
	}
	for p := range delta {
		a.tmpR[p] = -grad[p]
	}
	for round := 0; round < 3; round++ {
		if round > 0 && a.sparse {
			// The CG solve is accurate to its own tolerance: refine only
			// if H's residual says the step is not.
			if rn, gn := a.residual(grad, delta); rn <= 1e-20*gn {
				break
			}
		}
		if round > 0 {
			a.applyH(delta, a.tmpR)
			for p := range delta {
				a.tmpR[p] = -grad[p] - a.tmpR[p]
			}
		}
		a.solveH(M, a.tmpR)
		for p := range delta {
			delta[p] += a.tmpR[p]
		}
	}
	// Residual of the refined solution; if the Woodbury form has lost the
	// step, solve H directly.
	rn, gn := a.residual(grad, delta)
	dec := 0.0
	for p := range delta {
		dec += grad[p] * delta[p]
	}
	if !(rn <= 1e-20*gn) || !(dec < 0) {
		if len(a.x) <= directPaths {
			return a.direct(grad, delta)
		}
		if a.sparse && !buildDense {
			// The preconditioner is an earlier step's factor and CG did not
			// reach the step: solve again with a factor of this step's M
			// (CG then only refines it). Without this, whether a step was
			// found hung on rounding: a factorisation summing in another
			// order once turned a converging solve into a failed one.
			a.refactor = true
			a.retries++
			return a.newton(grad, delta, M, scratch, touched)
		}
		// Too large to factorise in path space: an inexact Newton step is
		// still a descent direction if dec < 0 (the duality gap is a
		// certificate however the steps were found).
		if !(dec < 0) {
			return 0, fmt.Errorf("%w: Newton system solved only to relative residual %.2g", ErrNotConverged, math.Sqrt(rn/gn))
		}
		a.inexact++
	}
	a.woodbury++
	return dec, nil
}

// buildH writes the path-space Hessian into H (n×n), its diagonal raised
// by the relative amount reg.
func (a *afSolver) buildH(H []float64, reg float64) {
	n := len(a.x)
	for g := range a.w {
		lo, hi := a.gPath[g], a.gPath[g+1]
		for p := lo; p < hi; p++ {
			H[p*n+p] += a.op[p] / (a.x[p] * a.x[p])
			for q := lo; q < hi; q++ {
				H[p*n+q] += a.gamma[g]
			}
		}
	}
	for l, ps := range a.linkPaths {
		wl := a.om[l] * a.invSl[l] * a.invSl[l]
		for _, p := range ps {
			for _, q := range ps {
				H[int(p)*n+int(q)] += wl
			}
		}
	}
	for p := 0; p < n; p++ {
		H[p*n+p] *= 1 + reg
	}
}

// direct solves H Δ = −g by a dense Cholesky factorisation of H in path
// space (n×n for n paths): O(n³), used when the Woodbury solve is not
// accurate enough (late iterations, links nearly full).
func (a *afSolver) direct(grad, delta []float64) (float64, error) {
	n := len(a.x)
	if a.linkPaths == nil {
		a.linkPaths = make([][]int32, a.m)
		for p, pl := range a.pLink {
			for _, l := range pl {
				a.linkPaths[l] = append(a.linkPaths[l], int32(p))
			}
		}
	}
	if len(a.H) != n*n {
		a.H = make([]float64, n*n)
	}
	H := a.H
	clear(H)
	a.buildH(H, 0)
	if err := cholFactor(H, n); err != nil {
		// Positive definite in exact arithmetic, but not numerically: add
		// a relative 1e-12 to the diagonal (a tiny proximal term) and retry.
		clear(H)
		a.buildH(H, 1e-12)
		if err := cholFactor(H, n); err != nil {
			return 0, err
		}
	}
	for p := range delta {
		delta[p] = -grad[p]
	}
	cholSolve(H, n, delta)
	a.directSteps++
	dec := 0.0
	for p := range delta {
		dec += grad[p] * delta[p]
	}
	return dec, nil
}

// applyB overwrites v (per path) with B⁻¹v.
func (a *afSolver) applyBinv(v []float64) {
	for g := range a.w {
		lo, hi := a.gPath[g], a.gPath[g+1]
		sxv, sx2 := 0.0, 0.0
		for p := lo; p < hi; p++ {
			x2 := a.x[p] * a.x[p] / a.op[p]
			sxv += x2 * v[p]
			sx2 += x2
		}
		vbar := sxv / sx2
		for p := lo; p < hi; p++ {
			v[p] = a.x[p] * a.x[p] / a.op[p] * (v[p] - vbar + a.beta[g]*vbar)
		}
	}
}

// solveH overwrites r with H⁻¹r (M holds the Cholesky factor).
func (a *afSolver) solveH(M []float64, r []float64) {
	a.applyBinv(r) // y = B⁻¹ r
	z := a.tmpZ
	clear(z)
	for p, pl := range a.pLink {
		for _, l := range pl {
			z[l] += r[p]
		}
	}
	if a.sparse {
		a.cgSolve(z)
	} else {
		cholSolve(M, a.m, z)
	}
	v := a.tmpY
	a.pathSums(z, v)
	a.applyBinv(v)
	for p := range r {
		r[p] -= v[p]
	}
}

// residual returns |HΔ + g|² and |g|² (a.tmpR is overwritten).
func (a *afSolver) residual(grad, delta []float64) (rn, gn float64) {
	a.applyH(delta, a.tmpR)
	for p := range delta {
		r := a.tmpR[p] + grad[p]
		rn += r * r
		gn += grad[p] * grad[p]
	}
	return rn, gn
}

// pathSums sets y = Aᵀv: each path's sum of v over its links.
func (a *afSolver) pathSums(v, y []float64) {
	for p, pl := range a.pLink {
		s := 0.0
		for _, l := range pl {
			s += v[l]
		}
		y[p] = s
	}
}

// applyM sets out = M v = diag(sl²/ω) v + A·B⁻¹·Aᵀ v, matrix-free.
func (a *afSolver) applyM(v, out []float64) {
	y := a.cgPath
	a.pathSums(v, y)
	a.applyBinv(y)
	for l := range out {
		sl := a.c[l] - a.load[l]
		out[l] = sl * sl / a.om[l] * v[l]
	}
	for p, pl := range a.pLink {
		for _, l := range pl {
			out[l] += y[p]
		}
	}
}

// cgSolve overwrites b with M⁻¹b by the conjugate gradient method,
// preconditioned by the Cholesky factor of an earlier M (or M's diagonal
// before the first), to a relative residual of 1e-13 or 200 iterations
// (a.cgIters counts them); a solve that needs more than 100 iterations
// refreshes the factor for the next Newton step.
func (a *afSolver) cgSolve(b []float64) {
	m := a.m
	if a.cgR == nil {
		a.cgR, a.cgP, a.cgQ, a.cgZ = make([]float64, m), make([]float64, m), make([]float64, m), make([]float64, m)
		a.cgPath = make([]float64, len(a.x))
	}
	r, pv, q, z := a.cgR, a.cgP, a.cgQ, a.cgZ
	copy(r, b)
	bn := 0.0
	for l, v := range b {
		bn += v * v
		b[l] = 0
	}
	if bn == 0 {
		return
	}
	precond := func() float64 {
		if a.facValid {
			copy(z, r)
			cholSolve(a.fac, m, z)
		} else {
			for l := range r {
				z[l] = r[l] / a.mDiag[l]
			}
		}
		rz := 0.0
		for l := range r {
			rz += r[l] * z[l]
		}
		return rz
	}
	defer func() {
		// A CG iteration costs about 2·nnz + (with the factor) 2·m²; a
		// factorisation m³/3 plus forming M.
		// A factorisation runs several times faster per flop than the
		// scattered matrix-free products, hence m³/10.
		if a.sinceFactor > float64(m)*float64(m)*float64(m)/10 {
			a.refactor = true
		}
	}()
	rz := precond()
	copy(pv, z)
	a.cgSolves++
	for it := 0; it < 200; it++ {
		if it == 100 && !a.refactor {
			// A stale preconditioner: refresh it for the next step.
			a.refactor = true
		}
		a.applyM(pv, q)
		pq := 0.0
		for l := range q {
			pq += pv[l] * q[l]
		}
		if !(pq > 0) {
			return
		}
		alpha := rz / pq
		rn := 0.0
		for l := range r {
			b[l] += alpha * pv[l]
			r[l] -= alpha * q[l]
			rn += r[l] * r[l]
		}
		a.cgIters++
		a.sinceFactor += 2 * float64(a.nnz)
		if a.facValid {
			a.sinceFactor += 2 * float64(m) * float64(m)
		}
		if rn <= 1e-26*bn {
			return
		}
		rz2 := precond()
		beta := rz2 / rz
		rz = rz2
		for l := range pv {
			pv[l] = z[l] + beta*pv[l]
		}
	}
}

// applyH sets out = H v.
func (a *afSolver) applyH(v, out []float64) {
	z := a.tmpZ
	clear(z)
	for p, pl := range a.pLink {
		for _, l := range pl {
			z[l] += v[p]
		}
	}
	for l := range z {
		z[l] *= a.om[l] * a.invSl[l] * a.invSl[l]
	}
	for g := range a.w {
		lo, hi := a.gPath[g], a.gPath[g+1]
		sv := 0.0
		for p := lo; p < hi; p++ {
			sv += v[p]
		}
		for p := lo; p < hi; p++ {
			s := v[p]*a.op[p]/(a.x[p]*a.x[p]) + a.gamma[g]*sv
			for _, l := range a.pLink[p] {
				s += z[l]
			}
			out[p] = s
		}
	}
}

// addDiffOuter adds c·(a_p − a_q)(a_p − a_q)ᵀ to M, where a_p, a_q are the
// link indicator vectors of paths lp and lq (links in both cancel).
func addDiffOuter(M []float64, m int, lp, lq []int32, c float64) {
	var buf [16]struct {
		l int32
		s float64
	}
	d := buf[:0]
	for _, l := range lp {
		if !slices.Contains(lq, l) {
			d = append(d, struct {
				l int32
				s float64
			}{l, 1})
		}
	}
	for _, l := range lq {
		if !slices.Contains(lp, l) {
			d = append(d, struct {
				l int32
				s float64
			}{l, -1})
		}
	}
	for _, e := range d {
		for _, e2 := range d {
			M[int(e.l)*m+int(e2.l)] += c * e.s * e2.s
		}
	}
}

// scales returns each FG's utility scale σ_g = ŵ_g·f_g^(1−α) (= s_g times
// its marginal utility) and the per-FG relative gap: the duality gap splits
// into nonnegative terms, λ_l·slack_l per link and, per FG,
// h_g(q_g) − ŵU(f_g) + Σ_p x_p(π_p + μ_g) + μ_g·(d_g − s_g); the result is
// the largest FG term over σ_g and link term over max(λ_l c_l, min σ on l).
func (a *afSolver) scales(lam, mu []float64) (sig []float64, fgGap float64) {
	sig, fgTerm, linkTerm := a.gapTerms(lam, mu)
	for _, v := range fgTerm {
		fgGap = max(fgGap, v)
	}
	for _, v := range linkTerm {
		fgGap = max(fgGap, v)
	}
	return sig, fgGap
}

// gapTerms returns the utility scales σ_g and the relative gap terms of
// scales, per solver FG and per solver link.
func (a *afSolver) gapTerms(lam, mu []float64) (sig, fgTerm, linkTerm []float64) {
	sig = make([]float64, len(a.w))
	fgTerm = make([]float64, len(a.w))
	linkTerm = make([]float64, a.m)
	for g, w := range a.w {
		if a.alpha == 0 {
			sig[g] = a.s[g]
		} else {
			sig[g] = a.kap(g) * w * math.Pow(a.s[g]/w, 1-a.alpha)
		}
	}
	minSig := make([]float64, a.m)
	for l := range minSig {
		minSig[l] = math.Inf(1)
	}
	for g := range a.w {
		q := math.Inf(1)
		term := 0.0
		for p := a.gPath[g]; p < a.gPath[g+1]; p++ {
			pi := mu[g]
			for _, l := range a.pLink[p] {
				pi += lam[l]
				minSig[l] = min(minSig[l], sig[g])
			}
			q = min(q, pi)
			term += a.x[p] * pi
		}
		if !math.IsInf(a.d[g], 1) {
			term += mu[g] * (a.d[g] - a.s[g])
		}
		term += a.h(g, q) - a.kap(g)*a.w[g]*a.util(a.s[g]/a.w[g])
		fgTerm[g] = term / sig[g]
	}
	for l, c := range a.c {
		linkTerm[l] = lam[l] * (c - a.load[l]) / max(lam[l]*c, minSig[l])
	}
	return sig, fgTerm, linkTerm
}

// h is sup_{s≥0} ŵ_g U(s/ŵ_g) − q·s.
func (a *afSolver) h(g int, q float64) float64 {
	w := a.w[g]
	switch a.alpha {
	case 0:
		if q >= 1 {
			return 0
		}
		return math.Inf(1)
	case 1:
		return w * (-math.Log(q) - 1)
	}
	// κ·sup_s [ŵU(s/ŵ) − (q/κ)s] for the utility scaled by κ.
	k := a.kap(g)
	return k * w * math.Pow(q/k, (a.alpha-1)/a.alpha) * a.alpha / (1 - a.alpha)
}

// reweight sets the barrier weights for the next centring in proportion to
// each constraint's scale: λ_l·c_l for a link (at least the smallest σ of
// its FGs), μ_g·d_g for a demand (at least σ_g), σ_g for x ≥ 0, normalised
// to sum to nCons. On the weighted central path every complementarity
// product is its weight over t, so each constraint's is the same fraction
// of its own scale; with unit weights (the plain barrier) the FGs whose
// utility terms are small (large α, f^(1−α)) would need t beyond what
// float64 can follow.
func (a *afSolver) reweight(nCons float64) {
	lam, mu, _, _ := a.duals()
	sig, _ := a.scales(lam, mu)
	minSig := make([]float64, a.m)
	for l := range minSig {
		minSig[l] = math.Inf(1)
	}
	for g := range a.w {
		for p := a.gPath[g]; p < a.gPath[g+1]; p++ {
			a.op[p] = sig[g]
			for _, l := range a.pLink[p] {
				minSig[l] = min(minSig[l], sig[g])
			}
		}
		if !math.IsInf(a.d[g], 1) {
			a.od[g] = max(mu[g]*a.d[g], sig[g])
		}
	}
	for l, c := range a.c {
		a.om[l] = max(lam[l]*c, minSig[l])
	}
	sum := 0.0
	for _, ws := range [][]float64{a.om, a.od, a.op} {
		for _, v := range ws {
			sum += v
		}
	}
	k := nCons / sum
	for _, ws := range [][]float64{a.om, a.od, a.op} {
		for i := range ws {
			ws[i] *= k
		}
	}
}

// cheapestPath is the smallest sum of lam over the links of one of FG g's
// paths.
func (a *afSolver) cheapestPath(g int, lam []float64) float64 {
	best := math.Inf(1)
	for p := a.gPath[g]; p < a.gPath[g+1]; p++ {
		v := 0.0
		for _, l := range a.pLink[p] {
			v += lam[l]
		}
		best = min(best, v)
	}
	return best
}

// duals returns the barrier's dual prices at the current point (a.fill
// current), the dual bound and the primal objective.
func (a *afSolver) duals() (lam, mu []float64, dual, primal float64) {
	lam = make([]float64, a.m)
	mu = make([]float64, len(a.w))
	for l, c := range a.c {
		lam[l] = a.om[l] / (a.t * (c - a.load[l]))
	}
	for g, d := range a.d {
		if !math.IsInf(d, 1) {
			mu[g] = a.od[g] / (a.t * (d - a.s[g]))
		}
	}
	q := make([]float64, len(a.w))
	minQ := math.Inf(1)
	for g := range a.w {
		q[g] = a.cheapestPath(g, lam) + mu[g]
		minQ = min(minQ, q[g])
	}
	if a.alpha == 0 && minQ < 1 {
		// The dual function is finite only where every path price is ≥ the
		// marginal utility 1. Raise the prices of the paths short of it, each
		// by its own shortfall: a capped FG's demand price, else the price of
		// the path's smallest link. (Scaling every price by 1/min q instead
		// loosened the bound by the worst shortfall times the whole dual, and
		// the relative gap of some problems stalled above 1e-6.) Raising
		// prices only raises other paths' prices, so one pass suffices.
		for g := range a.w {
			short := 1 - a.cheapestPath(g, lam) - mu[g]
			if short <= 0 {
				continue
			}
			if !math.IsInf(a.d[g], 1) {
				mu[g] += short
			} else {
				for p := a.gPath[g]; p < a.gPath[g+1]; p++ {
					v, best := mu[g], a.pLink[p][0]
					for _, l := range a.pLink[p] {
						v += lam[l]
						if a.c[l] < a.c[best] {
							best = l
						}
					}
					if v < 1 {
						lam[best] += 1 - v
					}
				}
			}
		}
		for g := range a.w {
			q[g] = a.cheapestPath(g, lam) + mu[g]
		}
	}
	for l, c := range a.c {
		dual += lam[l] * c
	}
	for g, d := range a.d {
		if mu[g] > 0 {
			dual += mu[g] * d
		}
		// sup_{s≥0} ŵ U(s/ŵ) − q s
		w := a.w[g]
		switch a.alpha {
		case 0:
		case 1:
			dual += w * (-math.Log(q[g]) - 1)
		default:
			dual += a.h(g, q[g])
		}
	}
	return lam, mu, dual, a.objective()
}

// AlphaFair computes the weighted α-fair allocation of p (see the formulation
// above) to a certified relative duality gap of 1e-6 (WithGapTolerance).
//
// Weights: a weight function's weight; for a piecewise-linear bandwidth
// function, the slope of its first segment. Caps: the demand and, for a
// piecewise-linear function, its top rate (the smaller). The problem's Mode
// and path weights are ignored: every path of an FG is a free variable
// (multipath routing is part of the optimisation). Children share their
// parent's α-fair rate by Allocate's max-min water-fill; the hierarchy is not
// part of the α-fair objective.
//
// α = 0 (throughput, a linear program) is degenerate: the optimum need not
// be unique, the barrier's dual prices sit at the edge of dual feasibility
// (path price ≥ 1), and the LP's dual bound is linear in them, so the
// centring error costs its full size in gap: the gap stalled near the
// tolerance and 14–29 % of random problems did not converge. So for α = 0
// each centring ends with one more full Newton step (squaring that error),
// and the barrier follows the central path of throughput plus a tie-break
// term,
//
//	Σ_i s_i + ε·Σ_i ŵ_i log(s_i/ŵ_i),  ε = tol/4 · T₀/Σŵ
//
// (T₀ the start's throughput, a lower bound of the optimum), with the
// x ≥ 0 barrier weighted ∝ ŵ_i/paths. Its prices are strictly dual feasible
// (path prices ≥ 1 + ε/f_i), and at its optimum the LP duality gap is
// exactly ε·Σŵ ≤ tol/4 of the throughput. The stop test and the reported
// Gap are the LP's own (the LP dual bound at the barrier's prices), so the
// throughput is certified within the tolerance of the LP optimum. The
// tie-break this defines: the allocation is the point of that central path
// where the LP gap first reaches the tolerance. It is deterministic and
// symmetric (symmetric FGs and paths get equal rates), and it leans to
// weighted proportional fairness: single-path FGs tied on the same links
// split ∝ weight (one link, weights 1:3 → 25 % / 75 %), since both the
// term and the weighted barrier are Σ ŵ log s there. Between the paths of a
// multipath FG it is not a closed form.
//
// It returns a *ValidationError for an invalid problem, and an error for α
// outside [0, MaxAlpha] or an FG whose function has a flat first segment
// (weight 0).
func AlphaFair(p *Problem, alpha float64, opts ...AlphaOption) (*AlphaResult, error) {
	o := alphaOptions{tol: 1e-6, maxSteps: 3000}
	for _, opt := range opts {
		opt(&o)
	}
	if !(alpha >= 0 && alpha <= MaxAlpha) {
		return nil, fmt.Errorf("allocator: α must be a number from 0 to %d, got %v", MaxAlpha, alpha)
	}
	if !(o.tol > 0) {
		return nil, fmt.Errorf("allocator: gap tolerance must be positive, got %v", o.tol)
	}
	r, err := alphaFairRetry(p, alpha, o)
	if o.ctx != nil && o.ctx.Err() != nil {
		// A level or retry step that took a cancelled solve for a
		// non-converged one must not return a partial answer.
		return nil, o.ctx.Err()
	}
	if err == nil {
		err = finiteResult(r, alpha)
	}
	if err != nil {
		return nil, err
	}
	return r, nil
}

// finiteResult is ErrNotConverged when a figure of r is NaN or infinite:
// float64 ran out somewhere (above MaxAlpha a per-FG certificate of +Inf
// came with NaN stationarity), and such an allocation is not an answer: the
// JSON writer refuses it (Result.checkFinite), but the table, the plot and
// the closed loop would take it. Checked here, at the source, for all.
func finiteResult(r *AlphaResult, alpha float64) error {
	for _, f := range []struct {
		name string
		v    float64
	}{{"objective", r.Objective}, {"gap", r.Gap}, {"relative gap", r.RelGap}, {"FG gap", r.FGGap}} {
		if !finite(f.v) {
			return fmt.Errorf("%w: the %s is %v (float64 ran out at α = %v)", ErrNotConverged, f.name, f.v, alpha)
		}
	}
	for _, g := range r.FlowGroups {
		if !finite(g.Rate) || !finite(g.MarginalUtility) || !finite(g.DemandPrice) {
			return fmt.Errorf("%w: flow group %s: rate %v, marginal utility %v, demand price %v (float64 ran out at α = %v)", ErrNotConverged, g.Name, g.Rate, g.MarginalUtility, g.DemandPrice, alpha)
		}
		for _, pr := range g.Paths {
			if !finite(pr.Rate) {
				return fmt.Errorf("%w: flow group %s: a path's rate is %v (float64 ran out at α = %v)", ErrNotConverged, g.Name, pr.Rate, alpha)
			}
		}
	}
	for _, l := range r.Links {
		if !finite(l.Load) || !finite(l.Price) {
			return fmt.Errorf("%w: link %s: load %v, price %v (float64 ran out at α = %v)", ErrNotConverged, l.Name, l.Load, l.Price, alpha)
		}
	}
	return nil
}

// levelTerms are one solve's relative gap terms (see afSolver.gapTerms)
// per problem FG and link; NaN for those the solver left out.
type levelTerms struct{ fg, link []float64 }

// alphaFairOnce is one interior-point solve of the whole problem. For
// α > contFrom it first solves at α/contStep (to contTol) and then tries
// three starts in turn until one converges: from that allocation with the
// first centring aimed at a relative gap of 1, the same aimed at 1e-2, and
// the cold central start (alone if the solve at α/contStep failed). Which
// of the warm starts converges depends on the problem: on random multipath
// problems at α = 100 either one alone failed on some that the other
// solved, and the cold start solved one that both missed. Iterations and
// Centerings count the solve at α/contStep and the start that converged
// (not the failed tries).
func alphaFairOnce(p *Problem, alpha float64, o alphaOptions) (*AlphaResult, *levelTerms, error) {
	if alpha <= contFrom {
		return alphaFairStart(p, alpha, o, coldStart, nil)
	}
	lo := o
	lo.tol = max(o.tol, contTol)
	prev, _, err := alphaFairOnce(p, alpha/contStep, lo)
	starts := []startKind{warmLoose, warmTight, coldStart}
	switch {
	case errors.Is(err, ErrNotConverged):
		prev, starts = nil, []startKind{coldStart}
	case err != nil:
		return nil, nil, err
	}
	for _, st := range starts {
		var res *AlphaResult
		var terms *levelTerms
		if res, terms, err = alphaFairStart(p, alpha, o, st, prev); !errors.Is(err, ErrNotConverged) {
			return res, terms, err
		}
	}
	return nil, nil, err
}

// startKind is where alphaFairStart starts (see alphaFairOnce).
type startKind int

const (
	warmLoose startKind = iota
	warmTight
	coldStart
)

// alphaFairStart is one interior-point solve of the whole problem from the
// start st; the warm starts begin at prev, an allocation of p (at a
// smaller α).
func alphaFairStart(p *Problem, alpha float64, o alphaOptions, st startKind, prev *AlphaResult) (*AlphaResult, *levelTerms, error) {
	if err := p.Validate(); err != nil {
		return nil, nil, err
	}
	linkIdx := make(map[string]int, len(p.Links))
	for i, l := range p.Links {
		linkIdx[l.Name] = i
	}
	res := &AlphaResult{Alpha: alpha, FlowGroups: make([]AlphaGroupResult, len(p.FlowGroups)), Links: make([]AlphaLinkResult, len(p.Links))}
	for i, l := range p.Links {
		res.Links[i] = AlphaLinkResult{Name: l.Name, Capacity: l.Capacity}
	}
	a := &afSolver{alpha: alpha}
	solverLink := make([]int32, len(p.Links))
	for i := range solverLink {
		solverLink[i] = -1
	}
	var origLink []int
	var wRaw, dRaw []float64
	maxW := 0.0
	for i := range p.FlowGroups {
		fg := &p.FlowGroups[i]
		w, top := alphaWeight(fg.Function)
		if !(w > 0) {
			return nil, nil, fmt.Errorf("allocator: %s: α-fair needs a positive weight, but the bandwidth function's first segment is flat", fgItem(i, fg.Name))
		}
		cp := top
		if fg.Demand != nil {
			cp = min(cp, *fg.Demand)
		}
		gr := &res.FlowGroups[i]
		*gr = AlphaGroupResult{Name: fg.Name, Weight: w, Cap: cp, Paths: make([]PathResult, len(fg.Paths))}
		for j, pa := range fg.Paths {
			gr.Paths[j].Links = pa.Links
		}
		if cp == 0 {
			continue
		}
		start := len(a.pLink)
		for j, pa := range fg.Paths {
			usable := true
			for _, ln := range pa.Links {
				if p.Links[linkIdx[ln]].Capacity == 0 {
					usable = false
				}
			}
			if !usable {
				continue
			}
			ls := make([]int32, len(pa.Links))
			for k, ln := range pa.Links {
				li := linkIdx[ln]
				if solverLink[li] < 0 {
					solverLink[li] = int32(len(origLink))
					origLink = append(origLink, li)
				}
				ls[k] = solverLink[li]
			}
			a.pLink = append(a.pLink, ls)
			a.pOrig = append(a.pOrig, j)
		}
		if len(a.pLink) == start {
			continue
		}
		a.gPath = append(a.gPath, start)
		a.grp = append(a.grp, i)
		wRaw = append(wRaw, w)
		dRaw = append(dRaw, cp)
		maxW = max(maxW, w)
	}
	a.gPath = append(a.gPath, len(a.pLink))
	a.m = len(origLink)
	terms := &levelTerms{fg: make([]float64, len(p.FlowGroups)), link: make([]float64, len(p.Links))}
	for _, v := range [][]float64{terms.fg, terms.link} {
		for i := range v {
			v[i] = math.NaN()
		}
	}
	if len(a.grp) == 0 {
		return res, terms, nil
	}
	// Scales: weights by the largest; rates so that the first link to fill
	// under equal fair shares (weight per path split evenly) fills at
	// share 1.
	wl := make([]float64, a.m)
	for g := range a.grp {
		np := float64(a.gPath[g+1] - a.gPath[g])
		for p := a.gPath[g]; p < a.gPath[g+1]; p++ {
			for _, l := range a.pLink[p] {
				wl[l] += wRaw[g] / maxW / np
			}
		}
	}
	f0 := math.Inf(1)
	for l, li := range origLink {
		f0 = min(f0, p.Links[li].Capacity/wl[l])
	}
	R := f0
	// Large α: warm start from the allocation at a smaller α (see
	// alphaFairOnce), with the rates scaled so that its smallest fair share
	// is 1: the utilities f^(1−α) are then at most ŵ/(α − 1) instead of
	// whatever the first link's fill level gives (at α = 100 a factor 2
	// off is 2^99).
	var warm []float64
	if prev != nil && st != coldStart {
		res.Iterations, res.Centerings = prev.Iterations, prev.Centerings
		warm = make([]float64, len(a.pLink))
		fmin := math.Inf(1)
		for g, i := range a.grp {
			rate := 0.0
			for q := a.gPath[g]; q < a.gPath[g+1]; q++ {
				warm[q] = prev.FlowGroups[i].Paths[a.pOrig[q]].Rate
				rate += warm[q]
			}
			fmin = min(fmin, rate/wRaw[g])
		}
		if fmin > 0 && !math.IsInf(fmin, 1) {
			R = fmin * maxW
		}
	}
	res.RateScale, res.WeightScale, res.ShareScale = R, maxW, R/maxW
	a.c = make([]float64, a.m)
	for l, li := range origLink {
		a.c[l] = p.Links[li].Capacity / R
	}
	a.w = make([]float64, len(a.grp))
	a.d = make([]float64, len(a.grp))
	for g, i := range a.grp {
		a.w[g] = wRaw[g] / maxW
		a.d[g] = dRaw[g] / R
		if i < len(o.uscale) && o.uscale[i] > 0 && o.uscale[i] != 1 {
			if a.k == nil {
				a.k = make([]float64, len(a.grp))
				for g := range a.k {
					a.k[g] = 1
				}
			}
			a.k[g] = o.uscale[i]
		}
	}
	// Strictly feasible start: half of each link shared by path weight.
	const theta = 0.5
	a.x = make([]float64, len(a.pLink))
	for g := range a.grp {
		np := float64(a.gPath[g+1] - a.gPath[g])
		for p := a.gPath[g]; p < a.gPath[g+1]; p++ {
			v := math.Inf(1)
			for _, l := range a.pLink[p] {
				v = min(v, a.c[l]*a.w[g]/np/wl[l])
			}
			v = min(v, a.d[g]/np)
			a.x[p] = theta * v
		}
	}
	if warm != nil {
		// Strictly inside: a 1/α part of the central start keeps every
		// slack ≥ c/(2α) while the shares stay ≥ (1 − 1/α) of the warm
		// start's, so its utilities are at most e times the warm start's.
		b := 1 / alpha
		for q := range a.x {
			a.x[q] = (1-b)*warm[q]/R + b*a.x[q]
		}
	}
	a.s = make([]float64, len(a.grp))
	a.om, a.od, a.op = make([]float64, a.m), make([]float64, len(a.grp)), make([]float64, len(a.x))
	for _, ws := range [][]float64{a.om, a.od, a.op} {
		for i := range ws {
			ws[i] = 1
		}
	}
	for g, d := range a.d {
		if math.IsInf(d, 1) {
			a.od[g] = 0
		}
	}
	if alpha == 0 {
		// The x ≥ 0 barrier weighted by ŵ/paths (mean 1): on the central
		// path, FGs tied on the same single paths split ∝ ŵ, as the
		// tie-break term does (see AlphaFair).
		sum := 0.0
		for g, w := range a.w {
			np := float64(a.gPath[g+1] - a.gPath[g])
			for p := a.gPath[g]; p < a.gPath[g+1]; p++ {
				a.op[p] = w / np
				sum += w / np
			}
		}
		for p := range a.op {
			a.op[p] *= float64(len(a.op)) / sum
		}
	}
	a.load = make([]float64, a.m)
	a.fill(a.x)
	nCons := a.m + len(a.x)
	for _, d := range a.d {
		if !math.IsInf(d, 1) {
			nCons++
		}
	}
	// The gap is measured twice. RelGap: against gapScale (see there); the
	// solver stops when it is ≤ tol. FGGap: against the smallest per-FG
	// utility scale ŵ_i·f_i^(1−α) = s_i·MU_i (the throughput for α = 0).
	// For large α the objective is a sum of terms of very different sizes
	// (f^(1−α)), and a gap small against the sum says little about the FGs
	// with small terms; a gap small against every FG's own scale bounds each
	// FG's deviation. The solver goes on until FGGap ≤ tol too, or until
	// float64 precision runs out (the iterate with the smallest FGGap is
	// returned).
	sumW := 0.0
	for _, w := range a.w {
		sumW += w
	}
	relDen := func(obj float64) float64 { return gapScale(alpha, obj, sumW) }
	if alpha == 0 {
		// The tie-break costs at most ε·Σŵ of throughput at its optimum
		// (see AlphaFair): a quarter of the tolerance relative to the
		// start's throughput, a lower bound of the optimum.
		sw := 0.0
		for _, w := range a.w {
			sw += w
		}
		a.eps = o.tol / 4 * a.objective() / sw
	}
	// On the central path the gap is Σω/t = nCons/t: the first centring
	// aims at a relative gap of 1, or, for warmTight, at 1e-2, about what
	// the warm start is off by at this α (aimed at 1, the first centring
	// can pull the warm start back towards the analytic centre, from where
	// some problems at α = 100 did not recover).
	a.t = float64(nCons) / max(relDen(a.objective()), 1e-300)
	if st == warmTight {
		a.t *= 100
	}
	grad := make([]float64, len(a.x))
	delta := make([]float64, len(a.x))
	trial := make([]float64, len(a.x))
	a.sparse = a.m > denseLinks
	M := make([]float64, a.m*a.m)
	if a.sparse {
		a.fac, a.refactor = M, true
		for _, pl := range a.pLink {
			a.nnz += len(pl)
		}
	}
	scratch := make([]float64, a.m)
	touched := make([]int32, 0, 16)
	const mu = 10.0
	const maxInner = 50
	var lam, muD []float64
	var best *afSnapshot
	minRel, minRelT := math.Inf(1), 0.0 // the smallest relative gap so far, and its t
	restore := func() {
		copy(a.x, best.x)
		copy(a.om, best.om)
		copy(a.od, best.od)
		copy(a.op, best.op)
		a.t = best.t
		a.fill(a.x)
	}
outer:
	for {
		res.Centerings++
		inner, polish := 0, false
		// Centring: damped Newton until the decrement is tiny.
		for {
			if o.ctx != nil {
				// Before the error handling below, which keeps the best
				// iterate of a solve that fails: cancelling is not failing.
				if err := o.ctx.Err(); err != nil {
					return nil, nil, err
				}
			}
			var err error
			F := a.barrier(a.x)
			switch {
			case res.Iterations >= o.maxSteps:
				err = fmt.Errorf("%w after %d Newton steps (relative gap %.3g)", ErrNotConverged, res.Iterations, res.RelGap)
			case math.IsInf(F, 0):
				err = fmt.Errorf("%w: iterate left float64 range (α = %v too large for this problem?)", ErrNotConverged, alpha)
			}
			var dec float64
			if err == nil {
				dec, err = a.newton(grad, delta, M, scratch, touched)
				if errors.Is(err, ErrInternal) {
					// A Newton system that is not numerically positive
					// definite is float64 running out, not a bug: the
					// solve did not converge (AlphaFair's levels then
					// fall back to max-min shares).
					err = fmt.Errorf("%w: %w", ErrNotConverged, err)
				}
			}
			if err != nil {
				if best != nil {
					restore()
					break outer
				}
				return nil, nil, err
			}
			res.Iterations++
			inner++
			// A centring need not be exact: the duals of any feasible point
			// bound the optimum (the gap below is a certificate either way).
			if -dec/2 <= 1e-9 || inner > maxInner {
				if alpha > 0 || polish || inner > maxInner {
					break
				}
				// α = 0: one more (full) step. The LP's dual bound
				// Σλc + Σμd is linear in the prices, so a price off by the
				// centring error δ (≈ the Newton decrement, 4e-5 here) costs
				// δ·Σλc of gap, which stalled the gap just above 1e-6; a
				// step in the quadratic region squares δ. (For α > 0 the
				// dual function is flat to first order at the optimum.)
				polish = true
			}
			// Largest step keeping x > 0, then backtracking.
			step := 1.0
			for p, dx := range delta {
				if dx < 0 {
					step = min(step, -0.99*a.x[p]/dx)
				}
			}
			maxStep := step
			improved := false
			if lam := math.Sqrt(-dec); lam < 0.25 {
				// Quadratic convergence region: take the full step. Comparing
				// barrier values here would be lost in rounding (F ≈ t·objective).
				for p := range trial {
					trial[p] = a.x[p] + step*delta[p]
				}
				if !math.IsInf(a.barrier(trial), 1) {
					copy(a.x, trial)
					improved = true
				}
			}
			for k := 0; k < 60 && !improved; k++ {
				for p := range trial {
					trial[p] = a.x[p] + step*delta[p]
				}
				if Ft := a.barrier(trial); Ft <= F+0.25*step*dec {
					copy(a.x, trial)
					improved = true
					break
				}
				step /= 2
			}
			if !improved {
				// Barrier values differing by less than their rounding
				// (F ≈ t·objective): the damped step 1/(1+λ) of
				// self-concordance theory, which decreases F.
				step = min(maxStep, 1/(1+math.Sqrt(-dec)))
				for p := range trial {
					trial[p] = a.x[p] + step*delta[p]
				}
				if !math.IsInf(a.barrier(trial), 1) {
					copy(a.x, trial)
					improved = true
				}
			}
			a.fill(a.x)
			if !improved || polish {
				// No progress at float64 precision (as centred as it gets),
				// or the α = 0 polishing step taken.
				break
			}
		}
		_, _, dual, primal := a.duals()
		gap := max(dual-primal, 0)
		lamC, muC, _, _ := a.duals()
		_, fg := a.scales(lamC, muC)
		rel := gap / max(relDen(primal), 1e-300)
		if rel <= o.tol && (best == nil || fg < best.fgGap) {
			best = &afSnapshot{x: slices.Clone(a.x), om: slices.Clone(a.om), od: slices.Clone(a.od), op: slices.Clone(a.op), t: a.t, fgGap: fg}
		}
		res.RelGap = rel
		if rel <= o.tol && (fg <= o.tol || alpha == 0) {
			break
		}
		if best == nil && minRel < 1e-3 && rel > 100*minRel && a.t > 1e4*minRelT {
			// The gap was once below 1e-3 and 100 times smaller, and has
			// grown since, for four centrings: float64 precision ran out
			// before the tolerance (the Newton steps no longer centre).
			// Following t further only loses the gap; the step limit would
			// be spent for nothing. (Far from the optimum the gap may
			// rise for a while; not then.)
			return nil, nil, fmt.Errorf("%w: float64 precision ran out at relative gap %.3g (after %d Newton steps)", ErrNotConverged, minRel, res.Iterations)
		}
		if rel < minRel {
			minRel, minRelT = rel, a.t
		}
		if best != nil && (fg > 100*best.fgGap || a.t > 1e6*best.t) {
			// float64 precision exhausted: the Newton systems are too
			// ill-conditioned to follow the central path further.
			restore()
			break
		}
		if alpha > 0 {
			a.reweight(float64(nCons))
		}
		a.t *= mu
	}
	lam, muD, dual, primal := a.duals()
	res.Objective = primal
	res.Gap = max(dual-primal, 0)
	res.RelGap = res.Gap / max(relDen(primal), 1e-300)
	_, res.FGGap = a.scales(lam, muD)
	_, fgTerm, linkTerm := a.gapTerms(lam, muD)
	for g, i := range a.grp {
		terms.fg[i] = fgTerm[g]
	}
	for l, li := range origLink {
		terms.link[li] = linkTerm[l]
	}
	// Result in physical units.
	for g, i := range a.grp {
		gr := &res.FlowGroups[i]
		rate := 0.0
		for p := a.gPath[g]; p < a.gPath[g+1]; p++ {
			r := a.x[p] * R
			gr.Paths[a.pOrig[p]].Rate = r
			rate += r
		}
		gr.Rate = rate
		gr.MarginalUtility = math.Pow(a.s[g]/a.w[g], -alpha)
		gr.DemandPrice = muD[g]
		if k := a.kap(g); k != 1 {
			// The solve's KKT read κ·MU = π + μ (π the path price); for
			// the unscaled utility MU = π + μ/κ + π(1/κ − 1).
			pi := a.cheapestPath(g, lam)
			gr.DemandPrice = muD[g]/k + pi*(1/k-1)
		}
	}
	for i := range p.FlowGroups {
		gr := &res.FlowGroups[i]
		gr.Children = shareAmongChildren(p.FlowGroups[i].Children, gr.Rate)
		for j := range gr.Paths {
			for _, ln := range gr.Paths[j].Links {
				res.Links[linkIdx[ln]].Load += gr.Paths[j].Rate
			}
		}
	}
	for l, li := range origLink {
		res.Links[li].Price = lam[l]
	}
	return res, terms, nil
}

package allocator

import (
	"context"
	"errors"
	"math"
	"slices"
)

// Large α: a solve in levels of fair share.
//
// For large α the utilities ŵ·f^(1−α) of FGs with different fair shares
// differ by more than float64 can add: at α = 50 a factor 2 in fair share
// is a factor 2^49 ≈ 5.6e14 in utility. One interior-point solve then
// optimises the FGs with the smallest shares (they are the objective, to
// float64 precision) and leaves the others wherever the central path
// happened to put them: on random problems at α = 50 their rates were off
// by up to 90 % of their max-min rates while the relative duality gap read
// 1e-7.
//
// So AlphaFair solves in levels. After a solve, the FGs whose fair share is
// within a factor ρ of the smallest are a level: their rates are kept, their
// loads taken off the links, and the rest is solved again, until the
// remaining FGs' shares are all within ρ of each other. ρ is chosen so that
// the utility of an FG outside the level is at most levelSpread = 1e-12 of
// the utility of one inside it, ρ^(α−1) = 1e12 (ρ ≈ 1.76 at α = 50, 21.5 at
// α = 10, 1e6 at α = 3): the levels above are then below float64
// resolution in the level's own solve, so removing them changes what that
// solve can compute by no more than rounding does. (By the KKT conditions an
// FG crossing a link a level saturates has a marginal utility at least that
// link's price, so its share is within the level's range: higher levels do
// not compete for the level's bottlenecks.) For α ≤ 3 no problem with shares
// spread less than a million-fold ever splits.
//
// The result's certificate is per level: FGGap is the largest per-FG or
// per-link relative gap term (afSolver.gapTerms) of each level's own FGs and
// the links they use, and with more than one level also every FG's term
// with the assembled prices (assembledFGGap); Gap sums the levels' gaps converted to the first
// level's units, and prices and marginal utilities are converted likewise
// (λ₁ = λ_k·(S_k/S₁)^α for share scales S), so the KKT conditions read as
// for a single solve.
const levelSpread = 1e12

// alphaFairLevels solves p level by level (see above); for α ≤ 1 in one
// solve. A level is found from a solve of all remaining FGs or, when that
// solve does not converge (an FG with a share a hundredfold below the
// others' can stall it), from their weighted max-min shares.
func alphaFairLevels(p *Problem, alpha float64, o alphaOptions) (*AlphaResult, error) {
	var res *AlphaResult
	var terms *levelTerms
	var err error
	if !o.lv.maxMinFirst || alpha <= 1 {
		res, terms, err = alphaFairOnce(p, alpha, o)
		if alpha <= 1 || err != nil && !errors.Is(err, ErrNotConverged) {
			return res, err
		}
	}
	whole := res // the one-solve answer, if it converged
	prevTop := 0.0
	spread := levelSpread
	if o.lv.spread > 0 {
		spread = o.lv.spread
	}
	rho := math.Exp(math.Log(spread) / (alpha - 1))
	// spanRho bounds a level's largest share over its smallest (see
	// levelVariant.span); +Inf without a bound.
	spanRho := math.Inf(1)
	if o.lv.span > 0 {
		spanRho = math.Exp(math.Log(o.lv.span) / (alpha - 1))
	}
	linkIdx := make(map[string]int, len(p.Links))
	for i, l := range p.Links {
		linkIdx[l.Name] = i
	}
	var out *AlphaResult
	var S1, W1 float64
	steps, centerings := 0, 0
	fixed := make([]bool, len(p.FlowGroups))
	deferred := make([]bool, len(p.FlowGroups)) // see levelVariant.deferCapped
	priced := make([]bool, len(p.Links))
	sub := *p
	sub.FlowGroups = slices.Clone(p.FlowGroups)
	sub.Links = slices.Clone(p.Links)
	zero := 0.0
	capSh := capShares(p)
	levels := 0 // levels fixed
	// The solves after the first aim at a quarter of the tolerance: with
	// several levels, the certificate of the assembled allocation
	// (assembledFGGap) came out at 1–3.4 times the levels' own on random
	// problems (at α = 100, 3 of 40 single-path problems above 1e-6 with
	// every level at or below it).
	ol := o
	ol.tol = o.tol / 4
	for {
		// Shares of the unfixed FGs (0 for none): the solve's, or max-min's.
		share := make([]float64, len(p.FlowGroups))
		if res != nil {
			steps, centerings = steps+res.Iterations, centerings+res.Centerings
			for i, g := range res.FlowGroups {
				if g.Rate > 0 {
					share[i] = g.Rate / g.Weight
				}
			}
		} else if share, err = finderShares(&sub, alpha, ol); err != nil {
			return nil, err
		}
		// The level: the unfixed FGs with a rate up to the first gap of more
		// than ρ between consecutive shares (cutting anywhere else would
		// separate FGs that compete for the same links).
		var fs []float64
		for i, f := range share {
			if !fixed[i] && !deferred[i] && f > 0 {
				fs = append(fs, f)
			}
		}
		top := levelTop(fs, rho)
		if lo := slices.Min(append(fs, math.Inf(1))); !math.IsInf(spanRho, 1) && lo*spanRho < top {
			// A chain of shares each within ρ of the next that spans more
			// than spanRho is cut before it is solved (levelVariant.span).
			top = 0
			for _, f := range fs {
				if f <= lo*spanRho {
					top = max(top, f)
				}
			}
		}
		last := math.IsInf(top, 1)
		level := make([]bool, len(p.FlowGroups))
		for i, f := range share {
			level[i] = !fixed[i] && (last || deferred[i] || f > 0 && f <= top)
		}
		if last && res != nil {
			// One level, found by a solve of all remaining FGs: that solve
			// is the level's, unless its certificate says to cut (see
			// levelCut) or a capped FG is to be scaled (levelKappa).
			if cut := levelCut(level, res, terms, rho, o.tol); !math.IsInf(cut, 1) {
				for i, g := range res.FlowGroups {
					if level[i] && g.Rate/g.Weight > cut {
						level[i] = false
					}
				}
				last = false
			}
		}
		// Cuts shrink the level and joins grow it; a cut could remove an
		// FG a join added, so the passes are bounded (each pass that does
		// not end the loop changes the level).
		for pass := 0; !last || res == nil || levelKappa(level, share, capSh, alpha, o).uscale != nil; pass++ {
			// Solve the level on its own, so that its certificate is not
			// that of a solve still busy with the levels above.
			iso := sub
			iso.FlowGroups = slices.Clone(sub.FlowGroups)
			for i := range iso.FlowGroups {
				if !fixed[i] && !level[i] {
					iso.FlowGroups[i].Demand = &zero
				}
			}
			// FGs at their cap below the level's other shares are scaled
			// down (see levelKappa); if one of them then leaves its cap,
			// the optimum may differ, and the level is solved unscaled.
			ok := levelKappa(level, share, capSh, alpha, ol)
			if ok.uscale != nil {
				var err2 error
				if res, terms, err2 = alphaFairOnce(&iso, alpha, ok); err2 == nil {
					steps, centerings = steps+res.Iterations, centerings+res.Centerings
					for i, k := range ok.uscale {
						if k != 0 && !(res.FlowGroups[i].Rate >= res.FlowGroups[i].Cap*(1-alphaSatTol)) {
							err2 = errors.New("left its cap")
						}
					}
				}
				if err2 != nil {
					res = nil
				}
			}
			if res == nil || ok.uscale == nil {
				if res, terms, err = alphaFairOnce(&iso, alpha, ol); err != nil {
					return nil, err
				}
				steps, centerings = steps+res.Iterations, centerings+res.Centerings
			}
			for i, g := range res.FlowGroups {
				share[i] = 0
				if g.Rate > 0 {
					share[i] = g.Rate / g.Weight
				}
			}
			// The finding solve is inaccurate above its first level (or
			// was max-min's): on its own the level may spread its shares
			// by more than ρ. Then the FGs above the gap are below float64
			// resolution in this solve (on random multipath problems at
			// α = 50 they came out with an FGGap of 1/(α − 1): path prices
			// 0), so cut the level there again and solve it anew. The
			// level shrinks each time, so this ends.
			cut := levelCut(level, res, terms, rho, o.tol)
			if math.IsInf(cut, 1) {
				if pass > 2*len(p.FlowGroups) || !joinClosed(&sub, res, level, fixed, linkIdx) {
					break
				}
				continue
			}
			if pass > 2*len(p.FlowGroups) {
				break
			}
			for i, g := range res.FlowGroups {
				if level[i] && g.Rate/g.Weight > cut {
					level[i] = false
				}
			}
			last = false
			// A cut that leaves only deferred FGs would fix them alone
			// again, their split still free: the level keeps the FGs
			// with the smallest share of the others (within 0.1 %).
			if lo := minShareUndeferred(level, deferred, res); lo > 0 {
				for i, g := range res.FlowGroups {
					if !fixed[i] && !deferred[i] && g.Rate > 0 && g.Rate/g.Weight <= lo*(1+1e-3) {
						level[i] = true
					}
				}
			}
		}
		if out == nil {
			first := *res
			out = &first
			out.FlowGroups = slices.Clone(res.FlowGroups)
			out.Links = slices.Clone(res.Links)
			out.FGGap, out.Gap = 0, 0
			S1, W1 = res.ShareScale, res.WeightScale
		}
		// Conversion of this solve's units to the first's.
		priceK := math.Pow(S1/res.ShareScale, alpha)
		utilK := res.WeightScale / W1 * math.Pow(S1/res.ShareScale, alpha-1)
		if res.RateScale == 0 { // nothing left to allocate
			priceK, utilK = 0, 0
		}
		out.Gap += res.Gap * utilK
		// Levels must come out in increasing order of share. An FG whose
		// share the finding solve overestimated (it is inaccurate above
		// the first level) was left out of its level and ends below the
		// levels fixed before it, which it should have competed with:
		// the decomposition is then not the optimum, so answer with the
		// one solve (its FGGap says how far it is certified) or, if that
		// did not converge, report no per-FG certificate. An FG at its cap
		// is exempt: its share is its cap's, not a competition's (it is at
		// its cap with what the levels before left, so it would be with
		// them too), and its certificate is still its level's.
		lo, hi := math.Inf(1), 0.0
		for i, g := range res.FlowGroups {
			if level[i] && g.Rate > 0 {
				hi = max(hi, g.Rate/g.Weight)
				if g.Rate < g.Cap*(1-alphaSatTol) {
					lo = min(lo, g.Rate/g.Weight)
				}
			}
		}
		if lo < prevTop*(1-alphaSatTol) {
			if whole != nil {
				return whole, nil
			}
			out.FGGap = math.Inf(1)
		}
		prevTop = max(prevTop, hi)
		levels++
		for i, g := range res.FlowGroups {
			if !level[i] {
				continue
			}
			// A multipath FG at its cap is left to the next level
			// (levelVariant.deferCapped), once: each FG is deferred at
			// most once, so every pass fixes or defers one more FG and
			// the loop ends.
			if !deferred[i] && !last && o.lv.deferCapped && len(g.Paths) > 1 && g.Rate >= g.Cap*(1-alphaSatTol) {
				deferred[i] = true
				continue
			}
			deferred[i] = false
			fixed[i] = true
			g.DemandPrice *= priceK
			g.MarginalUtility = 0
			if g.Rate > 0 {
				g.MarginalUtility = math.Pow(g.Rate/g.Weight/S1, -alpha)
			}
			g.Children = shareAmongChildren(p.FlowGroups[i].Children, g.Rate)
			out.FlowGroups[i] = g
			if !math.IsNaN(terms.fg[i]) {
				out.FGGap = max(out.FGGap, terms.fg[i])
			}
			for _, pa := range g.Paths {
				for _, ln := range pa.Links {
					l := linkIdx[ln]
					sub.Links[l].Capacity = max(sub.Links[l].Capacity-pa.Rate, 0)
				}
			}
			sub.FlowGroups[i].Demand = &zero
		}
		// A link the level saturated takes its price from this solve and is
		// closed to the levels above: the interior point leaves it a sliver
		// of capacity (about the gap), which an FG above, whose marginal
		// utility is far below the link's price, must not use (KKT). A link
		// the level uses without filling it is priced by a later level
		// (here its price is tiny on the level's scale but not on theirs).
		for l := range sub.Links {
			if c := p.Links[l].Capacity; !priced[l] && c > 0 && sub.Links[l].Capacity <= alphaSatTol*c {
				priced[l] = true
				sub.Links[l].Capacity = 0
				out.Links[l].Price = res.Links[l].Price * priceK
				if !math.IsNaN(terms.link[l]) {
					out.FGGap = max(out.FGGap, terms.link[l])
				}
			}
		}
		if last {
			for l := range out.Links {
				if !priced[l] {
					out.Links[l].Price = res.Links[l].Price * priceK
					if !math.IsNaN(terms.link[l]) {
						out.FGGap = max(out.FGGap, terms.link[l])
					}
				}
			}
			break
		}
		if res, terms, err = alphaFairOnce(&sub, alpha, ol); errors.Is(err, ErrNotConverged) {
			res = nil
		} else if err != nil {
			return nil, err
		}
	}
	out.Iterations, out.Centerings = steps, centerings
	// Loads and objective of the whole allocation, in the first level's
	// units.
	out.Objective = 0
	for l := range out.Links {
		out.Links[l].Load = 0
	}
	for _, g := range out.FlowGroups {
		for _, pa := range g.Paths {
			for _, ln := range pa.Links {
				out.Links[linkIdx[ln]].Load += pa.Rate
			}
		}
		if g.Rate > 0 {
			w := g.Weight / W1
			out.Objective += w * math.Pow(g.Rate/g.Weight/S1, 1-alpha) / (1 - alpha)
		}
	}
	out.RelGap = out.Gap / max(gapScale(alpha, out.Objective, 0), 1e-300)
	if levels > 1 {
		// One level's certificate is the assembled one; several levels'
		// each use their own prices (see assembledFGGap).
		out.FGGap = max(out.FGGap, assembledFGGap(out, alpha, linkIdx))
	}
	return out, nil
}

// kappaFrom: levelKappa scales a capped FG only when its utility scale
// exceeds f_ref's by more than a million (κ < 1e-6); below that float64
// still resolves the others to 10 digits, and a scaled solve would only
// repeat the level's solve (at α ≤ 2 on the 10k-FG benchmark, a whole
// second solve).
const kappaFrom = 1e-6

// assembledFGGap is the largest per-FG term of the certificate
// (afSolver.gapTerms) of the assembled allocation with the assembled
// prices, in the first level's units: h(q) − ŵU(f) + Σ_p x_p·(π_p + μ) +
// μ·(d − s) over the FG's utility scale ŵ·f^(1−α), q the cheapest path
// price plus μ; it bounds how far each FG's paths are priced from its
// marginal utility. Why: each level's own certificate uses that solve's
// prices, but a link is priced by the level that saturates it, and a level
// cut by its certificate (levelCut) may leave an FG below using a link
// that a level above then prices at its own scale, which the lower FG's
// solve never saw. (On a 200-problem sample at α = 20 one instance had
// every per-level term ≤ 1e-6 and a used path priced 8 % above its FG's
// marginal utility.) Link terms are not recomputed: a link priced by one
// level and used without being filled by FGs of another is scaled by the
// smallest utility of its FGs, and that mixes levels (on one instance a
// term of 0.065 with every FG's KKT residual ≤ 1e-6). A term that leaves
// float64 (a utility scale of 0) is +Inf: uncertified, not certified.
func assembledFGGap(out *AlphaResult, alpha float64, linkIdx map[string]int) float64 {
	R, S, W := out.RateScale, out.ShareScale, out.WeightScale
	worst := 0.0
	if R == 0 {
		return worst
	}
	for _, g := range out.FlowGroups {
		if g.Rate <= 0 {
			continue
		}
		w, f, s := g.Weight/W, g.Rate/g.Weight/S, g.Rate/R
		sig := w * math.Pow(f, 1-alpha)
		q, term := math.Inf(1), 0.0
		for _, pa := range g.Paths {
			pi := g.DemandPrice
			for _, ln := range pa.Links {
				pi += out.Links[linkIdx[ln]].Price
			}
			q = min(q, pi)
			term += pa.Rate / R * pi
		}
		if !math.IsInf(g.Cap, 1) {
			term += g.DemandPrice * max(g.Cap/R-s, 0)
		}
		term += w*math.Pow(q, (alpha-1)/alpha)*alpha/(1-alpha) - w*math.Pow(f, 1-alpha)/(1-alpha)
		rel := term / sig
		if !(sig > 0) || math.IsNaN(rel) {
			rel = math.Inf(1)
		}
		worst = max(worst, rel)
	}
	return worst
}

// levelKappa returns o with utility multipliers (alphaOptions.uscale) for
// the level's FGs that are at their cap (share within 1e-3 of it) below
// the smallest share of the level's other FGs, f_ref, by more than
// kappaFrom in utility: κ = (c/f_ref)^(α−1)
// for cap share c, so that the FG's utility scale is that of an FG at
// f_ref; o unchanged if there is none. Why: a capped FG with a small share
// has a utility f^(1−α) that can exceed the rest of its level by more than
// float64 can add (α = 50, a cap at half the others' shares: 2^49), and the
// level's solve then left the other FGs where the central path happened
// to be (on random multipath problems at α = 50, 4 of 40 violated KKT, off
// by 1/(α − 1) in their gap terms). The scaling does not change the
// optimum as long as the FG stays at its cap: the scaled KKT
// κ·MU = π + μ with μ ≥ 0 give, for the unscaled utility,
// MU = π + μ/κ + π·(1/κ − 1) with a demand price still ≥ 0 (κ ≤ 1, π ≥ 0),
// and for every other FG and link nothing changes. The caller checks that
// the FG did stay at its cap.
func levelKappa(level []bool, share, capSh []float64, alpha float64, o alphaOptions) alphaOptions {
	atCap := func(i int) bool { return share[i] >= capSh[i]*(1-1e-3) }
	ref := math.Inf(1)
	for i, in := range level {
		if in && share[i] > 0 && !atCap(i) {
			ref = min(ref, share[i])
		}
	}
	if math.IsInf(ref, 1) {
		return o
	}
	var k []float64
	for i, in := range level {
		if kap := math.Pow(capSh[i]/ref, alpha-1); in && share[i] > 0 && atCap(i) && kap < kappaFrom {
			if k == nil {
				k = make([]float64, len(level))
			}
			k[i] = kap
		}
	}
	o.uscale = k
	return o
}

// capShares returns each FG's cap divided by its α-fair weight (+Inf for
// none).
func capShares(p *Problem) []float64 {
	out := make([]float64, len(p.FlowGroups))
	for i := range p.FlowGroups {
		fg := &p.FlowGroups[i]
		w, top := alphaWeight(fg.Function)
		if fg.Demand != nil {
			top = min(top, *fg.Demand)
		}
		out[i] = top / w
	}
	return out
}

// joinClosed adds to the level every FG above it (not fixed, not in
// level) that could still get a rate in sub but whose paths would all
// cross a link the level's solve res saturates, and reports whether it
// added any. Such links are closed to the levels above (see
// alphaFairLevels), and an FG left with no path would get rate 0, which
// is never α-fair (its marginal utility would be infinite): it competes
// for those links, so it belongs to the level. (Seen on random multipath
// problems at α = 100: an FG at 0 where max-min gave it 7.6e8.)
func joinClosed(sub *Problem, res *AlphaResult, level, fixed []bool, linkIdx map[string]int) bool {
	left := make([]float64, len(sub.Links))
	for l, ln := range sub.Links {
		left[l] = ln.Capacity
	}
	for i, g := range res.FlowGroups {
		if level[i] {
			for _, pa := range g.Paths {
				for _, ln := range pa.Links {
					left[linkIdx[ln]] -= pa.Rate
				}
			}
		}
	}
	added := false
	for i := range sub.FlowGroups {
		fg := &sub.FlowGroups[i]
		if fixed[i] || level[i] || fg.Demand != nil && *fg.Demand == 0 {
			continue
		}
		open, kept := false, false
		for _, pa := range fg.Paths {
			pathOpen, pathKept := true, true
			for _, ln := range pa.Links {
				l := linkIdx[ln]
				pathOpen = pathOpen && sub.Links[l].Capacity > 0
				pathKept = pathKept && left[l] > alphaSatTol*sub.Links[l].Capacity
			}
			open, kept = open || pathOpen, kept || pathOpen && pathKept
		}
		if open && !kept {
			level[i], added = true, true
		}
	}
	return added
}

// levelCut returns the share at which the level of the solve res (its
// FGs level[i]) must be cut, +Inf if it need not be. The finding solve is
// inaccurate above its first level (or was max-min's): on its own the
// level may spread its shares by more than ρ. Then the FGs above the gap
// are below float64 resolution in this solve (on random multipath problems
// at α = 50 they came out with an FGGap of 1/(α − 1): path prices 0), so
// the level is cut there. With no gap of ρ, a chain of shares each within ρ
// of the next can still span more than float64 can add: the FGs at its top
// then come out uncertified, facing path prices of about 0 on their own
// scale (the links they use are not priced at the level's scale, so the
// FGs below do not compete for them). Then the cut is below the smallest
// share of an uncertified FG, if any FG is below it: the certified ones are
// a level, the rest are solved with it fixed.
func levelCut(level []bool, res *AlphaResult, terms *levelTerms, rho, tol float64) float64 {
	var fs []float64
	bad := math.Inf(1)
	for i, g := range res.FlowGroups {
		if level[i] && g.Rate > 0 {
			f := g.Rate / g.Weight
			fs = append(fs, f)
			if terms.fg[i] > tol {
				bad = min(bad, f)
			}
		}
	}
	if cut := levelTop(fs, rho); !math.IsInf(cut, 1) {
		return cut
	}
	cut := math.Inf(1)
	for _, f := range fs {
		if f < bad && (math.IsInf(cut, 1) || f > cut) {
			cut = f
		}
	}
	if math.IsInf(bad, 1) {
		return math.Inf(1)
	}
	return cut
}

// levelTop sorts the shares fs and returns the largest share below the
// first gap of more than a factor ρ between consecutive ones, +Inf if there
// is none.
func levelTop(fs []float64, rho float64) float64 {
	slices.Sort(fs)
	for k := 0; k+1 < len(fs); k++ {
		if fs[k+1] > rho*fs[k] {
			return fs[k]
		}
	}
	return math.Inf(1)
}

// maxMinShares returns the weighted max-min fair share of each FG of p with
// AlphaFair's weights and caps (Allocate on the problem with weight
// functions; 0 for an FG with no rate).
func maxMinShares(p *Problem) ([]float64, error) {
	q := *p
	q.Objective, q.Alpha = MaxMin, nil
	q.FlowGroups = slices.Clone(p.FlowGroups)
	ws := make([]float64, len(q.FlowGroups))
	for i := range q.FlowGroups {
		fg := &q.FlowGroups[i]
		w, top := alphaWeight(fg.Function)
		ws[i] = w
		if !math.IsInf(top, 1) && (fg.Demand == nil || *fg.Demand > top) {
			fg.Demand = &top
		}
		fg.Function = WeightFunction(w)
		fg.Children = nil
	}
	r, err := Allocate(context.Background(), &q)
	if err != nil {
		return nil, err
	}
	share := make([]float64, len(q.FlowGroups))
	for i, g := range r.FlowGroups {
		if g.Rate > 0 {
			share[i] = g.Rate / ws[i]
		}
	}
	return share, nil
}

// levelVariant is how alphaFairLevels finds its levels. The zero value is
// the first try: levels from a solve of all remaining FGs, cut at gaps of
// ρ = levelSpread^(1/(α−1)).
type levelVariant struct {
	// maxMinFirst finds the first level from the weighted max-min shares
	// instead of a solve of the whole problem (whose continuation chain
	// can end in a start that does not resolve a level's top).
	maxMinFirst bool
	// spread replaces levelSpread (0: levelSpread).
	spread float64
	// span (0: none) bounds the utility ratio inside a level before it
	// is solved: a level whose largest share exceeds its smallest by more
	// than span^(1/(α−1)) is cut there, even without a gap of ρ. A chain
	// of shares each within ρ of the next can span more than float64
	// resolves (at α = 100 a share ratio r is r^99 in utility), and then
	// the FGs at its top come out uncertified or the solve stalls.
	span float64
	// finder (0: none), a fraction of α, finds a level whose finding
	// solve at α did not converge (or was skipped, maxMinFirst) from a
	// solve at finder·α instead of from the max-min shares. Why: max-min
	// on the even split puts FGs of several α-fair levels at one share
	// (on one α = 100 instance 9 of 12 FGs, from three levels whose
	// α-fair shares differ fourfold, 4^99 in utility), and that level's
	// own solve cannot converge; the solve at α/3 already separates them.
	finder float64
	// deferCapped leaves a multipath FG that its level's solve put at its
	// cap unfixed: it joins the next level, still at its cap there, so
	// that the split over its paths is chosen under that level's prices.
	// Why: its own level's solve leaves the split free on links the level
	// does not fill (any split is optimal there), and fixing it took
	// capacity the next level needed (one α = 100 instance: an FG at its
	// cap kept 4.8e8 on a path through a link then filled by FGs with
	// shares 4 % above it, while its other path was free: FGGap 0.0092).
	deferCapped bool
}

// finderShares returns the shares from which alphaFairLevels finds a level
// when it has no converged solve at α: those of the solve at
// o.lv.finder·α if set and converged, else the weighted max-min shares.
func finderShares(p *Problem, alpha float64, o alphaOptions) ([]float64, error) {
	if o.lv.finder > 0 {
		lo := o
		lo.tol = max(o.tol, contTol)
		if r, _, err := alphaFairOnce(p, max(1, o.lv.finder*alpha), lo); err == nil {
			share := make([]float64, len(r.FlowGroups))
			for i, g := range r.FlowGroups {
				if g.Rate > 0 {
					share[i] = g.Rate / g.Weight
				}
			}
			return share, nil
		} else if !errors.Is(err, ErrNotConverged) {
			return nil, err
		}
	}
	return maxMinShares(p)
}

// levelVariants are the retries of alphaFairRetry, in order.
var levelVariants = [...]levelVariant{
	{},
	{maxMinFirst: true},
	{maxMinFirst: true, finder: 1.0 / 3},
	{finder: 1.0 / 3},
	{maxMinFirst: true, finder: 0.5, span: 1e100},
	{span: 1e100},
	{maxMinFirst: true, span: 1e100},
	{deferCapped: true},
	{deferCapped: true, maxMinFirst: true, finder: 1.0 / 3},
	{span: 1e30, spread: 1e8},
	{maxMinFirst: true, span: 1e30, spread: 1e8},
}

// alphaFairRetry is alphaFairLevels, retried with the other levelVariants
// while the result is not converged or not certified (relative gap or
// FGGap above the tolerance), for α > 2 only: below, one level is the rule
// and nothing failed on any sample. It returns the first certified result,
// else the one with the smallest max(RelGap, FGGap), else the first error.
// Why: on 200 random multipath problems per α at α = 20, 50, 100
// (TestAlphaFairLargeAlphaSample) the first try left 1, 2 and 4 instances
// uncertified or not converged; the first variant to certify them was
// maxMinFirst for 2, span 1e30 for 1, finder for the unconverged one and
// deferCapped for 2 (the span-1e100 ones decided none there; they are
// cheaper cuts, tried first). The retries cost nothing on the problems the
// first try certifies. Iterations counts the returned try only.
func alphaFairRetry(p *Problem, alpha float64, o alphaOptions) (*AlphaResult, error) {
	var best *AlphaResult
	var firstErr error
	bad := func(r *AlphaResult) float64 { return max(r.RelGap, r.FGGap) }
	for k, v := range levelVariants {
		if k > 0 && alpha <= 2 {
			break
		}
		ov := o
		ov.lv = v
		r, err := alphaFairLevels(p, alpha, ov)
		if err != nil {
			if !errors.Is(err, ErrNotConverged) {
				return nil, err
			}
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		if best == nil || bad(r) < bad(best) {
			best = r
		}
		if bad(r) <= o.tol {
			return r, nil
		}
	}
	if best != nil {
		return best, nil
	}
	return nil, firstErr
}

// minShareUndeferred returns, when every FG of the level is deferred
// (levelVariant.deferCapped), the smallest share in res of the FGs neither
// in the level nor deferred; 0 otherwise or if there is none.
func minShareUndeferred(level, deferred []bool, res *AlphaResult) float64 {
	for i, in := range level {
		if in && !deferred[i] {
			return 0
		}
	}
	lo := math.Inf(1)
	for i, g := range res.FlowGroups {
		if !level[i] && !deferred[i] && g.Rate > 0 {
			lo = min(lo, g.Rate/g.Weight)
		}
	}
	if math.IsInf(lo, 1) {
		return 0
	}
	return lo
}

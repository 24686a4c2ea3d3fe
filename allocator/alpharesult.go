package allocator

import "math"

// AlphaFairInfo is the α-fair part of a Result (Result.AlphaFair): α and the
// solver's certificate, as in AlphaResult.
type AlphaFairInfo struct {
	Alpha float64 `json:"alpha"`
	// Utility is the objective Σ ŵ_i U_α(f_i/ShareScale) (normalised units).
	Utility float64 `json:"utility"`
	// Gap is the certified duality gap, RelGap and FGGap as in AlphaResult.
	Gap         float64 `json:"gap"`
	RelGap      float64 `json:"rel_gap"`
	FGGap       float64 `json:"fg_gap"`
	NewtonSteps int     `json:"newton_steps"`
	// RateScale (bits/s) and ShareScale are the units of the prices and
	// marginal utilities.
	RateScale  float64 `json:"rate_scale"`
	ShareScale float64 `json:"share_scale"`
}

// alphaSatTol is the relative distance to capacity (or cap) at which an
// α-fair result counts a link as saturated (an FG as satisfied): the
// interior-point iterate is strictly inside, by about the duality gap.
const alphaSatTol = 1e-5

// Result converts r to the Result shape Allocate returns, so that meters,
// WCMP weights, tables and JSON work unchanged: FairShare is Rate/Weight,
// an FG is Satisfied when within relative 1e-5 of its cap and otherwise
// Bottleneck is the highest-priced link on the paths it uses, a link is
// Saturated within relative 1e-5 of capacity (SaturatedAt is 0: there is
// no common share at which links fill). Prices and marginal utilities are
// set (Result.AlphaFair, FlowGroupResult.MarginalUtility, DemandPrice,
// LinkResult.Price).
func (r *AlphaResult) Result(mode Mode) *Result {
	if mode == "" {
		mode = Split
	}
	out := &Result{Mode: mode, FlowGroups: make([]FlowGroupResult, len(r.FlowGroups)), Links: make([]LinkResult, len(r.Links)),
		AlphaFair: &AlphaFairInfo{Alpha: r.Alpha, Utility: r.Objective, Gap: r.Gap, RelGap: r.RelGap, FGGap: r.FGGap,
			NewtonSteps: r.Iterations, RateScale: r.RateScale, ShareScale: r.ShareScale}}
	price := make(map[string]float64, len(r.Links))
	for i, l := range r.Links {
		pr := l.Price
		out.Links[i] = LinkResult{Name: l.Name, Load: l.Load, Capacity: l.Capacity, Price: &pr,
			Saturated: l.Capacity > 0 && l.Load >= l.Capacity*(1-alphaSatTol)}
		price[l.Name] = l.Price
	}
	for i, g := range r.FlowGroups {
		mu, dp := g.MarginalUtility, g.DemandPrice
		fr := FlowGroupResult{Name: g.Name, Rate: g.Rate, Paths: g.Paths, Children: g.Children,
			MarginalUtility: &mu, DemandPrice: &dp, FairShare: g.Rate / g.Weight}
		if fr.Children == nil {
			fr.Children = []ChildResult{}
		}
		if g.Rate >= g.Cap*(1-alphaSatTol) {
			fr.Satisfied = true
		} else {
			best := math.Inf(-1)
			for _, pa := range g.Paths {
				if pa.Rate <= 0 && g.Rate > 0 {
					continue
				}
				for _, ln := range pa.Links {
					if pr := price[ln]; pr > best {
						best, fr.Bottleneck = pr, ln
					}
				}
			}
		}
		out.FlowGroups[i] = fr
	}
	return out
}

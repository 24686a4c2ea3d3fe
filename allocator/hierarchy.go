package allocator

import (
	"math"
	"sort"
)

// shareAmongChildren hands rate r to children by one water-fill (BwE's
// delegation): the largest f' with Σ_c min(B_c(f'), d_c) ≤ r; child c gets
// min(B_c(f'), d_c), and its own children share that, recursively. The
// result is never nil so that JSON shows an empty list.
func shareAmongChildren(children []Child, r float64) []ChildResult {
	out := make([]ChildResult, len(children))
	if len(children) == 0 {
		return out
	}
	curves := make([]curve, len(children))
	for i, c := range children {
		curves[i] = newCurve(c.Function, c.Demand)
	}
	f, rates := waterFill(curves, r)
	for i, c := range children {
		out[i] = ChildResult{Name: c.Name, Rate: rates[i], FairShare: f, Children: shareAmongChildren(c.Children, rates[i])}
	}
	return out
}

// waterFill finds the largest fair share f with Σ curves(f) ≤ r and the
// rates there. f is +Inf when r satisfies every curve.
func waterFill(curves []curve, r float64) (float64, []float64) {
	rates := make([]float64, len(curves))
	sum := func(f float64) float64 {
		t := 0.0
		for i := range curves {
			t += curves[i].at(f)
		}
		return t
	}
	var xs []float64
	tail := 0.0
	for i := range curves {
		xs = append(xs, curves[i].xs...)
		tail += curves[i].tail
	}
	sort.Float64s(xs)
	// The total is piecewise linear with breakpoints at the union of the
	// children's; find the segment where it crosses r and interpolate.
	f := math.Inf(1)
	prevX, prevS := 0.0, 0.0
	found := false
	for _, x := range xs {
		if x == prevX && x != 0 {
			continue
		}
		sx := sum(x)
		if sx > r {
			f = prevX
			if sx > prevS {
				f = prevX + (r-prevS)*(x-prevX)/(sx-prevS)
			}
			found = true
			break
		}
		prevX, prevS = x, sx
	}
	if !found && tail > 0 {
		f = prevX + (r-prevS)/tail
	}
	if math.IsInf(f, 1) {
		for i := range curves {
			rates[i] = curves[i].max()
		}
		return f, rates
	}
	total := 0.0
	for i := range curves {
		rates[i] = curves[i].at(f)
		total += rates[i]
	}
	if total > r && total > 0 { // rounding: never hand out more than r
		k := r / total
		for i := range rates {
			rates[i] *= k
		}
	}
	return f, rates
}

package compiler

import (
	"math"

	"github.com/p4qos/p4qos/allocator"
	"github.com/p4qos/p4qos/topo"
)

// plf is a non-decreasing piecewise-linear function through (0,0) and
// (xs[i], ys[i]), continuing with slope tail after the last point (tail 0:
// flat). xs[0] == 0 and ys[0] == 0 always.
type plf struct {
	xs, ys []float64
	tail   float64
}

func linear(w float64) plf { return plf{xs: []float64{0}, ys: []float64{0}, tail: w} }

func fromPoints(pts Function) plf {
	f := plf{xs: []float64{0}, ys: []float64{0}}
	for _, p := range pts {
		if p.Share == 0 {
			continue // (0,0): checked by the parser
		}
		f.xs = append(f.xs, p.Share)
		f.ys = append(f.ys, p.Rate)
	}
	return f
}

// share is the function a weight or points describe (weight 1 if neither).
func share(w *float64, pts Function) plf {
	switch {
	case pts != nil:
		return fromPoints(pts)
	case w != nil:
		return linear(*w)
	}
	return linear(1)
}

func (f plf) at(x float64) float64 {
	n := len(f.xs)
	if x >= f.xs[n-1] {
		return f.ys[n-1] + f.tail*(x-f.xs[n-1])
	}
	for i := 1; i < n; i++ {
		if x <= f.xs[i] {
			x0, x1 := f.xs[i-1], f.xs[i]
			return f.ys[i-1] + (f.ys[i]-f.ys[i-1])*(x-x0)/(x1-x0)
		}
	}
	return f.ys[n-1]
}

// inv returns the largest x with f(x) ≤ v, capped at the last breakpoint
// when f is flat there (every x beyond gives the same value), and ok=false
// when v < 0.
func (f plf) inv(v float64) float64 {
	n := len(f.xs)
	if v >= f.ys[n-1] {
		if f.tail > 0 {
			return f.xs[n-1] + (v-f.ys[n-1])/f.tail
		}
		return f.xs[n-1]
	}
	for i := n - 1; i > 0; i-- {
		if v >= f.ys[i-1] {
			y0, y1 := f.ys[i-1], f.ys[i]
			if y1 == y0 {
				return f.xs[i]
			}
			return f.xs[i-1] + (f.xs[i]-f.xs[i-1])*(v-y0)/(y1-y0)
		}
	}
	return 0
}

// firstReach returns the smallest x with f(x) ≥ v, or ok=false.
func (f plf) firstReach(v float64) (float64, bool) {
	n := len(f.xs)
	for i := 1; i < n; i++ {
		if f.ys[i] >= v {
			y0, y1 := f.ys[i-1], f.ys[i]
			if v <= y0 {
				return f.xs[i-1], true
			}
			return f.xs[i-1] + (f.xs[i]-f.xs[i-1])*(v-y0)/(y1-y0), true
		}
	}
	if v <= f.ys[n-1] {
		return f.xs[n-1], true
	}
	if f.tail > 0 {
		return f.xs[n-1] + (v-f.ys[n-1])/f.tail, true
	}
	return 0, false
}

// capped is min(f, d).
func (f plf) capped(d float64) plf {
	x, ok := f.firstReach(d)
	if !ok {
		return f
	}
	out := plf{xs: []float64{0}, ys: []float64{0}}
	for i := 1; i < len(f.xs) && f.xs[i] < x; i++ {
		out.xs = append(out.xs, f.xs[i])
		out.ys = append(out.ys, f.ys[i])
	}
	if x > 0 {
		out.xs = append(out.xs, x)
		out.ys = append(out.ys, d)
	}
	return out
}

// delegate computes the effective functions of children that share their
// parent's rate R(f) by one water-fill (the largest f' with Σ B_c(f') ≤ r;
// child c gets B_c(f')). The result E_c(f) = B_c(T⁻¹(R(f))) is piecewise
// linear with breakpoints at R's breakpoints and where R(f) reaches a
// breakpoint value of T = Σ B_c. This is BwE's transformation of a
// parent's bandwidth function into its children's (BwE §5.2).
func delegate(parent plf, children []plf) []plf {
	// T's breakpoints: the union of the children's.
	xsT := map[float64]bool{0: true}
	tailT := 0.0
	for _, c := range children {
		for _, x := range c.xs {
			xsT[x] = true
		}
		tailT += c.tail
	}
	var tx []float64
	for x := range xsT {
		tx = append(tx, x)
	}
	sortFloats(tx)
	total := plf{xs: tx, ys: make([]float64, len(tx)), tail: tailT}
	for i, x := range tx {
		for _, c := range children {
			total.ys[i] += c.at(x)
		}
	}
	// Breakpoints in f.
	fs := map[float64]bool{}
	for _, x := range parent.xs {
		fs[x] = true
	}
	for _, v := range total.ys {
		if x, ok := parent.firstReach(v); ok {
			fs[x] = true
		}
	}
	var fx []float64
	for x := range fs {
		fx = append(fx, x)
	}
	sortFloats(fx)
	out := make([]plf, len(children))
	for ci, c := range children {
		e := plf{xs: []float64{0}, ys: []float64{0}}
		for _, x := range fx {
			if x == 0 {
				continue
			}
			e.xs = append(e.xs, x)
			e.ys = append(e.ys, c.at(total.inv(parent.at(x))))
		}
		// Beyond the last breakpoint everything is linear: the parent
		// grows at parent.tail, the children's total at tailT, this child
		// at c.tail (if the water-fill is past all of T's breakpoints).
		if parent.tail > 0 && tailT > 0 {
			e.tail = parent.tail * c.tail / tailT
		}
		out[ci] = e.simplify()
	}
	return out
}

// simplify drops points that lie on the line through their neighbours
// and makes the sequence non-decreasing against rounding.
func (f plf) simplify() plf {
	out := plf{xs: []float64{0}, ys: []float64{0}, tail: f.tail}
	for i := 1; i < len(f.xs); i++ {
		y := math.Max(f.ys[i], out.ys[len(out.ys)-1])
		out.xs = append(out.xs, f.xs[i])
		out.ys = append(out.ys, y)
	}
	// Drop collinear middle points.
	k := plf{xs: out.xs[:1], ys: out.ys[:1], tail: out.tail}
	for i := 1; i < len(out.xs); i++ {
		n := len(k.xs)
		if n >= 2 {
			x0, y0 := k.xs[n-2], k.ys[n-2]
			x1, y1 := k.xs[n-1], k.ys[n-1]
			x2, y2 := out.xs[i], out.ys[i]
			if math.Abs((y1-y0)*(x2-x1)-(y2-y1)*(x1-x0)) <= 1e-12*math.Max(1, math.Abs(y2)*(x2-x0)) {
				k.xs[n-1], k.ys[n-1] = x2, y2
				continue
			}
		}
		k.xs = append(k.xs, out.xs[i])
		k.ys = append(k.ys, out.ys[i])
	}
	return k
}

// toAllocator renders f for the allocator. Points are flat after the last
// one there, so a rising tail is written as one more point far enough out
// that f exceeds bound (the total capacity: no flow group can use more, so
// the allocation is the same as with an endless tail).
func (f plf) toAllocator(bound float64) allocator.BandwidthFunction {
	if len(f.xs) == 1 {
		if f.tail == 0 {
			return allocator.PiecewiseFunction(allocator.Point{Share: 1, Rate: 0})
		}
		return allocator.WeightFunction(f.tail)
	}
	var pts []allocator.Point
	for i := 1; i < len(f.xs); i++ {
		pts = append(pts, allocator.Point{Share: f.xs[i], Rate: f.ys[i]})
	}
	if f.tail > 0 {
		last := pts[len(pts)-1]
		need := math.Max(bound-last.Rate, 0) + 1
		pts = append(pts, allocator.Point{Share: last.Share + need/f.tail, Rate: last.Rate + need})
	}
	return allocator.PiecewiseFunction(pts...)
}

func sortFloats(xs []float64) {
	// Insertion sort: these lists are short (breakpoints of a few
	// functions).
	for i := 1; i < len(xs); i++ {
		for j := i; j > 0 && xs[j] < xs[j-1]; j-- {
			xs[j], xs[j-1] = xs[j-1], xs[j]
		}
	}
}

// flatGroup is a flow group with its effective function.
type flatGroup struct {
	def    *FlowGroupDef
	tenant []*Tenant // path from the root tenant
	fn     plf
	demand *float64 // bits/s; nil = unbounded
}

// flatten walks the tenant tree and returns every flow group with its
// effective bandwidth function: top-level tenants share the global fair
// share through their own functions (capped by their demand); each
// tenant's rate is delegated to its children and flow groups.
//
// demands, when not nil, replaces the flow groups' demands by name.
func flatten(tenants []*Tenant, demands map[string]float64) []flatGroup {
	var out []flatGroup
	var rec func(t *Tenant, eff plf, chain []*Tenant)
	rec = func(t *Tenant, eff plf, chain []*Tenant) {
		chain = append(chain[:len(chain):len(chain)], t)
		var kids []plf
		for _, c := range t.Children {
			kids = append(kids, own(c.Weight, c.Function, c.Demand))
		}
		gDemand := make([]*float64, len(t.FlowGroups))
		for i, g := range t.FlowGroups {
			if g.Demand != nil {
				d := float64(*g.Demand)
				gDemand[i] = &d
			}
			if d, ok := demands[g.Name]; ok {
				gDemand[i] = &d
			}
			f := share(g.Weight, g.Function)
			if gDemand[i] != nil {
				f = f.capped(*gDemand[i])
			}
			kids = append(kids, f)
		}
		effs := delegate(eff, kids)
		for i, c := range t.Children {
			rec(c, effs[i], chain)
		}
		for i, g := range t.FlowGroups {
			out = append(out, flatGroup{def: g, tenant: chain, fn: effs[len(t.Children)+i], demand: gDemand[i]})
		}
	}
	for _, t := range tenants {
		rec(t, own(t.Weight, t.Function, t.Demand), nil)
	}
	return out
}

func own(w *float64, pts Function, d *topo.Bitrate) plf {
	f := share(w, pts)
	if d != nil {
		f = f.capped(float64(*d))
	}
	return f
}

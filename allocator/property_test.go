package allocator

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
)

// randomProblem builds a small random instance: 1–5 links (some of
// capacity 0), 1–6 FGs with weights or piecewise functions (with flat
// stretches), optional demands, 1–3 paths of 1–3 distinct links with
// integer split weights (some 0), and sometimes children.
func randomProblem(rng *rand.Rand, mode Mode) *Problem {
	return randomProblemSized(rng, mode, 5, 6, 3, 3)
}

// randomProblemSized is randomProblem with at most maxLinks links, maxFGs
// FGs, maxPaths paths per FG and maxHops links per path.
func randomProblemSized(rng *rand.Rand, mode Mode, maxLinks, maxFGs, maxPaths, maxHops int) *Problem {
	p := &Problem{Mode: mode}
	nl := 1 + rng.IntN(maxLinks)
	for i := 0; i < nl; i++ {
		c := (1 + 9*rng.Float64()) * G
		if rng.IntN(12) == 0 {
			c = 0
		}
		p.Links = append(p.Links, Link{Name: fmt.Sprintf("l%d", i), Capacity: c})
	}
	for g := 0; g < 1+rng.IntN(maxFGs); g++ {
		fg := FlowGroup{Name: fmt.Sprintf("fg%d", g), Function: randomFunction(rng)}
		if rng.IntN(2) == 0 {
			fg.Demand = Limit(15 * G * rng.Float64())
		}
		for k := 0; k < 1+rng.IntN(maxPaths); k++ {
			pa := Path{Weight: float64(rng.IntN(4))}
			for _, i := range rng.Perm(nl)[:1+rng.IntN(min(maxHops, nl))] {
				pa.Links = append(pa.Links, p.Links[i].Name)
			}
			fg.Paths = append(fg.Paths, pa)
		}
		if rng.IntN(3) == 0 {
			fg.Children = randomChildren(rng, 2)
		}
		p.FlowGroups = append(p.FlowGroups, fg)
	}
	return p
}

func randomFunction(rng *rand.Rand) BandwidthFunction {
	if rng.IntN(3) == 0 {
		return WeightFunction((0.2 + 3*rng.Float64()) * G)
	}
	var pts []Point
	x, y := 0.0, 0.0
	for k := 0; k < 1+rng.IntN(4); k++ {
		x += 0.2 + 2*rng.Float64()
		if rng.IntN(4) != 0 { // else a flat stretch
			y += 6 * G * rng.Float64()
		}
		pts = append(pts, Point{x, y})
	}
	return PiecewiseFunction(pts...)
}

func randomChildren(rng *rand.Rand, depth int) []Child {
	var cs []Child
	for i := 0; i < 1+rng.IntN(3); i++ {
		c := Child{Name: fmt.Sprintf("c%d", i), Function: randomFunction(rng)}
		if rng.IntN(2) == 0 {
			c.Demand = Limit(8 * G * rng.Float64())
		}
		if depth > 1 && rng.IntN(3) == 0 {
			c.Children = randomChildren(rng, depth-1)
		}
		cs = append(cs, c)
	}
	return cs
}

// Tolerances: the allocation is exact up to rounding (relative 1e-9).
const relTol = 1e-9

func atLeast(a, b float64) bool { return a >= b-relTol*math.Max(1, math.Abs(b)) }

// minShare is the smallest f with c(f) ≥ r; maxShare the largest f with
// c(f) ≤ r (+Inf when c never exceeds r). Computed from the curve's points
// only, independently of how Allocate tracks fair shares.
func minShare(c curve, r float64) float64 {
	for i := 1; i < len(c.xs); i++ {
		if c.ys[i] >= r {
			if c.ys[i] == c.ys[i-1] {
				return c.xs[i-1]
			}
			return c.xs[i-1] + (r-c.ys[i-1])*(c.xs[i]-c.xs[i-1])/(c.ys[i]-c.ys[i-1])
		}
	}
	n := len(c.xs) - 1
	if c.tail > 0 {
		return c.xs[n] + (r-c.ys[n])/c.tail
	}
	return c.xs[n]
}

func maxShare(c curve, r float64) float64 {
	for i := 1; i < len(c.xs); i++ {
		if c.ys[i] > r {
			return c.xs[i-1] + (r-c.ys[i-1])*(c.xs[i]-c.xs[i-1])/(c.ys[i]-c.ys[i-1])
		}
	}
	n := len(c.xs) - 1
	if c.tail > 0 {
		return c.xs[n] + (r-c.ys[n])/c.tail
	}
	return math.Inf(1)
}

// checkProperties verifies the properties on one allocation.
func checkProperties(t *testing.T, p *Problem, r *Result) {
	t.Helper()
	mode := p.Mode
	if mode == "" {
		mode = Split
	}
	idx := map[string]int{}
	for i, l := range p.Links {
		idx[l.Name] = i
	}
	// No link above capacity, and the reported loads are the sums of the
	// path rates.
	loads := make([]float64, len(p.Links))
	for g, fg := range r.FlowGroups {
		for j, pr := range fg.Paths {
			if pr.Rate < 0 {
				t.Errorf("%s path %d: negative rate %v", fg.Name, j, pr.Rate)
			}
			for _, ln := range p.FlowGroups[g].Paths[j].Links {
				loads[idx[ln]] += pr.Rate
			}
		}
	}
	saturated := make([]bool, len(p.Links))
	for i, l := range r.Links {
		if l.Load > l.Capacity {
			t.Errorf("link %s: load %v above capacity %v", l.Name, l.Load, l.Capacity)
		}
		if !near(l.Load, loads[i]) {
			t.Errorf("link %s: reported load %v, path rates sum to %v", l.Name, l.Load, loads[i])
		}
		saturated[i] = atLeast(l.Load, l.Capacity)
	}
	curves := make([]curve, len(p.FlowGroups))
	for g := range p.FlowGroups {
		curves[g] = newCurve(p.FlowGroups[g].Function, p.FlowGroups[g].Demand)
	}
	for g, fg := range r.FlowGroups {
		pfg := &p.FlowGroups[g]
		c := curves[g]
		sum := 0.0
		for _, pr := range fg.Paths {
			sum += pr.Rate
		}
		if !near(sum, fg.Rate) {
			t.Errorf("%s: rate %v but paths sum to %v", fg.Name, fg.Rate, sum)
		}
		if fg.Rate > c.max()*(1+relTol) {
			t.Errorf("%s: rate %v above min(function end, demand) %v", fg.Name, fg.Rate, c.max())
		}
		if mode == Split {
			wsum := 0.0
			for _, pa := range pfg.Paths {
				wsum += pa.Weight
			}
			for j, pa := range pfg.Paths {
				w := pa.Weight / wsum
				if wsum == 0 {
					w = 1 / float64(len(pfg.Paths))
				}
				if !near(fg.Paths[j].Rate, w*fg.Rate) {
					t.Errorf("%s path %d: rate %v, want split share %v of %v", fg.Name, j, fg.Paths[j].Rate, w, fg.Rate)
				}
			}
		}
		if atLeast(fg.Rate, c.max()) {
			continue // satisfied
		}
		// Unsatisfied: blocked by a saturated link. Preferred: on every
		// path. Split: the FG moves as one, so on some positive-weight path
		// (the other paths simply carry their fixed share).
		blockedPath := func(j int) bool {
			for _, ln := range pfg.Paths[j].Links {
				if saturated[idx[ln]] {
					return true
				}
			}
			return false
		}
		if mode == Preferred {
			for j := range pfg.Paths {
				if !blockedPath(j) {
					t.Errorf("%s: unsatisfied (%v < %v) but path %d has no saturated link", fg.Name, fg.Rate, c.max(), j)
				}
			}
			continue
		}
		// Split-mode max-min optimality: some saturated link on a
		// positive-weight path where no FG has a higher fair share.
		myShare := maxShare(c, fg.Rate*(1+relTol))
		wsum := 0.0
		for _, pa := range pfg.Paths {
			wsum += pa.Weight
		}
		ok := false
		for _, pa := range pfg.Paths {
			if pa.Weight == 0 && wsum > 0 {
				continue // carries nothing, cannot block
			}
			for _, ln := range pa.Links {
				if !saturated[idx[ln]] {
					continue
				}
				highest := true
				for h, other := range r.FlowGroups {
					for k, opa := range p.FlowGroups[h].Paths {
						if other.Paths[k].Rate <= 0 || !contains(opa.Links, ln) {
							continue
						}
						if s := minShare(curves[h], other.Rate*(1-relTol)); s > myShare*(1+relTol)+1e-12 {
							highest = false
						}
					}
				}
				if highest {
					ok = true
				}
			}
		}
		if !ok {
			t.Errorf("%s: unsatisfied (%v < %v) with no bottleneck link (saturated, no FG with a higher fair share)", fg.Name, fg.Rate, c.max())
		}
	}
	for g, fg := range r.FlowGroups {
		checkChildren(t, fg.Name, p.FlowGroups[g].Children, fg.Children, fg.Rate)
	}
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

// checkChildren: the children never get more than the parent; each gets at
// most its own max; if anything is left over every child is satisfied; and
// the water-fill is fair: no child is below another's fair share unless
// satisfied.
func checkChildren(t *testing.T, parent string, cs []Child, rs []ChildResult, rate float64) {
	t.Helper()
	if len(cs) != len(rs) {
		t.Fatalf("%s: %d children in result, want %d", parent, len(rs), len(cs))
	}
	sum := 0.0
	allSatisfied := true
	curves := make([]curve, len(cs))
	for i, c := range cs {
		curves[i] = newCurve(c.Function, c.Demand)
		sum += rs[i].Rate
		if rs[i].Rate > curves[i].max()*(1+relTol) {
			t.Errorf("%s/%s: rate %v above its max %v", parent, c.Name, rs[i].Rate, curves[i].max())
		}
		if !atLeast(rs[i].Rate, curves[i].max()) {
			allSatisfied = false
		}
	}
	if sum > rate*(1+relTol) {
		t.Errorf("%s: children get %v, more than the parent's %v", parent, sum, rate)
	}
	if !allSatisfied && !atLeast(sum, rate) {
		t.Errorf("%s: children get %v of %v while some are unsatisfied", parent, sum, rate)
	}
	for i := range cs {
		if atLeast(rs[i].Rate, curves[i].max()) {
			continue
		}
		mine := maxShare(curves[i], rs[i].Rate*(1+relTol))
		for j := range cs {
			if s := minShare(curves[j], rs[j].Rate*(1-relTol)); s > mine*(1+relTol)+1e-12 {
				t.Errorf("%s: child %s (share ≤ %v) is unsatisfied while %s has share %v", parent, cs[i].Name, mine, cs[j].Name, s)
			}
		}
	}
	for i, c := range cs {
		checkChildren(t, parent+"/"+c.Name, c.Children, rs[i].Children, rs[i].Rate)
	}
}

func TestPropertiesRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(2026, 4))
	for _, mode := range []Mode{Split, Preferred} {
		for i := 0; i < 1500; i++ {
			p := randomProblem(rng, mode)
			r, err := Allocate(context.Background(), p)
			if err != nil {
				t.Fatalf("%s #%d: %v", mode, i, err)
			}
			checkProperties(t, p, r)
			if t.Failed() {
				t.Fatalf("%s #%d failed on %+v", mode, i, p)
			}
		}
	}
}

// referenceAllocate is a deliberately simple, independent water-fill: it
// evaluates every bandwidth function directly at a trial fair share, finds
// the next saturation by bisection on "some link is over capacity", and
// freezes what that link blocks. Satisfaction needs no event of its own:
// min(B, demand) simply stops growing. Quadratic and slow; for small inputs.
func referenceAllocate(p *Problem) [][]float64 {
	mode := p.Mode
	if mode == "" {
		mode = Split
	}
	eval := func(fn BandwidthFunction, d *float64, f float64) float64 {
		var b float64
		if len(fn.Points) == 0 {
			w := fn.Weight
			if w == 0 {
				w = 1
			}
			b = w * f
		} else {
			px, py := 0.0, 0.0
			b = fn.Points[len(fn.Points)-1].Rate
			for _, pt := range fn.Points {
				if f <= pt.Share {
					if pt.Share > px {
						b = py + (pt.Rate-py)*(f-px)/(pt.Share-px)
					} else {
						b = pt.Rate
					}
					break
				}
				px, py = pt.Share, pt.Rate
			}
		}
		if d != nil && *d < b {
			return *d
		}
		return b
	}
	ng := len(p.FlowGroups)
	idx := map[string]int{}
	for i, l := range p.Links {
		idx[l.Name] = i
	}
	frozen := make([]bool, ng)
	rate := make([]float64, ng)
	active := make([]int, ng)
	base := make([]float64, ng)
	placed := make([][]float64, ng)
	pathFrozen := make([][]bool, ng)
	weights := make([][]float64, ng)
	for g, fg := range p.FlowGroups {
		placed[g] = make([]float64, len(fg.Paths))
		pathFrozen[g] = make([]bool, len(fg.Paths))
		sum := 0.0
		for _, pa := range fg.Paths {
			sum += pa.Weight
		}
		for _, pa := range fg.Paths {
			w := 1 / float64(len(fg.Paths))
			if sum > 0 {
				w = pa.Weight / sum
			}
			weights[g] = append(weights[g], w)
		}
	}
	linkSat := make([]bool, len(p.Links))
	pathRates := func(f float64) [][]float64 {
		out := make([][]float64, ng)
		for g, fg := range p.FlowGroups {
			out[g] = make([]float64, len(fg.Paths))
			r := rate[g]
			if !frozen[g] {
				r = eval(fg.Function, fg.Demand, f)
			}
			for j := range fg.Paths {
				if mode == Split {
					out[g][j] = weights[g][j] * r
				} else {
					out[g][j] = placed[g][j]
					if !frozen[g] && j == active[g] {
						out[g][j] += r - base[g]
					}
				}
			}
		}
		return out
	}
	loadsAt := func(f float64) []float64 {
		loads := make([]float64, len(p.Links))
		for g, prs := range pathRates(f) {
			for j, pr := range prs {
				for _, ln := range p.FlowGroups[g].Paths[j].Links {
					loads[idx[ln]] += pr
				}
			}
		}
		return loads
	}
	over := func(f float64) bool {
		for i, l := range loadsAt(f) {
			if !linkSat[i] && l > p.Links[i].Capacity {
				return true
			}
		}
		return false
	}
	f := 0.0
	for round := 0; round < 1000; round++ {
		step := math.Max(1, f)
		hi := f + step
		for !over(hi) && hi < 1e40 {
			step *= 2
			hi = f + step
		}
		if hi >= 1e40 {
			f = hi
			break
		}
		lo := f
		for k := 0; k < 2000 && lo < hi; k++ {
			mid := lo + (hi-lo)/2
			if mid <= lo || mid >= hi {
				break
			}
			if over(mid) {
				hi = mid
			} else {
				lo = mid
			}
		}
		f = hi
		loads := loadsAt(f)
		var sat []int
		for i, l := range loads {
			if !linkSat[i] && l >= p.Links[i].Capacity*(1-1e-12) {
				linkSat[i] = true
				sat = append(sat, i)
			}
		}
		for g, fg := range p.FlowGroups {
			if frozen[g] {
				continue
			}
			r := eval(fg.Function, fg.Demand, f)
			crosses := func(j int) bool {
				for _, i := range sat {
					if contains(fg.Paths[j].Links, p.Links[i].Name) {
						return true
					}
				}
				return false
			}
			if mode == Split {
				for j := range fg.Paths {
					if weights[g][j] > 0 && crosses(j) {
						frozen[g], rate[g] = true, r
						break
					}
				}
				continue
			}
			for j := range fg.Paths {
				if crosses(j) {
					pathFrozen[g][j] = true
				}
			}
			if pathFrozen[g][active[g]] {
				placed[g][active[g]] += r - base[g]
				base[g] = r
				for active[g] < len(fg.Paths) && pathFrozen[g][active[g]] {
					active[g]++
				}
				if active[g] == len(fg.Paths) {
					active[g] = -1
					frozen[g], rate[g] = true, r
				}
			}
		}
	}
	return pathRates(f)
}

func TestAgreesWithReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	for _, mode := range []Mode{Split, Preferred} {
		for i := 0; i < 1200; i++ {
			// Mostly small; every sixth up to 12 links and 25 FGs.
			p := randomProblem(rng, mode)
			if i%6 == 5 {
				p = randomProblemSized(rng, mode, 12, 25, 4, 4)
			}
			r, err := Allocate(context.Background(), p)
			if err != nil {
				t.Fatalf("%s #%d: %v", mode, i, err)
			}
			ref := referenceAllocate(p)
			for g, fg := range r.FlowGroups {
				for j, pr := range fg.Paths {
					want := ref[g][j]
					if math.Abs(pr.Rate-want) > 1e-9*math.Max(G, math.Abs(want)) {
						t.Errorf("%s #%d %s path %d: rate %v, reference %v", mode, i, fg.Name, j, pr.Rate, want)
					}
				}
			}
			if t.Failed() {
				t.Fatalf("%s #%d: problem %+v", mode, i, p)
			}
		}
	}
}

// TestLargeInstanceNeverOverloads: on a benchmark-sized instance, where
// hundreds of FGs share each link and rounding does overshoot by ulps
// before trimming, no link is reported above capacity and every reported
// load is the sum of its path rates.
func TestLargeInstanceNeverOverloads(t *testing.T) {
	for _, mode := range []Mode{Split, Preferred} {
		p := RandomProblem(5000, 200, mode, 3)
		r, err := Allocate(context.Background(), p)
		if err != nil {
			t.Fatal(err)
		}
		idx := map[string]int{}
		for i, l := range p.Links {
			idx[l.Name] = i
		}
		sum := make([]float64, len(p.Links))
		for g, fg := range r.FlowGroups {
			for j, pr := range fg.Paths {
				for _, ln := range p.FlowGroups[g].Paths[j].Links {
					sum[idx[ln]] += pr.Rate
				}
			}
		}
		saturated := 0
		for i, l := range r.Links {
			if l.Load > l.Capacity || !near(l.Load, sum[i]) {
				t.Errorf("%s: link %s load %v (paths sum %v), capacity %v", mode, l.Name, l.Load, sum[i], l.Capacity)
			}
			if l.Saturated {
				saturated++
			}
		}
		if saturated == 0 {
			t.Errorf("%s: no link saturated; the instance tests nothing", mode)
		}
	}
}

// TestAllocateLeavesProblemAlone: the controller re-allocates the same
// problem every cycle, so Allocate must not change it (nor depend on
// state from an earlier call).
func TestAllocateLeavesProblemAlone(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	for i := 0; i < 200; i++ {
		p := randomProblemSized(rng, []Mode{Split, Preferred}[i%2], 8, 10, 4, 3)
		before := cloneProblem(p)
		r1, err := Allocate(context.Background(), p)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(p, before) {
			t.Fatalf("#%d: Allocate changed the problem", i)
		}
		r2, _ := Allocate(context.Background(), p)
		if a, b := fmt.Sprintf("%v", r1), fmt.Sprintf("%v", r2); a != b {
			t.Fatalf("#%d: two allocations differ:\n%s\n%s", i, a, b)
		}
	}
}

// cloneProblem copies p deeply (DeepEqual compares what pointers point to).
func cloneProblem(p *Problem) *Problem {
	q := &Problem{Mode: p.Mode, Links: append([]Link(nil), p.Links...)}
	cloneFn := func(f BandwidthFunction) BandwidthFunction {
		return BandwidthFunction{Weight: f.Weight, Points: append([]Point(nil), f.Points...)}
	}
	cloneD := func(d *float64) *float64 {
		if d == nil {
			return nil
		}
		return Limit(*d)
	}
	var cloneCs func([]Child) []Child
	cloneCs = func(cs []Child) []Child {
		if cs == nil {
			return nil
		}
		out := make([]Child, len(cs))
		for i, c := range cs {
			out[i] = Child{Name: c.Name, Function: cloneFn(c.Function), Demand: cloneD(c.Demand), Children: cloneCs(c.Children)}
		}
		return out
	}
	for _, fg := range p.FlowGroups {
		c := FlowGroup{Name: fg.Name, Demand: cloneD(fg.Demand), Function: cloneFn(fg.Function), Children: cloneCs(fg.Children)}
		for _, pa := range fg.Paths {
			c.Paths = append(c.Paths, Path{Links: append([]string(nil), pa.Links...), Weight: pa.Weight})
		}
		q.FlowGroups = append(q.FlowGroups, c)
	}
	return q
}

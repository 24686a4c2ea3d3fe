package allocator

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/p4qos/p4qos/internal/yamlerr"
)

// Mode says how a flow group's rate is spread over its paths.
type Mode string

const (
	// Split divides an FG's rate over its paths in fixed proportion to the
	// path weights. A link that saturates freezes every FG with a
	// positive-weight path across it.
	Split Mode = "split"
	// Preferred fills paths in order: growth goes to the first path none of
	// whose links is saturated (B4 §4.3). Rate already placed on a path that
	// later freezes stays there.
	Preferred Mode = "preferred"
)

// Objective says what the allocation optimises.
type Objective string

const (
	// MaxMin is the hierarchical weighted max-min water-fill of Allocate
	// (BwE); the default.
	MaxMin Objective = "maxmin"
	// AlphaFairObjective is weighted α-fair network utility maximisation
	// (see AlphaFair), with Problem.Alpha.
	AlphaFairObjective Objective = "alpha-fair"
)

// Objectives lists the objective names a problem may give.
var Objectives = []string{string(MaxMin), string(AlphaFairObjective)}

// Link is a capacity shared by the paths that cross it.
type Link struct {
	Name     string
	Capacity float64 // bits/s
}

// Point is one breakpoint of a bandwidth function.
type Point struct {
	Share float64 // dimensionless fair share
	Rate  float64 // bits/s
}

// BandwidthFunction maps a fair share to a rate. With Points it is the
// piecewise-linear function through (0,0) and the points, flat after the
// last one; a missing leading (0,0) is implied. Without Points it is the
// unbounded line Weight·f, and the zero value means weight 1.
type BandwidthFunction struct {
	Points []Point
	Weight float64
}

// WeightFunction returns the unbounded function B(f) = w·f.
func WeightFunction(w float64) BandwidthFunction { return BandwidthFunction{Weight: w} }

// PiecewiseFunction returns the function through (0,0) and the given
// (share, rate) pairs, flat after the last.
func PiecewiseFunction(points ...Point) BandwidthFunction {
	return BandwidthFunction{Points: points}
}

// Limit returns a pointer to v, for the optional Demand fields.
func Limit(v float64) *float64 { return &v }

// Path is one route of a flow group: the links it crosses, in order.
type Path struct {
	Links []string
	// Weight is the path's share of the FG's rate in Split mode (normalised
	// over the FG's paths; if every path has weight 0 they share equally).
	// Preferred mode ignores it: the order of Paths is the preference.
	Weight float64
}

// Child is a share of its parent's final rate, handed out by one
// water-fill among the parent's children.
type Child struct {
	Name     string
	Function BandwidthFunction
	Demand   *float64 // bits/s; nil means unbounded
	Children []Child
}

// FlowGroup is the unit of allocation: traffic with one bandwidth function
// and a set of paths.
type FlowGroup struct {
	Name     string
	Demand   *float64 // bits/s; nil means unbounded
	Function BandwidthFunction
	Paths    []Path
	Children []Child
}

// Problem is everything the allocator needs.
type Problem struct {
	Mode       Mode // "" means Split
	Links      []Link
	FlowGroups []FlowGroup
	// Objective is "" or MaxMin (Allocate's water-fill) or
	// AlphaFairObjective, which needs Alpha (0 to MaxAlpha); Alpha must be
	// nil otherwise.
	Objective Objective
	Alpha     *float64

	// root is the parsed YAML/JSON, kept by ParseProblem so that
	// validation errors can point into the file.
	root *yaml.Node
	file string
}

// Issue is one thing wrong with a problem.
type Issue struct {
	Line int    // source line, 0 when unknown
	Item string // e.g. `flow_groups[2] "fg3": paths[0]`
	Msg  string
}

func (i Issue) String() string {
	s := i.Item + ": " + i.Msg
	if i.Item == "" {
		s = i.Msg
	}
	if i.Line > 0 {
		s = fmt.Sprintf("line %d: %s", i.Line, s)
	}
	return s
}

// ValidationError lists every problem found in a problem (not just the
// first), each naming the offending item.
type ValidationError struct {
	File   string // the problem file's name, when known
	Issues []Issue
}

func (e *ValidationError) Error() string {
	var b strings.Builder
	prefix := "invalid problem"
	if e.File != "" {
		prefix += " " + e.File
	}
	b.WriteString(prefix)
	if len(e.Issues) == 1 {
		b.WriteString(": ")
		b.WriteString(e.Issues[0].String())
		return b.String()
	}
	fmt.Fprintf(&b, " (%d issues):", len(e.Issues))
	for _, is := range e.Issues {
		b.WriteString("\n  ")
		b.WriteString(is.String())
	}
	return b.String()
}

type validator struct {
	p      *Problem
	issues []Issue
}

func (v *validator) add(loc, item, format string, args ...any) {
	if !full(v.issues) {
		v.issues = addIssue(v.issues, Issue{Line: lineOf(v.p.root, loc), Item: item, Msg: fmt.Sprintf(format, args...)})
	}
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// Bounds on the numbers of a problem. They are far beyond any real network
// (1 Ebit/s) and keep every intermediate of the water-fill (slopes up to
// MaxRate/MinShareStep, fair shares up to MaxRate/MinWeight, loads their
// product) finite in float64.
const (
	MaxRate      = 1e18 // bits/s: capacities, demands, function rates, weights
	MaxShare     = 1e12 // function breakpoint shares
	MinShareStep = 1e-9 // smallest gap between consecutive breakpoint shares
	MinWeight    = 1e-9 // smallest weight (bits/s per unit of fair share)
)

// Item names and source locations are only formatted when something is
// wrong: validation runs on every Allocate and must stay cheap for 100k FGs.
func linkLoc(i int) string { return fmt.Sprintf("links[%d]", i) }
func linkItem(i int, name string) string {
	if name == "" {
		return linkLoc(i)
	}
	return fmt.Sprintf("links[%d] %s", i, yamlerr.Quote(name))
}
func fgLoc(i int) string { return fmt.Sprintf("flow_groups[%d]", i) }
func fgItem(i int, name string) string {
	if name == "" {
		return fgLoc(i)
	}
	return fmt.Sprintf("flow_groups[%d] %s", i, yamlerr.Quote(name))
}
func pathLoc(i, j int) string { return fmt.Sprintf("flow_groups[%d].paths[%d]", i, j) }
func pathItem(i int, name string, j int) string {
	return fmt.Sprintf("%s: path %d", fgItem(i, name), j)
}

// Validate checks the problem and returns a *ValidationError listing every
// issue, or nil.
func (p *Problem) Validate() error {
	_, err := p.flatten(false)
	return err
}

// flatten is Validate also building, while it reads the problem, the
// water-fill's per-FG and per-path arrays (see filler): paths with their
// link indices and normalised weights, each FG's first segment, every
// breakpoint. Without build it only validates (and skips the per-FG
// arrays). Validating and building in one pass reads the problem once: at 100k FGs
// it is tens of megabytes of small objects, out of cache, and the
// separate passes cost a cache miss per object each time. Building stops
// at the first issue; validation goes on and reports them all.
func (p *Problem) flatten(build bool) (*filler, error) {
	v := &validator{p: p}
	switch p.Mode {
	case "", Split, Preferred:
	default:
		v.add("mode", "mode", "unknown mode %s (want split or preferred)", yamlerr.Quote(string(p.Mode)))
	}
	v.checkObjective(p.Objective, p.Alpha)
	s := &filler{mode: p.Mode}
	if s.mode == "" {
		s.mode = Split
	}
	nl := len(p.Links)
	linkIdx := newNameTable(nl, func(i int32) string { return p.Links[i].Name })
	s.capa = make([]float64, nl)
	for i, l := range p.Links {
		if l.Name == "" {
			v.add(linkLoc(i), linkItem(i, ""), "missing name")
		} else if j, dup := linkIdx.insert(l.Name, int32(i)); dup {
			v.add(linkLoc(i), linkItem(i, l.Name), "duplicate link name (also links[%d])", j)
		}
		if !finite(l.Capacity) || l.Capacity < 0 || l.Capacity > MaxRate {
			v.add(linkLoc(i)+".capacity", linkItem(i, l.Name), "capacity must be a rate from 0 to %g bits/s, got %v", MaxRate, l.Capacity)
		}
		s.capa[i] = l.Capacity
	}
	ng := len(p.FlowGroups)
	dupOf := firstDuplicates(ng, func(i int) string { return p.FlowGroups[i].Name })

	// The FG records give the number of paths and breakpoints; the number
	// of path links would need every path read once more, so those arrays
	// start at a guess (3 hops a path) and grow if needed.
	np, nbp := 0, 0
	for i := range p.FlowGroups {
		fg := &p.FlowGroups[i]
		np += len(fg.Paths)
		// A curve has at most one point more than its function (the cut
		// at the demand); (0,0) may be among the given points.
		nbp += len(fg.Function.Points) + 1
	}
	s.fgPath = make([]int32, ng+1)
	s.path = make([]pathInfo, 0, np)
	s.plLink = make([]int32, 0, 3*np)
	if build {
		s.fg = make([]fgState, ng)
		s.bottleneck = make([]int32, ng)
		if s.mode == Preferred {
			s.active, s.base = make([]int32, ng), make([]float64, ng)
		}
		s.initSlope = make([]float64, ng)
		s.bps = make([]breakpointEvent, 0, nbp)
	}
	var scratch []float64
	var seen linkMarks
	building := build && len(v.issues) == 0
	for i := range p.FlowGroups {
		fg := &p.FlowGroups[i]
		if fg.Name == "" {
			v.add(fgLoc(i), fgItem(i, ""), "missing name")
		} else if dupOf != nil && dupOf[i] >= 0 {
			v.add(fgLoc(i), fgItem(i, fg.Name), "duplicate flow group name (also flow_groups[%d])", dupOf[i])
		}
		if d := fg.Demand; d != nil && !(*d >= 0) {
			v.add(fgLoc(i)+".demand", fgItem(i, fg.Name), "demand must be a rate ≥ 0, got %v", *d)
		}
		if msg, at := checkFunction(fg.Function); msg != "" {
			v.add(fgLoc(i)+at, fgItem(i, fg.Name), "%s", msg)
		}
		if len(fg.Paths) == 0 {
			v.add(fgLoc(i)+".paths", fgItem(i, fg.Name), "no paths")
		}
		s.fgPath[i] = int32(len(s.path))
		sum := 0.0
		for j, pa := range fg.Paths {
			if len(pa.Links) == 0 {
				v.add(pathLoc(i, j), pathItem(i, fg.Name, j), "path has no links")
			}
			first := int32(len(s.plLink))
			long := len(pa.Links) > shortPath
			if long {
				seen.next(nl)
			}
			for k, ln := range pa.Links {
				li := linkIdx.lookup(ln)
				switch {
				case full(v.issues):
					// Formatting the arguments below costs memory even
					// when add drops them: a path can be millions long.
				case li < 0:
					v.add(fmt.Sprintf("%s.links[%d]", pathLoc(i, j), k), pathItem(i, fg.Name, j), "unknown link %s", yamlerr.Quote(ln))
				case long && seen.mark(li) || !long && slices.Contains(s.plLink[first:], li):
					v.add(fmt.Sprintf("%s.links[%d]", pathLoc(i, j), k), pathItem(i, fg.Name, j), "link %s appears twice", yamlerr.Quote(ln))
				}
				s.plLink = append(s.plLink, li)
			}
			if !finite(pa.Weight) || pa.Weight < 0 || pa.Weight > MaxRate {
				v.add(pathLoc(i, j)+".weight", pathItem(i, fg.Name, j), "weight must be a number from 0 to %g, got %v", MaxRate, pa.Weight)
			}
			sum += pa.Weight
			s.path = append(s.path, pathInfo{w: pa.Weight, fg: int32(i), lo: first, hi: int32(len(s.plLink))})
		}
		if len(fg.Children) > 0 {
			v.checkChildren(fgLoc(i), fgItem(i, fg.Name), fg.Children)
		}
		if building = building && len(v.issues) == 0; !building {
			continue
		}
		scratch = s.addFG(i, fg, sum, scratch)
	}
	s.fgPath[ng] = int32(len(s.path))
	if len(v.issues) > 0 {
		return nil, &ValidationError{File: p.file, Issues: v.issues}
	}
	return s, nil
}

func (v *validator) checkChildren(loc, item string, cs []Child) {
	names := make(map[string]int, len(cs))
	for i, c := range cs {
		cloc := fmt.Sprintf("%s.children[%d]", loc, i)
		citem := fmt.Sprintf("%s: children[%d] %s", item, i, yamlerr.Quote(c.Name))
		if c.Name == "" {
			citem = fmt.Sprintf("%s: children[%d]", item, i)
			v.add(cloc, citem, "missing name")
		} else if j, dup := names[c.Name]; dup {
			v.add(cloc, citem, "duplicate child name (also children[%d])", j)
		} else {
			names[c.Name] = i
		}
		if d := c.Demand; d != nil && !(*d >= 0) {
			v.add(cloc+".demand", citem, "demand must be a rate ≥ 0, got %v", *d)
		}
		if msg, at := checkFunction(c.Function); msg != "" {
			v.add(cloc+at, citem, "%s", msg)
		}
		v.checkChildren(cloc, citem, c.Children)
	}
}

// checkFunction returns what is wrong with f (or "") and the location
// suffix of the offending part.
func checkFunction(f BandwidthFunction) (msg, at string) {
	if len(f.Points) > 0 && f.Weight != 0 {
		return "give either function or weight, not both", ".weight"
	}
	if len(f.Points) == 0 {
		if f.Weight != 0 && !(f.Weight >= MinWeight && f.Weight <= MaxRate) {
			return fmt.Sprintf("weight must be a number from %g to %g (bits/s per unit of fair share), got %v", MinWeight, MaxRate, f.Weight), ".weight"
		}
		return "", ""
	}
	prev := Point{}
	for i, pt := range f.Points {
		switch {
		case !finite(pt.Share) || !finite(pt.Rate):
			msg = fmt.Sprintf("function point %d (%v, %v) is not finite", i, pt.Share, pt.Rate)
		case pt.Share < 0 || pt.Rate < 0:
			msg = fmt.Sprintf("function point %d (%v, %v) is negative", i, pt.Share, pt.Rate)
		case pt.Share > MaxShare || pt.Rate > MaxRate:
			msg = fmt.Sprintf("function point %d (%v, %v) is out of range (share ≤ %g, rate ≤ %g)", i, pt.Share, pt.Rate, MaxShare, MaxRate)
		case i == 0 && pt.Share == 0 && pt.Rate != 0:
			msg = fmt.Sprintf("function must start at (0, 0), got (0, %v)", pt.Rate)
		case (i > 0 || pt.Share > 0) && pt.Share < prev.Share+MinShareStep:
			msg = fmt.Sprintf("function shares must increase (by at least %g): point %d has share %v after %v", MinShareStep, i, pt.Share, prev.Share)
		case pt.Rate < prev.Rate:
			msg = fmt.Sprintf("function is decreasing: point %d has rate %v after %v", i, pt.Rate, prev.Rate)
		}
		if msg != "" {
			return msg, fmt.Sprintf(".function[%d]", i)
		}
		prev = pt
	}
	return "", ""
}

// curve is a validated bandwidth function already capped at the demand:
// E(f) = min(B(f), demand), as breakpoints plus the slope after the last.
type curve struct {
	xs, ys []float64 // xs[0] = 0, ys[0] = 0
	tail   float64   // slope after the last point; 0 means flat (satisfied)
}

// curveSlabSize is how many float64s newCurveIn needs for f.
func curveSlabSize(f BandwidthFunction) int { return 2 * (len(f.Points) + 2) }

// newCurve builds min(B, demand). f must be valid.
func newCurve(f BandwidthFunction, demand *float64) curve {
	return newCurveIn(f, demand, make([]float64, curveSlabSize(f)))
}

// newCurveIn is newCurve storing the points in slab (of curveSlabSize(f)
// elements), so that many curves can share one allocation.
func newCurveIn(f BandwidthFunction, demand *float64, slab []float64) curve {
	m := len(slab) / 2
	c := curve{xs: slab[0:1:m], ys: slab[m : m+1 : 2*m]}
	c.xs[0], c.ys[0] = 0, 0
	if len(f.Points) == 0 {
		w := f.Weight
		if w == 0 {
			w = 1
		}
		c.tail = w
	} else {
		for _, pt := range f.Points {
			if pt.Share == 0 {
				continue
			}
			c.xs = append(c.xs, pt.Share)
			c.ys = append(c.ys, pt.Rate)
		}
	}
	// A demand beyond any possible rate (links carry at most MaxRate) is no
	// limit; treating it as one would only overflow the breakpoint share.
	if demand == nil || *demand >= 1e30 {
		return c
	}
	d := *demand
	// Find the first point where B reaches d and cut there.
	n := len(c.xs)
	i := sort.SearchFloat64s(c.ys, d) // first ys[i] >= d
	if i < n {
		if i == 0 { // d == 0
			c.xs, c.ys, c.tail = c.xs[:1], c.ys[:1], 0
			return c
		}
		x0, y0, x1, y1 := c.xs[i-1], c.ys[i-1], c.xs[i], c.ys[i]
		x := x1
		if y1 > y0 {
			x = x0 + (d-y0)*(x1-x0)/(y1-y0)
		}
		c.xs, c.ys = append(c.xs[:i], x), append(c.ys[:i], d)
		c.tail = 0
		return c
	}
	if c.tail > 0 {
		x := c.xs[n-1] + (d-c.ys[n-1])/c.tail
		c.xs, c.ys = append(c.xs, x), append(c.ys, d)
		c.tail = 0
	}
	return c
}

// at evaluates the curve at fair share f.
func (c *curve) at(f float64) float64 {
	n := len(c.xs)
	if f >= c.xs[n-1] {
		return c.ys[n-1] + c.tail*(f-c.xs[n-1])
	}
	i := sort.SearchFloat64s(c.xs, f) // xs[i] >= f, i >= 1 since f > 0 here
	if i == 0 {
		return 0
	}
	if c.xs[i] == f {
		return c.ys[i]
	}
	x0, y0, x1, y1 := c.xs[i-1], c.ys[i-1], c.xs[i], c.ys[i]
	return y0 + (y1-y0)*(f-x0)/(x1-x0)
}

// max is the curve's supremum (+Inf when unbounded).
func (c *curve) max() float64 {
	if c.tail > 0 {
		return math.Inf(1)
	}
	return c.ys[len(c.ys)-1]
}

// satisfiedAt is the smallest share at which the curve reaches its maximum
// (+Inf when unbounded).
func (c *curve) satisfiedAt() float64 {
	if c.tail > 0 {
		return math.Inf(1)
	}
	n := len(c.ys)
	i := n - 1
	for i > 0 && c.ys[i-1] == c.ys[n-1] {
		i--
	}
	return c.xs[i]
}

// At evaluates B(f). The function should be valid (see Validate).
func (b BandwidthFunction) At(f float64) float64 {
	c := newCurve(b, nil)
	return c.at(f)
}

// RateAt is the FG's rate at fair share f before any link limits it:
// min(B(f), demand).
func (fg *FlowGroup) RateAt(f float64) float64 {
	c := newCurve(fg.Function, fg.Demand)
	return c.at(f)
}

// Breakpoints returns the shares at which min(B, demand) changes slope.
func (fg *FlowGroup) Breakpoints() []float64 {
	c := newCurve(fg.Function, fg.Demand)
	return append([]float64(nil), c.xs...)
}

// shortPath is the path length up to which flatten finds a repeated link
// by scanning the path's earlier links (cheapest for real paths of a few
// hops); longer paths use linkMarks, so that a path of n links costs n and
// not n²/2 (a hostile path listing 100,000 distinct links).
const shortPath = 8

// linkMarks finds repeated links in long paths: stamp[l] is the number of
// the path that last listed link l.
type linkMarks struct {
	stamp []int32
	path  int32
}

// next starts a path over nl links.
func (m *linkMarks) next(nl int) {
	if m.stamp == nil {
		m.stamp = make([]int32, nl)
	}
	m.path++
}

// mark records link li and reports whether this path listed it before.
func (m *linkMarks) mark(li int32) bool {
	if m.stamp[li] == m.path {
		return true
	}
	m.stamp[li] = m.path
	return false
}

// checkObjective checks the objective and α keys.
func (v *validator) checkObjective(obj Objective, alpha *float64) {
	switch obj {
	case "", MaxMin:
		if alpha != nil {
			v.add("alpha", "alpha", "alpha is only used with objective: alpha-fair (objective is %s)", yamlerr.Quote(string(cmp.Or(obj, MaxMin))))
		}
	case AlphaFairObjective:
		if alpha == nil {
			v.add("objective", "objective", "objective alpha-fair needs alpha: a number from 0 to %d (0 throughput, 1 proportional fairness, 2 minimum potential delay, large → max-min)", MaxAlpha)
		} else if a := *alpha; !(a >= 0 && a <= MaxAlpha) {
			v.add("alpha", "alpha", "alpha must be a number from 0 to %d, got %v", MaxAlpha, a)
		}
	default:
		v.add("objective", "objective", "unknown objective %s%s (want maxmin or alpha-fair)", yamlerr.Quote(string(obj)), yamlerr.Suggest(string(obj), Objectives))
	}
}

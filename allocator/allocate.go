package allocator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
)

// Result is an allocation. The JSON form (field tags) is the `p4qos
// allocate -o json` contract; the untagged fields are for programs.
type Result struct {
	Mode       Mode              `json:"-"`
	FlowGroups []FlowGroupResult `json:"flow_groups"`
	Links      []LinkResult      `json:"links"`
	// AlphaFair is set for an α-fair allocation (Problem.Objective
	// alpha-fair): α and the solver's optimality certificate. Nil (and
	// absent from the JSON) for max-min.
	AlphaFair *AlphaFairInfo `json:"alpha_fair,omitempty"`
	// Events is the number of water-fill events processed (breakpoints,
	// demands reached, links saturating).
	Events int `json:"-"`
}

// FlowGroupResult is one FG's share.
type FlowGroupResult struct {
	Name     string        `json:"name"`
	Rate     float64       `json:"rate"` // bits/s
	Paths    []PathResult  `json:"paths"`
	Children []ChildResult `json:"children"`
	// MarginalUtility and DemandPrice are set for an α-fair allocation
	// only: the FG's marginal utility (f/ShareScale)^(−α) and the price of
	// its cap, in the solver's normalised units (see AlphaResult).
	MarginalUtility *float64 `json:"marginal_utility,omitempty"`
	DemandPrice     *float64 `json:"demand_price,omitempty"`
	// FairShare is the fair share at which the FG stopped growing: where a
	// saturated link froze it or where it was satisfied.
	FairShare float64 `json:"-"`
	// Satisfied reports that the FG reached its demand or the end of its
	// bandwidth function; otherwise Bottleneck names the link whose
	// saturation froze it (its last usable path's, in Preferred mode).
	Satisfied  bool   `json:"-"`
	Bottleneck string `json:"-"`
}

// PathResult is the rate an FG places on one of its paths. Links is the
// problem's own slice (Path.Links), not a copy: at 100k FGs copying them
// cost a quarter of a million small allocations per Allocate. Treat it as
// read-only; changing it changes the Problem.
type PathResult struct {
	Links []string `json:"links"`
	Rate  float64  `json:"rate"`
}

// ChildResult is a child's share of its parent's rate.
type ChildResult struct {
	Name     string        `json:"name"`
	Rate     float64       `json:"rate"`
	Children []ChildResult `json:"children"`
	// FairShare is the share f' of the water-fill among the siblings; +Inf
	// when the parent's rate satisfies every sibling.
	FairShare float64 `json:"-"`
}

// LinkResult is a link's final load.
type LinkResult struct {
	Name     string  `json:"name"`
	Load     float64 `json:"load"`
	Capacity float64 `json:"capacity"`
	// Price is the link's congestion price (dual variable) in an α-fair
	// allocation, in normalised units; nil for max-min.
	Price *float64 `json:"price,omitempty"`
	// Saturated reports that the link is full (load within relative 1e-9
	// of capacity); SaturatedAt is the fair share at which it filled.
	Saturated   bool    `json:"-"`
	SaturatedAt float64 `json:"-"`
}

// Option changes how Allocate runs.
type Option func(*options)

type options struct {
	logger *slog.Logger
}

// WithLogger makes Allocate log each link saturation at debug level.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// saturationTol is the relative distance to capacity that counts as full.
const saturationTol = 1e-9

// trimMargin is how far below capacity trimOverload brings an overloaded
// link: a thousandth of the precision promised (relative 1e-9), and far
// above the rounding of summing a link's rates. Scaling rates down cannot
// raise any float sum (rounding is monotonic), so one trimming pass almost
// always suffices; the loop stays as the guarantee.
const trimMargin = 1e-12

// ErrInternal marks a violated invariant of the algorithm (a bug).
var ErrInternal = errors.New("allocator: internal error")

// Allocate computes the hierarchical max-min fair allocation of p. It
// returns a *ValidationError when p is invalid and ctx's error when ctx ends
// first.
func Allocate(ctx context.Context, p *Problem, opts ...Option) (*Result, error) {
	o := options{logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for _, opt := range opts {
		opt(&o)
	}
	if p.Objective == AlphaFairObjective && p.Alpha != nil {
		ar, err := AlphaFair(p, *p.Alpha, WithContext(ctx))
		if err != nil {
			return nil, err
		}
		return ar.Result(p.Mode), nil
	}
	s, err := p.flatten(true)
	if err != nil {
		return nil, err
	}
	s.setup()
	if err := s.run(ctx, o.logger); err != nil {
		return nil, err
	}
	return s.result(p), nil
}

// filler is the state of one water-fill. Links and paths live in flat
// arrays (paths and link incidences in CSR form: start offsets plus one flat
// array); each FG's hot state is one struct, so that touching an FG costs
// one cache line. At 100k FGs the working set is far beyond the caches, and
// memory traffic, not arithmetic, is what the water-fill spends its time on.
type filler struct {
	mode Mode
	f    float64 // current fair share

	// links
	capa      []float64
	load      []float64 // load at fair share at[l]
	at        []float64
	slope     []float64 // d load / d f from growing FGs
	nContrib  []int32   // growing contributions with positive slope
	saturated []bool
	satAt     []float64
	incStart  []int32 // paths crossing link l: incPath[incStart[l]:incStart[l+1]]
	incPath   []int32
	// incFG is the FG of each incPath entry, or -1 for a zero-weight path
	// in Split mode (it carries nothing and blocks nothing). Scanning a
	// saturated link's FGs then reads two sequential arrays and a bool
	// per FG instead of a random path record each.
	incFG []int32

	// paths
	path       []pathInfo
	plLink     []int32
	pathFrozen []bool
	pathRate   []float64 // Preferred: rate placed on the path so far

	// flow groups
	fgPath []int32 // paths of FG g: fgPath[g]..fgPath[g+1]-1
	fg     []fgState
	// bottleneck[g] is the link whose saturation froze FG g; -1 while it
	// grows and when it froze satisfied.
	bottleneck []int32
	active     []int32     // Preferred: the path receiving FG g's growth
	base       []float64   // Preferred: FG g's rate when that path started
	shares     []linkShare // Split: every FG's link shares, FG after FG
	growing    []bool      // apart from fg: checked for every event, 1 byte per FG stays in cache
	initSlope  []float64   // slope of the first segment; -1: satisfied at 0
	nGrowing   int

	// Breakpoints do not depend on other FGs, so they are known up front:
	// one sorted list replaces a priority queue of FGs. next indexes the
	// first unprocessed one; those of frozen FGs are skipped.
	bps  []breakpointEvent
	next int

	linkHeap *keyHeap // links by the fair share at which they saturate
	sink     int32    // where touchAhead's loads go, so they are not dropped
	touched  int      // touchAhead's next batch starts at this breakpoint
	dirty    []int32
	isDirty  []bool
	events   int
}

// pathInfo is one path; all a water-fill step needs of it sits together.
type pathInfo struct {
	w      float64 // normalised split weight; 1 in Preferred mode
	fg     int32
	lo, hi int32 // its links are plLink[lo:hi]
}

func (s *filler) links(pa int32) []int32 { return s.plLink[s.path[pa].lo:s.path[pa].hi] }

// fgState is what the water-fill reads and writes for an FG at every
// event that touches it. Once the FG is frozen it is also its outcome: the
// anchor is then (fair share where it stopped, final rate) and the slope
// 0. It is 32 bytes, two to a cache line: at 100k FGs the records are
// reached in no useful order, and the fewer lines they span, the more of
// them stay cached. What is read more rarely (the bottleneck, and the
// active path in Preferred mode) is in arrays of its own, small enough at
// 100k FGs (400 KB) to stay in the L2 cache.
type fgState struct {
	x0, y0, sl float64 // anchor and slope of the current curve segment
	// The links the FG grows on: shares[lo:hi] (Split) or plLink[lo:hi],
	// the active path's (Preferred). Kept here so that a slope change
	// reads the FG's state and then one contiguous list.
	lo, hi int32
}

// Outcome of a frozen FG g.
func (s *filler) rate(g int) float64     { return s.fg[g].y0 }
func (s *filler) frozenAt(g int) float64 { return s.fg[g].x0 }
func (s *filler) satisfied(g int) bool   { return s.bottleneck[g] < 0 }

// linkShare is the fraction w of an FG's rate that crosses link l: the sum
// of the normalised weights of its paths through l (Split mode).
type linkShare struct {
	w float64
	l int32
}

// breakpointEvent is where an FG's curve changes slope, with what the FG
// needs from then on, so that processing it does not touch the curve.
type breakpointEvent struct {
	share float64 // where
	y     float64 // the FG's rate there
	slope float64 // the slope after it
	fg    int32
	last  bool // the curve is flat from here: the FG is satisfied
}

// addFG completes what flatten began for FG g (its paths are in s.path
// and s.plLink, with raw weights summing to sum): normalised path weights,
// its record, and its breakpoints. It returns
// the scratch slab for the next FG's curve.
func (s *filler) addFG(g int, fg *FlowGroup, sum float64, scratch []float64) []float64 {
	lo, hi := s.fgPath[g], int32(len(s.path))
	if s.mode == Split {
		for pa := lo; pa < hi; pa++ {
			switch {
			case sum > 0:
				s.path[pa].w /= sum
			default:
				s.path[pa].w = 1 / float64(hi-lo)
			}
		}
	} else {
		for pa := lo; pa < hi; pa++ {
			s.path[pa].w = 1
		}
	}
	st := &s.fg[g]
	s.bottleneck[g] = -1
	if s.mode == Preferred {
		s.active[g] = lo
	}
	st.lo, st.hi = s.path[lo].lo, s.path[lo].hi // Split: setup replaces them
	// Curves are only needed here: everything the water-fill needs later
	// is copied into the events, so one scratch slab serves all.
	fn := fg.Function
	if n := curveSlabSize(fn); cap(scratch) < n {
		scratch = make([]float64, n)
	}
	c := newCurveIn(fn, fg.Demand, scratch[:curveSlabSize(fn)])
	n := len(c.xs)
	switch {
	case n > 1:
		s.initSlope[g] = (c.ys[1] - c.ys[0]) / (c.xs[1] - c.xs[0])
	case c.tail > 0:
		s.initSlope[g] = c.tail
	default: // B = 0 or demand 0: satisfied from the start
		s.initSlope[g] = -1
	}
	for i := 1; i < n; i++ {
		e := breakpointEvent{share: c.xs[i], y: c.ys[i], fg: int32(g)}
		switch {
		case i < n-1:
			e.slope = (c.ys[i+1] - c.ys[i]) / (c.xs[i+1] - c.xs[i])
		case c.tail > 0:
			e.slope = c.tail
		default:
			e.last = true
		}
		s.bps = append(s.bps, e)
	}
	return scratch
}

// buildShares lists each FG's link shares (Split mode): one entry per
// link the FG crosses, with the sum of the normalised weights of its paths
// through it. It runs after flatten, on the compact path arrays, so that
// the list is sized exactly.
func (s *filler) buildShares() {
	nl := len(s.capa)
	s.shares = make([]linkShare, 0, len(s.plLink))
	// stamp[l] == g+1 when FG g already has a share of link l, at
	// shareAt[l].
	stamp, shareAt := make([]int32, nl), make([]int32, nl)
	for g := range s.fg {
		st := &s.fg[g]
		st.lo = int32(len(s.shares))
		for pa := s.fgPath[g]; pa < s.fgPath[g+1]; pa++ {
			w := s.path[pa].w
			if w == 0 {
				continue
			}
			for _, l := range s.links(pa) {
				// Paths of one FG often share links (the first hop);
				// one entry per link saves work on those.
				if stamp[l] == int32(g)+1 {
					s.shares[shareAt[l]].w += w
					continue
				}
				stamp[l], shareAt[l] = int32(g)+1, int32(len(s.shares))
				s.shares = append(s.shares, linkShare{w: w, l: l})
			}
		}
		st.hi = int32(len(s.shares))
	}
}

// setup finishes the filler that flatten built: the per-link state, the
// link incidence lists, the breakpoints in order, and the link heap.
func (s *filler) setup() {
	nl := len(s.capa)
	s.load = make([]float64, nl)
	s.at = make([]float64, nl)
	s.slope = make([]float64, nl)
	s.nContrib = make([]int32, nl)
	s.saturated = make([]bool, nl)
	s.satAt = make([]float64, nl)
	s.isDirty = make([]bool, nl)

	np := len(s.path)
	if s.mode == Preferred {
		s.pathFrozen = make([]bool, np)
		s.pathRate = make([]float64, np)
	}
	s.incStart = make([]int32, nl+1)
	for _, l := range s.plLink {
		s.incStart[l+1]++
	}
	for l := 0; l < nl; l++ {
		s.incStart[l+1] += s.incStart[l]
	}
	fill := make([]int32, nl)
	copy(fill, s.incStart[:nl])
	npl := len(s.plLink)
	s.incPath = make([]int32, npl)
	s.incFG = make([]int32, npl)
	for pa := 0; pa < np; pa++ {
		pi := s.path[pa]
		fg := pi.fg
		if s.mode == Split && pi.w == 0 {
			fg = -1
		}
		for _, l := range s.plLink[pi.lo:pi.hi] {
			s.incPath[fill[l]] = int32(pa)
			s.incFG[fill[l]] = fg
			fill[l]++
		}
	}
	if s.mode == Split {
		s.buildShares()
	}
	s.growing = make([]bool, len(s.fg))
	// An FG's own breakpoints are strictly increasing, so sorting by share
	// keeps them in order; ties between FGs go by FG number, for a
	// deterministic event order.
	sortEvents(s.bps)
	s.linkHeap = newKeyHeap(nl)
}

// advance brings link l's load up to the current fair share.
func (s *filler) advance(l int32) {
	if s.slope[l] != 0 {
		s.load[l] += s.slope[l] * (s.f - s.at[l])
	}
	s.at[l] = s.f
}

func (s *filler) markDirty(l int32) {
	if !s.isDirty[l] {
		s.isDirty[l] = true
		s.dirty = append(s.dirty, l)
	}
}

// applySlope adds ds to link l's slope; dc is the change in the number of
// growing FGs contributing a positive slope to it.
func (s *filler) applySlope(l int32, ds float64, dc int32) {
	s.advance(l)
	s.nContrib[l] += dc
	if s.nContrib[l] == 0 {
		// Exactly zero, not the residue of many += and -=, so an idle link
		// never "saturates" far in the future.
		s.slope[l] = 0
	} else {
		s.slope[l] += ds
	}
	s.markDirty(l)
}

// setSlope changes FG g's growth rate to sl on the links it grows on:
// its aggregated link shares (Split) or the active path (Preferred).
func (s *filler) setSlope(g int, sl float64) {
	st := &s.fg[g]
	old := st.sl
	st.sl = sl
	if old == sl {
		return
	}
	var dc int32 // change in the number of positive contributions
	if old > 0 {
		dc--
	}
	if sl > 0 {
		dc++
	}
	if s.mode == Preferred {
		for _, l := range s.plLink[st.lo:st.hi] {
			s.applySlope(l, sl-old, dc)
		}
		return
	}
	for _, c := range s.shares[st.lo:st.hi] {
		s.applySlope(c.l, c.w*(sl-old), dc)
	}
}

// value is FG g's rate at the current fair share.
func (s *filler) value(g int) float64 {
	st := &s.fg[g]
	return st.y0 + st.sl*(s.f-st.x0)
}

// freeze stops FG g at the current fair share. bottleneck is the link that
// blocked it, or -1 when it is satisfied.
func (s *filler) freeze(g int, bottleneck int32) {
	st := &s.fg[g]
	r := s.value(g)
	if bottleneck < 0 {
		// Exactly the demand or the function's end: a satisfied FG is
		// frozen at its last breakpoint, whose rate is the anchor.
		r = st.y0
	}
	s.setSlope(g, 0)
	st.x0, st.y0 = s.f, r
	s.bottleneck[g] = bottleneck
	s.growing[g] = false
	s.nGrowing--
	if s.mode == Preferred {
		s.pathRate[s.active[g]] += r - s.base[g]
	}
}

// breakpoint moves an FG onto its next curve segment.
func (s *filler) breakpoint(e *breakpointEvent) {
	g := int(e.fg)
	st := &s.fg[g]
	if e.last {
		st.x0, st.y0 = e.share, e.y
		s.freeze(g, -1)
		return
	}
	// Re-anchor first: the rate at the breakpoint is exactly e.y, and the
	// links only see the change of slope.
	st.x0, st.y0 = e.share, e.y
	s.setSlope(g, e.slope)
}

// saturate handles link l reaching its capacity.
func (s *filler) saturate(l int32) {
	s.advance(l)
	s.saturated[l] = true
	s.satAt[l] = s.f
	s.linkHeap.remove(int(l))
	lo, hi := s.incStart[l], s.incStart[l+1]
	if s.mode == Split {
		// Freeze in batches: first load the records of a batch of the
		// growing FGs, then their share lists, then freeze them. A
		// saturating link freezes FGs in no useful order, and the loads of
		// a batch are independent, so their cache misses overlap instead
		// of each freeze waiting for two in turn.
		inc := s.incFG[lo:hi]
		for len(inc) > 0 {
			var batch [16]int32
			n := 0
			for len(inc) > 0 && n < len(batch) {
				if g := inc[0]; g >= 0 && s.growing[g] {
					batch[n] = g
					n++
				}
				inc = inc[1:]
			}
			var acc int32
			for _, g := range batch[:n] {
				acc ^= s.fg[g].lo
			}
			for _, g := range batch[:n] {
				acc ^= s.touchList(g)
			}
			s.sink ^= acc
			for _, g := range batch[:n] {
				if s.growing[g] { // twice in the list: two paths across l
					s.freeze(int(g), l)
				}
			}
		}
	} else {
		// Freeze every path first so that no FG moves onto another path
		// through l.
		for _, pa := range s.incPath[lo:hi] {
			s.pathFrozen[pa] = true
		}
		// In batches, as in Split mode; the loads cover the FG record, its
		// active path's links and the record of its next path.
		for k := lo; k < hi; {
			var batch [16]int32
			n := 0
			for ; k < hi && n < len(batch); k++ {
				if g := s.incFG[k]; s.growing[g] && s.active[g] == s.incPath[k] {
					batch[n] = g
					n++
				}
			}
			var acc int32
			for _, g := range batch[:n] {
				acc ^= s.fg[g].lo
				if a := s.active[g] + 1; a < s.fgPath[g+1] {
					acc ^= s.path[a].lo
				}
			}
			for _, g := range batch[:n] {
				acc ^= s.touchList(g)
			}
			s.sink ^= acc
			for _, g := range batch[:n] {
				// Still growing on a path through l: an FG can be listed
				// twice only for two of its paths, and only one is active.
				s.switchPath(int(g), l)
			}
		}
	}
	s.slope[l], s.nContrib[l] = 0, 0
}

// switchPath moves FG g's growth from its frozen active path to its next
// unfrozen one, or freezes g when none is left (Preferred mode).
func (s *filler) switchPath(g int, l int32) {
	st := &s.fg[g]
	next := int32(-1)
	for pa := s.active[g] + 1; pa < s.fgPath[g+1]; pa++ {
		if !s.pathFrozen[pa] {
			next = pa
			break
		}
	}
	if next < 0 {
		s.freeze(g, l)
		return
	}
	r := s.value(g)
	sl := st.sl
	s.setSlope(g, 0) // off the old path
	s.pathRate[s.active[g]] += r - s.base[g]
	s.base[g] = r
	s.active[g] = next
	st.lo, st.hi = s.path[next].lo, s.path[next].hi
	s.setSlope(g, sl) // onto the new one
}

// flush re-keys the links whose load or slope changed.
func (s *filler) flush() {
	for _, l := range s.dirty {
		s.isDirty[l] = false
		if s.saturated[l] || s.slope[l] <= 0 {
			s.linkHeap.remove(int(l))
			continue
		}
		k := s.at[l] + (s.capa[l]-s.load[l])/s.slope[l]
		if k < s.f { // already full (rounding, or capacity 0)
			k = s.f
		}
		s.linkHeap.set(int(l), k)
	}
	s.dirty = s.dirty[:0]
}

// touchBatch is how many loads the batched touches issue together, and how
// many breakpoints apart touchAhead's batches are: far enough ahead that
// the loads complete while the events in between are processed (a few
// hundred ns each), near enough that the lines are still cached when their
// event comes. 4, 16 and 32 measured the same within noise.
const touchBatch = 8

// touchAhead loads the FG records of upcoming breakpoints, and the first
// link entry of nearer ones, before they are needed. Breakpoints are most
// of the events and hit FGs in no particular order, so at 100k FGs each one
// otherwise waits for two dependent cache misses (the FG's record, then the
// list it points at); issued early, the misses overlap with the work of the
// events in between. Go has no prefetch instruction; a plain load whose
// result lands in s.sink does the same.
func (s *filler) touchAhead() {
	// Once per batch of touchBatch breakpoints: load the FG records of the
	// batch after next and the first share of the next batch's FGs (whose
	// records the previous call loaded). The loads of one call are
	// independent of each other, so the CPU overlaps their misses.
	if s.next < s.touched {
		return
	}
	s.touched = s.next + touchBatch
	n := len(s.bps)
	var acc int32
	for k := s.next + 2*touchBatch; k < s.next+3*touchBatch && k < n; k++ {
		acc ^= s.fg[s.bps[k].fg].lo
	}
	for k := s.next + touchBatch; k < s.next+2*touchBatch && k < n; k++ {
		acc ^= s.touchList(s.bps[k].fg)
	}
	s.sink ^= acc
}

// touchList loads the first and last entries of the list of links FG g
// grows on (its shares, or its active path's links) and returns a value
// that depends on them, for the batched loads above and in saturate.
func (s *filler) touchList(g int32) int32 {
	st := &s.fg[g]
	if st.lo >= st.hi {
		return 0
	}
	if s.mode == Split {
		return s.shares[st.lo].l ^ s.shares[st.hi-1].l
	}
	return s.plLink[st.lo] ^ s.plLink[st.hi-1]
}

// touchPaths loads the path lists of the touchBatch FGs from g on and
// returns a value that depends on them (to be kept, so that the loads are
// not dropped). Reading the problem FG after FG, the FG records stream in
// order, but each FG's path list is an allocation of its own, and at 100k
// FGs reaching each one was a cache miss in turn; loaded a batch ahead,
// the misses of a batch overlap.
func touchPaths(fgs []FlowGroup, g int) int {
	acc := 0
	for k := g; k < g+touchBatch && k < len(fgs); k++ {
		if ps := fgs[k].Paths; len(ps) > 0 {
			acc ^= len(ps[0].Links)
		}
	}
	return acc
}

// nextBreakpoint skips breakpoints of FGs that stopped growing and returns
// the next one (nil when none is left).
func (s *filler) nextBreakpoint() *breakpointEvent {
	for s.next < len(s.bps) {
		e := &s.bps[s.next]
		if s.growing[e.fg] {
			return e
		}
		s.next++
	}
	return nil
}

func (s *filler) run(ctx context.Context, log *slog.Logger) error {
	maxEvents := len(s.capa) + 2*len(s.path) + len(s.bps) + 16
	for g, sl := range s.initSlope {
		s.growing[g] = true
		s.nGrowing++
		if sl < 0 { // satisfied from the start
			s.freeze(g, -1)
			continue
		}
		s.setSlope(g, sl)
	}
	s.flush()
	debug := log.Enabled(ctx, slog.LevelDebug)
	for s.nGrowing > 0 {
		s.events++
		if s.events&1023 == 0 {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("allocate: %w", err)
			}
		}
		if s.events > maxEvents {
			return fmt.Errorf("%w: more than %d events", ErrInternal, maxEvents)
		}
		s.touchAhead()
		e := s.nextBreakpoint()
		l, ks := s.linkHeap.min()
		switch {
		case e == nil && l < 0:
			return fmt.Errorf("%w: %d flow groups growing but no event ahead", ErrInternal, s.nGrowing)
		case e != nil && (l < 0 || e.share <= ks):
			s.f = math.Max(s.f, e.share)
			s.next++
			s.breakpoint(e)
		default:
			s.f = math.Max(s.f, ks)
			if debug {
				log.Debug("link saturated", "link", l, "fair_share", s.f, "growing", s.nGrowing)
			}
			s.saturate(int32(l))
		}
		s.flush()
	}
	return nil
}

// result assembles the Result, trims rounding overshoot, and hands each
// FG's rate to its children.
func (s *filler) result(p *Problem) *Result {
	np := len(s.path)
	pr := make([]float64, np)
	for pa := 0; pa < np; pa++ {
		g := s.path[pa].fg
		if s.mode == Preferred {
			pr[pa] = s.pathRate[pa]
		} else {
			pr[pa] = s.path[pa].w * s.rate(int(g))
		}
	}
	loads, trim := s.trimOverload(pr)

	res := &Result{Mode: s.mode, Events: s.events, FlowGroups: make([]FlowGroupResult, len(p.FlowGroups)), Links: make([]LinkResult, len(p.Links))}
	for i, l := range p.Links {
		lr := LinkResult{Name: l.Name, Load: loads[i], Capacity: l.Capacity, Saturated: s.saturated[i], SaturatedAt: s.satAt[i]}
		if !lr.Saturated && loads[i] >= l.Capacity*(1-saturationTol) {
			// Filled exactly when its last FG stopped (at the same fair
			// share as another link's saturation or a demand), so no event
			// of its own marked it.
			lr.Saturated = true
			for _, pa := range s.incPath[s.incStart[i]:s.incStart[i+1]] {
				if pr[pa] > 0 {
					lr.SaturatedAt = math.Max(lr.SaturatedAt, s.frozenAt(int(s.path[pa].fg)))
				}
			}
		}
		res.Links[i] = lr
	}
	paths := make([]PathResult, np)
	var sink int
	for g := range p.FlowGroups {
		if g%touchBatch == 0 {
			sink ^= touchPaths(p.FlowGroups, g+touchBatch)
		}
		fg := &p.FlowGroups[g]
		n := len(fg.Paths)
		out := FlowGroupResult{Name: fg.Name, FairShare: s.frozenAt(g), Satisfied: s.satisfied(g), Paths: paths[:n:n]}
		paths = paths[n:]
		if b := s.bottleneck[g]; b >= 0 {
			out.Bottleneck = p.Links[b].Name
		}
		for j, pa := range fg.Paths {
			r := pr[int(s.fgPath[g])+j]
			out.Paths[j] = PathResult{Links: pa.Links, Rate: r}
			out.Rate += r
		}
		if s.mode == Split {
			// Keep the exact rate (the path split may round a little).
			out.Rate = s.rate(g)
			if trim != nil {
				out.Rate *= trim[g]
			}
		}
		out.Children = shareAmongChildren(fg.Children, out.Rate)
		res.FlowGroups[g] = out
	}
	s.sink ^= int32(sink)
	return res
}

// trimOverload computes link loads from path rates and, where rounding has
// put a link above its capacity (by a few ulps), scales down the FGs on it
// so that no link is ever reported above capacity. It returns the loads and
// the factor applied to each FG (nil when none was).
//
// A pass finds each FG's factor from the overloaded links' incidence lists
// (a few hundred links), then makes one sequential sweep over the paths,
// FG after FG, scaling the rates of the FGs being trimmed and adding every
// path into the next loads. At 100k FGs rounding overloads a third of the
// links and most FGs cross one; scaling them in the order the links listed
// them reached the FGs at random. The outcome is the same bit for bit:
// each FG's factor is a minimum, which does not depend on order, and each
// link's load still sums the path rates in path order.
func (s *filler) trimOverload(pr []float64) ([]float64, []float64) {
	nl := len(s.capa)
	loads := make([]float64, nl)
	for pa := range pr {
		if r := pr[pa]; r != 0 {
			for _, l := range s.links(int32(pa)) {
				loads[l] += r
			}
		}
	}
	var trim, factor, next []float64 // allocated on the first overload
	for pass := 0; pass < 8; pass++ {
		over := false
		for l := 0; l < nl; l++ {
			if loads[l] <= s.capa[l] {
				continue
			}
			// trimMargin under: re-summing n rates rounds by up to about
			// n ulps (relative 1e-13 at a few hundred FGs per link), so a
			// margin of a few ulps, tried first, left links over capacity
			// at 100k FGs and took up to three passes over every path.
			f := s.capa[l] / loads[l] * (1 - trimMargin)
			if s.capa[l] <= 0 {
				f = 0
			}
			if factor == nil {
				factor = make([]float64, len(s.fg))
				trim = make([]float64, len(s.fg))
				for g := range trim {
					trim[g], factor[g] = 1, 1
				}
				next = make([]float64, nl)
			}
			over = true
			lo := s.incStart[l]
			for k, g := range s.incFG[lo:s.incStart[l+1]] {
				// A zero-weight path (g < 0) carries nothing either.
				if g < 0 || pr[s.incPath[lo+int32(k)]] == 0 {
					continue
				}
				if f < factor[g] { // math.Min, inlined: no NaN or -0 here
					factor[g] = f
				}
			}
		}
		if !over {
			break
		}
		clear(next)
		for g := range factor {
			f := factor[g]
			if f < 1 {
				trim[g] *= f
				factor[g] = 1
			}
			for q := s.fgPath[g]; q < s.fgPath[g+1]; q++ {
				if f < 1 {
					pr[q] *= f
				}
				if r := pr[q]; r != 0 {
					for _, l := range s.links(q) {
						next[l] += r
					}
				}
			}
		}
		loads, next = next, loads
	}
	return loads, trim
}

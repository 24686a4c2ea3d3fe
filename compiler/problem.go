package compiler

import (
	"fmt"
	"sort"

	"github.com/p4qos/p4qos/allocator"
	"github.com/p4qos/p4qos/topo"
)

// ProblemFlowGroup is traffic from one host to another that the allocator
// treats as a unit.
type ProblemFlowGroup struct {
	Name     string
	Src, Dst string // host names
	Function allocator.BandwidthFunction
	Demand   *float64 // bits/s; nil = unbounded
	Children []allocator.Child
}

type problemConfig struct {
	mode          allocator.Mode
	k             int
	equalCostOnly bool
}

// ProblemOption tunes AllocatorProblem.
type ProblemOption func(*problemConfig)

// ProblemMode selects the allocator mode (default allocator.Split).
func ProblemMode(m allocator.Mode) ProblemOption { return func(c *problemConfig) { c.mode = m } }

// ProblemK sets how many paths each flow group may use (default 4). In split
// mode these are equal-cost shortest paths; in preferred mode the k
// shortest loop-free paths, best first.
func ProblemK(k int) ProblemOption { return func(c *problemConfig) { c.k = k } }

// ProblemEqualCostOnly restricts preferred mode to the equal-cost shortest
// paths. Destination-based forwarding can only realise those (a longer path
// could loop), so the compiler uses this when it turns the allocation into
// WCMP weights.
func ProblemEqualCostOnly() ProblemOption { return func(c *problemConfig) { c.equalCostOnly = true } }

// AllocatorProblem builds the allocator's input for the flow groups: one
// link per directed edge that some path uses (named Edge.Name, with the
// edge's capacity) and, per flow group, its paths.
//
// In split mode the path weights are the shares that per-hop ECMP hashing
// gives each path: the product, over the switches on the path, of 1/(number
// of next hops towards the destination). Two paths through a 2-way ECMP
// switch get 1/2 each; a 2-way then 3-way split gives 1/6 per path.
func AllocatorProblem(t *topo.Topology, groups []ProblemFlowGroup, opts ...ProblemOption) (*allocator.Problem, error) {
	cfg := problemConfig{mode: allocator.Split, k: 4}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.k <= 0 {
		return nil, fmt.Errorf("allocator problem: k must be ≥ 1, got %d", cfg.k)
	}
	p := &allocator.Problem{Mode: cfg.mode}
	used := map[string]float64{}
	for _, g := range groups {
		if _, ok := t.Host(g.Src); !ok {
			return nil, fmt.Errorf("flow group %q: source %q: %w", g.Name, g.Src, topo.ErrUnknownNode)
		}
		if _, ok := t.Host(g.Dst); !ok {
			return nil, fmt.Errorf("flow group %q: destination %q: %w", g.Name, g.Dst, topo.ErrUnknownNode)
		}
		var paths []topo.Path
		var err error
		if cfg.mode == allocator.Preferred && !cfg.equalCostOnly {
			paths, err = t.KShortestPaths(g.Src, g.Dst, cfg.k)
		} else {
			paths, err = t.ShortestPaths(g.Src, g.Dst, cfg.k)
		}
		if err != nil {
			return nil, fmt.Errorf("flow group %q: %w", g.Name, err)
		}
		fg := allocator.FlowGroup{Name: g.Name, Demand: g.Demand, Function: g.Function, Children: g.Children}
		for _, path := range paths {
			ap := allocator.Path{Links: path.LinkNames(), Weight: 1}
			if cfg.mode != allocator.Preferred {
				ap.Weight, err = hashShare(t, path, g.Dst)
				if err != nil {
					return nil, fmt.Errorf("flow group %q: %w", g.Name, err)
				}
			}
			for _, e := range path.Edges {
				used[e.Name()] = e.Capacity
			}
			fg.Paths = append(fg.Paths, ap)
		}
		p.FlowGroups = append(p.FlowGroups, fg)
	}
	names := make([]string, 0, len(used))
	for n := range used {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		p.Links = append(p.Links, allocator.Link{Name: n, Capacity: used[n]})
	}
	return p, nil
}

// hashShare is the fraction of dst-bound traffic entering the path that
// per-hop ECMP sends along it.
func hashShare(t *topo.Topology, p topo.Path, dst string) (float64, error) {
	share := 1.0
	for _, e := range p.Edges {
		if e.FromHost {
			continue
		}
		hops, err := t.NextHops(e.From, dst)
		if err != nil {
			return 0, err
		}
		if len(hops) > 0 {
			share /= float64(len(hops))
		}
	}
	return share, nil
}

package compiler

import (
	"errors"
	"math"
	"testing"

	"github.com/p4qos/p4qos/allocator"
	"github.com/p4qos/p4qos/topo"
)

func TestAllocatorProblem(t *testing.T) {
	fab := loadTopo(t, "fabric.yaml")
	groups := []ProblemFlowGroup{
		{Name: "a", Src: "h1", Dst: "h3", Function: allocator.WeightFunction(3)},
		{Name: "b", Src: "h2", Dst: "h4", Function: allocator.WeightFunction(1), Demand: allocator.Limit(10e6)},
	}
	p, err := AllocatorProblem(fab, groups)
	if err != nil {
		t.Fatal(err)
	}
	if p.Mode != allocator.Split || len(p.FlowGroups) != 2 {
		t.Fatalf("problem %+v", p)
	}
	// leaf1 splits 2 ways, spine and leaf2 have one next hop: 1/2 each.
	for _, fg := range p.FlowGroups {
		if len(fg.Paths) != 2 {
			t.Fatalf("%s: %d paths", fg.Name, len(fg.Paths))
		}
		for _, path := range fg.Paths {
			if math.Abs(path.Weight-0.5) > 1e-12 {
				t.Errorf("%s: weight %g, want 0.5", fg.Name, path.Weight)
			}
		}
	}
	// Links used: per group one access edge in (h→leaf1) and one out
	// (leaf2→h), 2 × 2 = 4, plus the 4 leaf1→spine→leaf2 fabric edges the
	// groups share: 8.
	if len(p.Links) != 8 {
		t.Errorf("%d links: %v", len(p.Links), p.Links)
	}
	for _, l := range p.Links {
		if l.Name == "leaf1:3->spine1:1" && l.Capacity != 40e6 {
			t.Errorf("uplink capacity %g", l.Capacity)
		}
	}
	if err := p.Validate(); err != nil {
		t.Errorf("allocator rejects the problem: %v", err)
	}
	if _, err := AllocatorProblem(fab, []ProblemFlowGroup{{Name: "x", Src: "h1", Dst: "h9"}}); !errors.Is(err, topo.ErrUnknownNode) {
		t.Errorf("unknown host: %v", err)
	}
	tri := loadTopo(t, "triangle.yaml")
	p, err = AllocatorProblem(tri, []ProblemFlowGroup{{Name: "x", Src: "h1", Dst: "h2"}}, ProblemMode(allocator.Preferred), ProblemK(2))
	if err != nil || len(p.FlowGroups[0].Paths) != 2 {
		t.Fatalf("preferred: %v %+v", err, p)
	}
}

package compiler

import (
	"math"
	"testing"

	"github.com/p4qos/p4qos/allocator"
	"github.com/p4qos/p4qos/topo"
)

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

func TestPLF(t *testing.T) {
	f := fromPoints(Function{{Share: 0, Rate: 0}, {Share: 2, Rate: 10}, {Share: 4, Rate: 15}})
	tests := []struct{ x, want float64 }{{0, 0}, {1, 5}, {2, 10}, {3, 12.5}, {4, 15}, {9, 15}}
	for _, tc := range tests {
		if got := f.at(tc.x); !near(got, tc.want) {
			t.Errorf("f(%g) = %g, want %g", tc.x, got, tc.want)
		}
	}
	// min(f, 12.5) reaches 12.5 at x = 3 and is flat after.
	c := f.capped(12.5)
	if len(c.xs) != 3 || !near(c.xs[2], 3) || !near(c.at(100), 12.5) || c.tail != 0 {
		t.Errorf("capped: %+v", c)
	}
	// A line 2x capped at 7 bends at 3.5.
	l := linear(2).capped(7)
	if !near(l.at(3.5), 7) || !near(l.at(1), 2) || !near(l.at(99), 7) {
		t.Errorf("capped line: %+v", l)
	}
	if x := f.inv(12.5); !near(x, 3) {
		t.Errorf("inv(12.5) = %g, want 3", x)
	}
}

func TestDelegate(t *testing.T) {
	tests := []struct {
		name     string
		parent   plf
		children []plf
		// want[c] lists (f, E_c(f)) samples.
		want [][][2]float64
	}{
		{
			// Weights 1 and 0.5 under a parent 3f: the children split
			// the parent's rate 2:1, so E = 2f and f.
			name:     "weights",
			parent:   linear(3),
			children: []plf{linear(1), linear(0.5)},
			want:     [][][2]float64{{{1, 2}, {10, 20}}, {{1, 1}, {10, 10}}},
		},
		{
			// Parent 2f; child a = min(f', 4), child b = f'. The
			// water-fill gives each f' until a is capped: T(f') = 2f'
			// for f' ≤ 4, then f' + 4. Parent rate r = 2f: for r ≤ 8,
			// both get f; beyond, a = 4 and b = r − 4 = 2f − 4.
			name:     "capped child",
			parent:   linear(2),
			children: []plf{linear(1).capped(4), linear(1)},
			want:     [][][2]float64{{{2, 2}, {4, 4}, {10, 4}}, {{2, 2}, {4, 4}, {10, 16}}},
		},
		{
			// Parent capped at 6 (its demand): min(3f, 6). Two equal
			// children get half each: min(1.5f, 3).
			name:     "capped parent",
			parent:   linear(3).capped(6),
			children: []plf{linear(1), linear(1)},
			want:     [][][2]float64{{{1, 1.5}, {2, 3}, {50, 3}}, {{1, 1.5}, {50, 3}}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			effs := delegate(tc.parent, tc.children)
			for ci, samples := range tc.want {
				for _, s := range samples {
					if got := effs[ci].at(s[0]); !near(got, s[1]) {
						t.Errorf("child %d at f=%g: %g, want %g (%+v)", ci, s[0], got, s[1], effs[ci])
					}
				}
			}
		})
	}
}

func TestToAllocator(t *testing.T) {
	if f := linear(2).toAllocator(1e9); f.Weight != 2 || f.Points != nil {
		t.Errorf("a line stays a weight: %+v", f)
	}
	// min(2f, 7) then nothing: the points as they are.
	f := linear(2).capped(7).toAllocator(1e9)
	if len(f.Points) != 1 || f.Points[0] != (allocator.Point{Share: 3.5, Rate: 7}) {
		t.Errorf("capped: %+v", f.Points)
	}
	// A bend then a rising tail (the "capped child" case above: child b
	// is f up to (4, 4), then 2f − 4, slope 2). The tail becomes one far
	// point beyond the bound: rate 4 + (100 − 4) + 1 = 101 at share
	// 4 + 97/2 = 52.5.
	g := delegate(linear(2), []plf{linear(1).capped(4), linear(1)})[1]
	pts := g.toAllocator(100).Points
	last := pts[len(pts)-1]
	if len(pts) != 2 || !near(pts[0].Share, 4) || !near(pts[0].Rate, 4) || !near(last.Rate, 101) || !near(last.Share, 52.5) {
		t.Errorf("tail point %+v (all %+v)", last, pts)
	}
}

func TestFlattenWithDemands(t *testing.T) {
	w := 3.0
	d := topo.Bitrate(30e6)
	ts := []*Tenant{{Name: "a", Weight: &w, FlowGroups: []*FlowGroupDef{{Name: "x"}}}, {Name: "b", Demand: &d, FlowGroups: []*FlowGroupDef{{Name: "y"}}}}
	flat := flatten(ts, map[string]float64{"x": 5e6})
	// x: 3f capped by the measured 5Mbps; y: f capped by b's 30Mbps.
	if !near(flat[0].fn.at(1e6), 3e6) || !near(flat[0].fn.at(1e9), 5e6) || *flat[0].demand != 5e6 {
		t.Errorf("x: %+v", flat[0].fn)
	}
	if !near(flat[1].fn.at(1e9), 30e6) || flat[1].demand != nil || len(flat[1].tenant) != 1 {
		t.Errorf("y: %+v", flat[1])
	}
}

package allocator

import (
	"context"
	"errors"
	"math"
	"os"
	"strings"
	"testing"
)

const G = 1e9

func near(a, b float64) bool {
	if math.IsInf(a, 1) || math.IsInf(b, 1) {
		return a == b
	}
	return math.Abs(a-b) <= 1e-9*math.Max(1, math.Max(math.Abs(a), math.Abs(b)))
}

func mustAllocate(t *testing.T, p *Problem) *Result {
	t.Helper()
	r, err := Allocate(context.Background(), p)
	if err != nil {
		t.Fatalf("Allocate: %v", err)
	}
	return r
}

func fgByName(t *testing.T, r *Result, name string) FlowGroupResult {
	t.Helper()
	for _, fg := range r.FlowGroups {
		if fg.Name == name {
			return fg
		}
	}
	t.Fatalf("no flow group %q in result", name)
	return FlowGroupResult{}
}

type want struct {
	rate  float64
	paths []float64
	share float64
}

func checkFGs(t *testing.T, r *Result, wants map[string]want) {
	t.Helper()
	for name, w := range wants {
		fg := fgByName(t, r, name)
		if !near(fg.Rate, w.rate) {
			t.Errorf("%s: rate %v, want %v", name, fg.Rate, w.rate)
		}
		if !near(fg.FairShare, w.share) {
			t.Errorf("%s: froze at fair share %v, want %v", name, fg.FairShare, w.share)
		}
		if w.paths != nil {
			for i, pr := range fg.Paths {
				if !near(pr.Rate, w.paths[i]) {
					t.Errorf("%s path %d: rate %v, want %v", name, i, pr.Rate, w.paths[i])
				}
			}
		}
	}
}

func checkLoads(t *testing.T, r *Result, loads map[string]float64) {
	t.Helper()
	for _, l := range r.Links {
		if w, ok := loads[l.Name]; ok && !near(l.Load, w) {
			t.Errorf("link %s: load %v, want %v", l.Name, l.Load, w)
		}
	}
}

// b4Triangle is the B4-shaped example in testdata/b4.yaml (SIGCOMM 2013
// §4.3, Figure 7's shape: FG1 A→B has the direct tunnel A-B and the
// two-hop tunnel A-C-B; FG2 A→C uses A-C only). All links are 10 Gbps.
// FG1: B1(f) = 2 Gbps·f. FG2: B2(f) = 1 Gbps·f up to f=20, demand 15 Gbps.
func b4Triangle(mode Mode) *Problem {
	return &Problem{
		Mode:  mode,
		Links: []Link{{"A-B", 10 * G}, {"A-C", 10 * G}, {"C-B", 10 * G}},
		FlowGroups: []FlowGroup{
			{Name: "fg1", Function: WeightFunction(2 * G), Paths: []Path{{Links: []string{"A-B"}, Weight: 1}, {Links: []string{"A-C", "C-B"}, Weight: 1}}},
			{Name: "fg2", Function: PiecewiseFunction(Point{0, 0}, Point{6, 6 * G}, Point{20, 20 * G}), Demand: Limit(15 * G), Paths: []Path{{Links: []string{"A-C"}}}},
		},
	}
}

func TestB4TrianglePreferred(t *testing.T) {
	// Preferred (B4 §4.3): FG1 grows on A-B at 2 G/share, FG2 on A-C at 1.
	//   A-B saturates when 2f = 10      → f = 5; FG1 has 10 G on A-B.
	//   FG1 moves to A-C-B. A-C load = f (FG2) + 2(f-5) (FG1) = 3f - 10.
	//   A-C saturates when 3f - 10 = 10 → f = 20/3 ≈ 6.667.
	//   FG1 = 2·20/3 = 40/3 G (10 on A-B, 10/3 on A-C-B); FG2 = 20/3 G.
	//   Both are frozen (every path of each crosses a saturated link).
	r := mustAllocate(t, b4Triangle(Preferred))
	checkFGs(t, r, map[string]want{
		"fg1": {rate: 40.0 / 3 * G, paths: []float64{10 * G, 10.0 / 3 * G}, share: 20.0 / 3},
		"fg2": {rate: 20.0 / 3 * G, share: 20.0 / 3},
	})
	checkLoads(t, r, map[string]float64{"A-B": 10 * G, "A-C": 10 * G, "C-B": 10.0 / 3 * G})
	if fg := fgByName(t, r, "fg1"); fg.Bottleneck != "A-C" || fg.Satisfied {
		t.Errorf("fg1: bottleneck %q satisfied %v, want A-C, false", fg.Bottleneck, fg.Satisfied)
	}
}

func TestB4TriangleSplit(t *testing.T) {
	// Split 1:1: FG1 puts f on A-B and f on A-C-B; FG2 puts f on A-C.
	//   A-C load = 2f saturates at f = 5 and freezes both FGs.
	//   FG1 = 10 G (5 + 5), FG2 = 5 G; A-B = 5, A-C = 10, C-B = 5.
	r := mustAllocate(t, b4Triangle(Split))
	checkFGs(t, r, map[string]want{
		"fg1": {rate: 10 * G, paths: []float64{5 * G, 5 * G}, share: 5},
		"fg2": {rate: 5 * G, share: 5},
	})
	checkLoads(t, r, map[string]float64{"A-B": 5 * G, "A-C": 10 * G, "C-B": 5 * G})
}

func TestBreakpointsDemandsOneLink(t *testing.T) {
	// One 10 G link, three FGs (rates in G):
	//   a: (0,0) (2,4) (4,5): slope 2 to f=2, then 0.5 to f=4, flat.
	//   b: weight 1 G, demand 2.5 G: satisfied at f = 2.5.
	//   c: (0,0) (1,0) (5,8): nothing until f=1, then slope 2.
	// f in [0,1]: slope 2+1+0 = 3         → load 3 at f=1.
	// f in [1,2]: slope 2+1+2 = 5         → load 8 at f=2.
	// f in [2,2.5]: slope 0.5+1+2 = 3.5   → load 9.75 at f=2.5; b satisfied.
	// f ≥ 2.5: slope 0.5+2 = 2.5; 9.75 + 2.5(f-2.5) = 10 → f = 2.6.
	// a = 4 + 0.5·0.6 = 4.3, b = 2.5, c = 2·1.6 = 3.2; total 10.
	p := &Problem{
		Links: []Link{{"L", 10 * G}},
		FlowGroups: []FlowGroup{
			{Name: "a", Function: PiecewiseFunction(Point{2, 4 * G}, Point{4, 5 * G}), Paths: []Path{{Links: []string{"L"}}}},
			{Name: "b", Function: WeightFunction(G), Demand: Limit(2.5 * G), Paths: []Path{{Links: []string{"L"}}}},
			{Name: "c", Function: PiecewiseFunction(Point{0, 0}, Point{1, 0}, Point{5, 8 * G}), Paths: []Path{{Links: []string{"L"}}}},
		},
	}
	r := mustAllocate(t, p)
	checkFGs(t, r, map[string]want{
		"a": {rate: 4.3 * G, share: 2.6},
		"b": {rate: 2.5 * G, share: 2.5},
		"c": {rate: 3.2 * G, share: 2.6},
	})
	if !fgByName(t, r, "b").Satisfied || fgByName(t, r, "a").Satisfied {
		t.Error("b should be satisfied and a not")
	}
	checkLoads(t, r, map[string]float64{"L": 10 * G})
}

func TestFunctionEndAndUnusedCapacity(t *testing.T) {
	// Nothing saturates: x's function ends at (1, 3 G) and y's demand is
	// 1 G on a 10 G link, so both are satisfied and 6 G stays unused.
	// The issue's own example FG (function (2,10G) (4,15G), demand 15 G)
	// on a 10 G link saturates it at f = 2: 5 G/share·2 = 10 G.
	p := &Problem{
		Links: []Link{{"L", 10 * G}, {"M", 10 * G}},
		FlowGroups: []FlowGroup{
			{Name: "x", Function: PiecewiseFunction(Point{1, 3 * G}), Paths: []Path{{Links: []string{"L"}}}},
			{Name: "y", Demand: Limit(1 * G), Paths: []Path{{Links: []string{"L"}}}},
			{Name: "fg1", Demand: Limit(15 * G), Function: PiecewiseFunction(Point{0, 0}, Point{2, 10 * G}, Point{4, 15 * G}), Paths: []Path{{Links: []string{"M"}}}},
		},
	}
	r := mustAllocate(t, p)
	// y has the default weight 1: B(f) = f bits/s, satisfied at f = 1e9.
	checkFGs(t, r, map[string]want{
		"x":   {rate: 3 * G, share: 1},
		"y":   {rate: 1 * G, share: 1e9},
		"fg1": {rate: 10 * G, share: 2},
	})
	checkLoads(t, r, map[string]float64{"L": 4 * G, "M": 10 * G})
}

func TestSplitWeightsAndZeroWeightPath(t *testing.T) {
	// FG s splits 3:1 over P (link A) and Q (link B); a zero-weight path
	// over link Z carries nothing and does not block s even though Z has
	// capacity 0. FG t (weight 1 G) shares A.
	//   A load = 0.75·2f (s) + f (t) = 2.5f; B load = 0.5f.
	//   A (10 G) saturates at f = 4 → s = 8 G (6 + 2), t = 4 G.
	p := &Problem{
		Links: []Link{{"A", 10 * G}, {"B", 10 * G}, {"Z", 0}},
		FlowGroups: []FlowGroup{
			{Name: "s", Function: WeightFunction(2 * G), Paths: []Path{
				{Links: []string{"A"}, Weight: 3}, {Links: []string{"B"}, Weight: 1}, {Links: []string{"Z"}, Weight: 0}}},
			{Name: "t", Function: WeightFunction(G), Paths: []Path{{Links: []string{"A"}, Weight: 1}}},
		},
	}
	r := mustAllocate(t, p)
	checkFGs(t, r, map[string]want{
		"s": {rate: 8 * G, paths: []float64{6 * G, 2 * G, 0}, share: 4},
		"t": {rate: 4 * G, share: 4},
	})
	checkLoads(t, r, map[string]float64{"A": 10 * G, "B": 2 * G, "Z": 0})
}

func TestPreferredSkipsFrozenPathAndKeepsPlacedRate(t *testing.T) {
	// Links A, B, C are 10 G. FG u (1 G/share) prefers [A], then [B], then
	// [C]. FG v (3 G/share) prefers [B]; FG w (1 G/share) uses [A].
	//   A load = 2f (u, w), B = 3f (v): B saturates first, at f = 10/3,
	//   freezing v (10 G) and u's second path before u ever used it.
	//   A saturates at f = 5: w = 5 G, u = 5 G on A. u skips frozen [B]
	//   and grows on [C] alone: C = (f - 5)·1 G reaches 10 at f = 15.
	//   u = 5 + 10 = 15 G.
	p := &Problem{
		Mode:  Preferred,
		Links: []Link{{"A", 10 * G}, {"B", 10 * G}, {"C", 10 * G}},
		FlowGroups: []FlowGroup{
			{Name: "u", Function: WeightFunction(G), Paths: []Path{{Links: []string{"A"}}, {Links: []string{"B"}}, {Links: []string{"C"}}}},
			{Name: "v", Function: WeightFunction(3 * G), Paths: []Path{{Links: []string{"B"}}}},
			{Name: "w", Function: WeightFunction(G), Paths: []Path{{Links: []string{"A"}}}},
		},
	}
	r := mustAllocate(t, p)
	checkFGs(t, r, map[string]want{
		"u": {rate: 15 * G, paths: []float64{5 * G, 0, 10 * G}, share: 15},
		"v": {rate: 10 * G, share: 10.0 / 3},
		"w": {rate: 5 * G, share: 5},
	})
}

func TestHierarchy(t *testing.T) {
	// Parent rate 10 G (one 10 G link, unbounded weight). Children:
	//   x weight 1, y weight 3, z min(f, 1 G) with demand 0.5 G (all in
	//   bits/s per unit share). Σ = 4f + min(f, 0.5 G).
	//   At f = 0.5 G: Σ = 2.5 G < 10 G; beyond, 4f + 0.5 G = 10 G →
	//   f' = 2.375 G: x = 2.375 G, y = 7.125 G, z = 0.5 G.
	// y's children y1 (weight 1) and y2 (weight 1, demand 1 G) share
	// 7.125 G: y2 satisfied at f = 1 G, y1 = 6.125 G.
	p := &Problem{
		Links: []Link{{"L", 10 * G}},
		FlowGroups: []FlowGroup{{
			Name: "p", Paths: []Path{{Links: []string{"L"}}},
			Children: []Child{
				{Name: "x", Function: WeightFunction(1)},
				{Name: "y", Function: WeightFunction(3), Children: []Child{
					{Name: "y1"}, {Name: "y2", Demand: Limit(1 * G)}}},
				{Name: "z", Function: PiecewiseFunction(Point{1 * G, 1 * G}), Demand: Limit(0.5 * G)},
			},
		}},
	}
	r := mustAllocate(t, p)
	cs := r.FlowGroups[0].Children
	wantRates := []float64{2.375 * G, 7.125 * G, 0.5 * G}
	for i, c := range cs {
		if !near(c.Rate, wantRates[i]) {
			t.Errorf("child %s: rate %v, want %v", c.Name, c.Rate, wantRates[i])
		}
		if !near(c.FairShare, 2.375*G) {
			t.Errorf("child %s: fair share %v, want 2.375e9", c.Name, c.FairShare)
		}
	}
	y := cs[1].Children
	if !near(y[0].Rate, 6.125*G) || !near(y[1].Rate, 1*G) {
		t.Errorf("y's children: %v %v, want 6.125e9 1e9", y[0].Rate, y[1].Rate)
	}
}

func TestWaterFillAllSatisfied(t *testing.T) {
	// Children that want 1 G + 2 G in total from a parent with 5 G: both
	// satisfied (fair share +Inf), 2 G left unused.
	curves := []curve{
		newCurve(WeightFunction(1), Limit(1*G)),
		newCurve(PiecewiseFunction(Point{1, 2 * G}), nil),
	}
	f, rates := waterFill(curves, 5*G)
	if !math.IsInf(f, 1) || rates[0] != 1*G || rates[1] != 2*G {
		t.Errorf("waterFill = %v %v, want +Inf [1e9 2e9]", f, rates)
	}
	// With 0 to share everyone gets 0.
	if _, rates := waterFill(curves, 0); rates[0] != 0 || rates[1] != 0 {
		t.Errorf("waterFill(0) rates %v, want zeros", rates)
	}
}

func TestCurve(t *testing.T) {
	// B = (0,0) (2,10) (4,15), demand 12: B reaches 12 at f = 2 + 2/2.5 = 2.8.
	c := newCurve(PiecewiseFunction(Point{0, 0}, Point{2, 10}, Point{4, 15}), Limit(12))
	tests := []struct{ f, want float64 }{{0, 0}, {1, 5}, {2, 10}, {2.4, 11}, {2.8, 12}, {3, 12}, {100, 12}}
	for _, tt := range tests {
		if got := c.at(tt.f); !near(got, tt.want) {
			t.Errorf("at(%v) = %v, want %v", tt.f, got, tt.want)
		}
	}
	if got := c.satisfiedAt(); !near(got, 2.8) {
		t.Errorf("satisfiedAt = %v, want 2.8", got)
	}
	// Demand above the function's end: the function's end wins.
	c = newCurve(PiecewiseFunction(Point{2, 10}), Limit(50))
	if c.max() != 10 || c.satisfiedAt() != 2 {
		t.Errorf("max %v satisfiedAt %v, want 10 2", c.max(), c.satisfiedAt())
	}
	// A flat middle segment is not the end.
	c = newCurve(PiecewiseFunction(Point{1, 5}, Point{2, 5}, Point{3, 6}), nil)
	if c.satisfiedAt() != 3 || c.at(1.5) != 5 {
		t.Errorf("satisfiedAt %v at(1.5) %v, want 3 5", c.satisfiedAt(), c.at(1.5))
	}
}

func TestZeroCapacityAndZeroDemand(t *testing.T) {
	// A 0-capacity link freezes its FG at 0 right away; a 0-demand FG is
	// satisfied at 0; the third FG then has the other link alone.
	p := &Problem{
		Links: []Link{{"dead", 0}, {"L", 4 * G}},
		FlowGroups: []FlowGroup{
			{Name: "blocked", Paths: []Path{{Links: []string{"dead", "L"}}}},
			{Name: "idle", Demand: Limit(0), Paths: []Path{{Links: []string{"L"}}}},
			{Name: "busy", Function: WeightFunction(G), Paths: []Path{{Links: []string{"L"}}}},
		},
	}
	r := mustAllocate(t, p)
	checkFGs(t, r, map[string]want{
		"blocked": {rate: 0, share: 0},
		"idle":    {rate: 0, share: 0},
		"busy":    {rate: 4 * G, share: 4},
	})
}

func TestValidationNamesEveryItem(t *testing.T) {
	p := &Problem{
		Mode:  "sideways",
		Links: []Link{{"a", 10}, {"b", -1}, {"a", 5}},
		FlowGroups: []FlowGroup{
			{Name: "ok", Paths: []Path{{Links: []string{"a"}}}},
			{Name: "nopath"},
			{Name: "fg3", Paths: []Path{{Links: []string{"a", "s9-s1"}}, {Links: nil}}},
			{Name: "dec", Function: PiecewiseFunction(Point{1, 5}, Point{2, 3}), Paths: []Path{{Links: []string{"a"}}}},
			{Name: "both", Function: BandwidthFunction{Weight: 2, Points: []Point{{1, 1}}}, Paths: []Path{{Links: []string{"a"}}}},
			{Name: "ok", Demand: Limit(-3), Paths: []Path{{Links: []string{"a"}, Weight: -1}},
				Children: []Child{{Name: "c", Function: PiecewiseFunction(Point{0, 1})}}},
		},
	}
	_, err := Allocate(context.Background(), p)
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("Allocate error = %v, want *ValidationError", err)
	}
	msg := err.Error()
	for _, want := range []string{
		`mode: unknown mode "sideways"`,
		`links[1] "b": capacity must be a rate from 0 to 1e+18 bits/s, got -1`,
		`links[2] "a": duplicate link name`,
		`flow_groups[1] "nopath": no paths`,
		`flow_groups[2] "fg3": path 0: unknown link "s9-s1"`,
		`flow_groups[2] "fg3": path 1: path has no links`,
		`flow_groups[3] "dec": function is decreasing`,
		`flow_groups[4] "both": give either function or weight`,
		`flow_groups[5] "ok": duplicate flow group name`,
		`flow_groups[5] "ok": demand must be a rate ≥ 0`,
		`flow_groups[5] "ok": path 0: weight must be`,
		`flow_groups[5] "ok": children[0] "c": function must start at (0, 0)`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
	if len(ve.Issues) != 12 {
		t.Errorf("%d issues, want 12:\n%s", len(ve.Issues), msg)
	}
}

func TestAllocateHonoursContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	// Big enough to pass the first context check (every 1024 events).
	_, err := Allocate(ctx, RandomProblem(5000, 100, Split, 1))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

func TestExampleFileAllocates(t *testing.T) {
	for _, name := range []string{"testdata/b4.yaml", "testdata/example.yaml"} {
		f, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		p, err := ParseProblem(f, name)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		checkProperties(t, p, mustAllocate(t, p))
	}
}

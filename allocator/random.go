package allocator

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
)

// RandomProblem builds a random problem of nFG flow groups with 1–4 paths of
// 1–4 hops on nLinks links. Capacities and functions are chosen so that
// most links saturate and FGs have a few breakpoints. The same arguments
// give the same problem. It is what the benchmarks (here and in
// tests/perf) and the property tests run on.
func RandomProblem(nFG, nLinks int, mode Mode, seed uint64) *Problem {
	rng := rand.New(rand.NewPCG(seed, 1))
	p := &Problem{Mode: mode}
	for i := 0; i < nLinks; i++ {
		// Capacity scales with the FG density so every size saturates alike.
		p.Links = append(p.Links, Link{Name: fmt.Sprintf("l%d", i), Capacity: float64(nFG) / float64(nLinks) * (5 + 10*rng.Float64()) * 1e9})
	}
	for g := 0; g < nFG; g++ {
		fg := FlowGroup{Name: fmt.Sprintf("fg%d", g)}
		switch rng.IntN(3) {
		case 0:
			fg.Function = WeightFunction(float64(1 + rng.IntN(4)))
		default:
			x, y := 0.0, 0.0
			for k := 0; k < 1+rng.IntN(3); k++ {
				x += 1e9 * (0.5 + rng.Float64())
				y += 1e9 * 3 * rng.Float64()
				fg.Function.Points = append(fg.Function.Points, Point{Share: x, Rate: y})
			}
		}
		if rng.IntN(2) == 0 {
			fg.Demand = Limit(1e9 * 5 * rng.Float64())
		}
		for k := 0; k < 1+rng.IntN(4); k++ {
			pa := Path{Weight: 1 + float64(rng.IntN(3))}
			hops := 1 + rng.IntN(4)
			start := rng.IntN(nLinks)
			for h := 0; h < hops; h++ {
				pa.Links = append(pa.Links, p.Links[(start+h*7919)%nLinks].Name)
			}
			fg.Paths = append(fg.Paths, pa)
		}
		p.FlowGroups = append(p.FlowGroups, fg)
	}
	return p
}

// MarshalJSON writes p in the input format ParseProblem reads (rates in
// bits/s as numbers), so a problem built in Go — by the compiler or
// RandomProblem — can be handed to `p4qos allocate -f`.
func (p *Problem) MarshalJSON() ([]byte, error) {
	type child struct {
		Name     string       `json:"name"`
		Demand   *float64     `json:"demand,omitempty"`
		Function [][2]float64 `json:"function,omitempty"`
		Weight   float64      `json:"weight,omitempty"`
		Children []any        `json:"children,omitempty"`
	}
	var children func(cs []Child) []any
	children = func(cs []Child) []any {
		var out []any
		for _, c := range cs {
			out = append(out, child{Name: c.Name, Demand: c.Demand, Function: pointPairs(c.Function), Weight: c.Function.Weight, Children: children(c.Children)})
		}
		return out
	}
	type path struct {
		Links  []string `json:"links"`
		Weight float64  `json:"weight"`
	}
	type flowGroup struct {
		child
		Paths []path `json:"paths"`
	}
	doc := struct {
		Mode       Mode        `json:"mode,omitempty"`
		Links      []any       `json:"links"`
		FlowGroups []flowGroup `json:"flow_groups"`
		Objective  Objective   `json:"objective,omitempty"`
		Alpha      *float64    `json:"alpha,omitempty"`
	}{Mode: p.Mode, Links: []any{}, FlowGroups: []flowGroup{}, Objective: p.Objective, Alpha: p.Alpha}
	for _, l := range p.Links {
		doc.Links = append(doc.Links, map[string]any{"name": l.Name, "capacity": l.Capacity})
	}
	for _, fg := range p.FlowGroups {
		g := flowGroup{child: child{Name: fg.Name, Demand: fg.Demand, Function: pointPairs(fg.Function), Weight: fg.Function.Weight, Children: children(fg.Children)}, Paths: []path{}}
		for _, pa := range fg.Paths {
			g.Paths = append(g.Paths, path(pa))
		}
		doc.FlowGroups = append(doc.FlowGroups, g)
	}
	return json.Marshal(doc)
}

func pointPairs(f BandwidthFunction) [][2]float64 {
	var out [][2]float64
	for _, pt := range f.Points {
		out = append(out, [2]float64{pt.Share, pt.Rate})
	}
	return out
}

package allocator

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"
)

// TestParseObjectiveBothPaths: objective and alpha read the same from YAML,
// from JSON through the fast path, and from JSON through the YAML path.
func TestParseObjectiveBothPaths(t *testing.T) {
	body := `"links": [{"name": "l", "capacity": "12Gbps"}], "flow_groups": [{"name": "a", "weight": 1, "paths": [{"links": ["l"]}]}, {"name": "b", "weight": 2, "paths": [{"links": ["l"]}]}]`
	for _, src := range []string{
		`{"objective": "alpha-fair", "alpha": 1.5, ` + body + `}`,
		`{` + body + `, "alpha": 1.5, "objective": "alpha-fair"}`,
		"objective: alpha-fair\nalpha: 1.5\nlinks: [{name: l, capacity: 12Gbps}]\nflow_groups: [{name: a, weight: 1, paths: [{links: [l]}]}, {name: b, weight: 2, paths: [{links: [l]}]}]\n",
	} {
		p, err := ParseProblem(strings.NewReader(src), "p")
		if err != nil {
			t.Fatal(err)
		}
		if p.Objective != AlphaFairObjective || p.Alpha == nil || *p.Alpha != 1.5 {
			t.Fatalf("%s: objective %q alpha %v", src, p.Objective, p.Alpha)
		}
		if src[0] == '{' {
			fast, _ := decodeJSON([]byte(src))
			slow, err := parseYAML([]byte(src), "p")
			if fast == nil || err != nil {
				t.Fatalf("fast %v slow err %v", fast, err)
			}
			fast.file = "p"
			if !reflect.DeepEqual(fast, slow) {
				t.Fatalf("paths differ:\nfast %+v\nslow %+v", fast, slow)
			}
		}
		// α = 1.5 on one 12 G link, weights 1:2: equal marginal utilities
		// w_i^α s_i^(−α) = λ give shares ∝ w, i.e. 4 G and 8 G.
		r, err := Allocate(context.Background(), p)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(r.FlowGroups[0].Rate-4e9) > 4e9*1e-5 || math.Abs(r.FlowGroups[1].Rate-8e9) > 8e9*1e-5 {
			t.Errorf("rates %v %v, want 4e9 8e9", r.FlowGroups[0].Rate, r.FlowGroups[1].Rate)
		}
		if r.AlphaFair == nil || r.AlphaFair.RelGap > 1e-6 || r.Links[0].Price == nil || *r.Links[0].Price <= 0 || r.FlowGroups[0].MarginalUtility == nil {
			t.Errorf("α-fair fields missing: %+v", r.AlphaFair)
		}
		// KKT: each FG's marginal utility equals the price of its path.
		for _, fg := range r.FlowGroups {
			if mu, pr := *fg.MarginalUtility, *r.Links[0].Price; math.Abs(mu-pr) > 1e-4*pr {
				t.Errorf("%s: marginal utility %v, link price %v", fg.Name, mu, pr)
			}
		}
	}
}

func TestParseObjectiveErrors(t *testing.T) {
	head := "links: [{name: l, capacity: 1Gbps}]\nflow_groups: [{name: a, paths: [{links: [l]}]}]\n"
	tests := []struct{ src, want string }{
		{head + "objective: alpha-fiar\nalpha: 1\n", `line 3: objective: unknown objective "alpha-fiar"; did you mean "alpha-fair"?`},
		{head + "objective: maxmn\n", `did you mean "maxmin"?`},
		{head + "objective: alpha-fair\n", "line 3: objective: objective alpha-fair needs alpha"},
		{head + "objective: alpha-fair\nalpha: 51\n", "line 4: alpha: alpha must be a number from 0 to 50, got 51"},
		{head + "objective: alpha-fair\nalpha: -1\n", "alpha must be a number from 0 to 50, got -1"},
		{head + "alpha: 2\n", `line 3: alpha: alpha is only used with objective: alpha-fair (objective is "maxmin")`},
		{head + "objective: alpha-fair\nalpha: fair\n", `line 4: alpha: alpha: want a number, got "fair"`},
		{head + "objectiv: maxmin\n", `unknown key "objectiv"; did you mean "objective"?`},
		{`{"links": [{"name": "l", "capacity": 1}], "flow_groups": [{"name": "a", "paths": [{"links": ["l"]}]}],` + "\n" + `"objective": "alpha-fair", "alpha": 200}`, "line 2: alpha: alpha must be a number from 0 to 50, got 200"},
	}
	for _, tt := range tests {
		_, err := ParseProblem(strings.NewReader(tt.src), "p")
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q:\ngot  %v\nwant …%s", tt.src, err, tt.want)
		}
	}
}

// TestMaxMinResultJSONUnchanged: the objective keys do not change a max-min
// result; an explicit objective: maxmin gives the same bytes as none.
func TestMaxMinResultJSONUnchanged(t *testing.T) {
	p := RandomProblem(50, 20, Split, 4)
	a, err := Allocate(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	p.Objective = MaxMin
	b, err := Allocate(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	var ja, jb bytes.Buffer
	if err := a.WriteJSON(&ja); err != nil {
		t.Fatal(err)
	}
	if err := b.WriteJSON(&jb); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ja.Bytes(), jb.Bytes()) || bytes.Contains(ja.Bytes(), []byte("price")) || bytes.Contains(ja.Bytes(), []byte("alpha")) {
		t.Fatal("max-min JSON changed")
	}
	var doc map[string]any
	if err := json.Unmarshal(ja.Bytes(), &doc); err != nil || len(doc) != 2 {
		t.Fatalf("keys %v", doc)
	}
}

// TestAlphaFairChildrenShareByMaxMin: below an FG the hierarchy is
// Allocate's: children share the FG's α-fair rate by the max-min
// water-fill. One 12 G link, FG p (weight 2) and q (weight 1), α = 1:
// p gets 8 G; its children c1 (weight 1, demand 1 G) and c2 (weight 3)
// get 1 G and 7 G (c1 satisfied at f' = 1, c2 takes the rest).
func TestAlphaFairChildrenShareByMaxMin(t *testing.T) {
	one := 1.0
	p := &Problem{Objective: AlphaFairObjective, Alpha: &one, Links: []Link{{Name: "l", Capacity: 12e9}},
		FlowGroups: []FlowGroup{
			{Name: "p", Function: WeightFunction(2), Paths: []Path{{Links: []string{"l"}}},
				Children: []Child{{Name: "c1", Function: WeightFunction(1), Demand: Limit(1e9)}, {Name: "c2", Function: WeightFunction(3)}}},
			{Name: "q", Function: WeightFunction(1), Paths: []Path{{Links: []string{"l"}}}},
		}}
	r, err := Allocate(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	fg := r.FlowGroups[0]
	if relErr(fg.Rate, 8e9) > 1e-5 || len(fg.Children) != 2 || relErr(fg.Children[0].Rate, 1e9) > 1e-9 || relErr(fg.Children[1].Rate, fg.Rate-1e9) > 1e-9 {
		t.Fatalf("p %v, children %+v; want 8e9 = 1e9 + 7e9", fg.Rate, fg.Children)
	}
}

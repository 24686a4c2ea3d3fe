package allocator

import (
	"errors"
	"strings"
	"testing"
)

func TestParseProblemYAML(t *testing.T) {
	src := `mode: preferred
links:
  - {name: s1-s2, capacity: 10Gbps}
  - {name: s2-s3, capacity: 2500000000}
flow_groups:
  - name: fg1
    demand: 15Gbps
    function: [[0, 0], [2, 10Gbps], [4, 15Gbps]]
    paths:
      - {links: [s1-s2, s2-s3], weight: 1}
      - links: [s2-s3]
    children: [{name: a, weight: 1}, {name: b, function: [[0,0],[1,2Gbps]], demand: 1Gbps, children: [{name: b1}]}]
  - name: fg2
    weight: 1Gbps
    paths: [{links: [s1-s2]}]
`
	p, err := ParseProblem(strings.NewReader(src), "p.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if p.Mode != Preferred || len(p.Links) != 2 || p.Links[0].Capacity != 10e9 || p.Links[1].Capacity != 2.5e9 {
		t.Errorf("mode/links: %v %+v", p.Mode, p.Links)
	}
	fg := p.FlowGroups[0]
	if *fg.Demand != 15e9 || len(fg.Function.Points) != 3 || fg.Function.Points[2] != (Point{4, 15e9}) {
		t.Errorf("fg1: demand %v function %+v", *fg.Demand, fg.Function)
	}
	if len(fg.Paths) != 2 || fg.Paths[1].Weight != 1 || fg.Paths[0].Links[1] != "s2-s3" {
		t.Errorf("fg1 paths: %+v (an omitted path weight is 1)", fg.Paths)
	}
	if len(fg.Children) != 2 || fg.Children[0].Function.Weight != 1 || *fg.Children[1].Demand != 1e9 || fg.Children[1].Children[0].Name != "b1" {
		t.Errorf("fg1 children: %+v", fg.Children)
	}
	if w := p.FlowGroups[1].Function.Weight; w != 1e9 || p.FlowGroups[1].Demand != nil {
		t.Errorf("fg2: weight %v demand %v, want 1e9 and none", w, p.FlowGroups[1].Demand)
	}
}

func TestParseProblemJSONWithTabs(t *testing.T) {
	src := "{\n\t\"links\": [{\"name\": \"l\", \"capacity\": \"1Gbps\"}],\n\t\"flow_groups\": [{\"name\": \"f\", \"paths\": [{\"links\": [\"l\"]}]}]\n}\n"
	p, err := ParseProblem(strings.NewReader(src), "p.json")
	if err != nil {
		t.Fatal(err)
	}
	if p.Mode != "" || p.Links[0].Capacity != 1e9 || p.FlowGroups[0].Paths[0].Links[0] != "l" {
		t.Errorf("parsed %+v", p)
	}
}

func TestParseProblemAnchors(t *testing.T) {
	src := `links:
  - {name: a, capacity: &cap 10Gbps}
  - {name: b, capacity: *cap}
flow_groups:
  - name: f
    function: &fn [[0, 0], [1, 1Gbps]]
    paths: &ab [{links: [a, b]}]
  - {name: g, function: *fn, paths: *ab}
`
	p, err := ParseProblem(strings.NewReader(src), "p.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if p.Links[1].Capacity != 10e9 || len(p.FlowGroups[1].Function.Points) != 2 || len(p.FlowGroups[1].Paths[0].Links) != 2 {
		t.Errorf("aliases not followed: %+v", p)
	}
}

func TestParseProblemErrorsNameItemAndLine(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{"unknown link", `links: [{name: s1-s2, capacity: 1Gbps}]
flow_groups:
  - name: fg1
    paths: [{links: [s1-s2]}]
  - name: fg3
    paths:
      - links: [s9-s1]
`, []string{`line 7: flow_groups[1] "fg3": path 0: unknown link "s9-s1"`}},
		{"negative capacity", "links:\n  - {name: a, capacity: -5Gbps}\nflow_groups: []\n",
			[]string{`line 2: links[0] "a":`}},
		{"decreasing function", `links: [{name: a, capacity: 1Gbps}]
flow_groups:
  - name: f
    function: [[0, 0], [1, 5Gbps], [2, 3Gbps]]
    paths: [{links: [a]}]
`, []string{`line 4: flow_groups[0] "f": function is decreasing: point 2`}},
		{"no paths", "links: [{name: a, capacity: 1}]\nflow_groups:\n  - {name: lonely}\n",
			[]string{`line 3: flow_groups[0] "lonely": no paths`}},
		{"empty path", "links: [{name: a, capacity: 1}]\nflow_groups:\n  - name: f\n    paths:\n      - {links: []}\n",
			[]string{`line 5: flow_groups[0] "f": path 0: path has no links`}},
		{"unknown key", "links: [{name: a, capacity: 1, speed: 3}]\nflow_groups: []\nextra: 1\n",
			[]string{`line 1: links[0] "a": unknown key "speed"`, `line 3: problem: unknown key "extra"`}},
		{"bad rate", "links: [{name: a, capacity: fast}]\n", []string{`line 1: links[0] "a": capacity:`}},
		{"missing capacity", "links: [{name: a}]\n", []string{`links[0] "a": missing capacity`}},
		{"bad point", "links: [{name: a, capacity: 1}]\nflow_groups: [{name: f, function: [[1]], paths: [{links: [a]}]}]\n",
			[]string{`flow_groups[0] "f": function point 0: want [share, rate]`}},
		{"zero weight", "links: [{name: a, capacity: 1}]\nflow_groups: [{name: f, weight: 0, paths: [{links: [a]}]}]\n",
			[]string{`flow_groups[0] "f": weight must be > 0`}},
		{"not yaml", "links: [unclosed\n", []string{"not valid YAML or JSON"}},
		{"empty", "", []string{"empty problem"}},
		{"scalar document", "42\n", []string{"problem: want a mapping"}},
		{"bad mode", "mode: diagonal\n", []string{`line 1: mode: unknown mode "diagonal"`}},
		{"child", "links: [{name: a, capacity: 1}]\nflow_groups:\n  - name: f\n    paths: [{links: [a]}]\n    children:\n      - {name: c, demand: -1}\n",
			[]string{`line 6: flow_groups[0] "f": children[0] "c": demand must be a rate ≥ 0`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseProblem(strings.NewReader(tt.src), "p.yaml")
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("err = %v, want a *ValidationError", err)
			}
			if !strings.HasPrefix(err.Error(), "invalid problem p.yaml") {
				t.Errorf("error %q does not name the file", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
		})
	}
}

func FuzzParseProblem(f *testing.F) {
	f.Add("links: [{name: a, capacity: 1Gbps}]\nflow_groups: [{name: f, paths: [{links: [a]}], children: [{name: c}]}]\n")
	f.Add(`{"mode": "preferred", "links": [{"name": "a", "capacity": 5}], "flow_groups": [{"name": "x", "function": [[0,0],[1,"2Gbps"]], "paths": [{"links": ["a"]}]}]}`)
	f.Add("mode: split\nlinks: []\n")
	f.Fuzz(func(t *testing.T, src string) {
		p, err := ParseProblem(strings.NewReader(src), "fuzz")
		if err != nil {
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("non-validation error %v", err)
			}
			return
		}
		if len(p.Links) > 50 || len(p.FlowGroups) > 50 {
			return
		}
		if _, err := Allocate(t.Context(), p); err != nil {
			t.Fatalf("valid problem failed to allocate: %v", err)
		}
	})
}

package allocator

import (
	"bytes"
	"encoding/json"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// problemJSON writes p in the input format, as a user's tool would: rates
// as numbers of bits/s or, for every third value, strings with units.
func problemJSON(t testing.TB, p *Problem) []byte {
	t.Helper()
	n := 0
	rate := func(v float64) any {
		n++
		if n%3 == 0 {
			return formatRateForTest(v)
		}
		return v
	}
	fn := func(f BandwidthFunction, m map[string]any) {
		if f.Points != nil {
			pts := [][]any{}
			for _, pt := range f.Points {
				pts = append(pts, []any{pt.Share, rate(pt.Rate)})
			}
			m["function"] = pts
		} else if f.Weight != 0 {
			m["weight"] = rate(f.Weight)
		}
	}
	var children func(cs []Child) []any
	children = func(cs []Child) []any {
		out := []any{}
		for _, c := range cs {
			m := map[string]any{"name": c.Name}
			fn(c.Function, m)
			if c.Demand != nil {
				m["demand"] = rate(*c.Demand)
			}
			if c.Children != nil {
				m["children"] = children(c.Children)
			}
			out = append(out, m)
		}
		return out
	}
	links := []any{}
	for _, l := range p.Links {
		links = append(links, map[string]any{"name": l.Name, "capacity": rate(l.Capacity)})
	}
	fgs := []any{}
	for _, fg := range p.FlowGroups {
		m := map[string]any{"name": fg.Name}
		fn(fg.Function, m)
		if fg.Demand != nil {
			m["demand"] = rate(*fg.Demand)
		}
		paths := []any{}
		for _, pa := range fg.Paths {
			paths = append(paths, map[string]any{"links": pa.Links, "weight": pa.Weight})
		}
		m["paths"] = paths
		if fg.Children != nil {
			m["children"] = children(fg.Children)
		}
		fgs = append(fgs, m)
	}
	doc := map[string]any{"links": links, "flow_groups": fgs}
	if p.Mode != "" {
		doc["mode"] = string(p.Mode)
	}
	b, err := json.MarshalIndent(doc, "", "\t") // tabs: JSON whitespace the YAML path must handle
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// formatRateForTest spells a rate as a string with a unit ("1.5e+09bps"),
// exact in float, so both paths read back the same value.
func formatRateForTest(v float64) any {
	return strconv.FormatFloat(v, 'g', -1, 64) + "bps"
}

// TestDecodeJSONMatchesYAMLPath: the fast JSON path and the YAML path build
// the same Problem from the same bytes, on random problems of every shape
// (children included) and on the shipped examples.
func TestDecodeJSONMatchesYAMLPath(t *testing.T) {
	for name, p := range randomCases() {
		t.Run(name, func(t *testing.T) {
			data := problemJSON(t, p)
			fast, _ := decodeJSON(data)
			if fast == nil {
				t.Fatalf("fast path refused valid JSON:\n%.600s", data)
			}
			slow, err := parseYAML(data, "p.json")
			if err != nil {
				t.Fatal(err)
			}
			fast.file = "p.json"
			if !reflect.DeepEqual(fast, slow) {
				t.Fatalf("fast and YAML paths differ:\nfast %+v\nslow %+v", fast.FlowGroups[0], slow.FlowGroups[0])
			}
		})
	}
}

// TestDecodeJSONDefersToYAMLPath: input the fast path is unsure of is read
// by the YAML path, so errors keep their lines and all are reported.
func TestDecodeJSONDefersToYAMLPath(t *testing.T) {
	for _, tc := range []struct {
		name, src, want string
	}{
		{"unknown key", "{\"links\": [{\"name\": \"l\", \"capacity\": 1e9}],\n \"flow_groups\": [{\"name\": \"a\", \"wieght\": 1, \"paths\": [{\"links\": [\"l\"]}]}]}", "p.json: line 2: flow_groups[0] \"a\": unknown key \"wieght\""},
		{"duplicate key", "{\"links\": [{\"name\": \"l\", \"capacity\": 1e9, \"capacity\": 2e9}]}", "duplicate key \"capacity\""},
		{"bad unit", "{\"links\": [\n{\"name\": \"l\", \"capacity\": \"10mbps\"}]}", "p.json: line 2: links[0] \"l\": capacity: invalid quantity: \"10mbps\": ambiguous unit"},
		{"validation", "{\"links\": [{\"name\": \"l\", \"capacity\": 1e9}],\n\"flow_groups\": [\n{\"name\": \"a\", \"weight\": 1, \"paths\": [{\"links\": [\"nope\"]}]}]}", "p.json: line 3: flow_groups[0] \"a\": path 0: unknown link \"nope\""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// The fast path may accept what only validation rejects.
			if p, _ := decodeJSON([]byte(tc.src)); p != nil && tc.name != "validation" {
				t.Fatalf("fast path accepted %q", tc.src)
			}
			_, err := ParseProblem(strings.NewReader(tc.src), "p.json")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

// FuzzDecodeJSON: whatever the fast path accepts (and validates), the YAML
// path accepts too and reads identically.
func FuzzDecodeJSON(f *testing.F) {
	f.Add([]byte(`{"mode": "preferred", "links": [{"name": "l", "capacity": "10Gbps"}], "flow_groups": [{"name": "a", "demand": null, "function": [[1, 2e9]], "paths": [{"links": ["l"], "weight": 2}], "children": [{"name": "c", "weight": "1Gbps", "children": null}]}]}`))
	f.Add([]byte(`{"links": null, "flow_groups": []}`))
	f.Add([]byte(`{"objective": "alpha-fair", "alpha": 2, "links": [{"name": "l", "capacity": 1}], "flow_groups": [{"name": "a", "paths": [{"links": ["l"]}]}]}`))
	f.Add([]byte(`{"objective": "maxmin", "alpha": 0.5e1, "links": []}`))
	f.Add([]byte(`{"links": [{"name": "\u006c", "capacity": 1}]}`))
	f.Add([]byte("{\"links\": [{\"name\": \"l\u2028x\", \"capacity\": -0}]}"))
	f.Add(problemJSON(f, RandomProblem(5, 3, Split, 9)))
	if b, err := os.ReadFile("testdata/example.yaml"); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		agreesWithYAMLPath(t, decodeJSON, data)
	})
}

// agreesWithYAMLPath reports whether decode (a fast path) accepts data as a
// valid problem, and fails t unless the YAML path then reads data
// identically.
func agreesWithYAMLPath(t testing.TB, decode func([]byte) (*Problem, int), data []byte) bool {
	t.Helper()
	fast, _ := decode(data)
	if fast == nil || fast.Validate() != nil {
		return false
	}
	fast.file = "f"
	slow, err := parseYAML(data, "f")
	if err != nil {
		t.Fatalf("fast path accepted what the YAML path rejects: %v\n%q", err, data)
	}
	if !reflect.DeepEqual(fast, slow) {
		t.Fatalf("paths differ on %q:\nfast %+v\nslow %+v", data, fast, slow)
	}
	return true
}

// TestProblemMarshalJSONRoundTrips: what MarshalJSON writes, ParseProblem
// reads back as the same problem.
func TestProblemMarshalJSONRoundTrips(t *testing.T) {
	p := RandomProblem(100, 20, Preferred, 3)
	p.FlowGroups[1].Children = []Child{{Name: "a", Function: WeightFunction(1)}, {Name: "b", Demand: Limit(2e8), Function: PiecewiseFunction(Point{1, 2e9}),
		Children: []Child{{Name: "b1", Function: WeightFunction(1)}}}}
	data, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseProblem(bytes.NewReader(data), "p.json")
	if err != nil {
		t.Fatal(err)
	}
	back.file = ""
	if !reflect.DeepEqual(p.FlowGroups[1], back.FlowGroups[1]) || len(p.FlowGroups) != len(back.FlowGroups) || !reflect.DeepEqual(p.Links, back.Links) {
		t.Fatalf("round trip differs:\nwant %+v\ngot  %+v", p.FlowGroups[1], back.FlowGroups[1])
	}
}

// TestParseLargeProblem: above YAMLLimit, JSON is read (strictly) and its
// first error is positioned by line and column (YAML: TestParseLargeYAML).
func TestParseLargeProblem(t *testing.T) {
	p := RandomProblem(12_000, 240, Split, 5)
	data, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) <= YAMLLimit {
		t.Fatalf("test problem is %d bytes, want > %d", len(data), YAMLLimit)
	}
	if got, err := ParseProblem(bytes.NewReader(data), "big.json"); err != nil || len(got.FlowGroups) != 12_000 {
		t.Fatalf("valid large JSON: %v", err)
	}
	// An unknown key on line 2, column 17.
	bad := append([]byte("{\n\"mode\":\"split\", \"wieght\": 1,"), data[1:]...)
	_, err = ParseProblem(bytes.NewReader(bad), "big.json")
	if err == nil || !strings.Contains(err.Error(), "line 2: column 17: not a valid problem here (near \"\\\"wieght\\\"") {
		t.Fatalf("got %v", err)
	}
}

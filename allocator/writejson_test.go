package allocator

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"testing"
)

// encodingJSON is the reference WriteJSON must match byte for byte.
func encodingJSON(t *testing.T, r *Result) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestWriteJSONMatchesEncodingJSON(t *testing.T) {
	cases := map[string]*Result{
		"nil lists":   {},
		"empty lists": {FlowGroups: []FlowGroupResult{}, Links: []LinkResult{}},
		"awkward values": {
			FlowGroups: []FlowGroupResult{{Name: "a<b>&\"c\"\\ \u2028 é \x01", Rate: 1e-7,
				Paths:    []PathResult{{Links: []string{}, Rate: 1e21}, {Links: nil, Rate: math.Copysign(0, -1)}, {Links: []string{"x", "\xff"}, Rate: 123456789.125}},
				Children: []ChildResult{{Name: "c", Rate: 5e-324, Children: []ChildResult{{Name: "d", Rate: math.MaxFloat64}}}, {Name: "e", Children: []ChildResult{}}}}},
			Links: []LinkResult{{Name: "l", Load: 1e20, Capacity: 999999999999999999999}},
		},
	}
	for i, mode := range []Mode{Split, Preferred} {
		p := RandomProblem(300, 50, mode, uint64(10+i))
		p.FlowGroups[3].Children = []Child{{Name: "a", Function: WeightFunction(1)}, {Name: "b", Demand: Limit(2e8), Function: WeightFunction(2),
			Children: []Child{{Name: "b1", Function: WeightFunction(1)}, {Name: "b2", Function: WeightFunction(3)}}}}
		r, err := Allocate(context.Background(), p)
		if err != nil {
			t.Fatal(err)
		}
		cases["allocated "+string(mode)] = r
	}
	for _, alpha := range []float64{0.5, 1, 2} {
		p := RandomProblem(60, 20, Split, 21)
		p.FlowGroups[3].Children = []Child{{Name: "a", Function: WeightFunction(1)}, {Name: "b", Function: WeightFunction(2)}}
		p.Objective, p.Alpha = AlphaFairObjective, &alpha
		r, err := Allocate(context.Background(), p)
		if err != nil {
			t.Fatal(err)
		}
		cases[fmt.Sprintf("alpha-fair %g", alpha)] = r
	}
	for name, r := range cases {
		t.Run(name, func(t *testing.T) {
			want := encodingJSON(t, r)
			var got bytes.Buffer
			if err := r.WriteJSON(&got); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Bytes(), want) {
				i := 0
				for i < len(want) && i < got.Len() && want[i] == got.Bytes()[i] {
					i++
				}
				lo := max(0, i-80)
				t.Fatalf("differs at byte %d:\nwant …%q\ngot  …%q", i, want[lo:min(len(want), i+80)], got.Bytes()[lo:min(got.Len(), i+80)])
			}
		})
	}
}

func TestWriteJSONRefusesNonFinite(t *testing.T) {
	r := &Result{FlowGroups: []FlowGroupResult{{Name: "a", Rate: 1}, {Name: "b", Children: []ChildResult{{Name: "c", Rate: math.NaN()}}}}}
	var got bytes.Buffer
	if err := r.WriteJSON(&got); err == nil || got.Len() != 0 {
		t.Fatalf("err %v, wrote %d bytes; want an error and nothing written", err, got.Len())
	}
}

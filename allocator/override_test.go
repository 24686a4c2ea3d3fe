package allocator

import (
	"math"
	"slices"
	"strings"
	"testing"
)

func TestObjectiveOverride(t *testing.T) {
	inf := math.Inf(1)
	for _, tc := range []struct {
		name     string
		o        ObjectiveOverride
		obj      Objective
		alpha    float64 // -1: none
		alphas   []float64
		errorHas string
	}{
		{name: "none", o: ObjectiveOverride{}, alpha: -1},
		{name: "one α", o: ObjectiveOverride{Alpha: "2"}, obj: AlphaFairObjective, alpha: 2, alphas: []float64{2}},
		{name: "list with plot", o: ObjectiveOverride{Alpha: "0, 1,2,inf", Plot: true}, obj: AlphaFairObjective, alpha: 0, alphas: []float64{0, 1, 2, inf}},
		{name: "list starting at max-min", o: ObjectiveOverride{Alpha: "inf,1", Plot: true}, obj: MaxMin, alpha: -1, alphas: []float64{inf, 1}},
		{name: "list without plot", o: ObjectiveOverride{Alpha: "0,1"}, errorHas: "need --plot"},
		{name: "bad value in list", o: ObjectiveOverride{Alpha: "1,x", Plot: true}, errorHas: `"1,x"`},
		{name: "α out of range", o: ObjectiveOverride{Alpha: "51"}, errorHas: "0 to 50"},
		{name: "inf alone", o: ObjectiveOverride{Alpha: "inf"}, errorHas: "--objective maxmin"},
		{name: "maxmin with α", o: ObjectiveOverride{Objective: "maxmin", Alpha: "1"}, errorHas: "goes with --objective alpha-fair"},
		{name: "alpha-fair first inf", o: ObjectiveOverride{Objective: "alpha-fair", Alpha: "inf,1", Plot: true}, errorHas: "must be a number"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &Problem{}
			err := tc.o.Apply(p)
			if tc.errorHas != "" {
				if err == nil || !strings.Contains(err.Error(), tc.errorHas) || tc.o.Check() == nil || tc.o.Alphas() != nil {
					t.Fatalf("error %v, want one containing %q", err, tc.errorHas)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.Objective != tc.obj || (tc.alpha < 0) != (p.Alpha == nil) || p.Alpha != nil && *p.Alpha != tc.alpha {
				t.Errorf("objective %q α %v, want %q %v", p.Objective, p.Alpha, tc.obj, tc.alpha)
			}
			if got := tc.o.Alphas(); !slices.Equal(got, tc.alphas) {
				t.Errorf("Alphas %v, want %v", got, tc.alphas)
			}
		})
	}
}

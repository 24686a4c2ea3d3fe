package compiler

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/p4qos/p4qos/allocator"
)

// TestCompileAlphaFairAllocation: the policy's allocation section reaches
// the allocator; the α-fair result drives the meters like a max-min one, and
// with α = 50 its rates are close to max-min's.
func TestCompileAlphaFairAllocation(t *testing.T) {
	src, err := os.ReadFile(filepath.Join(examplesPath, "fabric-policy.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	s := loadSchema(t)
	tp := loadTopo(t, "fabric.yaml")
	compileWith := func(extra string) *Result {
		t.Helper()
		p, err := ParsePolicy("p.yaml", append(append([]byte{}, src...), extra...))
		if err != nil {
			t.Fatal(err)
		}
		res, err := Compile(context.Background(), p, tp, s)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	mm := compileWith("")
	if mm.Allocation.AlphaFair != nil || mm.Problem.Objective != "" {
		t.Fatalf("default: objective %q", mm.Problem.Objective)
	}
	// The hierarchy's definition (docs/allocator.md): an FG's α-fair weight
	// is the first slope of its composed function, tenant weight × the
	// FG's share among its siblings: a (3) → a-web (1) and a-backup (0.5)
	// gives 3·1/1.5 = 2 and 3·0.5/1.5 = 1; b (1) → b-sync gives 1.
	ar, err := allocator.AlphaFair(mm.Problem, 1)
	if err != nil {
		t.Fatal(err)
	}
	w := map[string]float64{}
	for _, fg := range ar.FlowGroups {
		w[fg.Name] = fg.Weight
	}
	if math.Abs(w["a-web"]/w["b-sync"]-2) > 1e-9 || math.Abs(w["a-backup"]/w["b-sync"]-1) > 1e-9 {
		t.Errorf("α-fair weights %v, want a-web : a-backup : b-sync = 2 : 1 : 1", w)
	}
	for _, alpha := range []float64{1, 50} {
		res := compileWith("\nallocation: {objective: alpha-fair, alpha: " + strings.TrimSpace(fmtFloat(alpha)) + "}\n")
		if res.Problem.Objective != allocator.AlphaFairObjective || res.Allocation.AlphaFair == nil || res.Allocation.AlphaFair.RelGap > 1e-6 {
			t.Fatalf("α=%v: objective %q, result %+v", alpha, res.Problem.Objective, res.Allocation.AlphaFair)
		}
		if got, want := counts(s, res.Switches["leaf1"])["meter"], counts(s, mm.Switches["leaf1"])["meter"]; got != want {
			t.Errorf("α=%v: %d meters on leaf1, max-min has %d", alpha, got, want)
		}
		for i, fg := range res.Allocation.FlowGroups {
			want := mm.Allocation.FlowGroups[i].Rate
			d := math.Abs(fg.Rate-want) / max(want, 1)
			t.Logf("α=%v %s: %.6g (max-min %.6g)", alpha, fg.Name, fg.Rate, want)
			if alpha == 50 && d > 0.05 {
				t.Errorf("α=50 %s: %g, max-min %g", fg.Name, fg.Rate, want)
			}
		}
	}
}

func fmtFloat(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

func TestPolicyAllocationErrors(t *testing.T) {
	for _, tt := range []struct{ src, want string }{
		{"allocation: {objective: alpha-fiar, alpha: 1}\n", `did you mean "alpha-fair"?`},
		{"allocation: {objective: alpha-fair}\n", "alpha-fair needs alpha"},
		{"allocation: {objective: alpha-fair, alpha: 500}\n", "expected a number from 0 to 50, got 500"},
		{"allocation: {alpha: 1}\n", "alpha is only used with objective: alpha-fair"},
		{"allocation: {objectiv: maxmin}\n", `"objectiv"`},
	} {
		_, err := ParsePolicy("p.yaml", []byte(tt.src))
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "allocation") {
			t.Errorf("%q: got %v, want …%s", tt.src, err, tt.want)
		}
	}
}

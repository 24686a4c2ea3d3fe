package allocator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os/exec"
	"testing"
)

// TestAlphaFairAgainstCvxopt: on 220 random problems (≤ 8 links, ≤ 12 FGs,
// 1–3 paths, a third with demands; α = 0.5, 1, 2: 40 each; α = 0: 100)
// the optimal objective AlphaFair certifies agrees with cvxopt's (Debian's
// python3-cvxopt, run by /usr/bin/python3) to relative 1e-6 (of |objective|,
// of Σŵ for α = 1), and for α > 0 every FG's rate to 1e-3 of the largest
// (rates near the optimum are fixed only to about the square root of the
// objective's accuracy). For α = 0 (the throughput LP) only the objective is
// compared: the LP's optimum need not be unique, and the two solvers break
// ties differently. Skips without cvxopt.
func TestAlphaFairAgainstCvxopt(t *testing.T) {
	py := "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import cvxopt").Run(); err != nil {
		t.Skipf("no cvxopt for %s (apt-get install python3-cvxopt): %v", py, err)
	}
	rng := rand.New(rand.NewPCG(6, 6))
	var insts []cvxoptInst
	var results []*AlphaResult
	for _, tc := range []struct {
		alpha float64
		n     int
	}{{0.5, 40}, {1, 40}, {2, 40}, {0, 100}} {
		alpha := tc.alpha
		for k := 0; k < tc.n; k++ {
			p := randomAlphaProblem(rng, 3)
			r, err := AlphaFair(p, alpha)
			if err != nil {
				t.Fatal(err)
			}
			in := cvxoptInstance(p, r)
			insts = append(insts, in)
			results = append(results, r)
		}
	}
	// Tight tolerances and the dense LDL KKT solver with iterative
	// refinement: the most accurate cvxopt offers, for a reference.
	ref, err := runCvxopt(py, insts, "1e-9", "1e-9", "ldl")
	if err != nil {
		t.Fatal(err)
	}
	worstObj, worstRate, solved := 0.0, 0.0, 0
	worstLP, solvedLP := 0.0, 0
	for k, rf := range ref {
		// "unknown" is cvxopt stopping on numerical difficulty; such a
		// point still counts if its own certificate is tight.
		if rf == nil || rf.Status != "optimal" && !(rf.RelGap <= 1e-7 && rf.PInf <= 1e-8) {
			t.Logf("problem %d (α=%v): cvxopt did not reach its optimum", k, insts[k].Alpha)
			continue
		}
		solved++
		r := results[k]
		den := math.Abs(rf.Objective)
		if insts[k].Alpha == 1 {
			den = 0
			for _, w := range insts[k].W {
				den += w
			}
		}
		e := math.Abs(r.Objective-rf.Objective) / den
		if insts[k].Alpha == 0 {
			solvedLP++
			worstLP = max(worstLP, e)
		} else {
			worstObj = max(worstObj, e)
		}
		if e > 1e-6 {
			t.Errorf("problem %d (α=%v): objective %.10g (certified relative gap %.2g), cvxopt %.10g (%s, relative gap %.2g); relative difference %.2g", k, insts[k].Alpha, r.Objective, r.RelGap, rf.Objective, rf.Status, rf.RelGap, e)
		}
		if insts[k].Alpha == 0 {
			continue
		}
		top := 0.0
		for _, s := range rf.S {
			top = max(top, s)
		}
		for g, s := range rf.S {
			e := math.Abs(r.FlowGroups[g].Rate/r.RateScale-s) / top
			worstRate = max(worstRate, e)
			if e > 1e-3 {
				t.Errorf("problem %d (α=%v) FG %d: rate %.8g, cvxopt %.8g (normalised)", k, insts[k].Alpha, g, r.FlowGroups[g].Rate/r.RateScale, s)
			}
		}
	}
	t.Logf("%d problems, %d solved by cvxopt: α > 0: worst objective difference %.2g (relative), worst FG rate difference %.2g (of the largest); α = 0: %d compared, worst throughput difference %.2g (relative)", len(insts), solved, worstObj, worstRate, solvedLP, worstLP)
	if solved-solvedLP < 100 || solvedLP < 100 {
		t.Errorf("cvxopt solved only %d of %d problems with α > 0 and %d of 100 with α = 0", solved-solvedLP, len(insts)-100, solvedLP)
	}
}

// cvxoptInst is an α-fair problem normalised as AlphaFair solves it (r's
// scales), in the JSON the cvxopt scripts read.
type cvxoptInst struct {
	Alpha float64    `json:"alpha"`
	W     []float64  `json:"w"`
	D     []*float64 `json:"d"`
	C     []float64  `json:"c"`
	Paths [][]int    `json:"paths"`
	Group []int      `json:"group"`
}

func cvxoptInstance(p *Problem, r *AlphaResult) cvxoptInst {
	in := cvxoptInst{Alpha: r.Alpha}
	idx := map[string]int{}
	for i, l := range p.Links {
		idx[l.Name] = i
		in.C = append(in.C, l.Capacity/r.RateScale)
	}
	for g, fg := range p.FlowGroups {
		in.W = append(in.W, r.FlowGroups[g].Weight/r.WeightScale)
		var d *float64
		if c := r.FlowGroups[g].Cap; !math.IsInf(c, 1) {
			v := c / r.RateScale
			d = &v
		}
		in.D = append(in.D, d)
		for _, pa := range fg.Paths {
			var ls []int
			for _, ln := range pa.Links {
				ls = append(ls, idx[ln])
			}
			in.Paths = append(in.Paths, ls)
			in.Group = append(in.Group, g)
		}
	}
	return in
}

// cvxoptRun is one problem's answer from testdata/alphafair_cvxopt_sparse.py
// (nil where cvxopt raised).
type cvxoptRun struct {
	Objective float64   `json:"objective"`
	S         []float64 `json:"s"`
	Status    string    `json:"status"`
	RelGap    float64   `json:"rel_gap"`
	PInf      float64   `json:"pinf"`
	CPU       float64   `json:"cpu"`
	Wall      float64   `json:"wall"`
}

// runCvxopt solves insts with cvxopt (testdata/alphafair_cvxopt_sparse.py
// run by py with args: relative gap, absolute gap, KKT solver).
func runCvxopt(py string, insts []cvxoptInst, args ...string) ([]*cvxoptRun, error) {
	data, err := json.Marshal(insts)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(py, append([]string{"testdata/alphafair_cvxopt_sparse.py"}, args...)...)
	cmd.Stdin = bytes.NewReader(data)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("cvxopt: %w\n%s", err, stderr.String())
	}
	var res []*cvxoptRun
	if err := json.Unmarshal(out, &res); err != nil || len(res) != len(insts) {
		return nil, fmt.Errorf("cvxopt output: %v (%d results for %d problems)\n%s", err, len(res), len(insts), stderr.String())
	}
	return res, nil
}

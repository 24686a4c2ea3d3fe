package allocator

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// cvxoptScript solves the normalised α-fair problem of each instance on
// stdin with cvxopt's convex solver (solvers.cp, an independent
// primal-dual interior-point method) and prints the optimal objectives and
// FG rates. Variables are path rates x ≥ 0; constraints A x ≤ c and
// s_g ≤ d_g; objective max Σ w_g U_α(s_g/w_g).
const cvxoptScript = `
import json, math, sys
from cvxopt import matrix, spmatrix, solvers
solvers.options.update({'show_progress': False, 'abstol': 1e-9, 'reltol': 1e-9, 'feastol': 1e-9, 'maxiters': 300, 'refinement': 3})
out = []
for pr in json.load(sys.stdin):
    a, w, d, c, paths, group = pr['alpha'], pr['w'], pr['d'], pr['c'], pr['paths'], pr['group']
    n, m, ng = len(paths), len(c), len(w)
    def util(f):
        return math.log(f) if a == 1 else f ** (1 - a) / (1 - a)
    def F(x=None, z=None):
        if x is None:
            return 0, matrix(1e-3, (n, 1))
        s = [0.0] * ng
        for p in range(n):
            s[group[p]] += x[p]
        if min(s) <= 0:
            return None
        f = -sum(w[g] * util(s[g] / w[g]) for g in range(ng))
        Df = matrix([-(s[group[p]] / w[group[p]]) ** (-a) for p in range(n)], (1, n))
        if z is None:
            return f, Df
        H = matrix(0.0, (n, n))
        for p in range(n):
            for q in range(n):
                if group[p] == group[q]:
                    g = group[p]
                    H[p, q] = z[0] * a * (s[g] / w[g]) ** (-a - 1) / w[g]
        return f, Df, H
    I, J, V, h = [], [], [], []
    for p in range(n):
        I.append(p); J.append(p); V.append(-1.0)
    h += [0.0] * n
    for l in range(m):
        for p in range(n):
            if l in paths[p]:
                I.append(n + l); J.append(p); V.append(1.0)
    h += c
    row = n + m
    for g in range(ng):
        if d[g] is None:
            continue
        for p in range(n):
            if group[p] == g:
                I.append(row); J.append(p); V.append(1.0)
        h.append(d[g])
        row += 1
    G = spmatrix(V, I, J, (row, n))
    try:
        sol = solvers.cp(F, G=G, h=matrix(h), kktsolver='ldl')
    except Exception as e:
        out.append(None)
        continue
    # 'unknown' is cvxopt stopping on numerical difficulty; such a point
    # still counts if its own certificate is tight.
    if sol['status'] != 'optimal' and not ((sol['relative gap'] or 1) <= 1e-7 and sol['primal infeasibility'] <= 1e-8):
        sys.stderr.write('%s gap %s rel %s pinf %s dinf %s\n' % (sol['status'], sol['gap'], sol['relative gap'], sol['primal infeasibility'], sol['dual infeasibility']))
        out.append(None)
        continue
    x = sol['x']
    s = [0.0] * ng
    for p in range(n):
        s[group[p]] += max(x[p], 0.0)
    out.append({'objective': -sol['primal objective'], 's': s})
json.dump(out, sys.stdout)
`

// TestAlphaFairAgainstCvxopt: on 120 random problems (≤ 8 links, ≤ 12 FGs,
// 1–3 paths, a third with demands; α = 0.5, 1, 2, 40 each) the optimal
// objective AlphaFair certifies agrees with cvxopt's (Debian's
// python3-cvxopt, run by /usr/bin/python3) to relative 1e-6 (of |objective|,
// of Σŵ for α = 1), and every FG's rate to 1e-3 of the largest (rates near the optimum are fixed only to about the square root of the objective's accuracy). Skips
// without cvxopt.
func TestAlphaFairAgainstCvxopt(t *testing.T) {
	py := "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import cvxopt").Run(); err != nil {
		t.Skipf("no cvxopt for %s (apt-get install python3-cvxopt): %v", py, err)
	}
	type inst struct {
		Alpha float64    `json:"alpha"`
		W     []float64  `json:"w"`
		D     []*float64 `json:"d"`
		C     []float64  `json:"c"`
		Paths [][]int    `json:"paths"`
		Group []int      `json:"group"`
	}
	rng := rand.New(rand.NewPCG(6, 6))
	var insts []inst
	var results []*AlphaResult
	for _, alpha := range []float64{0.5, 1, 2} {
		for k := 0; k < 40; k++ {
			p := randomAlphaProblem(rng, 3)
			r, err := AlphaFair(p, alpha)
			if err != nil {
				t.Fatal(err)
			}
			in := inst{Alpha: alpha}
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
			insts = append(insts, in)
			results = append(results, r)
		}
	}
	data, err := json.Marshal(insts)
	if err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(t.TempDir(), "af.py")
	if err := os.WriteFile(script, []byte(cvxoptScript), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(py, script)
	cmd.Stdin = bytes.NewReader(data)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("cvxopt: %v\n%s", err, stderr.String())
	}
	if stderr.Len() > 0 {
		t.Logf("cvxopt's unsolved problems:\n%s", stderr.String())
	}
	var ref []*struct {
		Objective float64   `json:"objective"`
		S         []float64 `json:"s"`
	}
	if err := json.Unmarshal(out, &ref); err != nil || len(ref) != len(insts) {
		t.Fatalf("cvxopt output: %v (%d results for %d problems)", err, len(ref), len(insts))
	}
	worstObj, worstRate, solved := 0.0, 0.0, 0
	for k, rf := range ref {
		if rf == nil {
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
		worstObj = max(worstObj, e)
		if e > 1e-6 {
			t.Errorf("problem %d (α=%v): objective %.10g, cvxopt %.10g (relative %.2g)", k, insts[k].Alpha, r.Objective, rf.Objective, e)
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
	t.Logf("%d problems, %d solved by cvxopt: worst objective difference %.2g (relative), worst FG rate difference %.2g (of the largest)", len(insts), solved, worstObj, worstRate)
	if solved < 100 {
		t.Errorf("cvxopt solved only %d of %d problems", solved, len(insts))
	}
}

package allocator

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

func TestMeterConfigFor(t *testing.T) {
	tests := []struct {
		name string
		rate float64
		pol  MeterPolicy
		want MeterConfig
	}{
		// 1 Gbps × 10 ms / 8 = 1,250,000 B.
		{"1G default", 1e9, MeterPolicy{}, MeterConfig{CIR: 1e9, CBurst: 1_250_000, PIR: 1e9, PBurst: 1_250_000}},
		// 1 Mbps × 10 ms / 8 = 1250 B < the 3000 B minimum.
		{"small rate gets min burst", 1e6, MeterPolicy{}, MeterConfig{CIR: 1e6, CBurst: 3000, PIR: 1e6, PBurst: 3000}},
		// PIR 1.5 Gbps; PBS 1.5e9 × 0.01 / 8 = 1,875,000 B.
		{"peak factor", 1e9, MeterPolicy{PeakFactor: 1.5}, MeterConfig{CIR: 1e9, CBurst: 1_250_000, PIR: 1.5e9, PBurst: 1_875_000}},
		// 100 Mbps × 2 ms / 8 = 25,000 B.
		{"burst time", 100e6, MeterPolicy{BurstTime: 2 * time.Millisecond, MinBurst: 1500}, MeterConfig{CIR: 100e6, CBurst: 25_000, PIR: 100e6, PBurst: 25_000}},
		{"zero", 0, MeterPolicy{}, MeterConfig{CBurst: 3000, PBurst: 3000}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := MeterConfigFor(tt.rate, tt.pol); got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
	cir, cb, pir, pb := MeterConfigFor(1e9, MeterPolicy{}).P4Runtime()
	if cir != 125_000_000 || cb != 1_250_000 || pir != 125_000_000 || pb != 1_250_000 {
		t.Errorf("P4Runtime() = %d %d %d %d, want 125000000 1250000 125000000 1250000", cir, cb, pir, pb)
	}
}

func TestMeterConfigsNamesClasses(t *testing.T) {
	r := mustAllocate(t, b4Triangle(Split))
	r.FlowGroups[0].Children = []ChildResult{{Name: "gold", Rate: 4e9, Children: []ChildResult{{Name: "voice", Rate: 1e9}}}}
	m := MeterConfigs(r, MeterPolicy{})
	if m["fg1"].CIR != 10e9 || m["fg2"].CIR != 5e9 || m["fg1/gold"].CIR != 4e9 || m["fg1/gold/voice"].CIR != 1e9 || len(m) != 4 {
		t.Errorf("MeterConfigs = %+v", m)
	}
}

func TestQuantizeWeightsHandWorked(t *testing.T) {
	// Ratios 0.5/0.3/0.2 with at most 4 members:
	//   T=1 [1 0 0] max err 0.5; T=2 [1 1 0] 0.2; T=3 [1 1 1] 1/6;
	//   T=4: 4x = 2, 1.2, 0.8 → floors 2,1,0, one unit to the largest
	//   remainder (0.8) → [2 1 1]: errors 0, 0.05, 0.05. Best: T=4.
	q, err := QuantizeWeights([]float64{5, 3, 2}, 4)
	if err != nil {
		t.Fatal(err)
	}
	if !equalInts(q.Weights, []int{2, 1, 1}) || !near(q.MaxError, 0.05) || !near(q.L1Error, 0.1) {
		t.Errorf("got %+v, want [2 1 1] max 0.05 L1 0.1", q)
	}
	// With 10 members the split is exact: 5/3/2.
	if q, _ := QuantizeWeights([]float64{5, 3, 2}, 10); !equalInts(q.Weights, []int{5, 3, 2}) || q.MaxError != 0 {
		t.Errorf("limit 10: %+v, want [5 3 2] exact", q)
	}
	// Equal shares need only one member each, not 64.
	if q, _ := QuantizeWeights([]float64{7e9, 7e9}, 64); !equalInts(q.Weights, []int{1, 1}) {
		t.Errorf("equal split: %+v, want [1 1]", q)
	}
	if _, err := QuantizeWeights([]float64{0, 0}, 64); !errors.Is(err, ErrNoTraffic) {
		t.Errorf("zero ratios: err %v, want ErrNoTraffic", err)
	}
	if _, err := QuantizeWeights([]float64{1, -1}, 64); err == nil {
		t.Error("negative ratio accepted")
	}
	if _, err := QuantizeWeights([]float64{1}, 0); err == nil {
		t.Error("limit 0 accepted")
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestQuantizeWeightsOptimal compares against exhaustive search over every
// weight vector with Σ ≤ limit: no vector has a smaller max error.
func TestQuantizeWeightsOptimal(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	for iter := 0; iter < 200; iter++ {
		n := 1 + rng.IntN(3)
		limit := 1 + rng.IntN(9)
		ratios := make([]float64, n)
		sum := 0.0
		for i := range ratios {
			ratios[i] = rng.Float64()
			sum += ratios[i]
		}
		q, err := QuantizeWeights(ratios, limit)
		if err != nil {
			t.Fatal(err)
		}
		total := 0
		for _, w := range q.Weights {
			total += w
		}
		if total < 1 || total > limit {
			t.Fatalf("weights %v sum to %d, limit %d", q.Weights, total, limit)
		}
		best := math.Inf(1)
		w := make([]int, n)
		var rec func(i, left int)
		rec = func(i, left int) {
			if i == n {
				s := 0
				for _, v := range w {
					s += v
				}
				if s == 0 {
					return
				}
				e := 0.0
				for k := range w {
					e = math.Max(e, math.Abs(float64(w[k])/float64(s)-ratios[k]/sum))
				}
				best = math.Min(best, e)
				return
			}
			for v := 0; v <= left; v++ {
				w[i] = v
				rec(i+1, left-v)
			}
		}
		rec(0, limit)
		if q.MaxError > best+1e-12 {
			t.Errorf("ratios %v limit %d: got %v (err %v), exhaustive best %v", ratios, limit, q.Weights, q.MaxError, best)
		}
	}
}

func TestWCMPWeightsFromResult(t *testing.T) {
	// Preferred B4 triangle: fg1 has 10 G on A-B and 10/3 G on A-C-B, a
	// 3:1 split: 4 members (3 + 1) are exact.
	r := mustAllocate(t, b4Triangle(Preferred))
	q, err := WCMPWeights(r.FlowGroups[0], 64)
	if err != nil || !equalInts(q.Weights, []int{3, 1}) || q.MaxError > 1e-12 {
		t.Errorf("WCMPWeights = %+v, %v; want [3 1] exact", q, err)
	}
}

func TestWCMPGroups(t *testing.T) {
	// Split B4 triangle: fg1 1:1 over two paths → [1 1]; fg2 has one path
	// and gets no group.
	r := mustAllocate(t, b4Triangle(Split))
	r.FlowGroups = append(r.FlowGroups, FlowGroupResult{Name: "idle", Paths: []PathResult{{}, {}}})
	gs, err := WCMPGroups(r, 64)
	if err != nil {
		t.Fatal(err)
	}
	if len(gs) != 1 || !equalInts(gs["fg1"].Weights, []int{1, 1}) {
		t.Errorf("WCMPGroups = %+v, want only fg1 [1 1]", gs)
	}
	if _, err := WCMPGroups(r, 0); err == nil {
		t.Error("group size 0 accepted")
	}
}

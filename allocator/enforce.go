package allocator

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/p4qos/p4qos/internal/yamlerr"
)

// MeterConfig is a two-rate three-color meter (RFC 2698 trTCM) enforcing an
// allocation. Rates are bits/s, bursts bytes; see P4Runtime for the units
// the switch wants.
type MeterConfig struct {
	CIR    float64 // committed rate = the allocated rate
	CBurst uint64  // committed burst size (CBS)
	PIR    float64 // peak rate, ≥ CIR
	PBurst uint64  // peak burst size (PBS), ≥ CBS
}

// P4Runtime returns the config in the units of a BYTES meter's P4Runtime
// MeterConfig (P4Runtime spec v1.5, MeterEntry: cir/pir in bytes per
// second, cburst and pburst in bytes), rounding rates down so that the switch never admits
// more than allocated. Values are clamped to int64.
func (m MeterConfig) P4Runtime() (cir, cburst, pir, pburst int64) {
	toI := func(v float64) int64 {
		if v >= math.MaxInt64 {
			return math.MaxInt64
		}
		if v <= 0 {
			return 0
		}
		return int64(v)
	}
	clampU := func(v uint64) int64 {
		if v > math.MaxInt64 {
			return math.MaxInt64
		}
		return int64(v)
	}
	return toI(math.Floor(m.CIR / 8)), clampU(m.CBurst), toI(math.Floor(m.PIR / 8)), clampU(m.PBurst)
}

// MeterPolicy holds the rules that turn a rate into a meter configuration.
//
//   - CBS = max(CIR × BurstTime / 8, MinBurst) bytes: enough for BurstTime of
//     traffic at the committed rate, and never less than a few full-size
//     packets, because RFC 2698 §3 requires bursts of at least the largest
//     packet and a smaller bucket marks every large packet.
//   - PIR = CIR × PeakFactor (default 1, the single-rate case: traffic above
//     the allocation is red straight away, which the pipeline drops for EF
//     and marks AFx3 for AF, RFC 2597/3246). A factor above 1 lets a class
//     borrow idle capacity as yellow (AFx2) traffic.
//   - PBS = max(PIR × BurstTime / 8, CBS).
type MeterPolicy struct {
	BurstTime  time.Duration // default 10 ms
	MinBurst   uint64        // bytes; default 3000 (two 1500-byte packets)
	PeakFactor float64       // default 1
}

// DefaultMeterPolicy is the policy used when fields are left zero.
var DefaultMeterPolicy = MeterPolicy{BurstTime: 10 * time.Millisecond, MinBurst: 3000, PeakFactor: 1}

func (pol MeterPolicy) withDefaults() MeterPolicy {
	if pol.BurstTime <= 0 {
		pol.BurstTime = DefaultMeterPolicy.BurstTime
	}
	if pol.MinBurst == 0 {
		pol.MinBurst = DefaultMeterPolicy.MinBurst
	}
	if pol.PeakFactor < 1 || math.IsNaN(pol.PeakFactor) {
		pol.PeakFactor = 1
	}
	return pol
}

// MeterConfigFor returns the meter configuration enforcing rate (bits/s).
func MeterConfigFor(rate float64, pol MeterPolicy) MeterConfig {
	pol = pol.withDefaults()
	if rate < 0 || math.IsNaN(rate) {
		rate = 0
	}
	burst := func(r float64) uint64 {
		b := r * pol.BurstTime.Seconds() / 8
		if b >= math.MaxUint64/2 {
			return math.MaxUint64 / 2
		}
		return max(uint64(math.Ceil(b)), pol.MinBurst)
	}
	m := MeterConfig{CIR: rate, PIR: rate * pol.PeakFactor}
	m.CBurst = burst(m.CIR)
	m.PBurst = max(burst(m.PIR), m.CBurst)
	return m
}

// MeterConfigs returns a meter configuration for every FG and every child
// of a result, keyed by name: "fg" for an FG and "fg/child/grandchild" for
// children. Classes are usually the leaves.
func MeterConfigs(r *Result, pol MeterPolicy) map[string]MeterConfig {
	out := make(map[string]MeterConfig)
	var walk func(prefix string, cs []ChildResult)
	walk = func(prefix string, cs []ChildResult) {
		for _, c := range cs {
			name := prefix + "/" + c.Name
			out[name] = MeterConfigFor(c.Rate, pol)
			walk(name, c.Children)
		}
	}
	for _, fg := range r.FlowGroups {
		out[fg.Name] = MeterConfigFor(fg.Rate, pol)
		walk(fg.Name, fg.Children)
	}
	return out
}

// ErrNoTraffic is returned by QuantizeWeights when every target ratio is
// zero: there is no split to approximate.
var ErrNoTraffic = errors.New("allocator: no traffic to split")

// Quantized is a WCMP weight vector for an action selector group.
type Quantized struct {
	Weights []int // member weights; Σ ≤ the group size limit
	// MaxError is max_i |w_i/Σw − x_i| for the normalised target ratios x:
	// the largest share of the FG's traffic sent to the wrong path.
	MaxError float64
	// L1Error is Σ_i |w_i/Σw − x_i|; half of it is the fraction of traffic
	// that lands on a different path than allocated.
	L1Error float64
}

// QuantizeWeights approximates the split ratios (any non-negative scale,
// e.g. the path rates of an FG) by integer weights summing to at most
// maxTotal, as an action selector with max group size maxTotal can hold
// (the qos pipeline's ecmp_selector: 64; with P4Runtime's default
// sum-of-weights selector size semantics, member weights count against
// max_group_size). This is B4 §4.3's quantisation of tunnel
// splits; instead of B4's fixed 1/Q grid we try every total T ≤ maxTotal,
// round each with the largest-remainder method (optimal for both the max
// and the L1 deviation at a fixed T), and keep the T with the smallest max
// error (ties: smaller L1, then smaller T, which uses fewer selector
// entries). Cost O(maxTotal · n log n).
func QuantizeWeights(ratios []float64, maxTotal int) (Quantized, error) {
	if maxTotal < 1 {
		return Quantized{}, fmt.Errorf("allocator: group size limit %d < 1", maxTotal)
	}
	sum := 0.0
	for i, x := range ratios {
		if x < 0 || math.IsNaN(x) || math.IsInf(x, 0) {
			return Quantized{}, fmt.Errorf("allocator: ratio %d is %v, want a finite number ≥ 0", i, x)
		}
		sum += x
	}
	if sum == 0 {
		return Quantized{}, ErrNoTraffic
	}
	n := len(ratios)
	x := make([]float64, n)
	for i, r := range ratios {
		x[i] = r / sum
	}
	best := Quantized{MaxError: math.Inf(1), L1Error: math.Inf(1)}
	w := make([]int, n)
	rem := make([]float64, n)
	for total := 1; total <= maxTotal; total++ {
		assigned := 0
		for i := range x {
			q := x[i] * float64(total)
			w[i] = int(math.Floor(q))
			rem[i] = q - float64(w[i])
			assigned += w[i]
		}
		// Hand the remaining units to the largest remainders.
		left := total - assigned
		for k := 0; k < left; k++ {
			bi := -1
			for i := range rem {
				if bi < 0 || rem[i] > rem[bi] {
					bi = i
				}
			}
			w[bi]++
			rem[bi] = math.Inf(-1)
		}
		maxErr, l1 := 0.0, 0.0
		for i := range x {
			d := math.Abs(float64(w[i])/float64(total) - x[i])
			maxErr = math.Max(maxErr, d)
			l1 += d
		}
		const eps = 1e-12
		if maxErr < best.MaxError-eps || (maxErr <= best.MaxError+eps && l1 < best.L1Error-eps) {
			best = Quantized{Weights: append([]int(nil), w...), MaxError: maxErr, L1Error: l1}
		}
		if maxErr == 0 {
			break
		}
	}
	return best, nil
}

// WCMPWeights quantises an FG's path rates into selector member weights
// (see QuantizeWeights). An FG with no rate returns ErrNoTraffic; the
// caller decides (e.g. keep the configured weights).
func WCMPWeights(fg FlowGroupResult, maxGroupSize int) (Quantized, error) {
	rates := make([]float64, len(fg.Paths))
	for i, p := range fg.Paths {
		rates[i] = p.Rate
	}
	q, err := QuantizeWeights(rates, maxGroupSize)
	if err != nil {
		return q, fmt.Errorf("flow group %s: %w", yamlerr.Quote(fg.Name), err)
	}
	return q, nil
}

// WCMPGroups quantises every multipath FG of a result (see WCMPWeights),
// keyed by FG name. FGs with a single path need no group and FGs without
// traffic have no split to approximate; both are left out.
func WCMPGroups(r *Result, maxGroupSize int) (map[string]Quantized, error) {
	out := make(map[string]Quantized)
	for _, fg := range r.FlowGroups {
		if len(fg.Paths) < 2 {
			continue
		}
		q, err := WCMPWeights(fg, maxGroupSize)
		if errors.Is(err, ErrNoTraffic) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out[fg.Name] = q
	}
	return out, nil
}

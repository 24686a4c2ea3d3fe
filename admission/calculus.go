package admission

import (
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/p4qos/p4qos/internal/units"
	"github.com/p4qos/p4qos/topo"
)

// HopTerm is one hop of a flow's worst path and its share of the bound.
type HopTerm struct {
	Hop      string        // directed link, "leaf1:3->spine1:1"
	EFRate   float64       // R: EF share of the link, bits/s
	Latency  time.Duration // T: non-preemption + switch latency
	AggRate  float64       // sum of the guaranteed rates through the hop, bits/s
	AggBurst float64       // sum of their bursts at the hop's input, bytes
	Delay    time.Duration // the hop's delay bound d
	Prop     time.Duration // propagation delay of the link
}

// Method names the theorem a bound came from.
const (
	MethodFeedForward = "feed-forward (aggregate FIFO, burst growth)"
	MethodCharny      = "Charny–Le Boudec EF bound"
)

// hop is one directed switch egress used by some guaranteed flow.
type hop struct {
	edge    topo.Edge
	name    string
	R, T    float64 // bits/s, seconds
	prop    float64 // seconds
	rateSum float64
	flows   []int
	d       float64
	burstIn float64
}

type flowPaths struct {
	paths [][]*hop // hops (switch egresses) of each ECMP path
	props []float64
}

// analysis is the result of analysing a set of guaranteed reservations.
type analysis struct {
	method string
	bounds []float64   // seconds, per reservation
	terms  [][]HopTerm // per reservation, the hops of its worst path
	hops   map[string]*hop
}

// paths returns the ECMP paths of a flow, refusing when there are more
// than MaxPaths (a bound over some of them would not cover the others).
func paths(t *topo.Topology, p Params, src, dst string) ([]topo.Path, error) {
	ps, err := t.ShortestPaths(src, dst, p.MaxPaths+1)
	if err != nil {
		return nil, &InvalidError{Msg: err.Error()}
	}
	if len(ps) > p.MaxPaths {
		return nil, &Rejection{Resource: "ECMP paths", Need: fmt.Sprintf("> %d", p.MaxPaths), Limit: fmt.Sprint(p.MaxPaths),
			Detail: "more equal-cost paths than MaxPaths; every path the hash may choose must be checked"}
	}
	return ps, nil
}

func linkDelay(t *topo.Topology, e topo.Edge) float64 {
	if e.FromHost {
		if h, ok := t.Host(e.From); ok {
			return time.Duration(h.Link.Delay).Seconds()
		}
		return 0
	}
	for _, l := range t.Links {
		if (l.A.Switch == e.From && l.A.Port == e.FromPort) || (l.B.Switch == e.From && l.B.Port == e.FromPort) {
			return time.Duration(l.Delay).Seconds()
		}
	}
	for _, h := range t.Hosts {
		if h.Switch == e.From && h.Port == e.FromPort {
			return time.Duration(h.Link.Delay).Seconds()
		}
	}
	return 0
}

// analyse computes every reservation's delay bound. It returns a Rejection
// when a hop's EF share is exceeded or the general bound's utilisation
// condition fails; delay requirements are checked by the caller.
func analyse(t *topo.Topology, p Params, rs []Reservation) (*analysis, error) {
	hops := map[string]*hop{}
	fps := make([]flowPaths, len(rs))
	for i, r := range rs {
		ps, err := paths(t, p, r.Src, r.Dst)
		if err != nil {
			if rj, ok := err.(*Rejection); ok {
				rj.Reservation = r.ID
			}
			return nil, err
		}
		for _, path := range ps {
			var hs []*hop
			prop := 0.0
			for _, e := range path.Edges {
				prop += linkDelay(t, e)
				if e.FromHost { // the host's NIC, shaped by the host to its TSpec
					continue
				}
				h := hops[e.Name()]
				if h == nil {
					sw, _ := t.Switch(e.From)
					lat, ok := p.SwitchLatency[sw.Target]
					if !ok {
						lat = p.SwitchLatency[topo.TargetBMv2]
					}
					h = &hop{edge: e, name: e.Name(), R: p.EFShare * e.Capacity,
						T: p.MaxLowPacket*8/e.Capacity + lat.Seconds(), prop: linkDelay(t, e)}
					hops[h.name] = h
				}
				if len(h.flows) == 0 || h.flows[len(h.flows)-1] != i {
					h.flows = append(h.flows, i)
					// Every path the hash may choose carries the whole
					// flow: the rate counts once per hop, on every path.
					h.rateSum += r.TSpec.Rate
				}
				hs = append(hs, h)
			}
			fps[i].paths = append(fps[i].paths, hs)
			fps[i].props = append(fps[i].props, prop)
		}
	}
	names := make([]string, 0, len(hops))
	for n := range hops {
		names = append(names, n)
	}
	sort.Strings(names)
	// Stability: the EF aggregate's rate on each hop within the EF share.
	for _, n := range names {
		h := hops[n]
		if h.rateSum > h.R*(1+1e-12) {
			return nil, &Rejection{Hop: n, Resource: "EF share",
				Need:   units.FormatBitrate(h.rateSum) + " of guaranteed rate",
				Limit:  fmt.Sprintf("%s (EF share %g of %s)", units.FormatBitrate(h.R), p.EFShare, units.FormatBitrate(h.edge.Capacity)),
				Detail: fmt.Sprintf("%d reservation(s) through the hop", len(h.flows))}
		}
	}
	a := &analysis{hops: hops, bounds: make([]float64, len(rs)), terms: make([][]HopTerm, len(rs))}
	if order, ok := topoOrder(names, hops, fps); ok {
		a.method = MethodFeedForward
		feedForward(order, rs, fps)
	} else {
		a.method = MethodCharny
		if err := charny(hops, rs, fps); err != nil {
			return nil, err
		}
	}
	for i := range rs {
		worst, wi := -1.0, 0
		for k, hs := range fps[i].paths {
			sum := fps[i].props[k]
			for _, h := range hs {
				sum += h.d
			}
			if sum > worst {
				worst, wi = sum, k
			}
		}
		a.bounds[i] = worst
		for _, h := range fps[i].paths[wi] {
			a.terms[i] = append(a.terms[i], HopTerm{Hop: h.name, EFRate: h.R, Latency: secs(h.T),
				AggRate: h.rateSum, AggBurst: h.aggBurst(), Delay: secs(h.d), Prop: secs(h.prop)})
		}
	}
	return a, nil
}

// aggBurst is the aggregate burst (bytes) at the hop's input, set by
// feedForward or charny.
func (h *hop) aggBurst() float64 { return h.burstIn }

func secs(s float64) time.Duration { return time.Duration(math.Ceil(s * 1e9)) }

// topoOrder sorts the hops so that every hop comes after the hops that
// feed it (Kahn's algorithm); ok is false when the flows' hop dependencies
// have a cycle (the network is not feed-forward for this set).
func topoOrder(names []string, hops map[string]*hop, fps []flowPaths) ([]*hop, bool) {
	next := map[*hop][]*hop{}
	indeg := map[*hop]int{}
	seen := map[[2]*hop]bool{}
	for _, fp := range fps {
		for _, hs := range fp.paths {
			for k := 1; k < len(hs); k++ {
				e := [2]*hop{hs[k-1], hs[k]}
				if !seen[e] {
					seen[e] = true
					next[hs[k-1]] = append(next[hs[k-1]], hs[k])
					indeg[hs[k]]++
				}
			}
		}
	}
	var queue, order []*hop
	for _, n := range names {
		if indeg[hops[n]] == 0 {
			queue = append(queue, hops[n])
		}
	}
	for len(queue) > 0 {
		h := queue[0]
		queue = queue[1:]
		order = append(order, h)
		for _, m := range next[h] {
			if indeg[m]--; indeg[m] == 0 {
				queue = append(queue, m)
			}
		}
	}
	return order, len(order) == len(names)
}

// feedForward computes each hop's delay bound in dependency order.
//
// Each hop serves the EF aggregate FIFO with a rate-latency service curve
// β(t) = R·(t−T)⁺ (strict priority, non-preemptive: R is the EF share of
// the link, T = one max-size lower-priority packet at link rate plus the
// switch latency). Flow i reaches the hop with the token-bucket arrival
// curve b_i' + r_i·t, so the aggregate has α(t) = Σb_i' + Σr_i·t and, when
// Σr_i ≤ R, the hop's delay is at most d = T + Σb_i'/R (horizontal
// deviation of α and β; Le Boudec & Thiran, Network Calculus, Springer
// LNCS 2050, Theorem 1.4.2). A flow's output from a FIFO hop with delay
// bound d is constrained by b_i' + r_i·d + r_i·t (ibid., Theorem 1.4.3
// applied to a FIFO aggregate: every bit leaves within d of its arrival),
// which is the burst growth passed to the next hop. With ECMP the flow's
// burst at a hop is the largest over the hops that can feed it. Exact for
// a feed-forward set, which shortest-path (up–down) routing on a
// leaf–spine fabric always is.
func feedForward(order []*hop, rs []Reservation, fps []flowPaths) {
	burst := map[*hop]map[int]float64{} // bytes at the hop's input
	at := func(h *hop, i int, b float64) {
		if burst[h] == nil {
			burst[h] = map[int]float64{}
		}
		if old, ok := burst[h][i]; !ok || b > old {
			burst[h][i] = b
		}
	}
	for i, fp := range fps {
		for _, hs := range fp.paths {
			if len(hs) > 0 {
				at(hs[0], i, rs[i].TSpec.Burst)
			}
		}
	}
	succ := map[*hop]map[int][]*hop{}
	for i, fp := range fps {
		for _, hs := range fp.paths {
			for k := 1; k < len(hs); k++ {
				if succ[hs[k-1]] == nil {
					succ[hs[k-1]] = map[int][]*hop{}
				}
				succ[hs[k-1]][i] = append(succ[hs[k-1]][i], hs[k])
			}
		}
	}
	for _, h := range order {
		sum := 0.0
		for _, i := range h.flows {
			sum += burst[h][i]
		}
		h.burstIn = sum
		h.d = h.T + sum*8/h.R
		for i, nexts := range succ[h] {
			for _, n := range nexts {
				at(n, i, burst[h][i]+rs[i].TSpec.Rate*h.d/8)
			}
		}
	}
}

// charny bounds every hop's delay for a set whose hop dependencies have a
// cycle, where burst growth has no fixed order.
//
// Charny and Le Boudec, "Delay Bounds in a Network with Aggregate
// Scheduling", QofIS 2000 (also Le Boudec & Thiran, Network Calculus,
// Theorem 2.4.1): in a network of FIFO guaranteed-rate nodes serving an
// aggregate, node m with rate r_m and latency e_m, flows constrained at the
// network access by (ρ_i, σ_i), every flow crossing at most h nodes, let
// e = max_m e_m, ν = max_m Σ_{i∋m} ρ_i / r_m and τ = max_m Σ_{i∋m} σ_i /
// Σ_{i∋m} ρ_i. If ν < 1/(h−1), the delay at every node is at most
// d = (e + ν·τ)/(1 − (h−1)·ν), so a flow crossing h_i nodes has h_i·d.
// The utilisation condition ν < 1/(h−1) is checked; a set that violates it
// is refused (no bound is known for it).
func charny(hops map[string]*hop, rs []Reservation, fps []flowPaths) error {
	h := 0
	for _, fp := range fps {
		for _, hs := range fp.paths {
			h = max(h, len(hs))
		}
	}
	var e, nu, tau float64
	worst := ""
	for n, x := range hops {
		e = math.Max(e, x.T)
		sigma := 0.0
		for _, i := range x.flows {
			sigma += rs[i].TSpec.Burst * 8
		}
		x.burstIn = sigma / 8
		if u := x.rateSum / x.R; u > nu {
			nu, worst = u, n
		}
		if x.rateSum > 0 {
			tau = math.Max(tau, sigma/x.rateSum)
		}
	}
	if h > 1 && nu >= 1/float64(h-1) {
		return &Rejection{Hop: worst, Resource: "EF utilisation (Charny–Le Boudec condition ν < 1/(h−1))",
			Need: fmt.Sprintf("ν = %.4g", nu), Limit: fmt.Sprintf("1/(h−1) = %.4g with h = %d hops", 1/float64(h-1), h),
			Detail: "the reservations' paths form a cycle, so the general EF bound applies"}
	}
	d := (e + nu*tau) / (1 - float64(max(h-1, 0))*nu)
	for _, x := range hops {
		x.d = d
	}
	return nil
}

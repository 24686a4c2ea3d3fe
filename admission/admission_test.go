package admission

import (
	"errors"
	"fmt"
	"math"
	"math/rand"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/p4qos/p4qos/topo"
)

// testTopo builds a topology: sws are switch names (target sim, zero
// switch latency in testParams), hosts "name@switch:port" with 100Mbps
// access links, links "a:p-b:q@rate".
func testTopo(t *testing.T, sws []string, hosts []string, links []string) *topo.Topology {
	t.Helper()
	var b strings.Builder
	b.WriteString("name: t\nswitches:\n")
	for i, s := range sws {
		fmt.Fprintf(&b, "  - {name: %s, device_id: %d, address: 127.0.0.1:%d, target: sim}\n", s, i+1, 50051+i)
	}
	b.WriteString("hosts:\n")
	for i, h := range hosts {
		var name, sw string
		var port int
		fmt.Sscanf(strings.NewReplacer("@", " ", ":", " ").Replace(h), "%s %s %d", &name, &sw, &port)
		fmt.Fprintf(&b, "  - {name: %s, ipv4: 10.0.%d.1/24, mac: \"00:00:0a:00:%02x:01\", switch: %s, port: %d, link: {capacity: 100Mbps}}\n", name, i+1, i+1, sw, port)
	}
	if len(links) > 0 {
		b.WriteString("links:\n")
	}
	for _, l := range links {
		ends, rest, _ := strings.Cut(l, "@")
		a, z, _ := strings.Cut(ends, "-")
		rate, delay, _ := strings.Cut(rest, "/")
		if delay == "" {
			delay = "0s"
		}
		fmt.Fprintf(&b, "  - {a: %s, b: %s, capacity: %s, delay: %s}\n", a, z, rate, delay)
	}
	tp, err := topo.Parse("test.yaml", []byte(b.String()))
	if err != nil {
		t.Fatalf("%v\n%s", err, b.String())
	}
	return tp
}

var testParams = Params{EFShare: 0.5, MaxLowPacket: 1500, SwitchLatency: map[topo.Target]time.Duration{topo.TargetSim: 0}, CLTarget: 0.9, MaxPaths: 64}

func greq(src, dst string, rate, burst float64, maxDelay time.Duration) Request {
	return Request{Src: src, Dst: dst, TSpec: TSpec{Rate: rate, Burst: burst, MaxPacket: 1500}, Service: Guaranteed, MaxDelay: maxDelay}
}

func near(got time.Duration, wantMicros float64) bool {
	return math.Abs(got.Seconds()*1e6-wantMicros) < 0.01
}

// The hand-derived cases. Units: R = EF share (0.5) × capacity; T = 1500 B
// × 8 / capacity (switch latency 0); d = T + ΣB·8/R; the burst a flow
// carries to the next hop grows by r·d/8 bytes. The host's own NIC is not
// a hop (the host shapes to its TSpec).
func TestBoundsHandDerived(t *testing.T) {
	oneSwitch := func(t *testing.T) *topo.Topology {
		return testTopo(t, []string{"s1"}, []string{"h1@s1:1", "h2@s1:2"}, nil)
	}
	twoSwitch := func(t *testing.T) *topo.Topology {
		return testTopo(t, []string{"s1", "s2"}, []string{"h1@s1:1", "h3@s1:3", "h2@s2:2"}, []string{"s1:10-s2:10@40Mbps/1ms"})
	}
	// ECMP: leaf1 (h1) and leaf2 (h3) joined by spine1 and spine2, all
	// 40Mbps; h5 hangs off spine2 and loads spine2→leaf2 only.
	ecmp := func(t *testing.T) *topo.Topology {
		return testTopo(t, []string{"leaf1", "leaf2", "spine1", "spine2"},
			[]string{"h1@leaf1:1", "h3@leaf2:1", "h5@spine2:3"},
			[]string{"leaf1:3-spine1:1@40Mbps", "leaf1:4-spine2:1@40Mbps", "leaf2:3-spine1:2@40Mbps", "leaf2:4-spine2:2@40Mbps"})
	}
	cases := []struct {
		name   string
		topo   func(*testing.T) *topo.Topology
		before []Request
		req    Request
		want   float64 // µs
		hops   []string
	}{
		// One hop, s1→h2 at 100Mbps: R = 50Mbps, T = 12000/100e6 = 120µs,
		// d = 120µs + 80000 bit / 50Mbps = 120 + 1600 = 1720µs.
		{name: "one hop", topo: oneSwitch, req: greq("h1", "h2", 2e6, 10000, 0), want: 1720, hops: []string{"s1:2->h2"}},
		// Two hops with burst growth. s1→s2 at 40Mbps: R = 20Mbps, T =
		// 300µs, d1 = 300 + 80000/20e6 s = 4300µs. Burst at s2: 10000 B +
		// 2e6 × 4.3ms / 8 = 11075 B. s2→h2: d2 = 120 + 88600/50e6 s =
		// 120 + 1772 = 1892µs. Propagation 1ms on s1–s2.
		// Bound = 4300 + 1892 + 1000 = 7192µs.
		{name: "two hops burst growth", topo: twoSwitch, req: greq("h1", "h2", 2e6, 10000, 0), want: 7192, hops: []string{"s1:10->s2:10", "s2:2->h2"}},
		// Shared bottleneck: h3→h2 already admitted with the same TSpec.
		// s1→s2: B = 20000 B, d1 = 300 + 160000/20e6 s = 8300µs. Each
		// flow's burst at s2: 10000 + 2e6 × 8.3ms / 8 = 12075 B, sum
		// 24150 B; d2 = 120 + 193200/50e6 s = 120 + 3864 = 3984µs.
		// Bound = 8300 + 3984 + 1000 = 13284µs.
		{name: "shared bottleneck", topo: twoSwitch, before: []Request{greq("h3", "h2", 2e6, 10000, 0)},
			req: greq("h1", "h2", 2e6, 10000, 0), want: 13284, hops: []string{"s1:10->s2:10", "s2:2->h2"}},
		// ECMP with two paths of different load; h5→h3 (2Mbps, 10000 B)
		// is admitted first. leaf1→spine{1,2}: d = 300 + 4000 = 4300µs.
		// spine1→leaf2: only h1's 11075 B, d = 300 + 88600/20e6 s =
		// 4730µs. spine2→leaf2: 11075 + 10000 B, d = 300 + 168600/20e6 s
		// = 8730µs. leaf2→h3: h1's burst is the larger of 11075 +
		// 2e6×4.73ms/8 = 12257.5 and 11075 + 2e6×8.73ms/8 = 13257.5;
		// h5's is 10000 + 2182.5 = 12182.5; sum 25440 B, d = 120 +
		// 203520/50e6 s = 4190.4µs. Paths: via spine1 13220.4µs, via
		// spine2 17220.4µs; the hash may choose either, so 17220.4µs.
		{name: "ecmp two paths different load", topo: ecmp, before: []Request{greq("h5", "h3", 2e6, 10000, 0)},
			req: greq("h1", "h3", 2e6, 10000, 0), want: 17220.4, hops: []string{"leaf1:4->spine2:1", "spine2:2->leaf2:4", "leaf2:1->h3"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l := NewLedger(c.topo(t), testParams, nil)
			for _, r := range c.before {
				if _, err := l.Admit(r); err != nil {
					t.Fatal(err)
				}
			}
			a, err := l.Admit(c.req)
			if err != nil {
				t.Fatal(err)
			}
			if !near(a.Bound, c.want) {
				t.Errorf("bound %v, want %vµs", a.Bound, c.want)
			}
			var got []string
			var sum time.Duration
			for _, h := range a.Hops {
				got = append(got, h.Hop)
				sum += h.Delay + h.Prop
			}
			if !reflect.DeepEqual(got, c.hops) {
				t.Errorf("worst path %v, want %v", got, c.hops)
			}
			if d := sum - a.Bound; d > time.Duration(len(a.Hops))*time.Nanosecond || d < -time.Duration(len(a.Hops))*time.Nanosecond {
				t.Errorf("per-hop terms sum to %v, bound %v", sum, a.Bound)
			}
			if a.Method != MethodFeedForward {
				t.Errorf("method %q", a.Method)
			}
		})
	}
}

// A new flow that would break a promise already made is refused, naming
// that reservation: h3→h2 alone has 7192µs (two-hop case); with h1→h2
// added it would have 13284µs (shared-bottleneck case) > 10ms.
func TestAdmitNeverBreaksPromise(t *testing.T) {
	l := NewLedger(testTopo(t, []string{"s1", "s2"}, []string{"h1@s1:1", "h3@s1:3", "h2@s2:2"}, []string{"s1:10-s2:10@40Mbps/1ms"}), testParams, nil)
	first, err := l.Admit(greq("h3", "h2", 2e6, 10000, 10*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	before := l.List()
	_, err = l.Admit(greq("h1", "h2", 2e6, 10000, 0))
	var rj *Rejection
	if !errors.As(err, &rj) {
		t.Fatalf("admitted; want a rejection")
	}
	if rj.Reservation != first.Reservation.ID || rj.Resource != "delay bound" || rj.Hop != "s1:10->s2:10" || !strings.HasPrefix(rj.Need, "13.284ms") {
		t.Errorf("rejection %+v", rj)
	}
	if !reflect.DeepEqual(l.List(), before) {
		t.Errorf("a rejection changed the ledger")
	}
}

func TestRejectEFShare(t *testing.T) {
	l := NewLedger(testTopo(t, []string{"s1"}, []string{"h1@s1:1", "h2@s1:2"}, nil), testParams, nil)
	// s1→h2: R = 50Mbps; 30 + 30 > 50.
	if _, err := l.Admit(greq("h1", "h2", 30e6, 10000, 0)); err != nil {
		t.Fatal(err)
	}
	_, err := l.Admit(greq("h1", "h2", 30e6, 10000, 0))
	var rj *Rejection
	if !errors.As(err, &rj) || rj.Resource != "EF share" || rj.Hop != "s1:2->h2" || !strings.HasPrefix(rj.Need, "60Mbps") || !strings.HasPrefix(rj.Limit, "50Mbps") {
		t.Fatalf("got %v", err)
	}
}

// Controlled load: s1→h2 at 100Mbps, target 0.9, no EF reserved: limit
// 90Mbps. A window maximum of 80Mbps (the 85Mbps sample fell out of the
// window) plus 5Mbps passes; plus 15Mbps does not.
func TestControlledLoad(t *testing.T) {
	tp := testTopo(t, []string{"s1"}, []string{"h1@s1:1", "h2@s1:2"}, nil)
	w := &WindowMax{Window: 10 * time.Second}
	t0 := time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)
	w.Observe("s1:2->h2", ControlledLoad, t0, 85e6)
	w.Observe("s1:2->h2", ControlledLoad, t0.Add(5*time.Second), 80e6)
	w.Observe("s1:2->h2", ControlledLoad, t0.Add(12*time.Second), 40e6)
	if m, _ := w.QueueLoad("s1:2->h2", ControlledLoad); m != 80e6 {
		t.Fatalf("window max %g, want 80e6", m)
	}
	l := NewLedger(tp, testParams, w)
	cl := func(rate float64) Request {
		return Request{Src: "h1", Dst: "h2", TSpec: TSpec{Rate: rate, Burst: 3000, MaxPacket: 1500}, Service: ControlledLoad}
	}
	if _, err := l.Check(cl(5e6)); err != nil {
		t.Fatalf("5Mbps: %v", err)
	}
	_, err := l.Check(cl(15e6))
	var rj *Rejection
	if !errors.As(err, &rj) || rj.Resource != "controlled-load utilisation" || rj.Hop != "s1:2->h2" {
		t.Fatalf("15Mbps: %v", err)
	}
}

// The example fabric, random admit and release sequences (fixed seeds):
// after every step no hop carries more guaranteed rate than its EF share
// (counted independently over every ECMP path), every bound is within its
// max delay, and admitting then releasing restores the ledger exactly.
func TestPropertiesRandomSequences(t *testing.T) {
	tp := fabric(t)
	hosts := []string{"h1", "h2", "h3", "h4"}
	p := DefaultParams()
	for seed := int64(1); seed <= 20; seed++ {
		rng := rand.New(rand.NewSource(seed))
		l := NewLedger(tp, p, nil)
		admitted := 0
		for step := 0; step < 60; step++ {
			if rng.Intn(3) == 0 && len(l.List()) > 0 {
				rs := l.List()
				if err := l.Release(rs[rng.Intn(len(rs))].ID); err != nil {
					t.Fatal(err)
				}
			} else {
				src, dst := hosts[rng.Intn(4)], hosts[rng.Intn(4)]
				if src == dst {
					continue
				}
				r := greq(src, dst, float64(1+rng.Intn(8))*1e6, float64(1500+rng.Intn(20000)), time.Duration(5+rng.Intn(40))*time.Millisecond)
				before := l.List()
				if _, err := l.Admit(r); err == nil {
					admitted++
					after := l.List()
					var id string
					for _, x := range after {
						if x.Request == r && !containsID(before, x.ID) {
							id = x.ID
						}
					}
					if err := l.Release(id); err != nil {
						t.Fatal(err)
					}
					if !reflect.DeepEqual(l.List(), before) {
						t.Fatalf("seed %d step %d: admit then release changed the ledger", seed, step)
					}
					if _, err := l.Admit(r); err != nil {
						t.Fatalf("re-admit: %v", err)
					}
				} else if !errors.As(err, new(*Rejection)) {
					t.Fatal(err)
				}
			}
			checkInvariants(t, tp, p, l)
		}
		if admitted == 0 {
			t.Fatalf("seed %d admitted nothing: the property is vacuous", seed)
		}
	}
}

func containsID(rs []Reservation, id string) bool {
	for _, r := range rs {
		if r.ID == id {
			return true
		}
	}
	return false
}

func checkInvariants(t *testing.T, tp *topo.Topology, p Params, l *Ledger) {
	t.Helper()
	load := map[string]float64{}
	capa := map[string]float64{}
	for _, r := range l.List() {
		if r.MaxDelay > 0 && r.Bound > r.MaxDelay {
			t.Fatalf("%s: bound %v > max delay %v", r.ID, r.Bound, r.MaxDelay)
		}
		if r.Bound <= 0 {
			t.Fatalf("%s: no bound", r.ID)
		}
		ps, _ := tp.ShortestPaths(r.Src, r.Dst, 0)
		seen := map[string]bool{}
		for _, path := range ps {
			for _, e := range path.Edges {
				if !e.FromHost && !seen[e.Name()] {
					seen[e.Name()] = true
					load[e.Name()] += r.TSpec.Rate
					capa[e.Name()] = e.Capacity
				}
			}
		}
	}
	for h, x := range load {
		if x > p.EFShare*capa[h]+1e-6 {
			t.Fatalf("hop %s: %g bit/s reserved > EF share of %g", h, x, capa[h])
		}
	}
}

// A ring s1–s2–s3–s4 (40Mbps links, a host per switch) with the four
// "opposite" flows h1→h3, h2→h4, h3→h1, h4→h2: each has two equal-cost
// paths and together their hop dependencies form a cycle (s1→s2 feeds
// s2→s3 for h1→h3, s2→s3 feeds s3→s4 for h2→h4, …, s4→s1 feeds s1→s2 for
// h4→h2), so the Charny–Le Boudec bound applies. With r = 2Mbps and
// b = 10000 B each: e = max T = 300µs; the busiest hop (e.g. s1→s2 carries
// h1→h3 and h4→h2) has ν = 4Mbps/20Mbps = 0.2; τ = 160000 bit / 4Mbps =
// 40ms; h = 3 hops. ν < 1/(h−1) = 0.5 holds, d = (0.3 + 0.2×40)ms /
// (1 − 2×0.2) = 13.8333ms per hop, 41.5ms for three hops. At 5Mbps each,
// ν = 10/20 = 0.5 fails the condition and the fourth flow is refused.
func TestCharnyLeBoudecOnRing(t *testing.T) {
	ring := func(t *testing.T) *Ledger {
		return NewLedger(testTopo(t, []string{"s1", "s2", "s3", "s4"}, []string{"h1@s1:1", "h2@s2:1", "h3@s3:1", "h4@s4:1"},
			[]string{"s1:2-s2:3@40Mbps", "s2:2-s3:3@40Mbps", "s3:2-s4:3@40Mbps", "s4:2-s1:3@40Mbps"}), testParams, nil)
	}
	pairs := [][2]string{{"h1", "h3"}, {"h2", "h4"}, {"h3", "h1"}, {"h4", "h2"}}
	l := ring(t)
	var last *Admission
	for _, p := range pairs {
		a, err := l.Admit(greq(p[0], p[1], 2e6, 10000, 0))
		if err != nil {
			t.Fatal(err)
		}
		last = a
	}
	if last.Method != MethodCharny || !near(last.Bound, 41500) {
		t.Errorf("method %q bound %v, want Charny–Le Boudec 41.5ms", last.Method, last.Bound)
	}
	l = ring(t)
	for i, p := range pairs {
		_, err := l.Admit(greq(p[0], p[1], 5e6, 10000, 0))
		if i < 3 && err != nil {
			t.Fatal(err)
		}
		var rj *Rejection
		if i == 3 && (!errors.As(err, &rj) || !strings.Contains(rj.Resource, "Charny") || !strings.Contains(rj.Need, "0.5")) {
			t.Errorf("fourth flow at 5Mbps: %v", err)
		}
	}
}

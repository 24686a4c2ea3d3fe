package controller

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"

	"github.com/p4qos/p4qos/tables"
	"github.com/p4qos/p4qos/target/sim"
	"github.com/p4qos/p4qos/topo"
)

// TestLinkHealthHysteresis feeds the hysteresis rounds (1 answered, 0
// not) and checks the state after each, with K = 3 misses to go down and
// M = 2 answers to come back.
func TestLinkHealthHysteresis(t *testing.T) {
	for _, tc := range []struct {
		name   string
		rounds string
		down   string // state after each round: d down, u up
	}{
		{"never answered: not armed, never down", "00000", "uuuuu"},
		{"K misses take an armed link down", "1000", "uuud"},
		{"fewer than K misses do not", "1001001", "uuuuuuu"},
		{"a miss streak is reset by an answer", "10010001", "uuuuuudd"},
		{"M answers bring it back", "100011", "uuuddu"},
		{"an answer streak shorter than M is reset", "10001011", "uuuddddu"},
		{"flapping every round stays down", "1000101010", "uuuddddddd"},
		{"down, back, down again", "100011000", "uuudduuud"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var h linkHealth
			var got []byte
			changes := 0
			for _, r := range tc.rounds {
				if h.observe(r == '1', 3, 2) {
					changes++
				}
				got = append(got, map[bool]byte{true: 'd', false: 'u'}[h.down])
			}
			if string(got) != tc.down {
				t.Errorf("rounds %s: states %s, want %s", tc.rounds, got, tc.down)
			}
			want := 0
			for i := 1; i < len(tc.down); i++ {
				if tc.down[i] != tc.down[i-1] {
					want++
				}
			}
			if tc.down[0] == 'd' {
				want++
			}
			if changes != want {
				t.Errorf("%d changes reported, want %d", changes, want)
			}
		})
	}
}

func TestProbeFrame(t *testing.T) {
	p := probe{controller: 0xfeed, round: 42, from: topo.Endpoint{Switch: "leaf1", Port: 3}}
	got, err := parseProbe(p.frame(topo.MAC{2, 0, 0, 0, 0, 1}))
	if err != nil || got != p {
		t.Errorf("round trip: %+v, %v; want %+v", got, err, p)
	}
	for _, bad := range [][]byte{nil, make([]byte, 60), p.frame(topo.MAC{})[:40]} {
		if _, err := parseProbe(bad); err == nil {
			t.Errorf("parseProbe(%x) accepted", bad)
		}
	}
}

// cableFabric cables the sims as the demo fabric's links say.
func cableFabric(t *testing.T, cfg Config, sims map[string]*sim.Switch) map[string]*sim.Link {
	t.Helper()
	tp, err := topo.Load(cfg.Topology)
	if err != nil {
		t.Fatal(err)
	}
	links := map[string]*sim.Link{}
	for _, l := range tp.Links {
		links[l.Name()] = sim.Connect(sims[l.A.Switch], l.A.Port, sims[l.B.Switch], l.B.Port)
	}
	return links
}

// cabledRunning starts the demo fabric's sims cabled as its topology says
// and a controller on them, converged once.
func cabledRunning(t *testing.T) (cfg Config, dir string, links map[string]*sim.Link, ctx context.Context, c *Controller, ev *events, next int) {
	t.Helper()
	sims, entries := fabricSims(t)
	cfg, dir = testConfig(t, entries)
	links = cableFabric(t, cfg, sims)
	ctx = testCtx(t)
	c, ev, next, _ = running(t, ctx, cfg)
	return cfg, dir, links, ctx, c, ev, next
}

// waitVerified waits until all four links of the demo fabric answered a probe.
func waitVerified(t *testing.T, ctx context.Context, c *Controller) {
	t.Helper()
	pollUntil(t, ctx, "every link answered a probe", func() bool {
		ls := c.Links()
		for _, l := range ls {
			if !l.Verified {
				return false
			}
		}
		return len(ls) == 4
	})
}

// leafFlows offers eight flows from h1 to h3 on leaf1 and eight from h3
// to h1 on leaf2, each its own 5-tuple so ECMP spreads them.
func leafFlows(t *testing.T, sims map[string]*sim.Switch) {
	t.Helper()
	for _, side := range []struct{ sw, src, dst string }{{"leaf1", "10.0.1.1", "10.0.2.3"}, {"leaf2", "10.0.2.3", "10.0.1.1"}} {
		var flows []sim.Flow
		for i := range 8 {
			flows = append(flows, sim.Flow{Name: fmt.Sprintf("%s-%d", side.sw, i), SrcIP: netip.MustParseAddr(side.src), DstIP: netip.MustParseAddr(side.dst),
				Proto: 17, SrcPort: uint16(10000 + i*7), DstPort: 5001, IngressPort: 1, RateBps: 8e6, PacketSize: 1000})
		}
		if err := sims[side.sw].SetFlows(flows); err != nil {
			t.Fatal(err)
		}
	}
}

// leafPorts advances both leaves' traffic models by dt and returns the
// egress ports their flows use, and how many packets were lost on a dead
// wire meanwhile.
func leafPorts(sims map[string]*sim.Switch, dt time.Duration) (ports map[uint32]int, lost uint64) {
	ports = map[uint32]int{}
	for _, sw := range []string{"leaf1", "leaf2"} {
		before := map[string]uint64{}
		for _, fs := range sims[sw].FlowStats() {
			before[fs.Flow.Name] = fs.LinkDroppedPackets
		}
		sims[sw].Advance(dt)
		for _, fs := range sims[sw].FlowStats() {
			if fs.Routed {
				ports[fs.EgressPort]++
			}
			lost += fs.LinkDroppedPackets - before[fs.Flow.Name]
		}
	}
	return ports, lost
}

// pollUntil polls cond every 2 ms until it holds and returns when it did.
func pollUntil(t *testing.T, ctx context.Context, what string, cond func() bool) time.Time {
	t.Helper()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("timed out waiting until %s", what)
		case <-time.After(2 * time.Millisecond):
		}
	}
	return time.Now()
}

// TestLinkFailureSim cuts leaf-spine links of the 4-switch demo fabric in
// the sim while flows run, ten times, and measures detection (cut →
// link-down event) and repair (cut → no leaf flow routed toward the cut
// spine in the sim's data plane) at the default probe interval. After
// repair no flow loses packets on the dead link; after restore (link-up)
// flows spread over both spines again. The figures are logged, not
// asserted (they depend on the machine).
func TestLinkFailureSim(t *testing.T) {
	sims, entries := fabricSims(t)
	cfg, _ := testConfig(t, entries)
	links := cableFabric(t, cfg, sims)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, ev, next, _ := running(t, ctx, cfg)
	waitVerified(t, ctx, c)
	leafFlows(t, sims)
	spread := func() bool { p, _ := leafPorts(sims, time.Millisecond); return p[3] > 0 && p[4] > 0 }
	pollUntil(t, ctx, "flows use both spines", spread)

	// Leaves reach spine1 on port 3 and spine2 on port 4.
	cuts := []struct {
		link      string
		spinePort uint32
	}{{"leaf1:3-spine1:1", 3}, {"leaf2:4-spine2:2", 4}, {"leaf1:4-spine2:1", 4}, {"leaf2:3-spine1:2", 3}}
	const failures = 10
	var detect, repair, restore []time.Duration
	for i := range failures {
		cut := cuts[i%len(cuts)]
		t0 := time.Now()
		links[cut.link].SetUp(false)
		down, n := ev.wait(t, ctx, next, "link-down "+cut.link, func(e Event) bool { return e.Kind == LinkDown || e.Kind == LinkUp })
		next = n
		if down.Kind != LinkDown || down.What != cut.link || down.Err != nil {
			t.Fatalf("failure %d: got %s %s (%v), want link-down %s", i, down.Kind, down.What, down.Err, cut.link)
		}
		detect = append(detect, down.Time.Sub(t0))
		var lostBefore uint64
		repaired := pollUntil(t, ctx, "no flow is routed toward the cut spine", func() bool {
			p, lost := leafPorts(sims, time.Millisecond)
			lostBefore += lost
			return p[cut.spinePort] == 0 && p[7-cut.spinePort] == 16
		})
		// The groups' members watch their ports (the sim acts on
		// watch_port): the leaf at the cut stops using it at once.
		if lostBefore != 0 {
			t.Errorf("failure %d: %d packets sent into the dead link before the controller's repair; watch_port should have moved them", i, lostBefore)
		}
		repair = append(repair, repaired.Sub(t0))
		if _, lost := leafPorts(sims, 50*time.Millisecond); lost != 0 {
			t.Errorf("failure %d: %d packets sent into the dead link %s after repair", i, lost, cut.link)
		}

		t1 := time.Now()
		links[cut.link].SetUp(true)
		up, n := ev.wait(t, ctx, next, "link-up "+cut.link, func(e Event) bool { return e.Kind == LinkDown || e.Kind == LinkUp })
		next = n
		if up.Kind != LinkUp || up.What != cut.link || up.Err != nil {
			t.Fatalf("failure %d: got %s %s (%v), want link-up %s", i, up.Kind, up.What, up.Err, cut.link)
		}
		restore = append(restore, pollUntil(t, ctx, "flows spread again", spread).Sub(t1))
	}
	// The metrics count what the events said: every cut once down and
	// once up, and the probe rounds that found them.
	if down, up := metricValue(t, c, "p4qos_link_liveness_changes_total", "to", "down"), metricValue(t, c, "p4qos_link_liveness_changes_total", "to", "up"); down != failures || up != failures {
		t.Errorf("p4qos_link_liveness_changes_total down %v, up %v; want %d each", down, up, failures)
	}
	if rounds := metricValue(t, c, "p4qos_link_probe_rounds_total", "", ""); rounds < float64(failures*(cfg.ProbeMisses+cfg.ProbeRecover)) {
		t.Errorf("p4qos_link_probe_rounds_total %v: fewer than the %d rounds the failures needed", rounds, failures*(cfg.ProbeMisses+cfg.ProbeRecover))
	}
	t.Logf("probe interval %v, %d misses down, %d answers up; n=%d failures", cfg.ProbeInterval, cfg.ProbeMisses, cfg.ProbeRecover, failures)
	for _, m := range []struct {
		name string
		d    []time.Duration
	}{{"detection (cut → link-down)", detect}, {"repair (cut → data plane avoids the link)", repair}, {"restore (up → flows spread)", restore}} {
		slices.Sort(m.d)
		t.Logf("%-45s median %v, max %v", m.name, m.d[len(m.d)/2].Round(time.Millisecond), m.d[len(m.d)-1].Round(time.Millisecond))
	}
}

// TestLinkUnknownReported: a cable the topology lacks (leaf1's port 3 is
// plugged into spine2's port 9 instead of spine1's port 1) is reported
// once as link-unknown and never used.
func TestLinkUnknownReported(t *testing.T) {
	sims, entries := fabricSims(t)
	cfg, _ := testConfig(t, entries)
	links := cableFabric(t, cfg, sims)
	links["leaf1:3-spine1:1"].SetUp(false)
	sim.Connect(sims["leaf1"], 3, sims["spine2"], 9)
	ctx := testCtx(t)
	_, ev, _, _ := running(t, ctx, cfg)
	// From the first event: probes may cross before every switch converged.
	got, _ := ev.wait(t, ctx, 0, "link-unknown", func(e Event) bool { return e.Kind == LinkUnknown })
	if got.What != "leaf1:3-spine2:9" || got.Switch != "spine2" {
		t.Errorf("link-unknown %q at %s, want leaf1:3-spine2:9 at spine2", got.What, got.Switch)
	}
}

// TestLinkDownSurvivesReload: a link liveness took down stays down across a
// topology reload (the file still says it is up: it is the intent), and
// comes back when it answers again; the file is never written.
func TestLinkDownSurvivesReload(t *testing.T) {
	cfg, _, links, ctx, c, ev, next := cabledRunning(t)
	pollUntil(t, ctx, "leaf1:3-spine1:1 verified", func() bool { return slices.Contains(c.Links(), LinkStatus{Name: "leaf1:3-spine1:1", Verified: true}) })
	file := must(os.ReadFile(cfg.Topology))
	isDown := func() bool {
		for _, l := range c.Fabric().Topology().Links {
			if l.Name() == "leaf1:3-spine1:1" {
				return l.Down
			}
		}
		t.Fatal("link missing from the compiled topology")
		return false
	}
	links["leaf1:3-spine1:1"].SetUp(false)
	_, next = ev.wait(t, ctx, next, "link-down", func(e Event) bool { return e.Kind == LinkDown })
	if err := c.ApplyTopology(ctx, append(slices.Clone(file), "\n# reloaded\n"...)); err != nil {
		t.Fatal(err)
	}
	if !isDown() {
		t.Error("after the reload the link is back in the compiled topology while its cable is still down")
	}
	links["leaf1:3-spine1:1"].SetUp(true)
	ev.wait(t, ctx, next, "link-up", func(e Event) bool { return e.Kind == LinkUp && e.What == "leaf1:3-spine1:1" })
	if isDown() {
		t.Error("after link-up the link is still down in the compiled topology")
	}
	if now := must(os.ReadFile(cfg.Topology)); string(now) != string(file) {
		t.Error("the topology file was written")
	}
}

// TestProbesLost: in the demo fabric, a probe of round 5 that did not come
// back is lost (a cut cable) only when both its sender's packet-outs and
// its receiver's packet-ins have delivered a probe of a later round since;
// while either path is behind it may still come (late, not lost).
func TestProbesLost(t *testing.T) {
	link := &topo.Link{A: topo.Endpoint{Switch: "leaf1", Port: 3}, B: topo.Endpoint{Switch: "spine1", Port: 1}}
	ends := map[string]int{"leaf1": 2, "leaf2": 2, "spine1": 2, "spine2": 2}
	for _, tc := range []struct {
		name            string
		heard           [2]uint64 // leaf1→spine1, spine1→leaf1
		lastIn, lastOut map[string]uint64
		ends            map[string]int
		want            bool
	}{
		{"both paths moved on: lost", [2]uint64{4, 5}, map[string]uint64{"spine1": 6}, map[string]uint64{"leaf1": 6}, ends, true},
		{"answered both ways: nothing missing", [2]uint64{5, 5}, nil, nil, ends, true},
		{"spine1's packet-ins behind (a lagging stream)", [2]uint64{4, 5}, map[string]uint64{"spine1": 5}, map[string]uint64{"leaf1": 6}, ends, false},
		{"leaf1's packet-outs behind", [2]uint64{4, 5}, map[string]uint64{"spine1": 6}, map[string]uint64{"leaf1": 5}, ends, false},
		{"other direction missing, its paths moved on", [2]uint64{5, 4}, map[string]uint64{"leaf1": 7}, map[string]uint64{"spine1": 7}, ends, true},
		{"other direction missing, leaf1 deaf", [2]uint64{5, 4}, map[string]uint64{"leaf1": 4}, map[string]uint64{"spine1": 7}, ends, false},
		{"single-homed ends are not asked", [2]uint64{4, 4}, nil, nil, map[string]int{"leaf1": 1, "spine1": 1}, true},
	} {
		lm := &linkMonitor{ends: tc.ends, lastIn: tc.lastIn, lastOut: tc.lastOut}
		ml := &monitoredLink{link: link, heard: tc.heard}
		if got := lm.lost(ml, 5); got != tc.want {
			t.Errorf("%s: lost = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestLinkDownReprogramsOnlyAffected: a link liveness takes down is
// recompiled into the intent, but only the switches whose entities that
// changes are reconciled (a switch-converged event after the link-down, with
// writes); the others are left alone (no event at all: not even read). Each
// switch then holds exactly what a full compile of the topology with the
// link marked down in the file gives (read back by an observer and diffed),
// and, once the link answers again, what a full compile of the original
// file gives.
func TestLinkDownReprogramsOnlyAffected(t *testing.T) {
	cfg, dir, links, ctx, c, ev, next := cabledRunning(t)
	waitVerified(t, ctx, c)

	const cut = "leaf1:3-spine1:1"
	file := string(must(os.ReadFile(cfg.Topology)))
	downFile := strings.Replace(file, "{a: leaf1:3, b: spine1:1,", "{a: leaf1:3, b: spine1:1, down: true,", 1)
	if downFile == file {
		t.Fatal("the example topology no longer has the link leaf1:3-spine1:1")
	}
	downCfg := cfg
	downCfg.Topology = writeFile(t, dir, "down.yaml", downFile)
	policy := must(os.ReadFile(cfg.Policy))
	before := must(must(LoadFabric(&cfg)).Compile(ctx, policy))
	full := must(must(LoadFabric(&downCfg)).Compile(ctx, policy))
	affected := map[string]bool{}
	for sw, in := range full.Intents {
		if must(tables.Diff(in.Schema, before.Intents[sw].Entities, in.Entities)).Len() > 0 {
			affected[sw] = true
		}
	}
	// In the demo fabric: leaf1 (its group loses spine1), spine1 (reaches
	// leaf1's hosts through leaf2 now) and leaf2 (only spine2 reaches leaf1
	// in two hops); spine2's routes do not change.
	if len(affected) == 0 || affected["spine2"] {
		t.Fatalf("switches the cut changes: %v; want some, not spine2", affected)
	}

	links[cut].SetUp(false)
	_, next = ev.wait(t, ctx, next, "link-down "+cut, func(e Event) bool { return e.Kind == LinkDown && e.What == cut })
	for sw := range affected {
		e, _ := ev.wait(t, ctx, next, sw+" reconciled after the link-down", func(e Event) bool {
			return (e.Kind == SwitchConverged || e.Kind == SwitchFailed) && e.Switch == sw
		})
		if e.Kind != SwitchConverged || e.Count == 0 {
			t.Errorf("%s: %s with %d writes after the link-down, want converged with some", sw, e.Kind, e.Count)
		}
	}
	// Time for a reconcile of the unaffected switches to show, were
	// there one.
	time.Sleep(300 * time.Millisecond)
	ev.mu.Lock()
	for _, e := range ev.all[next:] {
		if e.Switch != "" && !affected[e.Switch] && (e.Kind == SwitchConverged || e.Kind == SwitchFailed) {
			t.Errorf("%s: %s (%d writes) after the link-down, although its entities do not change", e.Switch, e.Kind, e.Count)
		}
	}
	ev.mu.Unlock()

	holdsFullCompile(t, ctx, cfg, full, "with the link down in the file")
	if n := reusedRoutes(c); n == 0 || n >= len(fabricSwitches) {
		t.Errorf("the recompilation for the link-down reused the routes of %d switches, want some (spine2's) but not all", n)
	}

	// Back up: the controller's recompilation reuses the routes of the
	// switches the link does not touch (compiler.RouteCache), and every
	// switch again holds what a full compile of the original file gives.
	links[cut].SetUp(true)
	_, next = ev.wait(t, ctx, next, "link-up "+cut, func(e Event) bool { return e.Kind == LinkUp && e.What == cut })
	for sw := range affected {
		ev.wait(t, ctx, next, sw+" reconciled after the link-up", func(e Event) bool {
			return (e.Kind == SwitchConverged || e.Kind == SwitchFailed) && e.Switch == sw
		})
	}
	holdsFullCompile(t, ctx, cfg, before, "of the original file after the link came back")
}

// reusedRoutes is how many switches' routes the last compile took from the
// fabric's route caches.
func reusedRoutes(c *Controller) int {
	r := c.Fabric().routes
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, rc := range r.by {
		n += rc.Reused()
	}
	return n
}

// holdsFullCompile checks that every switch of the demo fabric holds what
// the full compile want gives (read back by an observer and diffed).
func holdsFullCompile(t *testing.T, ctx context.Context, cfg Config, want *Compiled, what string) {
	t.Helper()
	for i, sw := range fabricSwitches {
		in := want.Intents[sw]
		obs := observer(t, cfg.Switches[i].Address, *cfg.Switches[i].DeviceID)
		var got []*p4v1.Entity
		for _, q := range []*p4v1.Entity{
			tables.EntityOf(&p4v1.TableEntry{}),
			tables.EntityOf(&p4v1.TableEntry{IsDefaultAction: true}), // not in the wildcard (§11.1)
			tables.EntityOf(&p4v1.ActionProfileMember{}),
			tables.EntityOf(&p4v1.ActionProfileGroup{}),
			tables.EntityOf(&p4v1.MeterEntry{}),
		} {
			got = append(got, must(obs.Read(ctx, q))...)
		}
		if plan := must(tables.Diff(in.Schema, got, in.Entities)); plan.Len() != 0 {
			t.Errorf("%s differs from a full compile %s: %d updates, first %s", sw, what, plan.Len(), in.Schema.Describe(plan.Updates()[0].Entity))
		}
	}
}

// TestReplyTimeout: the reply timeout follows the probes' round-trip time
// (srtt + 4·rttvar), never below one probe interval nor above
// maxReplyTimeout intervals.
func TestReplyTimeout(t *testing.T) {
	const interval = 100 * time.Millisecond
	for _, tc := range []struct {
		name     string
		rtts     []time.Duration
		min, max time.Duration
	}{
		{"no reply yet: one interval", nil, interval, interval},
		{"fast replies: one interval", []time.Duration{time.Millisecond, 2 * time.Millisecond, time.Millisecond}, interval, interval},
		{"steady 300ms replies", slices.Repeat([]time.Duration{300 * time.Millisecond}, 50), 300 * time.Millisecond, 320 * time.Millisecond},
		{"replies turning late", append(slices.Repeat([]time.Duration{time.Millisecond}, 20), slices.Repeat([]time.Duration{500 * time.Millisecond}, 5)...), 500 * time.Millisecond, maxReplyTimeout * interval},
		{"replies later than the cap", []time.Duration{time.Minute}, maxReplyTimeout * interval, maxReplyTimeout * interval},
	} {
		lm := &linkMonitor{interval: interval}
		for _, r := range tc.rtts {
			lm.observeRTT(r)
		}
		if got := lm.replyTimeout(); got < tc.min || got > tc.max {
			t.Errorf("%s: reply timeout %v, want %v..%v", tc.name, got, tc.min, tc.max)
		}
	}
}

// TestWasSent: a round counts only if both directions' probes of it went
// out, which sentFrom..sent records.
func TestWasSent(t *testing.T) {
	ml := &monitoredLink{sent: [2]uint64{9, 9}, sentFrom: [2]uint64{3, 5}}
	for r, want := range map[uint64]bool{2: false, 4: false, 5: true, 9: true, 10: false} {
		if got := ml.wasSent(r); got != want {
			t.Errorf("round %d: wasSent %v, want %v", r, got, want)
		}
	}
	if (&monitoredLink{sent: [2]uint64{9, 9}}).wasSent(9) {
		t.Error("a link whose last sends failed (sentFrom 0) counts as sent")
	}
}

// TestProbesWaitForConvergedEnds: a link is probed only once both its ends
// were reconciled. While one end is not (spine2 here, forgotten as if its
// first reconcile were still to come), its links' probes stop and the
// others' go on; the rounds not probed are not judged, so neither then nor
// when probing resumes does a held link count misses and go down.
func TestProbesWaitForConvergedEnds(t *testing.T) {
	_, _, _, ctx, c, ev, next := cabledRunning(t)
	waitVerified(t, ctx, c)
	lm := c.links
	held := map[string]bool{"leaf1:4-spine2:1": true, "leaf2:4-spine2:2": true}
	sent := func() map[string]uint64 {
		lm.mu.Lock()
		defer lm.mu.Unlock()
		out := map[string]uint64{}
		for name, ml := range lm.links {
			out[name] = min(ml.sent[0], ml.sent[1])
		}
		return out
	}
	lm.mu.Lock()
	delete(lm.converged, "spine2")
	lm.mu.Unlock()
	time.Sleep(2 * lm.interval) // a round being sent when it was forgotten
	before := sent()
	pollUntil(t, ctx, "the other links probed for five more rounds", func() bool {
		now := sent()
		for name := range now {
			if !held[name] && now[name] < before[name]+5 {
				return false
			}
		}
		return true
	})
	after := sent()
	for name := range held {
		if after[name] != before[name] {
			t.Errorf("%s probed in rounds %d..%d although spine2 has not converged", name, before[name]+1, after[name])
		}
	}
	lm.switchConverged("spine2")
	pollUntil(t, ctx, "spine2's links probed again for more rounds than it takes to go down", func() bool {
		now := sent()
		for name := range held {
			if now[name] < after[name]+uint64(2*lm.k+2) {
				return false
			}
		}
		return true
	})
	time.Sleep(3 * lm.interval) // the last rounds judged
	ev.mu.Lock()
	defer ev.mu.Unlock()
	for _, e := range ev.all[next:] {
		if e.Kind == LinkDown {
			t.Errorf("link-down %s while or after its probes were held back", e.What)
		}
	}
}

// metricValue sums the counter name in c's registry over the series whose
// label has value (every series when label is empty).
func metricValue(t *testing.T, c *Controller, name, label, value string) float64 {
	t.Helper()
	mfs, err := c.Metrics().Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			match := label == ""
			for _, lp := range m.GetLabel() {
				match = match || lp.GetName() == label && lp.GetValue() == value
			}
			if match {
				sum += m.GetCounter().GetValue()
			}
		}
	}
	return sum
}

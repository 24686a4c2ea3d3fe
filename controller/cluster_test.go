package controller

import (
	"context"
	"fmt"
	"net/http/httptest"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/p4qos/p4qos/compiler/contract"
	"github.com/p4qos/p4qos/controller/statusapi"
	"github.com/p4qos/p4qos/controlplane"
	"github.com/p4qos/p4qos/internal/etcdtest"
	"github.com/p4qos/p4qos/tables"
	"github.com/p4qos/p4qos/target/sim"
)

// diffAgainstIntent reads every switch back and diffs it against the
// running intent: "" when every switch holds exactly the intent.
func diffAgainstIntent(ctx context.Context, c *Controller, obs map[string]*controlplane.Session) string {
	comp := c.Compiled()
	for sw, s := range obs {
		in := comp.Intents[sw]
		got, err := s.ReadState(ctx, in)
		if err != nil {
			return fmt.Sprintf("%s: read: %v", sw, err)
		}
		plan, err := tables.Diff(in.Schema, got, in.Entities)
		if err != nil {
			return fmt.Sprintf("%s: diff: %v", sw, err)
		}
		if n := plan.Len(); n > 0 {
			ins, mod, del := plan.Counts()
			return fmt.Sprintf("%s: %d inserts, %d modifies, %d deletes from the intent", sw, ins, mod, del)
		}
	}
	return ""
}

// mastered returns switch → instance index for the live controllers.
func mastered(cs []*Controller) (map[string]int, string) {
	owners := map[string]int{}
	for i, c := range cs {
		ms := c.Mastership()
		if ms == nil {
			continue
		}
		for sw := range ms.Owned() {
			if _, dup := owners[sw]; dup {
				return nil, sw + " has two masters"
			}
			owners[sw] = i
		}
	}
	return owners, ""
}

func waitFor(t *testing.T, what string, cond func() string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	last := ""
	for time.Now().Before(deadline) {
		if last = cond(); last == "" {
			return
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatalf("%s: not within 30s: %s", what, last)
}

// clusterFixture is n controllers in cluster mode on the demo fabric's sims.
type clusterFixture struct {
	sims    map[string]*sim.Switch
	cs      []*Controller
	evs     []*events
	stops   []func() error
	obs     map[string]*controlplane.Session
	entries []SwitchEntry
}

func newClusterFixture(t *testing.T, ctx context.Context, url string, n int, opts ...Option) *clusterFixture {
	t.Helper()
	f := &clusterFixture{obs: map[string]*controlplane.Session{}}
	f.sims, f.entries = fabricSims(t)
	for i := 0; i < n; i++ {
		cfg, _ := testConfig(t, f.entries)
		cfg.Cluster, cfg.ClusterID, cfg.ClusterLease = url, fmt.Sprintf("c%d", i), 2*time.Second
		ev := newEvents()
		c, err := New(ctx, cfg, append([]Option{WithEvents(ev.add)}, opts...)...)
		if err != nil {
			t.Fatal(err)
		}
		f.cs, f.evs, f.stops = append(f.cs, c), append(f.evs, ev), append(f.stops, start(t, c))
	}
	for i, e := range f.entries {
		f.obs[e.Name] = observer(t, e.Address, uint64(i+1))
	}
	return f
}

// whole says "" when live master every switch and every switch holds
// exactly the intent.
func (f *clusterFixture) whole(ctx context.Context, live []*Controller) func() string {
	return func() string {
		owners, bad := mastered(live)
		if bad != "" {
			return bad
		}
		if len(owners) != len(fabricSwitches) {
			return fmt.Sprintf("mastered: %v", owners)
		}
		return diffAgainstIntent(ctx, live[0], f.obs)
	}
}

func TestClusterFailoverAndIntentStore(t *testing.T) {
	etcd := etcdtest.Start(t, 1)
	ctx := testCtx(t)
	f := newClusterFixture(t, ctx, etcd.URL(), 2)
	cs, evs, stops, entries, balanced := f.cs, f.evs, f.stops, f.entries, func(live []*Controller) func() string { return f.whole(ctx, live) }
	waitFor(t, "two instances master two switches each and converge them", func() string {
		owners, _ := mastered(cs)
		counts := map[int]int{}
		for _, i := range owners {
			counts[i]++
		}
		if counts[0] != 2 || counts[1] != 2 {
			return fmt.Sprintf("mastership %v: want 2 and 2", owners)
		}
		return balanced(cs)()
	})
	// The store is the source of truth: a put reaches every instance.
	cli, err := ConnectCluster(&Config{Cluster: etcd.URL()})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	cur, rev, err := GetIntent(ctx, cli)
	if err != nil || rev != 1 {
		t.Fatalf("stored intent: revision %d, %v; want 1 (seeded)", rev, err)
	}
	newPolicy := withExtraClass(t, cur.Policy)
	cfg, _ := testConfig(t, entries)
	if _, err := PutIntent(ctx, cli, cfg, newPolicy, cur.Topology, rev); err != nil {
		t.Fatalf("put: %v", err)
	}
	if _, err := PutIntent(ctx, cli, cfg, newPolicy, cur.Topology, rev); err == nil {
		t.Fatal("a put against a stale revision was accepted")
	}
	if _, err := PutIntent(ctx, cli, cfg, []byte("classes: [{name: x}]\n"), cur.Topology, rev+1); err == nil {
		t.Fatal("a policy that does not compile was stored")
	}
	for _, ev := range evs {
		ev.wait(t, ctx, 0, "revision 2 applied", func(e Event) bool { return e.Kind == IntentApplied && e.Count == 2 })
	}
	waitFor(t, "the new intent is on every switch", balanced(cs))
	// One instance leaves: the other masters everything.
	if err := stops[1](); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the survivor masters every switch", balanced(cs[:1]))
}

// TestClusterEtcdOutage: with etcd gone, the masters step down once their
// lease expires, the switches keep their entries, and mastership resumes
// when etcd is back; with one member of three gone, nothing is
// interrupted: no mastership moves and a new intent still reaches every
// switch.
func TestClusterEtcdOutage(t *testing.T) {
	for _, tc := range []struct {
		name    string
		members int
		down    func(*etcdtest.Cluster)
		// interrupted: the outage takes the masters down.
		interrupted bool
	}{
		{"the only etcd member stops", 1, (*etcdtest.Cluster).Stop, true},
		{"one of three members stops", 3, func(c *etcdtest.Cluster) { c.Members[0].Kill() }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			etcd := etcdtest.Start(t, tc.members)
			ctx := testCtx(t)
			f := newClusterFixture(t, ctx, etcd.URL(), 2)
			cs, evs, entries, whole := f.cs, f.evs, f.entries, f.whole(ctx, f.cs)
			waitFor(t, "the switches are mastered and converged", whole)
			var marks []int
			for _, ev := range evs {
				ev.mu.Lock()
				marks = append(marks, len(ev.all))
				ev.mu.Unlock()
			}
			downAt := time.Now()
			tc.down(etcd)
			if tc.interrupted {
				waitFor(t, "every master steps down after its lease", func() string {
					if owners, _ := mastered(cs); len(owners) > 0 {
						return fmt.Sprintf("still mastered: %v", owners)
					}
					return ""
				})
				for i, ev := range evs {
					ev.wait(t, ctx, marks[i], "cluster-unreachable reported", func(e Event) bool { return e.Kind == ClusterUnreachable })
				}
				if d := diffAgainstIntent(ctx, cs[0], f.obs); d != "" {
					t.Fatalf("the switches lost entries while etcd was away: %s", d)
				}
				if err := etcd.Restart(); err != nil {
					t.Fatal(err)
				}
				waitFor(t, "mastership resumes when etcd is back", whole)
				return
			}
			cli, err := ConnectCluster(&Config{Cluster: etcd.URL()})
			if err != nil {
				t.Fatal(err)
			}
			defer cli.Close()
			cur, rev, err := GetIntent(ctx, cli)
			if err != nil {
				t.Fatal(err)
			}
			cfg, _ := testConfig(t, entries)
			if _, err := PutIntent(ctx, cli, cfg, withExtraClass(t, cur.Policy), cur.Topology, rev); err != nil {
				t.Fatalf("put with a member down: %v", err)
			}
			for _, ev := range evs {
				ev.wait(t, ctx, 0, "the new revision applied", func(e Event) bool { return e.Kind == IntentApplied && e.Count == int(rev+1) })
			}
			waitFor(t, "the new intent reaches every switch", whole)
			// Let two lease TTLs pass with the member down: the leases must
			// have been kept alive through the other members.
			time.Sleep(time.Until(downAt.Add(4 * time.Second)))
			if d := whole(); d != "" {
				t.Fatalf("after two lease TTLs with a member down: %s", d)
			}
			for i, ev := range evs {
				ev.mu.Lock()
				for _, e := range ev.all[marks[i]:] {
					if e.Kind == MastershipReleased || e.Kind == ClusterUnreachable {
						t.Errorf("instance %d: %s %s %s %v with one member down", i, e.Kind, e.Switch, e.What, e.Err)
					}
				}
				ev.mu.Unlock()
			}
		})
	}
}

// meterConfigs reads a switch's configured meter cells: key → config text.
func meterConfigs(ctx context.Context, t *testing.T, s *controlplane.Session, in *controlplane.Intent) map[string]string {
	t.Helper()
	got, err := s.ReadState(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, e := range got {
		if me := e.GetMeterEntry(); me != nil && me.GetConfig() != nil {
			out[in.Schema.Describe(e)] = me.GetConfig().String()
		}
	}
	return out
}

// TestClusterFailoverKeepsAllocation: the master of leaf1 runs the closed
// loop, which moves a meter away from the policy's static rate; after it
// leaves, the new master keeps the switch's rates (adopted, not reset) and
// its own loop, whose demand window was kept warm while it was a backup,
// has nothing to rewrite.
func TestClusterFailoverKeepsAllocation(t *testing.T) {
	etcd := etcdtest.Start(t, 1)
	ctx := testCtx(t)
	f := newClusterFixture(t, ctx, etcd.URL(), 2, WithManualLoop())
	waitFor(t, "the switches are mastered and converged", f.whole(ctx, f.cs))
	owners, _ := mastered(f.cs)
	m, b := owners["leaf1"], 1-owners["leaf1"]
	leaf1 := f.sims["leaf1"]
	if err := leaf1.SetFlows([]sim.Flow{{Name: "b-sync", SrcIP: netip.MustParseAddr("10.0.1.2"), DstIP: netip.MustParseAddr("10.0.2.4"),
		Proto: 6, SrcPort: 40000, DstPort: 873, IngressPort: 2, RateBps: 4e6, PacketSize: 1000}}); err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1000, 0)
	written := 0
	for i := 0; i < 4; i++ {
		leaf1.Advance(time.Second)
		now = now.Add(time.Second)
		res, err := f.cs[m].Tick(ctx, now)
		if err != nil {
			t.Fatal(err)
		}
		written += res.Written["leaf1"]
		if res, _ := f.cs[b].Tick(ctx, now); res.Written["leaf1"] > 0 {
			t.Fatalf("the backup wrote to leaf1: %v", res.Written)
		}
	}
	if written == 0 {
		t.Fatal("the master's loop wrote no meter on leaf1: the test proves nothing")
	}
	static := f.cs[b].Compiled().Intents["leaf1"]
	before := meterConfigs(ctx, t, f.obs["leaf1"], static)
	mark := len(f.evs[b].all)
	if err := f.stops[m](); err != nil {
		t.Fatal(err)
	}
	_, next := f.evs[b].wait(t, ctx, mark, "leaf1 taken over", func(e Event) bool { return e.Kind == MastershipAcquired && e.Switch == "leaf1" })
	f.evs[b].wait(t, ctx, next, "leaf1 reconciled by the new master", func(e Event) bool { return e.Kind == SwitchConverged && e.Switch == "leaf1" })
	after := meterConfigs(ctx, t, f.obs["leaf1"], static)
	for k, v := range before {
		if after[k] != v {
			t.Errorf("meter %s: %s before the failover, %s after: the allocation was reset", k, v, after[k])
		}
	}
	leaf1.Advance(time.Second)
	res, err := f.cs[b].Tick(ctx, now.Add(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if res.Written["leaf1"] > 0 {
		t.Errorf("the new master's first tick rewrote %d entities on leaf1: its demand window was not warm", res.Written["leaf1"])
	}
}

// TestClusterReservationsAreIntent: in cluster mode a reservation
// admitted through one instance's API is stored in the intent store (not
// in a local state file), applied by every instance, kept by `intent
// put`, and re-installed by the new master after a failover: leaf1 keeps
// its entries, which the new master would delete if its intent lacked
// them. A release through the survivor removes them.
func TestClusterReservationsAreIntent(t *testing.T) {
	etcd := etcdtest.Start(t, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	t0 := time.Now()
	step := func(what string) { t.Logf("%6.2fs %s", time.Since(t0).Seconds(), what) }
	f := newClusterFixture(t, ctx, etcd.URL(), 2)
	waitFor(t, "the switches are mastered and converged", f.whole(ctx, f.cs))
	step("converged")
	owners, _ := mastered(f.cs)
	m, b := owners["leaf1"], 1-owners["leaf1"]
	srv := httptest.NewServer(f.cs[m].api.Handler())
	defer srv.Close()
	a := must(statusapi.RequestReservation(ctx, srv.URL, statusapi.ReservationRequest{Src: "h1", Dst: "h3", Protocol: "udp", DstPort: 5004, Rate: "2Mbps", Burst: "10KB", MaxDelay: "50ms"}))
	if a.Outcome != statusapi.Admitted {
		t.Fatalf("request through the master of leaf1: %+v", a)
	}
	step("admitted")
	cli, err := ConnectCluster(&Config{Cluster: etcd.URL()})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	in, rev, err := GetIntent(ctx, cli)
	if err != nil || !strings.Contains(string(in.Reservations), "src: h1") || !strings.Contains(in.Note, a.ID) {
		t.Fatalf("stored intent revision %d (%q): reservations %q, %v", rev, in.Note, in.Reservations, err)
	}
	for i, c := range f.cs {
		if _, err := os.Stat(statePath(c.cfg.Policy)); !os.IsNotExist(err) {
			t.Errorf("instance %d wrote a local state file: %v", i, err)
		}
	}
	waitFor(t, "the other instance applies the reservation", func() string {
		if rs := f.cs[b].Compiled().Reservations; len(rs) != 1 || rs[0].ID != a.ID {
			return fmt.Sprintf("instance %d: %+v", b, rs)
		}
		return ""
	})
	schema := must(tables.Load(f.cs[0].cfg.P4Info))
	leaf1 := f.obs["leaf1"]
	if n := eventually(ctx, 2, func() int { return countEntries(ctx, leaf1, schema, contract.Reservation) }); n != 2 {
		t.Fatalf("leaf1 holds %d reservation entries, want 2", n)
	}
	// A new policy through `intent put` keeps the reservations.
	cfg, _ := testConfig(t, f.entries)
	if _, err := PutIntent(ctx, cli, cfg, withExtraClass(t, in.Policy), in.Topology, rev); err != nil {
		t.Fatal(err)
	}
	if in2, _, err := GetIntent(ctx, cli); err != nil || string(in2.Reservations) != string(in.Reservations) {
		t.Fatalf("intent put dropped the reservations: %q, %v", in2.Reservations, err)
	}

	step("stopping the master of leaf1")
	mark := len(f.evs[b].kinds())
	if err := f.stops[m](); err != nil {
		t.Fatal(err)
	}
	_, next := f.evs[b].wait(t, ctx, mark, "leaf1 taken over", func(e Event) bool { return e.Kind == MastershipAcquired && e.Switch == "leaf1" })
	f.evs[b].wait(t, ctx, next, "leaf1 reconciled by the new master", func(e Event) bool { return e.Kind == SwitchConverged && e.Switch == "leaf1" })
	step("leaf1 reconciled by the new master")
	waitFor(t, "the survivor masters every switch, whose state is its intent", f.whole(ctx, f.cs[b:b+1]))
	step("survivor whole")
	if n := countEntries(ctx, leaf1, schema, contract.Reservation); n != 2 {
		t.Fatalf("after the failover leaf1 holds %d reservation entries, want 2", n)
	}

	srv.Config.Handler = f.cs[b].api.Handler()
	if a := must(statusapi.ReleaseReservation(ctx, srv.URL, a.ID)); a.Outcome != statusapi.Released {
		t.Fatalf("release through the survivor: %+v", a)
	}
	if n := eventually(ctx, 0, func() int { return countEntries(ctx, leaf1, schema, contract.Reservation) }); n != 0 {
		t.Errorf("after the release leaf1 holds %d reservation entries", n)
	}
	if in, _, err := GetIntent(ctx, cli); err != nil || strings.Contains(string(in.Reservations), "src: h1") {
		t.Errorf("stored reservations after the release: %q, %v", in.Reservations, err)
	}
}

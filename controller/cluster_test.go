package controller

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/p4qos/p4qos/controlplane"
	"github.com/p4qos/p4qos/internal/etcdtest"
	"github.com/p4qos/p4qos/tables"
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

func TestClusterFailoverAndIntentStore(t *testing.T) {
	etcd := etcdtest.Start(t, 1)
	_, entries := fabricSims(t)
	ctx := testCtx(t)
	var cs []*Controller
	var stops []func() error
	var evs []*events
	for i := 0; i < 2; i++ {
		cfg, _ := testConfig(t, entries)
		cfg.Cluster, cfg.ClusterID, cfg.ClusterLease = etcd.URL(), fmt.Sprintf("c%d", i), 2*time.Second
		ev := newEvents()
		c, err := New(ctx, cfg, WithEvents(ev.add))
		if err != nil {
			t.Fatal(err)
		}
		cs, evs, stops = append(cs, c), append(evs, ev), append(stops, start(t, c))
	}
	obs := map[string]*controlplane.Session{}
	for i, e := range entries {
		obs[e.Name] = observer(t, e.Address, uint64(i+1))
	}
	balanced := func(live []*Controller) func() string {
		return func() string {
			owners, bad := mastered(live)
			if bad != "" {
				return bad
			}
			if len(owners) != len(fabricSwitches) {
				return fmt.Sprintf("mastered: %v", owners)
			}
			return diffAgainstIntent(ctx, live[0], obs)
		}
	}
	waitFor(t, "two instances master the four switches and converge them", balanced(cs))
	owners, _ := mastered(cs)
	counts := map[int]int{}
	for _, i := range owners {
		counts[i]++
	}
	if counts[0] != 2 || counts[1] != 2 {
		t.Errorf("mastership %v: want 2 and 2", owners)
	}
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

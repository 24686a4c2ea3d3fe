package cluster

import (
	"context"
	"fmt"
	"os"
	"sort"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"gopkg.in/yaml.v3"

	ccluster "github.com/p4qos/p4qos/controller/cluster"
)

// withExtraClass returns the policy with one more class.
func withExtraClass(t testing.TB, policy []byte, port int) string {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal(policy, &doc); err != nil {
		t.Fatal(err)
	}
	var extra yaml.Node
	src := fmt.Sprintf("{name: extra-%d, precedence: 150, match: {protocol: udp, dst_port: %d}, phb: AF31}", port, port)
	if err := yaml.Unmarshal([]byte(src), &extra); err != nil {
		t.Fatal(err)
	}
	root := doc.Content[0]
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == "classes" {
			root.Content[i+1].Content = append(root.Content[i+1].Content, extra.Content[0])
			out, err := yaml.Marshal(&doc)
			if err != nil {
				t.Fatal(err)
			}
			return string(out)
		}
	}
	t.Fatal("the policy has no classes")
	return ""
}

// waitWhole waits until every switch is mastered by one of the instances,
// none holds more than its share, and every switch holds exactly the intent.
func (b *bed) waitWhole(ctx context.Context, what string) map[string]owner {
	b.t.Helper()
	var own map[string]owner
	waitFor(b.t, what, func() string {
		var msg string
		if own, msg = b.mastered(ctx, liveSet(b.procs...)); msg != "" {
			return msg
		}
		if msg = balanced(own, len(b.procs)); msg != "" {
			return msg
		}
		return b.diff(ctx)
	})
	return own
}

func liveSet(procs ...*proc) map[string]bool {
	out := map[string]bool{}
	for _, p := range procs {
		out[p.id] = true
	}
	return out
}

// byLoad returns the instances by the number of switches they master, most first.
func byLoad(b *bed, own map[string]owner) []*proc {
	n := map[string]int{}
	for _, o := range own {
		n[o.id]++
	}
	ps := append([]*proc(nil), b.procs...)
	sort.SliceStable(ps, func(i, j int) bool { return n[ps[i].id] > n[ps[j].id] })
	return ps
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// TestKillMasters is the "done when": 3 instances, 8 sims, a real
// etcd. The masters of at least half the switches are killed with SIGKILL;
// every switch is mastered again (the switch's primary is the new master's
// fencing id), holds exactly the intent (no entry or meter lost or
// duplicated), and is writable (a new intent reaches every switch); the
// killed masters' election ids are refused by the switches.
func TestKillMasters(t *testing.T) {
	for _, tc := range []struct {
		name   string
		killed int // instances killed, most loaded first
	}{
		{"one master", 1},
		{"masters of half the switches or more", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testCtx(t)
			b := newBed(t, 3)
			own := b.waitWhole(ctx, "three instances master and converge the eight switches")
			share := (len(switchNames) + 2) / 3
			counts := map[string]int{}
			for _, o := range own {
				counts[o.id]++
			}
			for id, n := range counts {
				if n > share+1 {
					t.Errorf("%s masters %d switches, more than ⌈8/3⌉+1 = %d", id, n, share+1)
				}
			}
			order := byLoad(b, own)
			victims, survivors := order[:tc.killed], order[tc.killed:]
			stale := map[string]owner{}
			for sw, o := range own {
				for _, v := range victims {
					if o.id == v.id {
						stale[sw] = o
					}
				}
			}
			t.Logf("mastership %v; killing %d instances that master %d of %d switches", counts, tc.killed, len(stale), len(switchNames))
			killed := time.Now()
			for _, v := range victims {
				v.signal(t, syscall.SIGKILL)
				<-v.exited
			}
			waitFor(t, "the survivors master every switch", func() string {
				var msg string
				own, msg = b.mastered(ctx, liveSet(survivors...))
				return msg
			})
			t.Logf("failover: every switch mastered again %v after the kill (lease %v)", time.Since(killed).Round(time.Millisecond), leaseTTL)
			waitFor(t, "every switch holds exactly the intent", func() string { return b.diff(ctx) })
			for sw, o := range stale {
				err := b.staleWrite(ctx, sw, ccluster.MasterID(o.rev))
				if status.Code(err) != codes.PermissionDenied {
					t.Errorf("%s: write with the killed master's id %s: %v, want PERMISSION_DENIED", sw, ccluster.MasterID(o.rev), err)
				}
			}
			pol, err := os.ReadFile(b.policy)
			if err != nil {
				t.Fatal(err)
			}
			b.intentPut(t, withExtraClass(t, pol, 9999))
			waitFor(t, "the new intent reaches every switch through the new masters", func() string { return b.diff(ctx) })
		})
	}
}

// TestStaleMasterFenced pauses a master (SIGSTOP) past its lease: the
// others take its switches over, with higher election ids, and change the
// intent. The paused master's election id is refused by the switches
// (PERMISSION_DENIED). Resumed (SIGCONT), it steps down from every switch
// it had, and the switches keep the new intent: nothing the stale master
// would write gets applied.
func TestStaleMasterFenced(t *testing.T) {
	ctx := testCtx(t)
	b := newBed(t, 3)
	own := b.waitWhole(ctx, "three instances master and converge the eight switches")
	order := byLoad(b, own)
	victim, others := order[0], order[1:]
	stale := map[string]owner{}
	for sw, o := range own {
		if o.id == victim.id {
			stale[sw] = o
		}
	}
	victim.signal(t, syscall.SIGSTOP)
	waitFor(t, "the others take the paused master's switches over", func() string {
		var msg string
		own, msg = b.mastered(ctx, liveSet(others...))
		return msg
	})
	for sw, o := range stale {
		if own[sw].rev <= o.rev {
			t.Errorf("%s: new master's key revision %d not above the old %d", sw, own[sw].rev, o.rev)
		}
		err := b.staleWrite(ctx, sw, ccluster.MasterID(o.rev))
		if status.Code(err) != codes.PermissionDenied {
			t.Errorf("%s: write with the paused master's id: %v, want PERMISSION_DENIED", sw, err)
		}
	}
	pol, err := os.ReadFile(b.policy)
	if err != nil {
		t.Fatal(err)
	}
	// The paused master still holds the old intent: whatever it writes on
	// waking up would undo this one.
	b.intentPut(t, withExtraClass(t, pol, 9998))
	waitFor(t, "the new intent is on every switch", func() string { return b.diff(ctx) })
	victim.signal(t, syscall.SIGCONT)
	waitFor(t, "the resumed master steps down from every switch it had", func() string {
		for sw := range stale {
			if v := victim.metric("p4qos_cluster_mastership_changes_total", `switch="`+sw+`"`, `change="released"`); v < 1 {
				return fmt.Sprintf("%s: released %v times", sw, v)
			}
		}
		return ""
	})
	b.waitWhole(ctx, "the resumed instance rejoins and the cluster is whole")
	fenced := 0.0
	for sw := range stale {
		fenced += max(victim.metric("p4qos_writes_fenced_total", `switch="`+sw+`"`), 0)
	}
	t.Logf("the resumed master's writes refused by the switches (PERMISSION_DENIED): %v", fenced)
}

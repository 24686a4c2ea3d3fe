package controller

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/p4qos/p4qos/controlplane"
	"github.com/p4qos/p4qos/tables"
)

// A policy reload is applied when it compiles and rejected, with the
// compiler's position, when it does not; a rejected one leaves the switches
// as they were. Observed through events and the switch, not the log.
func TestReloadAcceptedAndRejected(t *testing.T) {
	sims, entries := fabricSims(t)
	cfg, _ := testConfig(t, entries)
	ctx := testCtx(t)
	c, ev, next, _ := running(t, ctx, cfg)
	_ = sims
	schema := must(tables.Load(cfg.P4Info))
	obs := observer(t, entries[0].Address, 1)
	initial := classifierCount(ctx, obs, schema)
	if initial <= 0 {
		t.Fatalf("classifier entries on leaf1: %d", initial)
	}

	// Through the file watcher: a broken policy is rejected.
	writeFile(t, "", cfg.Policy, "version: 1\nclasses:\n  - name: x\n    phb: NOPE\n")
	rej, next := ev.wait(t, ctx, next, "rejection", func(e Event) bool { return e.Kind == ReloadRejected })
	if rej.What != "policy" || !contains(rej.Err.Error(), "policy.yaml:4") {
		t.Errorf("rejection %q of %q does not carry the compiler's position", rej.Err, rej.What)
	}
	if n := classifierCount(ctx, obs, schema); n != initial {
		t.Errorf("classifier entries %d after a rejected policy, want %d", n, initial)
	}
	// Through the file watcher: one more class is applied.
	orig := must(os.ReadFile(repoFile(t, "topo/examples/fabric-policy.yaml")))
	writeFile(t, "", cfg.Policy, string(withExtraClass(t, orig)))
	_, next = ev.wait(t, ctx, next, "reload", func(e Event) bool { return e.Kind == ReloadAccepted })
	next = ev.waitConverged(t, ctx, next)
	if n := classifierCount(ctx, obs, schema); n <= initial {
		t.Errorf("classifier entries %d after adding a class, want more than %d", n, initial)
	}
	// As a library call: back to the original.
	if err := c.ApplyPolicy(ctx, orig); err != nil {
		t.Fatal(err)
	}
	_, next = ev.wait(t, ctx, next, "reload", func(e Event) bool { return e.Kind == ReloadAccepted })
	ev.waitConverged(t, ctx, next)
	if n := classifierCount(ctx, obs, schema); n != initial {
		t.Errorf("classifier entries %d after restoring the policy, want %d", n, initial)
	}
}

// Finding 1 of the reliability issue: a policy whose meter has `cir: null`
// made the compiler panic, and a reload of it killed the daemon. A reload
// is now rejected (whatever the compiler does with it) and the controller
// keeps working.
func TestReliability_ReloadOfCrashingPolicyKeepsDaemon(t *testing.T) {
	_, entries := fabricSims(t)
	cfg, _ := testConfig(t, entries)
	ctx := testCtx(t)
	c, ev, next, stop := running(t, ctx, cfg)
	bad := []byte("version: 1\nclasses: [{name: x, precedence: 1, phb: AF11, meter: {cir: null}}]\n")
	if err := c.ApplyPolicy(ctx, bad); err == nil {
		t.Fatal("a policy with cir: null was applied")
	}
	_, next = ev.wait(t, ctx, next, "rejection", func(e Event) bool { return e.Kind == ReloadRejected })
	orig := must(os.ReadFile(repoFile(t, "topo/examples/fabric-policy.yaml")))
	if err := c.ApplyPolicy(ctx, withExtraClass(t, orig)); err != nil {
		t.Fatalf("the controller no longer reloads after a bad policy: %v", err)
	}
	ev.waitConverged(t, ctx, next)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

// Finding 3: a policy file with no document content (only comments, `~`)
// was applied as an empty policy and deleted every class.
func TestReliability_CommentOnlyPolicyIsRejected(t *testing.T) {
	_, entries := fabricSims(t)
	cfg, _ := testConfig(t, entries)
	ctx := testCtx(t)
	c, ev, next, _ := running(t, ctx, cfg)
	schema := must(tables.Load(cfg.P4Info))
	obs := observer(t, entries[0].Address, 1)
	initial := classifierCount(ctx, obs, schema)
	for name, content := range map[string]string{
		"comments": "# nothing here yet\n# still nothing\n",
		"null":     "~\n",
		"document": "---\n# only a marker\n",
	} {
		err := c.ApplyPolicy(ctx, []byte(content))
		if !errors.Is(err, ErrEmptyPolicy) {
			t.Errorf("%s: got %v, want ErrEmptyPolicy", name, err)
		}
	}
	// Through the watcher too.
	writeFile(t, "", cfg.Policy, "# cleared by a script\n")
	rej, _ := ev.wait(t, ctx, next, "rejection", func(e Event) bool { return e.Kind == ReloadRejected && errors.Is(e.Err, ErrEmptyPolicy) })
	if rej.What != "policy" {
		t.Errorf("rejected %q", rej.What)
	}
	if n := classifierCount(ctx, obs, schema); n != initial {
		t.Errorf("classifier entries %d after empty policies, want %d", n, initial)
	}
}

// A topology reload without a failed link moves leaf1's routes to the
// remaining spine; a topology with a new switch is rejected.
func TestReloadTopology(t *testing.T) {
	_, entries := fabricSims(t)
	cfg, _ := testConfig(t, entries)
	ctx := testCtx(t)
	c, ev, next, _ := running(t, ctx, cfg)
	full := string(must(os.ReadFile(cfg.Topology)))
	failed := strings.Replace(full, "  - {a: leaf2:3, b: spine1:2, capacity: 40Mbps, delay: 1ms}\n", "", 1)
	if failed == full {
		t.Fatal("test fixture: fabric.yaml has no leaf2:3-spine1:2 link line")
	}
	leaf1 := func() int { return len(c.Compiled().Intents["leaf1"].Entities) }
	before := leaf1()
	writeFile(t, "", cfg.Topology, failed)
	acc, next := ev.wait(t, ctx, next, "topology reload", func(e Event) bool { return e.Kind == ReloadAccepted })
	if acc.What != "topology" {
		t.Errorf("reload of %q", acc.What)
	}
	next = ev.waitConverged(t, ctx, next)
	if got := leaf1(); got == before {
		t.Errorf("leaf1's intent did not change with the failed link (%d entities)", got)
	}
	extra := strings.Replace(full, "  - {name: spine2,", "  - {name: spine3, device_id: 5, address: 127.0.0.1:1, target: sim}\n  - {name: spine2,", 1)
	if err := c.ApplyTopology(ctx, []byte(extra)); err == nil || !contains(err.Error(), "needs a restart") {
		t.Errorf("a fifth switch: %v", err)
	}
	if err := c.ApplyTopology(ctx, []byte(full)); err != nil {
		t.Fatal(err)
	}
	_, next = ev.wait(t, ctx, next, "reload", func(e Event) bool { return e.Kind == ReloadAccepted && e.Err == nil })
	ev.waitConverged(t, ctx, next)
	if got := leaf1(); got != before {
		t.Errorf("leaf1 has %d entities after the link returned, want %d", got, before)
	}
}

// Arbitration as users meet it: a second controller with the same election
// id as a live primary stops with an input error naming the conflict and
// the flag; one with a lower id runs as backup and never writes.
func TestSameElectionIDExits(t *testing.T) {
	_, entries := fabricSims(t)
	cfg, _ := testConfig(t, entries)
	ctx := testCtx(t)
	running(t, ctx, cfg)
	second, err := New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- second.Run(ctx) }()
	select {
	case err := <-done:
		var ie *InputError
		var conflict *controlplane.ElectionConflictError
		if !errors.As(err, &ie) || !errors.As(err, &conflict) || !contains(err.Error(), "--election-id") {
			t.Fatalf("second controller returned %v, want an input error naming the conflict and --election-id", err)
		}
	case <-ctx.Done():
		t.Fatal("the second controller with the same election id kept running")
	}
}

func TestReliability_BackupNeverWrites(t *testing.T) {
	sims, entries := fabricSims(t)
	cfg, dir := testConfig(t, entries)
	ctx := testCtx(t)
	cfg.ElectionID = 10
	running(t, ctx, cfg)
	schema := must(tables.Load(cfg.P4Info))
	obs := observer(t, entries[0].Address, 1)
	initial := classifierCount(ctx, obs, schema)

	// The backup has another policy (one more class) and a closed loop:
	// if it wrote anything, leaf1 would change.
	bcfg := cfg
	bcfg.ElectionID = 5
	bcfg.Policy = writeFile(t, dir, "backup-policy.yaml", string(withExtraClass(t, must(os.ReadFile(cfg.Policy)))))
	bev := newEvents()
	backup, err := New(ctx, bcfg, WithEvents(bev.add), WithManualLoop())
	if err != nil {
		t.Fatal(err)
	}
	start(t, backup)
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if st, ok := backup.Daemon().SessionState("leaf1"); ok && st.Connected {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if st, _ := backup.Daemon().SessionState("leaf1"); !st.Connected || st.Primary {
		t.Fatalf("backup session state %+v, want connected and not primary", st)
	}
	// Drive the backup's loop with traffic that would change a meter.
	sims["leaf1"].Advance(time.Second)
	base := time.Unix(1000, 0)
	for i := range 3 {
		res, _ := backup.Tick(ctx, base.Add(time.Duration(i)*time.Second))
		if len(res.Written) > 0 {
			t.Fatalf("backup wrote %v", res.Written)
		}
	}
	bev.mu.Lock()
	defer bev.mu.Unlock()
	for _, e := range bev.all {
		if e.Kind == SwitchConverged || e.Kind == QueuesApplied || e.Kind == AllocationChanged {
			t.Errorf("backup reported %s on %s", e.Kind, e.Switch)
		}
	}
	if n := classifierCount(ctx, obs, schema); n != initial {
		t.Errorf("leaf1 has %d classifier entries with a backup running, want the primary's %d", n, initial)
	}
}

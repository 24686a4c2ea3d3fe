package cluster

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/p4qos/p4qos/internal/etcdtest"
)

// instance is one Mastership with its own etcd client, as one process.
type instance struct {
	ms     *Mastership
	cli    *clientv3.Client
	cancel context.CancelFunc
	done   chan struct{}
	mu     sync.Mutex
	master map[string]bool
}

func startInstance(t *testing.T, url, id string, switches []string, ttl time.Duration) *instance {
	t.Helper()
	cli, err := Connect(Options{URL: url})
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	in := &instance{cli: cli, master: map[string]bool{}, done: make(chan struct{})}
	in.ms = NewMastership(cli, id, switches, func(c Change) {
		in.mu.Lock()
		defer in.mu.Unlock()
		switch c.Kind {
		case Acquired:
			in.master[c.Switch] = true
		case Released:
			delete(in.master, c.Switch)
		}
	}, WithLeaseTTL(ttl))
	ctx, cancel := context.WithCancel(context.Background())
	in.cancel = cancel
	go func() { defer close(in.done); _ = in.ms.Run(ctx) }()
	t.Cleanup(in.stop)
	return in
}

// stop is a clean shutdown (the lease is revoked).
func (in *instance) stop() {
	in.cancel()
	<-in.done
	_ = in.cli.Close()
}

// crash stops keepalives without revoking: the lease expires after its TTL.
func (in *instance) crash() {
	_ = in.cli.Close()
	in.cancel()
	<-in.done
}

func (in *instance) count() int {
	in.mu.Lock()
	defer in.mu.Unlock()
	return len(in.master)
}

// waitBalanced waits until every switch has exactly one master among live
// and each holds at most its share.
func waitBalanced(t *testing.T, live []*instance, switches int) {
	t.Helper()
	share := (switches + len(live) - 1) / len(live)
	deadline := time.Now().Add(30 * time.Second)
	var last string
	for time.Now().Before(deadline) {
		owners := map[string]int{}
		ok := true
		var counts []int
		for _, in := range live {
			in.mu.Lock()
			for sw := range in.master {
				owners[sw]++
			}
			counts = append(counts, len(in.master))
			if len(in.master) > share {
				ok = false
			}
			in.mu.Unlock()
		}
		if len(owners) != switches {
			ok = false
		}
		for _, n := range owners {
			if n != 1 {
				ok = false
			}
		}
		if ok {
			return
		}
		last = fmt.Sprintf("owners=%v counts=%v share=%d", owners, counts, share)
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("mastership not balanced within 30s: %s", last)
}

func switchNames(n int) []string {
	var out []string
	for i := 0; i < n; i++ {
		out = append(out, fmt.Sprintf("s%d", i))
	}
	return out
}

func TestMastershipBalance(t *testing.T) {
	etcd := etcdtest.Start(t, 1)
	sws := switchNames(8)
	a := startInstance(t, etcd.URL(), "a", sws, 2*time.Second)
	waitBalanced(t, []*instance{a}, 8)
	b := startInstance(t, etcd.URL(), "b", sws, 2*time.Second)
	waitBalanced(t, []*instance{a, b}, 8)
	c := startInstance(t, etcd.URL(), "c", sws, 2*time.Second)
	waitBalanced(t, []*instance{a, b, c}, 8)
	moved := a.ms.Stats().Released + b.ms.Stats().Released
	// a had 8, then 4; with c: 3+3+2. Minimum moves: 4 for b's join, 2 for c's.
	if moved != 6 {
		t.Errorf("releases on joins: %d, want 6 (the minimum)", moved)
	}
	pt := t
	for _, tc := range []struct {
		name string
		do   func(*instance)
	}{{"crash", (*instance).crash}, {"shutdown", (*instance).stop}} {
		t.Run(tc.name, func(t *testing.T) {
			if c.count() == 0 {
				t.Fatal("the victim masters nothing")
			}
			before := a.ms.Stats().Released + b.ms.Stats().Released
			tc.do(c)
			waitBalanced(t, []*instance{a, b}, 8)
			c = startInstance(pt, etcd.URL(), "c", sws, 2*time.Second)
			waitBalanced(t, []*instance{a, b, c}, 8)
			// Back to 3+3+2 from 4+4: two moves.
			if moved := a.ms.Stats().Released + b.ms.Stats().Released - before; moved != 2 {
				t.Errorf("releases on the rejoin: %d, want 2", moved)
			}
		})
	}
}

// TestMastershipStepDown: an instance that steps down from a switch (its
// write was fenced) gives the key up; if nobody else holds it, it may take
// it again, but only with a new, higher fencing id.
func TestMastershipStepDown(t *testing.T) {
	etcd := etcdtest.Start(t, 1)
	sws := switchNames(2)
	var mu sync.Mutex
	var changes []Change
	cli, err := Connect(Options{URL: etcd.URL()})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	ms := NewMastership(cli, "a", sws, func(c Change) { mu.Lock(); changes = append(changes, c); mu.Unlock() }, WithLeaseTTL(2*time.Second))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = ms.Run(ctx) }()
	defer func() { cancel(); <-done }()
	waitOwned := func(cond func(map[string]uint64) bool) map[string]uint64 {
		deadline := time.Now().Add(30 * time.Second)
		for time.Now().Before(deadline) {
			ids := map[string]uint64{}
			for sw, id := range ms.Owned() {
				ids[sw] = id.Low
			}
			if cond(ids) {
				return ids
			}
			time.Sleep(10 * time.Millisecond)
		}
		t.Fatalf("mastership not as expected within 30s: %v", ms.Owned())
		return nil
	}
	before := waitOwned(func(ids map[string]uint64) bool { return len(ids) == 2 })
	ms.StepDown(ctx, "s0", "fenced")
	after := waitOwned(func(ids map[string]uint64) bool { return ids["s0"] > before["s0"] })
	if after["s1"] != before["s1"] {
		t.Errorf("s1 moved: %d → %d", before["s1"], after["s1"])
	}
	mu.Lock()
	defer mu.Unlock()
	var released bool
	for _, c := range changes {
		if c.Kind == Released && c.Switch == "s0" && c.Reason == "fenced" {
			released = true
		}
	}
	if !released {
		t.Errorf("no fenced release of s0 in %v", changes)
	}
}

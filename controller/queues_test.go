package controller

import (
	"context"
	"net"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/p4qos/p4qos/internal/thrift"
	"github.com/p4qos/p4qos/target"
	"github.com/p4qos/p4qos/target/sim"
)

// withThrift serves each sim's queue interface and names it in its entry.
func withThrift(t *testing.T, sims map[string]*sim.Switch, entries []SwitchEntry) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	for i := range entries {
		lis, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		go func() { _ = sims[entries[i].Name].ServeThrift(ctx, lis) }()
		entries[i].ThriftAddress = lis.Addr().String()
	}
}

// queuePolicy is the demo policy with leaf1's port 1 (h1's), queue 1 (best
// effort) limited to rate.
func queuePolicy(t *testing.T, rate string) []byte {
	t.Helper()
	orig := string(must(os.ReadFile(repoFile(t, "topo/examples/fabric-policy.yaml"))))
	const anchor = "    - {ecn_threshold: 30}\n"
	if !strings.Contains(orig, anchor) {
		t.Fatal("test fixture: the demo policy has no ecn_threshold line in queues.ports")
	}
	return []byte(strings.Replace(orig, anchor, anchor+"    - {switch: leaf1, port: 1, queue: 1, rate: "+rate+", depth: 200}\n", 1))
}

// departures runs leaf1's traffic model for 1 s of model time and returns
// how many packets port 1 queue 1 sent.
func departures(t *testing.T, s *sim.Switch) uint64 {
	t.Helper()
	before := queueDelivered(s)
	s.Advance(time.Second)
	return queueDelivered(s) - before
}

func queueDelivered(s *sim.Switch) uint64 {
	for _, q := range s.QueueStats() {
		if q.Port == 1 && q.Queue == 1 {
			return q.DeliveredPackets
		}
	}
	return 0
}

// Issue #10: queues are intent owned by the controller. On the sim, as in
// CI always: the policy's queue rate is applied on first programming and
// shapes the traffic; a reload that halves it halves the queue's
// departures under a backlog; a rate changed behind the controller's back
// is detected as drift and restored by the next reconcile.
func TestQueuesOwnedByController(t *testing.T) {
	sims, entries := fabricSims(t)
	withThrift(t, sims, entries)
	cfg, _ := testConfig(t, entries)
	cfg.ReconcileInterval = 200 * time.Millisecond
	writeFile(t, "", cfg.Policy, string(queuePolicy(t, "12Mbps")))
	ctx := testCtx(t)
	c, ev, next, _ := running(t, ctx, cfg) // the first reconcile applies the queues
	if _, n := ev.wait(t, ctx, 0, "queues applied on leaf1", func(e Event) bool { return e.Kind == QueuesApplied && e.Switch == "leaf1" }); n > next {
		t.Fatalf("queues applied after the switches converged, at event %d", n)
	}
	leaf1 := sims["leaf1"]
	if got := queueRate(leaf1); got != target.PacketsPerSecond(12e6) {
		t.Fatalf("leaf1 port 1 queue 1 rate %d pps, want %d", got, target.PacketsPerSecond(12e6))
	}
	// 40 Mbit/s of best-effort UDP h2→h1 in 1500-byte packets (3,333
	// pps) into a 1,000 pps queue: a backlog, so the queue sends at its rate.
	if err := leaf1.SetFlows([]sim.Flow{{Name: "be", SrcIP: netip.MustParseAddr("10.0.1.2"), DstIP: netip.MustParseAddr("10.0.1.1"),
		Proto: 17, SrcPort: 40000, DstPort: 7777, IngressPort: 2, RateBps: 40e6, PacketSize: 1500}}); err != nil {
		t.Fatal(err)
	}
	full := departures(t, leaf1)

	if err := c.ApplyPolicy(ctx, queuePolicy(t, "6Mbps")); err != nil {
		t.Fatal(err)
	}
	_, next = ev.wait(t, ctx, next, "queues applied after the reload", func(e Event) bool { return e.Kind == QueuesApplied && e.Switch == "leaf1" })
	half := departures(t, leaf1)
	t.Logf("departures of port 1 queue 1 in 1 s: %d at 12Mbps, %d at 6Mbps", full, half)
	// The model is fluid: a backlogged queue sends exactly its rate.
	if full != 1000 || half != 500 {
		t.Errorf("departures %d then %d packets/s, want 1000 then 500", full, half)
	}

	// Behind the controller's back (simple_switch_CLI set_queue_rate 50 1 1).
	th, err := thrift.Dial(ctx, entries[0].ThriftAddress)
	if err != nil {
		t.Fatal(err)
	}
	defer th.Close()
	if _, err := th.CallInt(ctx, target.ThriftService, target.MethodSetQueueRate, thrift.I32(1, 1), thrift.I32(2, 1), thrift.I64(3, 50)); err != nil {
		t.Fatal(err)
	}
	drift, _ := ev.wait(t, ctx, next, "drift repaired on leaf1", func(e Event) bool { return e.Kind == DriftRepaired && e.Switch == "leaf1" })
	if drift.Stats.SideDrift != 1 {
		t.Errorf("drift event %+v, want one queue parameter", drift.Stats)
	}
	if got := queueRate(leaf1); got != 500 {
		t.Errorf("rate after the repair %d pps, want 500", got)
	}
	if got := departures(t, leaf1); got != 500 {
		t.Errorf("departures after the repair %d/s, want 500", got)
	}
}

func queueRate(s *sim.Switch) int64 {
	for _, q := range s.Queues() {
		if q.Port == 1 && q.Queue == 1 {
			return q.RatePPS
		}
	}
	return 0
}

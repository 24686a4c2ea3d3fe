package bmv2queues

import (
	"fmt"
	"testing"
	"time"

	"github.com/p4qos/p4qos/controller"
)

// The policy rates: 2.4 Mbit/s is 200 packets/s of 1500 bytes, BMv2's
// unit (target.PacketsPerSecond); half of it is 100.
const (
	fullRate    = "2.4Mbps"
	fullRateBps = 2.4e6
	halfRate    = "1.2Mbps"
	halfRateBps = 1.2e6
)

const (
	// burstFrames is the burst every rate is measured with: more than
	// BMv2's default queue depth (64), less than policyDepth (128).
	burstFrames = 120
	// driftPPS is the rate set behind the controller's back, measured with
	// a burst of driftFrames.
	driftPPS    = 800
	driftFrames = 100
	// driftReconcile is the reconcile interval of the drift test.
	driftReconcile = time.Second
)

// Tolerances of the measured departure rates. A backlogged queue's
// departures are stamped exactly 1/rate apart by BMv2 (see fitRate), so the
// error is the measurement's: the test process timestamps each frame when
// its capture goroutine reads it, up to a few milliseconds late on a busy
// machine, against a window of 0.6 s (200 pps) or 1.2 s (100 pps). ±10%
// (rateTol) covers that with room to spare (every run here was within 1%)
// and still tells a rate from its half or its double; it also bounds the
// ratio of the halved rate to the full one. The drift burst is short
// (100 frames at 800 pps: 125 ms), so driftRateTol is ±25% (runs here:
// within 3%); 800 pps is four times the policy's rate either way.
const (
	rateTol      = 0.10
	driftRateTol = 0.25
)

// TestControllerAppliesQueueRates: the controller, started as `p4qos run`
// starts it, programs the switch and applies the policy's queue rate and
// depth over thrift: a burst into the shaped queue leaves at the policy's
// rate, all of it (so the queue holds more than BMv2's default 64
// packets: the policy's depth was applied too; with the default depth 76
// of the 120 frames came out here), while the same burst into an
// unshaped queue of the same port leaves at least four times faster (so
// the rate measured is the queue's, not what BMv2 can forward here).
func TestControllerAppliesQueueRates(t *testing.T) {
	b := newBed(t, fullRate, controller.Default().ReconcileInterval)
	want := wantPPS(fullRateBps)

	shaped := b.burst(burstFrames, bulkPort)
	t.Logf("queue %d of port %d at policy rate %s (%.0f pps): %v", bulkQueue, outPort, fullRate, want, shaped)
	within(t, "departure rate of the shaped queue (pps)", shaped.pps, want, rateTol)
	if shaped.got != burstFrames {
		t.Errorf("%d of %d frames left the shaped queue: a burst of %d into a queue of depth %d should not drop "+
			"(BMv2's default depth is 64: was the policy's depth applied?)", shaped.got, burstFrames, burstFrames, policyDepth)
	}

	unshaped := b.burst(burstFrames, otherPort)
	t.Logf("queue 1 of port %d (no policy rate): %v", outPort, unshaped)
	if unshaped.pps < 4*want {
		t.Errorf("the unshaped queue sent %.1f pps, want more than %.0f: the measurement cannot tell the policy's rate from BMv2's speed", unshaped.pps, 4*want)
	}
}

// TestQueueRateReloadHalvesDepartures: a policy reload through the library
// call (what a changed policy file triggers) that halves the queue's rate
// halves the measured departure rate.
func TestQueueRateReloadHalvesDepartures(t *testing.T) {
	b := newBed(t, fullRate, controller.Default().ReconcileInterval)

	full := b.burst(burstFrames, bulkPort)
	t.Logf("at %s (%.0f pps): %v", fullRate, wantPPS(fullRateBps), full)
	e := b.applyPolicy(halfRate)
	t.Logf("reloaded at %s: %d queue parameters written", halfRate, e.Count)
	half := b.burst(burstFrames, bulkPort)
	t.Logf("at %s (%.0f pps): %v", halfRate, wantPPS(halfRateBps), half)

	within(t, "departure rate before the reload (pps)", full.pps, wantPPS(fullRateBps), rateTol)
	within(t, "departure rate after the reload (pps)", half.pps, wantPPS(halfRateBps), rateTol)
	within(t, "ratio of the departure rates after and before the reload", half.pps/full.pps, 0.5, rateTol)
	if full.got != burstFrames || half.got != burstFrames {
		t.Errorf("frames delivered %d and %d of %d: the depth (%d) should hold every burst", full.got, half.got, burstFrames, policyDepth)
	}
}

// TestQueueRateRestoredAfterDrift: a queue rate changed behind the
// controller's back (simple_switch_CLI set_queue_rate, as an operator
// would) shapes the traffic until the next periodic reconcile, which
// restores the policy's rate. BMv2 cannot read queue rates back, so the
// controller cannot see the change: every reconcile writes every queue
// setting again (here the rate and the depth of one queue: 2 parameters),
// and that is what repairs it.
func TestQueueRateRestoredAfterDrift(t *testing.T) {
	b := newBed(t, fullRate, driftReconcile)
	want := wantPPS(fullRateBps)

	before := b.burst(burstFrames, bulkPort)
	t.Logf("at %s (%.0f pps): %v", fullRate, want, before)
	within(t, "departure rate before the drift (pps)", before.pps, want, rateTol)

	// The drift only shows in traffic between the CLI's write and the next
	// reconcile, which comes driftReconcile after the last one. So the
	// change is made just after a queues-applied event and measured at
	// once, and the attempt counts only if no reconcile re-applied the
	// rate before the measurement ended; otherwise it is repeated.
	cmd := fmt.Sprintf("set_queue_rate %d %d %d", driftPPS, outPort, bulkQueue)
	var drifted sample
	for attempt := 1; ; attempt++ {
		b.next = b.ev.len() // a fresh one, not one from before
		b.waitEvent("a periodic queues-applied event", 10*driftReconcile, isQueuesApplied)
		mark := b.ev.len()
		start := time.Now()
		b.sw.CLI(t, cmd)
		cli := time.Since(start)
		drifted = b.burst(driftFrames, bulkPort)
		if n := b.ev.count(mark, isQueuesApplied); n == 0 {
			t.Logf("`%s` (the CLI took %v), then %v", cmd, cli.Round(time.Millisecond), drifted)
			break
		}
		if attempt == 5 {
			t.Fatalf("in 5 attempts a reconcile always re-applied the rate before the drift was measured (the CLI took %v, the reconcile interval is %v)", cli, driftReconcile)
		}
		t.Logf("attempt %d: a reconcile re-applied the rate before the drift was measured (the CLI took %v); again", attempt, cli.Round(time.Millisecond))
	}
	within(t, "departure rate after the change behind the controller's back (pps)", drifted.pps, driftPPS, driftRateTol)

	e := b.waitEvent("the next periodic queues-applied event", 10*driftReconcile, isQueuesApplied)
	after := b.burst(burstFrames, bulkPort)
	t.Logf("after the next reconcile (%d queue parameters written, drift counted %d): %v", e.Count, e.Stats.SideDrift, after)
	within(t, "departure rate after the reconcile (pps)", after.pps, want, rateTol)
	if e.Count != 2 {
		t.Errorf("the reconcile wrote %d queue parameters, want 2 (rate and depth of the one queue the policy sets)", e.Count)
	}
}

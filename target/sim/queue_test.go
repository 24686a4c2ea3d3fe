package sim

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/p4qos/p4qos/compiler/contract"
	"github.com/p4qos/p4qos/internal/thrift"
	"github.com/p4qos/p4qos/tables"
	"github.com/p4qos/p4qos/target"
)

// queuedHarness routes 10.0.0.0/8 to port 4 and sends UDP port 5001 to
// queue 1 (DSCP 10) and 5002 to queue 2 (DSCP 18), with one flow of 1000-byte
// packets at 2000 packets/s to each: both more than the queue rates below,
// so both queues stay backlogged.
func queuedHarness(t *testing.T) (*harness, *tables.Schema) {
	t.Helper()
	h, s := qosHarness(t)
	routeAll(t, h, s)
	for _, q := range []struct {
		port  int
		class int
		dscp  int
		queue int
	}{{5001, 1, 10, 1}, {5002, 2, 18, 2}} {
		h.mustWrite(1,
			insert(te(t, s, contract.Classifier, []tables.Match{tables.Range(contract.KeyL4DstPort, q.port, q.port)},
				tables.Action(contract.SetClass, tables.Param(contract.ParamClassID, q.class), tables.Param(contract.ParamDSCP, q.dscp)), tables.Priority(1))),
			insert(te(t, s, contract.PHB, []tables.Match{tables.Exact(contract.KeyDSCP, q.dscp)}, tables.Action(contract.SetQueue, tables.Param(contract.ParamQueue, q.queue)))),
		)
	}
	if err := h.sw.SetFlows([]Flow{
		udpFlow("192.168.1.1", "10.1.2.3", 5001, 16e6, 1000),
		udpFlow("192.168.1.2", "10.1.2.3", 5002, 16e6, 1000),
	}); err != nil {
		t.Fatal(err)
	}
	return h, s
}

func mustSetQueue(t *testing.T, sw *Switch, port uint32, queue uint8, rate int64, depth int) {
	t.Helper()
	if err := sw.SetQueue(port, queue, rate, depth); err != nil {
		t.Fatalf("SetQueue(%d, %d, %d, %d): %v", port, queue, rate, depth, err)
	}
}

// queueStat returns the statistics of one queue (zero if it never carried
// traffic).
func queueStat(sw *Switch, port uint32, queue uint8) QueueStats {
	for _, q := range sw.QueueStats() {
		if q.Port == port && q.Queue == queue {
			return q
		}
	}
	return QueueStats{Port: port, Queue: queue}
}

// departures advances the clock by one second in steps and returns how many
// packets queues 1 and 2 of port 4 sent meanwhile, by QueueStats and by the
// pipeline's queue_counter[port·8+queue].
func departures(t *testing.T, h *harness, s *tables.Schema, step time.Duration) (stats, counters [2]uint64) {
	t.Helper()
	var before, beforeCounters [2]uint64
	for i, q := range []uint8{1, 2} {
		before[i] = queueStat(h.sw, 4, q).DeliveredPackets
		beforeCounters[i] = uint64(readCounter(t, h, s, contract.QueueCounter, 4*8+int64(q)).GetPacketCount())
	}
	for end := h.sw.Now() + time.Second; h.sw.Now() < end; {
		h.sw.Advance(step)
	}
	for i, q := range []uint8{1, 2} {
		stats[i] = queueStat(h.sw, 4, q).DeliveredPackets - before[i]
		counters[i] = uint64(readCounter(t, h, s, contract.QueueCounter, 4*8+int64(q)).GetPacketCount()) - beforeCounters[i]
	}
	return stats, counters
}

// TestSim_QueueRateHalvedHalvesDepartures: the traffic model ignored queue
// rates and depths (issue #10). Queues 1 and 2 of a port are limited to
// 1000 packets/s and kept backlogged; halving queue 1's rate halves its
// measured departure rate and leaves queue 2's alone, whatever the step.
func TestSim_QueueRateHalvedHalvesDepartures(t *testing.T) {
	for _, step := range []time.Duration{time.Second, 100 * time.Millisecond, 10 * time.Millisecond} {
		t.Run(step.String(), func(t *testing.T) {
			h, s := queuedHarness(t)
			mustSetQueue(t, h.sw, 4, 1, 1000, 64)
			mustSetQueue(t, h.sw, 4, 2, 1000, 64)
			departures(t, h, s, step) // fill the queues

			stats, counters := departures(t, h, s, step)
			if want := [2]uint64{1000, 1000}; stats != want || counters != want {
				t.Fatalf("departures/s of queues 1, 2 at 1000 pps: QueueStats %v, queue_counter %v, want %v", stats, counters, want)
			}
			mustSetQueue(t, h.sw, 4, 1, 500, 64)
			stats, counters = departures(t, h, s, step)
			if want := [2]uint64{500, 1000}; stats != want || counters != want {
				t.Errorf("departures/s after halving queue 1: QueueStats %v, queue_counter %v, want %v", stats, counters, want)
			}
			fs := h.sw.FlowStats()
			if got := fs[0].DeliveredBps; step == time.Second && got != 500*1000*8 {
				t.Errorf("flow of queue 1 delivers %v bit/s, want 4 Mbit/s", got)
			}
		})
	}
}

// TestSim_QueueDepthBoundsBacklog: what a rate-limited queue cannot send
// waits up to its depth and drains later; the rest is tail-dropped. Depth 0
// (the default) buffers nothing.
func TestSim_QueueDepthBoundsBacklog(t *testing.T) {
	for _, tc := range []struct {
		name  string
		depth int
	}{{"depth 64", 64}, {"no buffer", 0}} {
		t.Run(tc.name, func(t *testing.T) {
			h, _ := queuedHarness(t)
			mustSetQueue(t, h.sw, 4, 1, 1000, tc.depth)
			h.sw.Advance(time.Second) // 2000 offered, 1000 sent
			q := queueStat(h.sw, 4, 1)
			wantDropped := uint64(1000 - tc.depth)
			if q.DeliveredPackets != 1000 || q.BacklogPackets != uint64(tc.depth) || q.DroppedPackets != wantDropped {
				t.Fatalf("after 1 s: %+v, want 1000 delivered, %d waiting, %d dropped", q, tc.depth, wantDropped)
			}
			if f := h.sw.FlowStats()[0]; f.QueueDroppedPackets != wantDropped || f.DeliveredPackets != 1000 {
				t.Errorf("flow: delivered %d, queue-dropped %d; want 1000, %d", f.DeliveredPackets, f.QueueDroppedPackets, wantDropped)
			}
			// The same over the queue interface (what p4qos top reads).
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			c, err := thrift.Dial(ctx, serveThrift(t, h.sw))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			for method, want := range map[string]int64{target.MethodGetQueueBacklog: int64(tc.depth), target.MethodGetQueueDrops: int64(wantDropped)} {
				if got, err := c.CallInt(ctx, target.ThriftService, method, thrift.I32(1, 4), thrift.I32(2, 1)); err != nil || got != want {
					t.Errorf("%s(4, 1) = %d, %v; want %d", method, got, err, want)
				}
			}
			// Lifting the rate drains the backlog along with new arrivals.
			mustSetQueue(t, h.sw, 4, 1, 0, tc.depth)
			h.sw.Advance(time.Second)
			q = queueStat(h.sw, 4, 1)
			if q.DeliveredPackets != 1000+uint64(tc.depth)+2000 || q.BacklogPackets != 0 {
				t.Errorf("after the rate is lifted: %+v, want %d delivered, none waiting", q, 3000+tc.depth)
			}
		})
	}
}

// TestSim_QueueRateYieldsToLowerQueues: as in BMv2, a queue that used its
// rate lets lower queues use the port; strict priority holds otherwise.
func TestSim_QueueRateYieldsToLowerQueues(t *testing.T) {
	h, _ := queuedHarness(t)
	h.sw.SetPortRate(4, 16e6) // 2000 packets/s of 1000 bytes
	// Queue 2 has priority over queue 1; limited to 500/s it leaves 1500/s.
	mustSetQueue(t, h.sw, 4, 2, 500, 0)
	h.sw.Advance(time.Second)
	if q1, q2 := queueStat(h.sw, 4, 1), queueStat(h.sw, 4, 2); q2.DeliveredPackets != 500 || q1.DeliveredPackets != 1500 {
		t.Errorf("queue 2 (500 pps) sent %d, queue 1 sent %d; want 500 and 1500", q2.DeliveredPackets, q1.DeliveredPackets)
	}
	// Unlimited, queue 2 takes the whole port.
	mustSetQueue(t, h.sw, 4, 2, 0, 0)
	h.sw.Advance(time.Second)
	if q1, q2 := queueStat(h.sw, 4, 1), queueStat(h.sw, 4, 2); q2.DeliveredPackets != 2500 || q1.DeliveredPackets != 1500 {
		t.Errorf("queue 2 unlimited: sent %d in all, queue 1 %d; want 2500 and 1500", q2.DeliveredPackets, q1.DeliveredPackets)
	}
}

func TestSetQueueSettings(t *testing.T) {
	sw := New()
	for _, tc := range []struct {
		name  string
		queue uint8
		rate  int64
		depth int
	}{{"queue 8", 8, 0, 0}, {"negative rate", 0, -1, 0}, {"negative depth", 0, 0, -1}} {
		if err := sw.SetQueue(1, tc.queue, tc.rate, tc.depth); !errors.Is(err, ErrInvalidQueue) {
			t.Errorf("%s: %v, want ErrInvalidQueue", tc.name, err)
		}
	}
	mustSetQueue(t, sw, 3, 7, 100, 64)
	mustSetQueue(t, sw, 1, 2, 0, 10)
	mustSetQueue(t, sw, 1, 0, 5, 0)
	mustSetQueue(t, sw, 2, 0, 5, 0)
	mustSetQueue(t, sw, 2, 0, 0, 0) // back to the default: not listed
	want := []QueueConfig{{1, 0, 5, 0}, {1, 2, 0, 10}, {3, 7, 100, 64}}
	if got := sw.Queues(); !slices.Equal(got, want) {
		t.Errorf("Queues() = %v, want %v", got, want)
	}
	sw.Restart() // a restarted BMv2 forgets its queue settings
	if got := sw.Queues(); len(got) != 0 {
		t.Errorf("Queues() after Restart = %v, want none", got)
	}
}

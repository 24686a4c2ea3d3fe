package bmv2

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/p4qos/p4qos/compiler/contract"
	"github.com/p4qos/p4qos/tables"
	"github.com/p4qos/p4qos/tests/internal/bmv2env"
)

const (
	dscpEF = 46
	dscpBE = 0
)

// TestEFBeforeBE shows that simple_switch serves the EF queue strictly
// before the BE queue of the same port when both have packets due.
//
// What BMv2 1.15.5 does (include/bm/bm_sim/queueing.h, QueueingLogicPriRL;
// targets/simple_switch): each egress port has --priority-queues queues,
// standard_metadata.priority picks one (the phb table writes it). Rates are
// per queue only: `set_queue_rate <pps> <port>` sets every queue of the
// port (set_rate, queueing.h:652-660; simple_switch.cpp:344-359; there is no
// port-level shaper). Pacing happens at enqueue: push_front stamps each
// packet with a departure time send = max(now, previous send + 1/pps)
// (queueing.h:528-546, get_next_tp 764-767). The egress worker of the port
// (one of 4, port % 4; simple_switch.h:140,161-163) pops, among the queues
// whose head is due (send <= now), the highest priority (pop_back,
// queueing.h:561-598), and otherwise sleeps until the earliest head is due.
// So while the worker keeps up, every packet leaves at its own stamped time
// and the order is the order of those times, whatever the priorities: a BE
// and an EF backlog at the same rate simply interleave, as they would under
// round robin. Priority only decides when several heads are due at once,
// i.e. when the worker has fallen behind. (Observed with this very test
// minus the pause: EBEBEBEBEBEBEBEBEBEBBBBBBBBBBB. Both queues are created
// by set_queue_rate, so their heads fall due at the same instants and EF
// wins each tie, but the frames still leave one EF and one BE per 1/10 s.)
//
// The test therefore makes the worker fall behind on purpose. Port 2 is
// paced at 10 pps per queue; 20 BE frames (queue 0) and then 10 EF frames
// (queue 7) are sent, and last a marker routed to port 3 (worker 3, no
// rate limit). simple_switch has one ingress thread (simple_switch.cpp:271)
// that enqueues each packet before taking the next, so when the marker
// comes out of port 3 all 30 frames are in port 2's queues, stamped at most
// 20/10 = 2 s ahead.
// Then the whole switch is stopped (SIGSTOP) for 2.5 s, longer than that,
// and continued: now every queued frame is due at once, and the worker
// drains the queues back to back in the order its scheduler chooses.
//
// The assertion is on the frames that leave after the pause: all queued EF
// frames before any queued BE frame. With one FIFO queue (phb not mapping
// EF higher, or no priority queues) they would leave BE first, in arrival
// order; with round robin between the queues, EF and BE would alternate.
// Only strict priority gives EF…EB…B. (Checked: with phb mapping EF to
// queue 0 this test fails with BBBBBBBBBBBBBBBBBBBBEEEEEEEEEE after the
// pause, and without the pause with the interleaving above.) One leading
// BE frame is tolerated: a frame the worker had popped, in timestamp order,
// just before the stop but not yet transmitted comes out first after it.
func TestEFBeforeBE(t *testing.T) { forTargets(t, testEFBeforeBE) }

func testEFBeforeBE(t *testing.T, tg target) {
	skipOn(t, tg, "tofino-model", noTofinoQueues)
	b := newBedOn(t, tg, 3)
	bmv2env.RequireCLI(t)
	b.routeAll(2)
	b.routePort3()
	b.insert(
		get(b.schema.TableEntry(contract.PHB, []tables.Match{tables.Exact(contract.KeyDSCP, dscpEF)}, tables.Action(contract.SetQueue, tables.Param(contract.ParamQueue, 7))))(t),
		get(b.schema.TableEntry(contract.PHB, []tables.Match{tables.Exact(contract.KeyDSCP, dscpBE)}, tables.Action(contract.SetQueue, tables.Param(contract.ParamQueue, 0))))(t),
	)
	const (
		rate     = 10 // pps, per queue of port 2
		nBE, nEF = 20, 10
		markerID = 9999
	)
	b.sw.SetQueueRate(t, 2, rate)

	var frames [][]byte
	for i := 0; i < nBE; i++ {
		frames = append(frames, pkt{src: v4a, dst: v4b, l4: udpL4, sport: 1, dport: 2, dscp: dscpBE, id: uint16(i), payload: 64}.bytes())
	}
	for i := 0; i < nEF; i++ {
		frames = append(frames, pkt{src: v4a, dst: v4b, l4: udpL4, sport: 1, dport: 3, dscp: dscpEF, id: uint16(1000 + i), payload: 64}.bytes())
	}
	marker := pkt{src: v4a, dst: netip.MustParseAddr("10.33.0.1"), l4: udpL4, sport: 1, dport: 4, id: markerID}.bytes()

	out2, out3 := b.sw.Port(2).Capture(), b.sw.Port(3).Capture()
	b.sendFrames(1, append(frames, marker)...)
	bmv2env.WaitForFrames([]*bmv2env.Capture{out3}, 1, 10*time.Second, 10*time.Second)
	if got := out3.Stop(t); len(got) != 1 {
		t.Fatalf("%d frames on port 3, want the marker alone: cannot tell that the backlog is queued", len(got))
	} else if p, err := parse(got[0]); err != nil || p.id != markerID {
		t.Fatalf("port 3 got %+v (%v), want the marker (id %d)", p, err, markerID)
	}

	// Each queue's last frame is due at most nBE/rate after the marker
	// left (one 1/rate step per frame, counted from an enqueue no later
	// than the marker's); half a second more is margin.
	pause := time.Duration(nBE)*time.Second/rate + 500*time.Millisecond
	b.sw.Pause(t)
	time.Sleep(pause)
	// The switch has sent nothing for the whole pause, so every frame it
	// sent before the stop has been captured by now.
	before := out2.Count()
	b.sw.Resume(t)
	bmv2env.WaitForFrames([]*bmv2env.Capture{out2}, nBE+nEF, 2*time.Second, 30*time.Second)
	got := out2.Stop(t)
	if !b.sw.Alive() {
		t.Fatalf("simple_switch_grpc exited\n%s", b.sw.Log())
	}
	if len(got) != nBE+nEF {
		t.Fatalf("received %d frames, want %d (queue depth is 64, nothing should drop)", len(got), nBE+nEF)
	}

	order := make([]byte, len(got))
	efSeen, beSeen := 0, 0
	for i, f := range got {
		p, err := parse(f)
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		switch p.dscp {
		case dscpEF:
			order[i] = 'E'
			// One queue leaves in its own stamped order.
			if want := uint16(1000 + efSeen); p.id != want {
				t.Errorf("EF frame %d has id %d, want %d: EF frames reordered", efSeen, p.id, want)
			}
			efSeen++
		case dscpBE:
			order[i] = 'B'
			if want := uint16(beSeen); p.id != want {
				t.Errorf("BE frame %d has id %d, want %d: BE frames reordered", beSeen, p.id, want)
			}
			beSeen++
		default:
			t.Fatalf("frame %d has DSCP %d", i, p.dscp)
		}
	}
	t.Logf("departure order (| marks the pause): %s|%s", order[:before], order[before:])

	after := string(order[before:])
	if len(after) > 1 && after[0] == 'B' && after[1] == 'E' {
		after = after[1:] // popped before the stop, see above
	}
	queuedEF, queuedBE := strings.Count(after, "E"), strings.Count(after, "B")
	if queuedEF < nEF/2 || queuedBE < nBE/2 {
		t.Fatalf("only %d EF and %d BE frames were still queued at the pause, want at least %d and %d: "+
			"the marker took too long to come back for the test to show anything", queuedEF, queuedBE, nEF/2, nBE/2)
	}
	if want := strings.Repeat("E", queuedEF) + strings.Repeat("B", queuedBE); after != want {
		t.Errorf("after the pause the queued frames left as %s, want %s: all EF before any BE (strict priority)", after, want)
	}
}

// routePort3 routes 10.33.0.0/16 out of port 3 through member 2003 (more
// specific than routeAll's 10.0.0.0/8).
func (b *bed) routePort3() {
	b.t.Helper()
	b.insert(b.member(2003, 3))
	b.insert(get(b.schema.TableEntry(contract.IPv4LPM, []tables.Match{tables.LPM(contract.KeyIPv4Dst, "10.33.0.0/16")}, tables.Member(2003)))(b.t))
}

// TestECNMarking limits egress ports 2 and 3 to 50 pps and sends a burst,
// so that the queue grows by about one frame per frame sent. Port 2 has an
// ecn_threshold of 4 frames on queue 0, port 3 none.
//
// Frame i of the burst is enqueued behind at most i frames, so frames 0..3
// cannot see a depth ≥ 4 and must stay unmarked. At 50 pps one frame leaves
// every 20 ms while the burst takes about a millisecond to send, so frame
// i ≥ 6 sees a depth of at least i−2 ≥ 4 and must be marked CE if it is
// ECN-capable. Not-ECT frames are never changed (RFC 3168 §5), and nothing is
// marked on port 3.
func TestECNMarking(t *testing.T) { forTargets(t, testECNMarking) }

func testECNMarking(t *testing.T, tg target) {
	skipOn(t, tg, "tofino-model", noTofinoQueues)
	b := newBedOn(t, tg, 3)
	bmv2env.RequireCLI(t)
	b.routeAll(2)
	b.routePort3()
	const threshold = 4
	b.insert(get(b.schema.TableEntry(contract.ECNThreshold, []tables.Match{tables.Exact(contract.KeyEgressPort, 2), tables.Exact(contract.KeyQueue, 0)},
		tables.Action(contract.SetECNThreshold, tables.Param(contract.ParamThreshold, threshold))))(t))
	b.sw.SetQueueRate(t, 2, 50)
	b.sw.SetQueueRate(t, 3, 50)

	// ECN of frame i: ECT(0), Not-ECT, ECT(1) over IPv6, Not-ECT, CE, ...
	ecnOf := func(i int) uint8 { return [...]uint8{2, 0, 1, 0, 3, 0}[i%6] }
	burst := func(dst4, dst6 netip.Addr) [][]byte {
		var frames [][]byte
		for i := 0; i < 24; i++ {
			p := pkt{src: v4a, dst: dst4, l4: udpL4, sport: 1, dport: 2, ecn: ecnOf(i), id: uint16(i), payload: 64}
			if i%6 == 2 {
				p.src, p.dst = v6a, dst6
			}
			frames = append(frames, p.bytes())
		}
		return frames
	}

	t.Run("threshold on port 2", func(t *testing.T) {
		got := b.exchange(1, []int{2}, 24, burst(v4b, netip.MustParseAddr("2001:db8:2::1"))...)[2]
		if len(got) != 24 {
			t.Fatalf("received %d frames, want 24", len(got))
		}
		marked := 0
		for _, p := range got {
			i := int(p.id)
			sent := ecnOf(i)
			switch {
			case sent == 0 && p.ecn != 0:
				t.Errorf("frame %d: Not-ECT frame left with ECN %d", i, p.ecn)
			case sent != 0 && i < threshold && p.ecn != sent:
				t.Errorf("frame %d: marked (ECN %d→%d) at a queue depth below %d", i, sent, p.ecn, threshold)
			case sent != 0 && i >= threshold+2 && p.ecn != 3:
				t.Errorf("frame %d: ECN %d, want CE (3): queue depth was ≥ %d", i, p.ecn, threshold)
			}
			if sent != 3 && p.ecn == 3 {
				marked++
			}
			if p.version == 4 && !p.ipv4ChecksumOK {
				t.Errorf("frame %d: IPv4 checksum wrong after ECN marking", i)
			}
		}
		if marked == 0 {
			t.Errorf("no frame was marked CE")
		}
	})

	t.Run("no threshold on port 3", func(t *testing.T) {
		got := b.exchange(1, []int{3}, 20, burst(netip.MustParseAddr("10.33.0.1"), netip.MustParseAddr("2001:db8:2::1"))...)[3]
		// The IPv6 frames (i%6 == 2) are routed to port 2 by 2001:db8::/32;
		// only the 20 IPv4 frames come out of port 3.
		if len(got) != 20 {
			t.Fatalf("received %d frames on port 3, want 20", len(got))
		}
		for _, p := range got {
			if p.ecn != ecnOf(int(p.id)) {
				t.Errorf("frame %d: ECN changed %d→%d without an ecn_threshold entry", p.id, ecnOf(int(p.id)), p.ecn)
			}
		}
	})
}

package bmv2

import (
	"net/netip"
	"testing"

	"github.com/p4qos/p4qos/tables"
)

const (
	dscpEF = 46
	dscpBE = 0
)

// TestEFBeforeBE slows egress port 2 to a few packets per second (thrift
// set_queue_rate, which applies to each of the port's priority queues),
// queues a backlog of best-effort frames and then EF frames behind them, and
// checks that the EF frames do not wait for the backlog.
//
// With one FIFO queue all 10 EF frames would leave after all 30 BE frames.
// With phb mapping EF to queue 7 and BE to queue 0, simple_switch serves
// queue 7 first whenever it may send (strict priority); since each queue is
// paced at the configured rate, EF frames leave at that rate interleaved
// with, or ahead of, the BE backlog. Either way the last EF frame leaves
// while at least half of the BE backlog (15 frames) is still queued: at
// 20 pps the 10 EF frames are out within ~0.5 s, when at most ~10 BE frames
// have left.
func TestEFBeforeBE(t *testing.T) {
	b := newBed(t, 2)
	cli := requireCLI(t)
	b.routeAll(2)
	b.insert(
		get(b.schema.TableEntry("phb", []tables.Match{tables.Exact("dscp", dscpEF)}, tables.Action("set_queue", tables.Param("queue", 7))))(t),
		get(b.schema.TableEntry("phb", []tables.Match{tables.Exact("dscp", dscpBE)}, tables.Action("set_queue", tables.Param("queue", 0))))(t),
	)
	setQueueRate(t, b.ns, cli, 2, 20)

	const nBE, nEF = 30, 10
	var frames [][]byte
	for i := 0; i < nBE; i++ {
		frames = append(frames, pkt{src: v4a, dst: v4b, l4: udpL4, sport: 1, dport: 2, dscp: dscpBE, id: uint16(i), payload: 64}.bytes())
	}
	for i := 0; i < nEF; i++ {
		frames = append(frames, pkt{src: v4a, dst: v4b, l4: udpL4, sport: 1, dport: 3, dscp: dscpEF, id: uint16(1000 + i), payload: 64}.bytes())
	}
	got := b.exchange(1, []int{2}, nBE+nEF, frames...)[2]
	if len(got) != nBE+nEF {
		t.Fatalf("received %d frames, want %d (queue depth is 64, nothing should drop)", len(got), nBE+nEF)
	}
	order := make([]byte, len(got))
	lastEF, efSeen := -1, 0
	for i, p := range got {
		switch p.dscp {
		case dscpEF:
			order[i] = 'E'
			if want := uint16(1000 + efSeen); p.id != want {
				t.Errorf("EF frame %d has id %d, want %d: EF frames reordered", efSeen, p.id, want)
			}
			efSeen++
			lastEF = i
		case dscpBE:
			order[i] = 'B'
		default:
			t.Fatalf("frame with DSCP %d", p.dscp)
		}
	}
	t.Logf("departure order: %s", order)
	beAfter := len(got) - 1 - lastEF
	if beAfter < nBE/2 {
		t.Errorf("%d BE frames left after the last EF frame, want at least %d (FIFO would give 0)", beAfter, nBE/2)
	}
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
func TestECNMarking(t *testing.T) {
	b := newBed(t, 3)
	cli := requireCLI(t)
	b.routeAll(2)
	b.insert(b.member(2003, 3))
	b.insert(get(b.schema.TableEntry("ipv4_lpm", []tables.Match{tables.LPM("ipv4_dst", "10.33.0.0/16")}, tables.Member(2003)))(t))
	const threshold = 4
	b.insert(get(b.schema.TableEntry("ecn_threshold", []tables.Match{tables.Exact("egress_port", 2), tables.Exact("queue", 0)},
		tables.Action("set_ecn_threshold", tables.Param("threshold", threshold))))(t))
	setQueueRate(t, b.ns, cli, 2, 50)
	setQueueRate(t, b.ns, cli, 3, 50)

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

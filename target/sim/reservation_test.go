package sim

import (
	"testing"
	"time"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"

	"github.com/p4qos/p4qos/compiler/contract"
	"github.com/p4qos/p4qos/tables"
)

// TestTrafficReservationPolices checks the reservation table against a
// hand simulation of its direct meter (docs/pipeline.md, "reservation").
//
// Reservation: UDP to 10.1.2.3:5004, class 9, EF (DSCP 46); TSpec r = p =
// 125,000 B/s (1 Mbit/s), b = M = 2000 B, so CIR = PIR = 125,000 and
// CBS = PBS = 2000. Flow: 1000-byte packets at 2 Mbit/s = 250,000 B/s, one
// every 4 ms; Advance(40 ms) sends 10. Both buckets gain 500 B per 4 ms and
// start full (RFC 2698 §3), so (Tc = Tp before → color):
//
//	p0 2000 G  p1 1500 G  p2 1000 G  p3 500 R  p4 1000 G
//	p5 500 R   p6 1000 G  p7 500 R   p8 1000 G p9 500 R
//
// (Tc = Tp, so a packet is never yellow.) Green 6, red 4. The classifier
// also matches the flow (class 1, AF11) and class 1's meter would drop
// every packet over 1 B/s: a reservation hit must skip it.
func TestTrafficReservationPolices(t *testing.T) {
	for _, tc := range []struct {
		name       string
		excessDrop int
		// red packets: dropped, or remarked to best effort (DSCP 0,
		// class 0, queue 1 by the phb entry for DSCP 0)
		wantRed ColorStats
		// class_counter cells 9 and 0 after egress
		wantClass9, wantClass0 int64
	}{
		{"drop", 1, ColorStats{Packets: 4, Bytes: 4000, DSCP: 46, Queue: 0, Dropped: true}, 6, 0},
		{"remark", 0, ColorStats{Packets: 4, Bytes: 4000, DSCP: 0, Queue: 1}, 6, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, s := qosHarness(t)
			routeAll(t, h, s)
			key := []tables.Match{
				tables.Ternary(contract.KeyIPVersion, 4, 0xf),
				tables.Ternary(contract.KeyDst, "::a01:203", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
				tables.Ternary(contract.KeyIPProto, 17, 0xff),
				tables.Ternary(contract.KeyL4DstPort, 5004, 0xffff),
			}
			h.mustWrite(1,
				insert(te(t, s, contract.Classifier, []tables.Match{tables.Ternary(contract.KeyIPv4Dst, "10.0.0.0", "255.0.0.0")},
					tables.Action(contract.SetClass, tables.Param(contract.ParamClassID, 1), tables.Param(contract.ParamDSCP, 10)), tables.Priority(10))),
				insert(te(t, s, contract.ColorAction, []tables.Match{tables.Exact(contract.KeyClassID, 1), tables.Exact(contract.KeyColor, 2)}, tables.Action(contract.Drop))),
				insert(te(t, s, contract.PHB, []tables.Match{tables.Exact(contract.KeyDSCP, 46)}, tables.Action(contract.SetQueue, tables.Param(contract.ParamQueue, 7)))),
				insert(te(t, s, contract.PHB, []tables.Match{tables.Exact(contract.KeyDSCP, 0)}, tables.Action(contract.SetQueue, tables.Param(contract.ParamQueue, 1)))),
				insert(te(t, s, contract.Reservation, key,
					tables.Action(contract.Reserve, tables.Param(contract.ParamClassID, 9), tables.Param(contract.ParamDSCP, 46), tables.Param(contract.ParamExcessDrop, tc.excessDrop)),
					tables.Priority(1), tables.WithMeterConfig(&tables.MeterConfig{CIR: 125_000, CBurst: 2000, PIR: 125_000, PBurst: 2000}))),
			)
			me, err := s.MeterEntry(contract.ClassMeter, 1, &tables.MeterConfig{CIR: 1, CBurst: 1, PIR: 1, PBurst: 1})
			h.mustWrite(1, modify(ent(t)(me, err)))

			other := udpFlow("192.168.1.1", "10.1.2.3", 5005, 2e6, 1000) // not reserved: class 1, all red
			if err := h.sw.SetFlows([]Flow{udpFlow("192.168.1.1", "10.1.2.3", 5004, 2e6, 1000), other}); err != nil {
				t.Fatal(err)
			}
			h.sw.Advance(40 * time.Millisecond)
			fs := h.sw.FlowStats()
			r := fs[0]
			if !r.Reserved || r.Class != 9 || !r.Routed {
				t.Fatalf("reserved=%v class=%d routed=%v, want the reservation's class 9, routed", r.Reserved, r.Class, r.Routed)
			}
			want := [3]ColorStats{
				Green:  {Packets: 6, Bytes: 6000, DSCP: 46, Queue: 7},
				Yellow: {DSCP: 0, Queue: 1}, // the decision a yellow packet would get
				Red:    tc.wantRed,
			}
			if tc.excessDrop == 1 {
				want[Yellow] = ColorStats{DSCP: 46, Dropped: true}
			}
			if r.Colors != want {
				t.Errorf("colors\n got %+v\nwant %+v", r.Colors, want)
			}
			if wantDel := uint64(6 + 4*(1-tc.excessDrop)); r.DeliveredPackets != wantDel {
				t.Errorf("delivered %d packets, want %d", r.DeliveredPackets, wantDel)
			}
			if o := fs[1]; o.Reserved || o.Class != 1 || o.Colors[Red].Packets != 10 || o.DeliveredPackets != 0 {
				t.Errorf("unreserved flow: reserved=%v class=%d red=%d delivered=%d, want class 1, all 10 red and dropped", o.Reserved, o.Class, o.Colors[Red].Packets, o.DeliveredPackets)
			}
			// class_meter cell 1 saw only the unreserved flow's 10 packets.
			got := h.mustRead(tables.EntityOf(&p4v1.MeterEntry{MeterId: me.MeterId, Index: me.Index, CounterData: &p4v1.MeterCounterData{}}))
			if cd := got[0].GetMeterEntry().GetCounterData(); cd.GetRed().GetPacketCount()+cd.GetGreen().GetPacketCount()+cd.GetYellow().GetPacketCount() != 10 {
				t.Errorf("class_meter[1] colored %v, want the 10 unreserved packets only", cd)
			}
			if c := readCounter(t, h, s, contract.ClassCounter, 9); c.GetPacketCount() != tc.wantClass9 {
				t.Errorf("class_counter[9] = %d packets, want %d", c.GetPacketCount(), tc.wantClass9)
			}
			if c := readCounter(t, h, s, contract.ClassCounter, 0); c.GetPacketCount() != tc.wantClass0 {
				t.Errorf("class_counter[0] = %d packets, want %d", c.GetPacketCount(), tc.wantClass0)
			}
		})
	}
}

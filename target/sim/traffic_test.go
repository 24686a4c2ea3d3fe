package sim

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/protobuf/proto"

	"github.com/p4qos/p4qos/compiler/contract"
	"github.com/p4qos/p4qos/tables"
)

// qosHarness is a sim with the qos pipeline committed, and the tables
// schema to build entities by name.
func qosHarness(t *testing.T) (*harness, *tables.Schema) {
	t.Helper()
	info := loadP4Info(t, qosP4InfoPath)
	ts, err := tables.New(info)
	if err != nil {
		t.Fatalf("tables.New: %v", err)
	}
	h := newHarness(t)
	h.primary(1)
	h.setPipeline(info, 1)
	return h, ts
}

// ent converts a builder result into an Entity, failing the test on error.
func ent(t *testing.T) func(m proto.Message, err error) *p4v1.Entity {
	return func(m proto.Message, err error) *p4v1.Entity {
		t.Helper()
		if err != nil {
			t.Fatalf("build entity: %v", err)
		}
		return tables.EntityOf(m)
	}
}

func te(t *testing.T, s *tables.Schema, table string, m []tables.Match, a tables.EntryAction, opts ...tables.EntryOption) *p4v1.Entity {
	t.Helper()
	e, err := s.TableEntry(table, m, a, opts...)
	return ent(t)(e, err)
}

func nextHop(port int) tables.ActionCall {
	return tables.Action(contract.SetNextHop, tables.Param(contract.ParamPort, port), tables.Param(contract.ParamSMAC, "00:00:00:00:00:01"), tables.Param(contract.ParamDMAC, "00:00:00:00:00:02"))
}

// routeAll installs member 1 (port 4) and 10.0.0.0/8 -> member 1.
func routeAll(t *testing.T, h *harness, s *tables.Schema) {
	t.Helper()
	m, err := s.ActionProfileMember(contract.ECMPSelector, 1, nextHop(4))
	h.mustWrite(1, insert(ent(t)(m, err)))
	h.mustWrite(1, insert(te(t, s, contract.IPv4LPM, []tables.Match{tables.LPM(contract.KeyIPv4Dst, "10.0.0.0/8")}, tables.Member(1))))
}

func readCounter(t *testing.T, h *harness, s *tables.Schema, name string, index int64) *p4v1.CounterData {
	t.Helper()
	c, err := s.CounterEntry(name, index)
	got := h.mustRead(ent(t)(c, err))
	if len(got) != 1 {
		t.Fatalf("read %s[%d]: %d entities", name, index, len(got))
	}
	return got[0].GetCounterEntry().GetData()
}

func udpFlow(src, dst string, dport uint16, rateBps float64, size int) Flow {
	return Flow{SrcIP: netip.MustParseAddr(src), DstIP: netip.MustParseAddr(dst), Proto: 17, SrcPort: 1234, DstPort: dport, RateBps: rateBps, PacketSize: size}
}

// TestTrafficTrTCMHandWorked pushes a stream through classifier → class
// meter → color_action → phb → route and checks every count against a
// hand simulation of RFC 2698.
//
// Meter class 1: CIR 1,000,000 B/s, CBS 2000 B, PIR 1,500,000 B/s, PBS 3000 B.
// Flow: 1000-byte packets at 16 Mbit/s = 2,000,000 B/s, i.e. one every
// 0.5 ms; Advance(10 ms) sends packets at 0, 0.5, ..., 9.5 ms: 20 packets.
// Per 0.5 ms Tc gains 500 and Tp gains 750. Starting Tc=2000, Tp=3000
// (RFC 2698: buckets start full), packet by packet (Tc,Tp before → color):
//
//	p0 (2000,3000) G  p1 (1500,2750) G  p2 (1000,2500) G  p3 (500,2250) Y
//	p4 (1000,2000) G  p5 (500,1750) Y   p6 (1000,1500) G  p7 (500,1250) Y
//	p8 (1000,1000) G  p9 (500,750) R    then G,Y,G,R repeating:
//	p10 G p11 Y p12 G p13 R p14 G p15 Y p16 G p17 R p18 G p19 Y
//
// Green 11, yellow 6, red 3. Yellow is remarked AF11→AF12 (DSCP 10→12)
// and queued in 2, green keeps AF11 in queue 3, red is dropped.
func TestTrafficTrTCMHandWorked(t *testing.T) {
	h, s := qosHarness(t)
	routeAll(t, h, s)
	h.mustWrite(1,
		insert(te(t, s, contract.Classifier, []tables.Match{tables.Ternary(contract.KeyIPv4Dst, "10.0.0.0", "255.0.0.0"), tables.Range(contract.KeyL4DstPort, 5000, 5100)},
			tables.Action(contract.SetClass, tables.Param(contract.ParamClassID, 1), tables.Param(contract.ParamDSCP, 10)), tables.Priority(10))),
		insert(te(t, s, contract.ColorAction, []tables.Match{tables.Exact(contract.KeyClassID, 1), tables.Exact(contract.KeyColor, 1)}, tables.Action(contract.RemarkDSCP, tables.Param(contract.ParamDSCP, 12)))),
		insert(te(t, s, contract.ColorAction, []tables.Match{tables.Exact(contract.KeyClassID, 1), tables.Exact(contract.KeyColor, 2)}, tables.Action(contract.Drop))),
		insert(te(t, s, contract.PHB, []tables.Match{tables.Exact(contract.KeyDSCP, 10)}, tables.Action(contract.SetQueue, tables.Param(contract.ParamQueue, 3)))),
		insert(te(t, s, contract.PHB, []tables.Match{tables.Exact(contract.KeyDSCP, 12)}, tables.Action(contract.SetQueue, tables.Param(contract.ParamQueue, 2)))),
	)
	me, err := s.MeterEntry(contract.ClassMeter, 1, &tables.MeterConfig{CIR: 1_000_000, CBurst: 2000, PIR: 1_500_000, PBurst: 3000})
	h.mustWrite(1, modify(ent(t)(me, err)))

	if err := h.sw.SetFlows([]Flow{udpFlow("192.168.1.1", "10.1.2.3", 5001, 16e6, 1000)}); err != nil {
		t.Fatal(err)
	}
	h.sw.Advance(10 * time.Millisecond)
	fs := h.sw.FlowStats()[0]

	if !fs.Classified || fs.Class != 1 || !fs.Routed || fs.EgressPort != 4 {
		t.Fatalf("decisions: classified=%v class=%d routed=%v port=%d, want class 1 to port 4", fs.Classified, fs.Class, fs.Routed, fs.EgressPort)
	}
	want := [3]ColorStats{
		Green:  {Packets: 11, Bytes: 11000, DSCP: 10, Queue: 3},
		Yellow: {Packets: 6, Bytes: 6000, DSCP: 12, Queue: 2},
		Red:    {Packets: 3, Bytes: 3000, DSCP: 10, Queue: 3, Dropped: true},
	}
	if fs.Colors != want {
		t.Errorf("colors\n got %+v\nwant %+v", fs.Colors, want)
	}
	if fs.OfferedPackets != 20 || fs.DeliveredPackets != 17 || fs.DeliveredBytes != 17000 {
		t.Errorf("offered %d delivered %d/%dB, want 20, 17/17000B", fs.OfferedPackets, fs.DeliveredPackets, fs.DeliveredBytes)
	}
	// 17000 B * 8 / 0.01 s = 13.6 Mbit/s
	if fs.DeliveredBps != 13.6e6 {
		t.Errorf("delivered rate %v, want 13.6e6", fs.DeliveredBps)
	}
	// Egress counters: class_counter[1] counts what survived metering;
	// queue_counter[port*8+queue].
	if d := readCounter(t, h, s, contract.ClassCounter, 1); d.GetPacketCount() != 17 || d.GetByteCount() != 17000 {
		t.Errorf("class_counter[1] = %v, want 17 packets 17000 bytes", d)
	}
	if d := readCounter(t, h, s, contract.QueueCounter, 4*8+3); d.GetPacketCount() != 11 || d.GetByteCount() != 11000 {
		t.Errorf("queue_counter[4*8+3] = %v, want 11 packets", d)
	}
	if d := readCounter(t, h, s, contract.QueueCounter, 4*8+2); d.GetPacketCount() != 6 || d.GetByteCount() != 6000 {
		t.Errorf("queue_counter[4*8+2] = %v, want 6 packets", d)
	}
}

// TestTrafficTwiceCIRLongRun: a stream at 2×CIR for 1 s with PIR = 2×CIR.
//
// CIR 1,000,000 B/s, CBS 10,000 B, PIR 2,000,000 B/s, PBS 10,000 B;
// 1000-byte packets every 0.5 ms (2,000,000 B/s), 2000 packets in 1 s.
// Tp gains 1000 per packet interval, exactly what each packet takes, so it
// never runs dry: no red. Tc gains 500 per interval. After packet n (all
// green so far) Tc = 9000 - 500n; packet n+1 sees 9500 - 500n ≥ 1000 iff
// n ≤ 17, so packets 0..18 are green (19) and Tc is then 0. From packet 19
// on Tc alternates 500 (yellow) / 1000 (green): of the remaining 1981
// packets 991 are yellow and 990 green. Green 19 + 990 = 1009, yellow 991.
// (Sanity: CBS + CIR·t_last = 10,000 + 999,500 B = 1009.5 packets.)
//
// Advancing in 10 steps of 100 ms must give exactly the same result: packet
// times are absolute, not per step.
func TestTrafficTwiceCIRLongRun(t *testing.T) {
	for _, steps := range []int{1, 10} {
		t.Run(fmt.Sprintf("%d steps", steps), func(t *testing.T) {
			h, s := qosHarness(t)
			routeAll(t, h, s)
			h.mustWrite(1, insert(te(t, s, contract.Classifier, []tables.Match{tables.Ternary(contract.KeyIPv4Dst, "10.0.0.0", "255.0.0.0")},
				tables.Action(contract.TrustDSCP, tables.Param(contract.ParamClassID, 2)), tables.Priority(1))))
			me, err := s.MeterEntry(contract.ClassMeter, 2, &tables.MeterConfig{CIR: 1_000_000, CBurst: 10_000, PIR: 2_000_000, PBurst: 10_000})
			h.mustWrite(1, modify(ent(t)(me, err)))
			if err := h.sw.SetFlows([]Flow{udpFlow("192.168.1.1", "10.1.2.3", 80, 16e6, 1000)}); err != nil {
				t.Fatal(err)
			}
			for i := 0; i < steps; i++ {
				h.sw.Advance(time.Second / time.Duration(steps))
			}
			fs := h.sw.FlowStats()[0]
			if g, y, r := fs.Colors[Green].Packets, fs.Colors[Yellow].Packets, fs.Colors[Red].Packets; g != 1009 || y != 991 || r != 0 {
				t.Errorf("green/yellow/red = %d/%d/%d, want 1009/991/0", g, y, r)
			}
			// The meter's own per-color counters (P4Runtime MeterCounterData) agree.
			got := h.mustRead(tables.EntityOf(&p4v1.MeterEntry{MeterId: me.MeterId, Index: me.Index, CounterData: &p4v1.MeterCounterData{}}))
			if cd := got[0].GetMeterEntry().GetCounterData(); cd.GetGreen().GetPacketCount() != 1009 || cd.GetYellow().GetPacketCount() != 991 ||
				cd.GetRed().GetPacketCount() != 0 || cd.GetGreen().GetByteCount() != 1009*1000 {
				t.Errorf("meter counter data %v, want 1009/991/0 packets", cd)
			}
			if h.sw.Now() != time.Second {
				t.Errorf("clock %v", h.sw.Now())
			}
		})
	}
}

// TestTrafficSharedMeterCell: two flows of the same class share one trTCM
// cell and are metered in time order. CIR = PIR = 1,000,000 B/s, CBS = PBS
// = 1000 B; each flow sends 1000 B every 1 ms (1,000,000 B/s), both at
// the same instants, flow A first on ties. At t=0 the bucket holds 1000: A
// green, B red. Every later ms the bucket has refilled exactly 1000: A
// green, B red again. Over 10 ms: A 10 green, B 10 red.
func TestTrafficSharedMeterCell(t *testing.T) {
	h, s := qosHarness(t)
	routeAll(t, h, s)
	h.mustWrite(1, insert(te(t, s, contract.Classifier, nil, tables.Action(contract.SetClass, tables.Param(contract.ParamClassID, 5), tables.Param(contract.ParamDSCP, 0)), tables.Priority(1))))
	me, err := s.MeterEntry(contract.ClassMeter, 5, &tables.MeterConfig{CIR: 1_000_000, CBurst: 1000, PIR: 1_000_000, PBurst: 1000})
	h.mustWrite(1, modify(ent(t)(me, err)))
	if err := h.sw.SetFlows([]Flow{
		udpFlow("192.168.1.1", "10.1.2.3", 80, 8e6, 1000),
		udpFlow("192.168.1.2", "10.1.2.3", 80, 8e6, 1000),
	}); err != nil {
		t.Fatal(err)
	}
	h.sw.Advance(10 * time.Millisecond)
	fs := h.sw.FlowStats()
	if fs[0].Colors[Green].Packets != 10 || fs[0].Colors[Red].Packets != 0 || fs[1].Colors[Red].Packets != 10 || fs[1].Colors[Green].Packets != 0 {
		t.Errorf("A %+v, B %+v; want A all green, B all red", fs[0].Colors, fs[1].Colors)
	}
	// Red is not dropped here (no color_action entry): both are delivered.
	if d := readCounter(t, h, s, contract.ClassCounter, 5); d.GetPacketCount() != 20 {
		t.Errorf("class_counter[5] = %v, want 20 packets", d)
	}
}

func TestTrafficClassifierSemantics(t *testing.T) {
	h, s := qosHarness(t)
	routeAll(t, h, s)
	h.mustWrite(1,
		insert(te(t, s, contract.Classifier, []tables.Match{tables.Ternary(contract.KeyIPv4Src, "10.0.0.0", "255.0.0.0")},
			tables.Action(contract.SetClass, tables.Param(contract.ParamClassID, 2), tables.Param(contract.ParamDSCP, 18)), tables.Priority(10))),
		insert(te(t, s, contract.Classifier, []tables.Match{tables.Ternary(contract.KeyIPv4Src, "10.1.0.0", "255.255.0.0"), tables.Ternary(contract.KeyIPProto, 17, 0xff)},
			tables.Action(contract.TrustDSCP, tables.Param(contract.ParamClassID, 3)), tables.Priority(20))),
		insert(te(t, s, contract.Classifier, []tables.Match{tables.Range(contract.KeyL4DstPort, 80, 80)},
			tables.Action(contract.SetClass, tables.Param(contract.ParamClassID, 4), tables.Param(contract.ParamDSCP, 26)), tables.Priority(5))),
	)
	flow := func(name, src string, proto uint8, dport uint16, dscp uint8) Flow {
		return Flow{Name: name, SrcIP: netip.MustParseAddr(src), DstIP: netip.MustParseAddr("10.9.9.9"), Proto: proto, SrcPort: 999, DstPort: dport, DSCP: dscp, RateBps: 8e3, PacketSize: 100}
	}
	tests := []struct {
		f          Flow
		classified bool
		class      uint8
		dscp       uint8
	}{
		{flow("udp from 10.1/16 matches prio 20 and keeps DSCP", "10.1.1.1", 17, 80, 46), true, 3, 46},
		{flow("tcp from 10.1/16 falls to prio 10", "10.1.1.1", 6, 80, 46), true, 2, 18},
		{flow("port 80 from elsewhere hits the range entry", "192.168.0.1", 6, 80, 0), true, 4, 26},
		{flow("port 81 from elsewhere misses", "192.168.0.1", 6, 81, 8), false, 0, 8},
		{flow("ICMP has no ports: misses the range", "192.168.0.1", 1, 80, 8), false, 0, 8},
	}
	flows := make([]Flow, len(tests))
	for i, tc := range tests {
		flows[i] = tc.f
	}
	if err := h.sw.SetFlows(flows); err != nil {
		t.Fatal(err)
	}
	h.sw.Advance(100 * time.Millisecond)
	for i, fs := range h.sw.FlowStats() {
		tc := tests[i]
		if fs.Classified != tc.classified || fs.Class != tc.class || fs.Colors[Green].DSCP != tc.dscp {
			t.Errorf("%s: classified=%v class=%d dscp=%d, want %v %d %d", tc.f.Name, fs.Classified, fs.Class, fs.Colors[Green].DSCP, tc.classified, tc.class, tc.dscp)
		}
		// 8 kbit/s of 100-byte packets = one per 100 ms: exactly one packet.
		if fs.OfferedPackets != 1 || fs.DeliveredPackets != 1 {
			t.Errorf("%s: offered %d delivered %d, want 1 and 1", tc.f.Name, fs.OfferedPackets, fs.DeliveredPackets)
		}
	}
}

func TestTrafficRoutingLPMAndWCMP(t *testing.T) {
	h, s := qosHarness(t)
	for id, port := range map[uint32]int{1: 1, 2: 2, 3: 3} {
		m, err := s.ActionProfileMember(contract.ECMPSelector, id, nextHop(port))
		h.mustWrite(1, insert(ent(t)(m, err)))
	}
	g, err := s.ActionProfileGroup(contract.ECMPSelector, 10, []tables.GroupMember{{ID: 2, Weight: 1}, {ID: 3, Weight: 3}}, 4)
	h.mustWrite(1, insert(ent(t)(g, err)))
	h.mustWrite(1,
		insert(te(t, s, contract.IPv4LPM, []tables.Match{tables.LPM(contract.KeyIPv4Dst, "10.0.0.0/8")}, tables.Member(1))),
		insert(te(t, s, contract.IPv4LPM, []tables.Match{tables.LPM(contract.KeyIPv4Dst, "10.1.0.0/16")}, tables.Group(10))),
	)
	flows := []Flow{
		udpFlow("192.168.0.1", "10.2.0.1", 80, 8e3, 100), // /8 only: port 1
		udpFlow("192.168.0.1", "11.0.0.1", 80, 8e3, 100), // no route: dropped
	}
	for i := 0; i < 400; i++ {
		f := udpFlow("192.168.0.1", "10.1.0.1", 80, 8e3, 100)
		f.SrcPort = uint16(10000 + i)
		flows = append(flows, f)
	}
	if err := h.sw.SetFlows(flows); err != nil {
		t.Fatal(err)
	}
	h.sw.Advance(100 * time.Millisecond)
	fs := h.sw.FlowStats()
	if !fs[0].Routed || fs[0].EgressPort != 1 || fs[0].DeliveredPackets != 1 {
		t.Errorf("10.2.0.1: routed=%v port=%d delivered=%d, want port 1", fs[0].Routed, fs[0].EgressPort, fs[0].DeliveredPackets)
	}
	if fs[1].Routed || fs[1].DeliveredPackets != 0 || fs[1].OfferedPackets != 1 {
		t.Errorf("11.0.0.1: routed=%v delivered=%d, want unrouted and dropped", fs[1].Routed, fs[1].DeliveredPackets)
	}
	perPort := map[uint32]int{}
	for _, f := range fs[2:] {
		perPort[f.EgressPort]++
	}
	// WCMP 1:3 over 400 flows: the hash is deterministic, so this cannot
	// flake; expect both members used and member 3 clearly ahead.
	if perPort[2]+perPort[3] != 400 || perPort[2] == 0 || perPort[3] < 2*perPort[2] {
		t.Errorf("group spread %v, want only ports 2 and 3, about 1:3", perPort)
	}
	// The same flow keeps its next hop.
	h.sw.Advance(100 * time.Millisecond)
	for i, f := range h.sw.FlowStats() {
		if f.EgressPort != fs[i].EgressPort {
			t.Fatalf("flow %d moved from port %d to %d", i, fs[i].EgressPort, f.EgressPort)
		}
	}
}

func TestTrafficIPv6(t *testing.T) {
	h, s := qosHarness(t)
	m, err := s.ActionProfileMember(contract.ECMPSelector, 1, nextHop(7))
	h.mustWrite(1, insert(ent(t)(m, err)))
	h.mustWrite(1, insert(te(t, s, contract.IPv6LPM, []tables.Match{tables.LPM(contract.KeyIPv6Dst, "2001:db8::/32")}, tables.Member(1))))
	h.mustWrite(1, insert(te(t, s, contract.Classifier, []tables.Match{tables.Ternary(contract.KeyIPVersion, 6, 0xf)},
		tables.Action(contract.SetClass, tables.Param(contract.ParamClassID, 7), tables.Param(contract.ParamDSCP, 46)), tables.Priority(1))))
	if err := h.sw.SetFlows([]Flow{udpFlow("2001:db8::1", "2001:db8:1::1", 80, 8e3, 100)}); err != nil {
		t.Fatal(err)
	}
	h.sw.Advance(100 * time.Millisecond)
	fs := h.sw.FlowStats()[0]
	if fs.Class != 7 || fs.Colors[Green].DSCP != 46 || fs.EgressPort != 7 || fs.DeliveredPackets != 1 {
		t.Errorf("ipv6 flow: class %d dscp %d port %d delivered %d", fs.Class, fs.Colors[Green].DSCP, fs.EgressPort, fs.DeliveredPackets)
	}
}

func TestTrafficWithoutQosPipeline(t *testing.T) {
	h := newHarness(t)
	flows := []Flow{udpFlow("192.168.0.1", "10.0.0.1", 80, 8e6, 1000)}
	if err := h.sw.SetFlows(flows); err != nil {
		t.Fatal(err)
	}
	h.sw.Advance(10 * time.Millisecond) // no pipeline at all
	h.primary(1)
	h.setPipeline(loadP4Info(t, "testdata/generic.p4info.txtpb"), 1)
	h.sw.Advance(10 * time.Millisecond) // a pipeline without the contract names
	fs := h.sw.FlowStats()[0]
	if fs.OfferedPackets != 20 || fs.DeliveredPackets != 0 {
		t.Errorf("offered %d delivered %d, want 20 offered and nothing delivered", fs.OfferedPackets, fs.DeliveredPackets)
	}
}

func TestSetFlowsRejectsBadFlows(t *testing.T) {
	sw := New()
	good := udpFlow("10.0.0.1", "10.0.0.2", 80, 1e6, 1000)
	bad := []Flow{
		{},
		{SrcIP: good.SrcIP, DstIP: netip.MustParseAddr("::1"), RateBps: 1},
		func() Flow { f := good; f.RateBps = -1; return f }(),
		func() Flow { f := good; f.DSCP = 64; return f }(),
		func() Flow { f := good; f.PacketSize = -5; return f }(),
		func() Flow { f := good; f.IngressPort = 512; return f }(),
	}
	for i, f := range bad {
		if err := sw.SetFlows([]Flow{f}); err == nil {
			t.Errorf("bad flow %d accepted", i)
		}
	}
	if err := sw.SetFlows([]Flow{good}); err != nil {
		t.Errorf("good flow rejected: %v", err)
	}
}

func BenchmarkAdvanceMeteredFlows(b *testing.B) {
	info := loadP4Info(b, qosP4InfoPath)
	sw := New()
	sc, err := newSchema(info, nil)
	if err != nil {
		b.Fatal(err)
	}
	p := &pipeline{schema: sc, state: newState(sc), model: newQosModel(sc)}
	sw.fwd, sw.dp = p, p
	cm := sc.meterNamed(contract.ClassMeter)
	p.state.meters[cm.id][0].configure(&p4v1.MeterConfig{Cir: 1_000_000, Cburst: 10_000, Pir: 2_000_000, Pburst: 20_000})
	var flows []Flow
	for i := 0; i < 10; i++ {
		f := udpFlow("192.168.0.1", "10.0.0.1", 80, 100e6, 1500)
		f.SrcPort = uint16(i)
		flows = append(flows, f)
	}
	if err := sw.SetFlows(flows); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		sw.Advance(10 * time.Millisecond) // 10 flows × 83 packets
	}
}

// TestTrafficPortRateStrictPriority: port 4 limited to 8 Mbit/s =
// 1,000,000 B/s. Flow A (EF, queue 7) offers 4 Mbit/s, flow B (best effort,
// queue 0) 8 Mbit/s, both 1000-byte packets: A sends one packet every 2 ms,
// B one every 1 ms.
//
// In 10 ms steps: capacity 10,000 B; A's 5 packets (5000 B) go first, B
// gets the remaining 5000 B: 5 of its 10 packets. Over 100 ms: A 50
// delivered, B 50 delivered and 50 dropped at the queue.
// In 1 ms steps: capacity 1000 B; in even milliseconds A's packet takes it
// all and B's waits for nothing (dropped); in odd ones B's packet passes.
// Same totals. Unused capacity is not saved up.
func TestTrafficPortRateStrictPriority(t *testing.T) {
	for _, step := range []time.Duration{10 * time.Millisecond, time.Millisecond} {
		t.Run(step.String(), func(t *testing.T) {
			h, s := qosHarness(t)
			routeAll(t, h, s)
			h.mustWrite(1,
				insert(te(t, s, contract.Classifier, []tables.Match{tables.Range(contract.KeyL4DstPort, 5001, 5001)},
					tables.Action(contract.SetClass, tables.Param(contract.ParamClassID, 1), tables.Param(contract.ParamDSCP, 46)), tables.Priority(1))),
				insert(te(t, s, contract.Classifier, []tables.Match{tables.Range(contract.KeyL4DstPort, 5002, 5002)},
					tables.Action(contract.SetClass, tables.Param(contract.ParamClassID, 2), tables.Param(contract.ParamDSCP, 0)), tables.Priority(1))),
				insert(te(t, s, contract.PHB, []tables.Match{tables.Exact(contract.KeyDSCP, 46)}, tables.Action(contract.SetQueue, tables.Param(contract.ParamQueue, 7)))),
			)
			h.sw.SetPortRate(4, 8e6)
			if err := h.sw.SetFlows([]Flow{
				udpFlow("192.168.1.1", "10.1.2.3", 5001, 4e6, 1000),
				udpFlow("192.168.1.2", "10.1.2.3", 5002, 8e6, 1000),
			}); err != nil {
				t.Fatal(err)
			}
			for h.sw.Now() < 100*time.Millisecond {
				h.sw.Advance(step)
			}
			fs := h.sw.FlowStats()
			if a := fs[0]; a.DeliveredPackets != 50 || a.QueueDroppedPackets != 0 {
				t.Errorf("A: delivered %d dropped %d, want 50 and 0", a.DeliveredPackets, a.QueueDroppedPackets)
			}
			if b := fs[1]; b.DeliveredPackets != 50 || b.QueueDroppedPackets != 50 || b.OfferedPackets != 100 {
				t.Errorf("B: offered %d delivered %d dropped %d, want 100, 50, 50", b.OfferedPackets, b.DeliveredPackets, b.QueueDroppedPackets)
			}
			if d := readCounter(t, h, s, contract.ClassCounter, 2); d.GetPacketCount() != 50 {
				t.Errorf("class_counter[2] = %v, want 50 packets (only what left the queue)", d)
			}
			h.sw.SetPortRate(4, 0) // unlimited again
			h.sw.Advance(10 * time.Millisecond)
			if b := h.sw.FlowStats()[1]; b.QueueDroppedPackets != 50 {
				t.Errorf("B dropped more after the limit was lifted: %d", b.QueueDroppedPackets)
			}
		})
	}
}

// TestTrafficFollowsCommittedPipeline: after VERIFY_AND_SAVE the data plane
// keeps forwarding with the old pipeline and its state until COMMIT (§14);
// after Restart nothing is forwarded until a pipeline and entries return.
func TestTrafficFollowsCommittedPipeline(t *testing.T) {
	h, s := qosHarness(t)
	routeAll(t, h, s)
	if err := h.sw.SetFlows([]Flow{udpFlow("192.168.1.1", "10.1.2.3", 80, 8e6, 1000)}); err != nil {
		t.Fatal(err)
	}
	delivered := func() uint64 {
		before := h.sw.FlowStats()[0].DeliveredPackets
		h.sw.Advance(10 * time.Millisecond) // 10 packets
		return h.sw.FlowStats()[0].DeliveredPackets - before
	}
	if n := delivered(); n != 10 {
		t.Fatalf("routed flow delivered %d of 10", n)
	}
	cfg := &p4v1.ForwardingPipelineConfig{P4Info: s.P4Info()}
	if _, err := h.c.SetForwardingPipelineConfig(h.ctx, &p4v1.SetForwardingPipelineConfigRequest{DeviceId: 1, ElectionId: eid(1),
		Action: p4v1.SetForwardingPipelineConfigRequest_VERIFY_AND_SAVE, Config: cfg}); err != nil {
		t.Fatal(err)
	}
	if n := delivered(); n != 10 {
		t.Errorf("after VERIFY_AND_SAVE: delivered %d of 10, want the old pipeline still forwarding", n)
	}
	if _, err := h.c.SetForwardingPipelineConfig(h.ctx, &p4v1.SetForwardingPipelineConfigRequest{DeviceId: 1, ElectionId: eid(1),
		Action: p4v1.SetForwardingPipelineConfigRequest_COMMIT}); err != nil {
		t.Fatal(err)
	}
	if n := delivered(); n != 0 {
		t.Errorf("after COMMIT of an empty saved state: delivered %d, want 0 (no routes)", n)
	}
	routeAll(t, h, s)
	if n := delivered(); n != 10 {
		t.Errorf("after re-routing: delivered %d of 10", n)
	}
	h.sw.Restart()
	if n := delivered(); n != 0 {
		t.Errorf("after Restart: delivered %d, want 0", n)
	}
	if fs := h.sw.FlowStats()[0]; fs.OfferedPackets != 50 {
		t.Errorf("offered %d, want 50: flows keep arriving across restarts", fs.OfferedPackets)
	}
}

package tables

import (
	"errors"
	"io/fs"
	"testing"

	p4configv1 "github.com/p4lang/p4runtime/go/p4/config/v1"

	"github.com/p4qos/p4qos/compiler/contract"
)

// qosP4Info is produced by p4c from p4src/v1model/qos.p4 (make p4).
const qosP4Info = "../p4src/build/qos.p4info.txtpb"

func loadQoS(t *testing.T) *Schema {
	t.Helper()
	s, err := Load(qosP4Info)
	if errors.Is(err, fs.ErrNotExist) {
		t.Skipf("%s not built (needs p4c): %v", qosP4Info, err)
	}
	if err != nil {
		t.Fatalf("Load(%s): %v", qosP4Info, err)
	}
	return s
}

// TestQoSPipelineContract checks the names, match kinds and widths that
// docs/pipeline.md promises, by short name as the compiler uses them.
func TestQoSPipelineContract(t *testing.T) {
	s := loadQoS(t)
	type key struct {
		name  string
		kind  p4configv1.MatchField_MatchType
		width int32
	}
	const (
		T = p4configv1.MatchField_TERNARY
		R = p4configv1.MatchField_RANGE
		E = p4configv1.MatchField_EXACT
		L = p4configv1.MatchField_LPM
	)
	tables := []struct {
		name    string
		full    string
		keys    []key
		actions []string
		size    int64
	}{
		{contract.Classifier, "QosIngress.classifier", []key{
			{contract.KeyIngressPort, T, 9}, {contract.KeyIPVersion, T, 4}, {contract.KeyIPv4Src, T, 32}, {contract.KeyIPv4Dst, T, 32},
			{contract.KeyIPv6Src, T, 128}, {contract.KeyIPv6Dst, T, 128}, {contract.KeyIPProto, T, 8}, {contract.KeyL4SrcPort, R, 16},
			{contract.KeyL4DstPort, R, 16}, {contract.KeyDSCP, T, 6}}, []string{contract.SetClass, contract.TrustDSCP, contract.SetDefaultClass}, 1024},
		{contract.Reservation, "QosIngress.reservation", []key{
			{contract.KeyIPVersion, T, 4}, {contract.KeySrc, T, 128}, {contract.KeyDst, T, 128}, {contract.KeyIPProto, T, 8},
			{contract.KeyL4SrcPort, T, 16}, {contract.KeyL4DstPort, T, 16}}, []string{contract.Reserve, "NoAction"}, 1024},
		{contract.ColorAction, "QosIngress.color_action", []key{{contract.KeyClassID, E, 8}, {contract.KeyColor, E, 2}}, []string{contract.RemarkDSCP, "QosIngress.drop", "NoAction"}, 1024},
		{contract.PHB, "QosIngress.phb", []key{{contract.KeyDSCP, E, 6}}, []string{contract.SetQueue, "NoAction"}, 64},
		{contract.IPv4LPM, "QosIngress.ipv4_lpm", []key{{contract.KeyIPv4Dst, L, 32}}, []string{contract.SetNextHop, "QosIngress.drop"}, 1024},
		{contract.IPv6LPM, "QosIngress.ipv6_lpm", []key{{contract.KeyIPv6Dst, L, 128}}, []string{contract.SetNextHop, "QosIngress.drop"}, 1024},
		{contract.ECNThreshold, "QosEgress.ecn_threshold", []key{{contract.KeyEgressPort, E, 9}, {contract.KeyQueue, E, 3}}, []string{contract.SetECNThreshold, "NoAction"}, 512},
	}
	for _, tc := range tables {
		tb, err := s.Table(tc.name)
		if err != nil {
			t.Errorf("table %s: %v", tc.name, err)
			continue
		}
		if tb.Preamble.Name != tc.full {
			t.Errorf("table %s is %q, want %q", tc.name, tb.Preamble.Name, tc.full)
		}
		if tb.Size != tc.size {
			t.Errorf("table %s size %d, want %d", tc.name, tb.Size, tc.size)
		}
		if len(tb.MatchFields) != len(tc.keys) {
			t.Errorf("table %s has %d keys, want %d", tc.name, len(tb.MatchFields), len(tc.keys))
		}
		for _, k := range tc.keys {
			f, err := s.MatchField(tc.name, k.name)
			if err != nil {
				t.Errorf("table %s: %v", tc.name, err)
				continue
			}
			if f.GetMatchType() != k.kind || f.Bitwidth != k.width {
				t.Errorf("%s.%s is %s/%d, want %s/%d", tc.name, k.name, f.GetMatchType(), f.Bitwidth, k.kind, k.width)
			}
		}
		for _, a := range tc.actions {
			act, err := s.Action(a)
			if err != nil {
				t.Errorf("table %s action %s: %v", tc.name, a, err)
				continue
			}
			if _, ok := s.tableInfo[tb.Preamble.Id].actions[act.Preamble.Id]; !ok {
				t.Errorf("table %s does not list action %s", tc.name, a)
			}
		}
	}
	params := map[string]map[string]int32{
		contract.SetClass:        {contract.ParamClassID: 8, contract.ParamDSCP: 6},
		contract.TrustDSCP:       {contract.ParamClassID: 8},
		contract.SetDefaultClass: {},
		contract.RemarkDSCP:      {contract.ParamDSCP: 6},
		contract.SetQueue:        {contract.ParamQueue: 3},
		contract.SetNextHop:      {contract.ParamPort: 9, contract.ParamSMAC: 48, contract.ParamDMAC: 48},
		contract.SetECNThreshold: {contract.ParamThreshold: 19},
		contract.Reserve:         {contract.ParamClassID: 8, contract.ParamDSCP: 6, contract.ParamExcessDrop: 1},
	}
	for a, ps := range params {
		act, err := s.Action(a)
		if err != nil {
			t.Errorf("action %s: %v", a, err)
			continue
		}
		if len(act.Params) != len(ps) {
			t.Errorf("action %s has %d params, want %d", a, len(act.Params), len(ps))
		}
		for p, w := range ps {
			if got, err := s.ActionParam(a, p); err != nil || got.Bitwidth != w {
				t.Errorf("action %s param %s: %v, %v; want width %d", a, p, got, err, w)
			}
		}
	}
	if m, err := s.Meter(contract.ClassMeter); err != nil || m.Size != 256 || m.GetSpec().GetUnit() != p4configv1.MeterSpec_BYTES {
		t.Errorf("class_meter = %v, %v; want 256 cells, BYTES", m, err)
	}
	if dm, err := s.DirectMeter(contract.ReservationMeter); err != nil || dm.GetSpec().GetUnit() != p4configv1.MeterSpec_BYTES {
		t.Errorf("reservation_meter = %v, %v; want a BYTES direct meter", dm, err)
	} else if tb, err := s.Table(contract.Reservation); err != nil || dm.DirectTableId != tb.Preamble.Id {
		t.Errorf("reservation_meter is not the reservation table's (%v)", err)
	}
	if p, err := s.ActionProfile(contract.ECMPSelector); err != nil || !p.WithSelector || p.Size != 1024 || p.MaxGroupSize != 64 || len(p.TableIds) != 2 {
		t.Errorf("ecmp_selector = %v, %v; want selector, 1024 members, max group 64, 2 tables", p, err)
	}
	for name, size := range map[string]int64{contract.ClassCounter: 256, contract.QueueCounter: 4096} {
		if c, err := s.Counter(name); err != nil || c.Size != size || c.GetSpec().GetUnit() != p4configv1.CounterSpec_BOTH {
			t.Errorf("%s = %v, %v; want %d cells, BOTH", name, c, err, size)
		}
	}
}

// TestQoSBuild builds one entry of every kind the compiler emits against
// the real P4Info.
func TestQoSBuild(t *testing.T) {
	s := loadQoS(t)
	nh := Action(contract.SetNextHop, Param(contract.ParamPort, 1), Param(contract.ParamSMAC, "00:00:00:00:00:01"), Param(contract.ParamDMAC, "00:00:00:00:00:02"))
	checks := []struct {
		desc string
		err  error
	}{
		{"classifier", second(s.TableEntry(contract.Classifier, []Match{Ternary(contract.KeyIPVersion, 4, 0xf), Ternary(contract.KeyIPv4Dst, "10.0.0.0", "255.0.0.0"), Range(contract.KeyL4DstPort, 5000, 5100)},
			Action(contract.SetClass, Param(contract.ParamClassID, 1), Param(contract.ParamDSCP, 46)), Priority(100)))},
		{"classifier default", second(s.TableEntry(contract.Classifier, nil, Action(contract.SetDefaultClass), AsDefault()))},
		{"color_action", second(s.TableEntry(contract.ColorAction, []Match{Exact(contract.KeyClassID, 1), Exact(contract.KeyColor, 1)}, Action(contract.RemarkDSCP, Param(contract.ParamDSCP, 12))))},
		{"phb", second(s.TableEntry(contract.PHB, []Match{Exact(contract.KeyDSCP, 46)}, Action(contract.SetQueue, Param(contract.ParamQueue, 7))))},
		{"ipv4_lpm", second(s.TableEntry(contract.IPv4LPM, []Match{LPM(contract.KeyIPv4Dst, "10.0.0.0/8")}, Group(1)))},
		{"ipv6_lpm", second(s.TableEntry(contract.IPv6LPM, []Match{LPM(contract.KeyIPv6Dst, "2001:db8::/32")}, Member(1)))},
		{"ecn_threshold", second(s.TableEntry(contract.ECNThreshold, []Match{Exact(contract.KeyEgressPort, 1), Exact(contract.KeyQueue, 0)}, Action(contract.SetECNThreshold, Param(contract.ParamThreshold, 64))))},
		{"reservation", second(s.TableEntry(contract.Reservation, []Match{Ternary(contract.KeyIPVersion, 4, 0xf), Ternary(contract.KeyDst, "::a00:3", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), Ternary(contract.KeyL4DstPort, 5004, 0xffff)},
			Action(contract.Reserve, Param(contract.ParamClassID, 2), Param(contract.ParamDSCP, 46), Param(contract.ParamExcessDrop, 1)), Priority(3),
			WithMeterConfig(&MeterConfig{CIR: 250000, CBurst: 10000, PIR: 250000, PBurst: 10000})))},
		{"reservation direct meter", second(s.DirectMeterEntry(contract.Reservation, []Match{Ternary(contract.KeyIPVersion, 4, 0xf)},
			&MeterConfig{CIR: 125000, CBurst: 5000, PIR: 125000, PBurst: 5000}, Priority(1)))},
		{"member", second(s.ActionProfileMember(contract.ECMPSelector, 1, nh))},
		{"group", second(s.ActionProfileGroup(contract.ECMPSelector, 1, []GroupMember{{ID: 1, Weight: 1}}, 64))},
		{"meter", second(s.MeterEntry(contract.ClassMeter, 1, &MeterConfig{CIR: 125000, CBurst: 15000, PIR: 250000, PBurst: 30000}))},
		{"counter", second(s.CounterEntry(contract.QueueCounter, 4095))},
	}
	for _, c := range checks {
		if c.err != nil {
			t.Errorf("%s: %v", c.desc, c.err)
		}
	}
}

package tables

import (
	"errors"
	"io/fs"
	"testing"

	p4configv1 "github.com/p4lang/p4runtime/go/p4/config/v1"
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
		{"classifier", "QosIngress.classifier", []key{
			{"ingress_port", T, 9}, {"ip_version", T, 4}, {"ipv4_src", T, 32}, {"ipv4_dst", T, 32},
			{"ipv6_src", T, 128}, {"ipv6_dst", T, 128}, {"ip_proto", T, 8}, {"l4_src_port", R, 16},
			{"l4_dst_port", R, 16}, {"dscp", T, 6}}, []string{"set_class", "trust_dscp", "set_default_class"}, 1024},
		{"color_action", "QosIngress.color_action", []key{{"class_id", E, 8}, {"color", E, 2}}, []string{"remark_dscp", "QosIngress.drop", "NoAction"}, 1024},
		{"phb", "QosIngress.phb", []key{{"dscp", E, 6}}, []string{"set_queue", "NoAction"}, 64},
		{"ipv4_lpm", "QosIngress.ipv4_lpm", []key{{"ipv4_dst", L, 32}}, []string{"set_next_hop", "QosIngress.drop"}, 1024},
		{"ipv6_lpm", "QosIngress.ipv6_lpm", []key{{"ipv6_dst", L, 128}}, []string{"set_next_hop", "QosIngress.drop"}, 1024},
		{"ecn_threshold", "QosEgress.ecn_threshold", []key{{"egress_port", E, 9}, {"queue", E, 3}}, []string{"set_ecn_threshold", "NoAction"}, 512},
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
		"set_class":         {"class_id": 8, "dscp": 6},
		"trust_dscp":        {"class_id": 8},
		"set_default_class": {},
		"remark_dscp":       {"dscp": 6},
		"set_queue":         {"queue": 3},
		"set_next_hop":      {"port": 9, "smac": 48, "dmac": 48},
		"set_ecn_threshold": {"threshold": 19},
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
	if m, err := s.Meter("class_meter"); err != nil || m.Size != 256 || m.GetSpec().GetUnit() != p4configv1.MeterSpec_BYTES {
		t.Errorf("class_meter = %v, %v; want 256 cells, BYTES", m, err)
	}
	if p, err := s.ActionProfile("ecmp_selector"); err != nil || !p.WithSelector || p.Size != 1024 || p.MaxGroupSize != 64 || len(p.TableIds) != 2 {
		t.Errorf("ecmp_selector = %v, %v; want selector, 1024 members, max group 64, 2 tables", p, err)
	}
	for name, size := range map[string]int64{"class_counter": 256, "queue_counter": 4096} {
		if c, err := s.Counter(name); err != nil || c.Size != size || c.GetSpec().GetUnit() != p4configv1.CounterSpec_BOTH {
			t.Errorf("%s = %v, %v; want %d cells, BOTH", name, c, err, size)
		}
	}
}

// TestQoSBuild builds one entry of every kind the compiler emits against
// the real P4Info.
func TestQoSBuild(t *testing.T) {
	s := loadQoS(t)
	nh := Action("set_next_hop", Param("port", 1), Param("smac", "00:00:00:00:00:01"), Param("dmac", "00:00:00:00:00:02"))
	checks := []struct {
		desc string
		err  error
	}{
		{"classifier", second(s.TableEntry("classifier", []Match{Ternary("ip_version", 4, 0xf), Ternary("ipv4_dst", "10.0.0.0", "255.0.0.0"), Range("l4_dst_port", 5000, 5100)},
			Action("set_class", Param("class_id", 1), Param("dscp", 46)), Priority(100)))},
		{"classifier default", second(s.TableEntry("classifier", nil, Action("set_default_class"), AsDefault()))},
		{"color_action", second(s.TableEntry("color_action", []Match{Exact("class_id", 1), Exact("color", 1)}, Action("remark_dscp", Param("dscp", 12))))},
		{"phb", second(s.TableEntry("phb", []Match{Exact("dscp", 46)}, Action("set_queue", Param("queue", 7))))},
		{"ipv4_lpm", second(s.TableEntry("ipv4_lpm", []Match{LPM("ipv4_dst", "10.0.0.0/8")}, Group(1)))},
		{"ipv6_lpm", second(s.TableEntry("ipv6_lpm", []Match{LPM("ipv6_dst", "2001:db8::/32")}, Member(1)))},
		{"ecn_threshold", second(s.TableEntry("ecn_threshold", []Match{Exact("egress_port", 1), Exact("queue", 0)}, Action("set_ecn_threshold", Param("threshold", 64))))},
		{"member", second(s.ActionProfileMember("ecmp_selector", 1, nh))},
		{"group", second(s.ActionProfileGroup("ecmp_selector", 1, []GroupMember{{ID: 1, Weight: 1}}, 64))},
		{"meter", second(s.MeterEntry("class_meter", 1, &MeterConfig{CIR: 125000, CBurst: 15000, PIR: 250000, PBurst: 30000}))},
		{"counter", second(s.CounterEntry("queue_counter", 4095))},
	}
	for _, c := range checks {
		if c.err != nil {
			t.Errorf("%s: %v", c.desc, c.err)
		}
	}
}

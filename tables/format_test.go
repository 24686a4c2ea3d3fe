package tables

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"

	"github.com/p4qos/p4qos/compiler/contract"
)

// sampleEntities covers every entity kind the package builds.
func sampleEntities(t *testing.T, s *Schema) []*p4v1.Entity {
	t.Helper()
	var out []*p4v1.Entity
	add := func(m proto.Message, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, EntityOf(m))
	}
	add(s.TableEntry("acl", []Match{Ternary(contract.KeyIPv4Src, "10.0.0.0", "255.0.0.0"), Range(contract.KeyL4DstPort, 5000, 5100), Ternary(contract.KeyIngressPort, 3, 0x1ff)},
		Action(contract.SetClass, Param(contract.ParamClassID, 3), Param(contract.ParamDSCP, 46)), Priority(10)))
	add(s.TableEntry(contract.IPv6LPM, []Match{LPM(contract.KeyIPv6Dst, "2001:db8::/32")}, Group(7)))
	add(s.ActionProfileMember(contract.ECMPSelector, 1, Action(contract.SetNextHop, Param(contract.ParamPort, 9), Param(contract.ParamSMAC, "02:00:00:00:00:01"), Param(contract.ParamDMAC, "02:00:00:00:00:02"))))
	add(s.ActionProfileGroup(contract.ECMPSelector, 7, []GroupMember{{ID: 1, Weight: 2}, {ID: 2, Weight: 1}}, 64))
	add(s.MeterEntry(contract.ClassMeter, 3, &MeterConfig{CIR: 125000, CBurst: 10000, PIR: 250000, PBurst: 20000}))
	add(s.DirectMeterEntry(contract.ColorAction, []Match{Exact(contract.KeyClassID, 1), Exact(contract.KeyColor, 2)}, nil))
	add(s.CounterEntry(contract.ClassCounter, -1))
	add(s.TableEntry("acl", nil, Action("NoAction"), AsDefault()))
	return out
}

func TestDescribe(t *testing.T) {
	s := testSchema(t)
	es := sampleEntities(t, s)
	want := []string{
		"table_entry Ing.acl ingress_port=3&&&0x01ff ipv4_src=10.0.0.0&&&255.0.0.0 l4_dst_port=5000..5100 prio=10 -> Ing.set_class(class_id=3, dscp=46)",
		"table_entry Ing.ipv6_lpm ipv6_dst=2001:db8::/32 -> group 7",
		"action_profile_member Ing.ecmp_selector member=1 -> Ing.set_next_hop(port=9, smac=02:00:00:00:00:01, dmac=02:00:00:00:00:02)",
		"action_profile_group Ing.ecmp_selector group=7 -> members[1*2 2*1] max_size=64",
		"meter_entry Ing.class_meter index=3 -> cir=1Mbps cburst=10KB pir=2Mbps pburst=20KB",
		"direct_meter_entry Ing.color_action class_id=1 color=2 -> default(green)",
		"counter_entry Eg.class_counter index=*",
		"table_entry Ing.acl (default) -> NoAction()",
	}
	for i, e := range es {
		if got := s.Describe(e); got != want[i] {
			t.Errorf("Describe #%d\n got %q\nwant %q", i, got, want[i])
		}
	}
	// Unknown IDs still render, never panic.
	if got := s.Describe(EntityOf(&p4v1.TableEntry{TableId: 5, Match: []*p4v1.FieldMatch{exact(9, 1)}})); got != "table_entry #5 #9=1" {
		t.Errorf("Describe(unknown) = %q", got)
	}
}

func TestFormatTextRoundTrip(t *testing.T) {
	s := testSchema(t)
	es := sampleEntities(t, s)
	var buf bytes.Buffer
	if err := s.FormatText(&buf, es); err != nil {
		t.Fatal(err)
	}
	blocks := strings.Split(strings.TrimSpace(buf.String()), "\n\n")
	if len(blocks) != len(es) {
		t.Fatalf("%d blocks for %d entities:\n%s", len(blocks), len(es), buf.String())
	}
	for i, b := range blocks {
		var e p4v1.Entity
		if err := prototext.Unmarshal([]byte(b), &e); err != nil {
			t.Fatalf("block %d does not parse: %v\n%s", i, err, b)
		}
		if !proto.Equal(&e, es[i]) {
			t.Errorf("block %d round trip differs:\n%s", i, b)
		}
	}
	// protobuf-go randomises the spaces after ':'; compare word by word.
	if words := strings.Join(strings.Fields(blocks[0]), " "); !strings.HasPrefix(words, "table_entry: {") || !strings.Contains(words, "priority: 10") {
		t.Errorf("first block lacks expected fields:\n%s", blocks[0])
	}
}

func TestFormatJSONRoundTrip(t *testing.T) {
	s := testSchema(t)
	es := sampleEntities(t, s)
	var buf, again bytes.Buffer
	if err := s.FormatJSON(&buf, es); err != nil {
		t.Fatal(err)
	}
	if err := s.FormatJSON(&again, es); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), again.Bytes()) {
		t.Error("FormatJSON is not byte-stable")
	}
	var raw []json.RawMessage
	if err := json.Unmarshal(buf.Bytes(), &raw); err != nil {
		t.Fatalf("not a JSON array: %v", err)
	}
	if len(raw) != len(es) {
		t.Fatalf("%d elements for %d entities", len(raw), len(es))
	}
	for i, r := range raw {
		var e p4v1.Entity
		if err := protojson.Unmarshal(r, &e); err != nil {
			t.Fatalf("element %d: %v", i, err)
		}
		if !proto.Equal(&e, es[i]) {
			t.Errorf("element %d round trip differs: %s", i, r)
		}
	}
	if !strings.Contains(buf.String(), `"table_id": 33554433`) {
		t.Errorf("expected proto field names in output:\n%s", buf.String())
	}
	var empty bytes.Buffer
	if err := s.FormatJSON(&empty, nil); err != nil || strings.TrimSpace(empty.String()) != "[]" {
		t.Errorf("FormatJSON(nil) = %q, %v", empty.String(), err)
	}
}

func TestFormatTable(t *testing.T) {
	s := testSchema(t)
	es := sampleEntities(t, s)[:2]
	var buf bytes.Buffer
	if err := s.FormatTable(&buf, es); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(buf.String(), "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("want header + 2 rows, got:\n%s", buf.String())
	}
	wantFields := [][]string{
		{"KIND", "NAME", "KEY", "ACTION", "PRIORITY"},
		{"table_entry", "Ing.acl", "ingress_port=3&&&0x01ff", "ipv4_src=10.0.0.0&&&255.0.0.0", "l4_dst_port=5000..5100", "Ing.set_class(class_id=3,", "dscp=46)", "10"},
		{"table_entry", "Ing.ipv6_lpm", "ipv6_dst=2001:db8::/32", "group", "7", "-"},
	}
	for i, l := range lines {
		if got := strings.Fields(l); strings.Join(got, " ") != strings.Join(wantFields[i], " ") {
			t.Errorf("line %d = %q, want fields %q", i, l, wantFields[i])
		}
	}
	// Columns are aligned: NAME starts at the same offset on every line.
	off := strings.Index(lines[0], "NAME")
	for _, l := range lines[1:] {
		if !strings.HasPrefix(l[off:], "Ing.") {
			t.Errorf("NAME column not aligned:\n%s", buf.String())
		}
	}
}

package tables

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	p4configv1 "github.com/p4lang/p4runtime/go/p4/config/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/p4qos/p4qos/compiler/contract"
)

const testP4Info = "testdata/test.p4info.txtpb"

func testSchema(tb testing.TB) *Schema {
	tb.Helper()
	s, err := Load(testP4Info)
	if err != nil {
		tb.Fatalf("Load(%s): %v", testP4Info, err)
	}
	return s
}

func TestLoadFormats(t *testing.T) {
	text := testSchema(t).P4Info()
	dir := t.TempDir()
	bin, err := proto.Marshal(text)
	if err != nil {
		t.Fatal(err)
	}
	js, err := protojson.Marshal(text)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{"p4info.pb": bin, "p4info.bin": bin, "p4info.json": js}
	for name, data := range files {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		s, err := Load(p)
		if err != nil {
			t.Errorf("Load(%s): %v", name, err)
			continue
		}
		if !proto.Equal(s.P4Info(), text) {
			t.Errorf("Load(%s) differs from the text form", name)
		}
	}
	raw, err := os.ReadFile(testP4Info)
	if err != nil {
		t.Fatal(err)
	}
	for _, data := range [][]byte{raw, bin, js} {
		s, err := Parse(data, FormatAuto)
		if err != nil {
			t.Errorf("Parse(auto): %v", err)
			continue
		}
		if !proto.Equal(s.P4Info(), text) {
			t.Errorf("Parse(auto) differs from the text form")
		}
	}
	if _, err := Parse([]byte("tables { bogus_field: 1 }"), FormatText); err == nil {
		t.Error("Parse accepted an unknown field")
	}
	if _, err := Load(filepath.Join(dir, "missing.txtpb")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load(missing) = %v, want ErrNotExist", err)
	}
}

func TestLookups(t *testing.T) {
	s := testSchema(t)
	name := func(p *p4configv1.Preamble) string { return p.GetName() }
	tests := []struct {
		desc   string
		lookup func() (string, error)
		want   string
		err    error
	}{
		{"table full name", func() (string, error) { x, err := s.Table("Ing.acl"); return name(x.GetPreamble()), err }, "Ing.acl", nil},
		{"table short name", func() (string, error) { x, err := s.Table(contract.IPv4LPM); return name(x.GetPreamble()), err }, "Ing.ipv4_lpm", nil},
		{"table unknown", func() (string, error) { x, err := s.Table("nope"); return name(x.GetPreamble()), err }, "", ErrNotFound},
		{"table by id", func() (string, error) { x, err := s.TableByID(33554437); return name(x.GetPreamble()), err }, "Eg.tunnel", nil},
		{"table by unknown id", func() (string, error) { x, err := s.TableByID(1); return name(x.GetPreamble()), err }, "", ErrNotFound},
		{"action short", func() (string, error) { x, err := s.Action(contract.SetNextHop); return name(x.GetPreamble()), err }, "Ing.set_next_hop", nil},
		{"action ambiguous", func() (string, error) { x, err := s.Action(contract.Drop); return name(x.GetPreamble()), err }, "", ErrAmbiguous},
		{"action qualified", func() (string, error) { x, err := s.Action("Eg.drop"); return name(x.GetPreamble()), err }, "Eg.drop", nil},
		{"action by id", func() (string, error) { x, err := s.ActionByID(16777222); return name(x.GetPreamble()), err }, "Eg.set_tunnel", nil},
		{"profile", func() (string, error) {
			x, err := s.ActionProfile(contract.ECMPSelector)
			return name(x.GetPreamble()), err
		}, "Ing.ecmp_selector", nil},
		{"profile by id", func() (string, error) { x, err := s.ActionProfileByID(285212673); return name(x.GetPreamble()), err }, "Ing.ecmp_selector", nil},
		{"meter", func() (string, error) { x, err := s.Meter(contract.ClassMeter); return name(x.GetPreamble()), err }, "Ing.class_meter", nil},
		{"meter by id", func() (string, error) { x, err := s.MeterByID(352321538); return name(x.GetPreamble()), err }, "Ing.sr_meter", nil},
		{"meter is not a counter", func() (string, error) { x, err := s.Counter(contract.ClassMeter); return name(x.GetPreamble()), err }, "", ErrNotFound},
		{"direct meter", func() (string, error) { x, err := s.DirectMeter("color_meter"); return name(x.GetPreamble()), err }, "Ing.color_meter", nil},
		{"direct meter by id", func() (string, error) { x, err := s.DirectMeterByID(335544321); return name(x.GetPreamble()), err }, "Ing.color_meter", nil},
		{"counter", func() (string, error) { x, err := s.Counter("Eg.class_counter"); return name(x.GetPreamble()), err }, "Eg.class_counter", nil},
		{"counter by id", func() (string, error) { x, err := s.CounterByID(301989889); return name(x.GetPreamble()), err }, "Eg.class_counter", nil},
		{"direct counter", func() (string, error) { x, err := s.DirectCounter("acl_counter"); return name(x.GetPreamble()), err }, "Ing.acl_counter", nil},
		{"direct counter by id", func() (string, error) { x, err := s.DirectCounterByID(318767105); return name(x.GetPreamble()), err }, "Ing.acl_counter", nil},
		{"match field @name", func() (string, error) { x, err := s.MatchField("acl", contract.KeyIPv4Src); return x.GetName(), err }, "ipv4_src", nil},
		{"match field dotted suffix", func() (string, error) { x, err := s.MatchField("tunnel", "vni"); return x.GetName(), err }, "hdr.vxlan.vni", nil},
		{"match field dotted full", func() (string, error) { x, err := s.MatchField("Eg.tunnel", "hdr.vxlan.vni"); return x.GetName(), err }, "hdr.vxlan.vni", nil},
		{"match field unknown", func() (string, error) { x, err := s.MatchField("acl", "vni"); return x.GetName(), err }, "", ErrNotFound},
		{"match field unknown table", func() (string, error) { x, err := s.MatchField("nope", "vni"); return x.GetName(), err }, "", ErrNotFound},
		{"action param", func() (string, error) {
			x, err := s.ActionParam(contract.SetNextHop, contract.ParamDMAC)
			return x.GetName(), err
		}, "dmac", nil},
		{"action param unknown", func() (string, error) { x, err := s.ActionParam(contract.SetNextHop, "vlan"); return x.GetName(), err }, "", ErrNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			got, err := tc.lookup()
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("err = %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
	if got := s.Name(16777220); got != "Ing.set_next_hop" {
		t.Errorf("Name(set_next_hop id) = %q", got)
	}
	if got := s.Name(7); got != "" {
		t.Errorf("Name(7) = %q, want empty", got)
	}
}

func TestNeedsPriority(t *testing.T) {
	s := testSchema(t)
	for name, want := range map[string]bool{"acl": true, contract.IPv4LPM: false, contract.ColorAction: false, "keyless": false} {
		tb, err := s.Table(name)
		if err != nil {
			t.Fatal(err)
		}
		if got := NeedsPriority(tb); got != want {
			t.Errorf("NeedsPriority(%s) = %v, want %v", name, got, want)
		}
	}
}

func TestNewRejectsInconsistentP4Info(t *testing.T) {
	base := testSchema(t).P4Info()
	tests := []struct {
		desc   string
		mutate func(*p4configv1.P4Info)
	}{
		{"duplicate table id", func(i *p4configv1.P4Info) { i.Tables[1].Preamble.Id = i.Tables[0].Preamble.Id }},
		{"duplicate action name", func(i *p4configv1.P4Info) { i.Actions[1].Preamble.Name = i.Actions[0].Preamble.Name }},
		{"zero id", func(i *p4configv1.P4Info) { i.Meters[0].Preamble.Id = 0 }},
		{"missing preamble", func(i *p4configv1.P4Info) { i.Counters[0].Preamble = nil }},
		{"unknown action ref", func(i *p4configv1.P4Info) { i.Tables[0].ActionRefs[0].Id = 99 }},
		{"unknown implementation", func(i *p4configv1.P4Info) { i.Tables[1].ImplementationId = 99 }},
		{"zero-width key", func(i *p4configv1.P4Info) { i.Tables[0].MatchFields[0].Bitwidth = 0 }},
		{"duplicate param id", func(i *p4configv1.P4Info) { i.Actions[0].Params[1].Id = i.Actions[0].Params[0].Id }},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			info := proto.Clone(base).(*p4configv1.P4Info)
			tc.mutate(info)
			if _, err := New(info); err == nil {
				t.Fatal("New accepted it")
			}
		})
	}
	if _, err := New(nil); err == nil {
		t.Error("New(nil) accepted")
	}
}

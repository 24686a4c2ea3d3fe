package compiler

import (
	"bytes"
	"encoding/json"
	"math/big"
	"net"
	"net/netip"
	"slices"
	"strings"
	"testing"

	p4configv1 "github.com/p4lang/p4runtime/go/p4/config/v1"
	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/p4qos/p4qos/tables"
)

// encodeLikeTutorials is p4lang/tutorials' utils/p4runtime_lib/convert.py
// encode: a MAC, IPv4 or IPv6 string, or an integer in the field's bytes.
func encodeLikeTutorials(t *testing.T, v any, w int32) []byte {
	t.Helper()
	switch x := v.(type) {
	case string:
		if mac, err := net.ParseMAC(x); err == nil && len(mac) == 6 {
			return mac
		}
		if a, err := netip.ParseAddr(x); err == nil {
			return a.AsSlice()
		}
		t.Fatalf("value %q is neither a MAC nor an address", x)
	case json.Number:
		n, ok := new(big.Int).SetString(string(x), 10)
		if !ok || n.BitLen() > int(w) {
			t.Fatalf("value %s does not fit %d bits", x, w)
		}
		return n.FillBytes(make([]byte, (w+7)/8))
	}
	t.Fatalf("value %#v of type %T", v, v)
	return nil
}

// entriesLikeTutorials builds the table entries of a runtime-json file
// the way simple_controller.py and helper.py's buildTableEntry do.
func entriesLikeTutorials(t *testing.T, s *tables.Schema, doc map[string]any) []*p4v1.Entity {
	var out []*p4v1.Entity
	for _, raw := range doc["table_entries"].([]any) {
		fl := raw.(map[string]any)
		tbl, err := s.Table(fl["table"].(string))
		if err != nil {
			t.Fatal(err)
		}
		te := &p4v1.TableEntry{TableId: tbl.GetPreamble().GetId()}
		if p, ok := fl["priority"].(json.Number); ok {
			n, _ := p.Int64()
			te.Priority = int32(n)
		}
		te.IsDefaultAction, _ = fl["default_action"].(bool)
		match, _ := fl["match"].(map[string]any)
		for name, v := range match {
			var f *p4configv1.MatchField
			for _, mf := range tbl.GetMatchFields() {
				if mf.GetName() == name {
					f = mf
				}
			}
			if f == nil {
				t.Fatalf("%s has no field %s", fl["table"], name)
			}
			enc := func(v any) []byte { return encodeLikeTutorials(t, v, f.GetBitwidth()) }
			fm := &p4v1.FieldMatch{FieldId: f.GetId()}
			switch f.GetMatchType() {
			case p4configv1.MatchField_EXACT:
				fm.FieldMatchType = &p4v1.FieldMatch_Exact_{Exact: &p4v1.FieldMatch_Exact{Value: enc(v)}}
			case p4configv1.MatchField_LPM:
				pl, _ := v.([]any)[1].(json.Number).Int64()
				fm.FieldMatchType = &p4v1.FieldMatch_Lpm{Lpm: &p4v1.FieldMatch_LPM{Value: enc(v.([]any)[0]), PrefixLen: int32(pl)}}
			case p4configv1.MatchField_TERNARY:
				fm.FieldMatchType = &p4v1.FieldMatch_Ternary_{Ternary: &p4v1.FieldMatch_Ternary{Value: enc(v.([]any)[0]), Mask: enc(v.([]any)[1])}}
			case p4configv1.MatchField_RANGE:
				fm.FieldMatchType = &p4v1.FieldMatch_Range_{Range: &p4v1.FieldMatch_Range{Low: enc(v.([]any)[0]), High: enc(v.([]any)[1])}}
			default:
				t.Fatalf("match type %v is not in helper.py", f.GetMatchType())
			}
			te.Match = append(te.Match, fm)
		}
		act, err := s.Action(fl["action_name"].(string))
		if err != nil {
			t.Fatal(err)
		}
		a := &p4v1.Action{ActionId: act.GetPreamble().GetId()}
		for name, v := range fl["action_params"].(map[string]any) {
			p, err := s.ActionParam(act.GetPreamble().GetName(), name)
			if err != nil {
				t.Fatal(err)
			}
			a.Params = append(a.Params, &p4v1.Action_Param{ParamId: p.GetId(), Value: encodeLikeTutorials(t, v, p.GetBitwidth())})
		}
		te.Action = &p4v1.TableAction{Type: &p4v1.TableAction_Action{Action: a}}
		out = append(out, &p4v1.Entity{Entity: &p4v1.Entity_TableEntry{TableEntry: te}})
	}
	return out
}

// normal puts an entity in a comparable form: canonical bytestrings,
// matches and parameters by id.
func normal(e *p4v1.Entity) *p4v1.Entity {
	c := tables.Canonicalize(e)
	if te := c.GetTableEntry(); te != nil {
		slices.SortFunc(te.Match, func(a, b *p4v1.FieldMatch) int { return int(a.FieldId) - int(b.FieldId) })
		if a := te.GetAction().GetAction(); a != nil {
			slices.SortFunc(a.Params, func(x, y *p4v1.Action_Param) int { return int(x.ParamId) - int(y.ParamId) })
		}
	}
	return c
}

// The runtime-json of every switch of the example fabric, read back as
// p4lang/tutorials' simple_controller.py reads it (plus the entities it
// cannot express, from the extra key), is the compiled switch, entity for
// entity and in order within each part.
func TestRuntimeJSONRoundTrip(t *testing.T) {
	s := loadSchema(t)
	res, names := compileFabric(t)
	for _, n := range names {
		var buf, warn bytes.Buffer
		if err := Render(&buf, s, "runtime-json", res, []string{n}, RenderOptions{P4Info: "qos.p4info.txtpb", BMv2JSON: "qos.json", Warn: &warn}); err != nil {
			t.Fatal(err)
		}
		dec := json.NewDecoder(bytes.NewReader(buf.Bytes()))
		dec.UseNumber()
		var doc map[string]any
		if err := dec.Decode(&doc); err != nil {
			t.Fatal(err)
		}
		if doc["target"] != "bmv2" || doc["p4info"] != "qos.p4info.txtpb" || doc["bmv2_json"] != "qos.json" {
			t.Errorf("%s: header %v %v %v", n, doc["target"], doc["p4info"], doc["bmv2_json"])
		}
		got := entriesLikeTutorials(t, s, doc)
		extra := doc[RuntimeExtraKey].(map[string]any)["entities"].([]any)
		for _, x := range extra {
			b, _ := json.Marshal(x)
			var e p4v1.Entity
			if err := protojson.Unmarshal(b, &e); err != nil {
				t.Fatal(err)
			}
			got = append(got, &e)
		}
		var wantDirect, wantRest []*p4v1.Entity
		for _, e := range res.Switches[n] {
			if _, ok := runtimeEntryOf(s, e); ok {
				wantDirect = append(wantDirect, e)
			} else {
				wantRest = append(wantRest, e)
			}
		}
		want := append(wantDirect, wantRest...)
		if len(got) != len(want) || len(got) != len(res.Switches[n]) {
			t.Fatalf("%s: %d entities back, want %d", n, len(got), len(want))
		}
		for i := range want {
			if !proto.Equal(normal(got[i]), normal(want[i])) {
				t.Errorf("%s entity %d:\n got %v\nwant %v", n, i, got[i], want[i])
			}
		}
		if len(wantRest) > 0 && !strings.Contains(warn.String(), "not expressible") {
			t.Errorf("%s: left-out entities not listed: %q", n, warn.String())
		}
		if len(wantDirect) < len(res.Switches[n])/2 {
			t.Errorf("%s: only %d of %d entities as table entries", n, len(wantDirect), len(res.Switches[n]))
		}
	}
	var buf bytes.Buffer
	if err := Render(&buf, s, "runtime-json", res, names, RenderOptions{}); err == nil {
		t.Error("runtime-json of several switches at once: no error")
	}
}

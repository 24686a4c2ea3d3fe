package compiler

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"sort"
	"strconv"
	"strings"

	p4configv1 "github.com/p4lang/p4runtime/go/p4/config/v1"
	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"

	"github.com/p4qos/p4qos/tables"
)

// RuntimeExtraKey is the key of a runtime-json file that holds what the
// p4lang/tutorials shape cannot express (simple_controller.py ignores it).
const RuntimeExtraKey = "p4qos_not_in_runtime_json"

// runtimeSwitch is one sX-runtime.json of p4lang/tutorials
// (utils/p4runtime_lib/simple_controller.py reads it).
type runtimeSwitch struct {
	Target       string         `json:"target"`
	P4Info       string         `json:"p4info"`
	BMv2JSON     string         `json:"bmv2_json"`
	TableEntries []runtimeEntry `json:"table_entries"`
	Extra        *runtimeExtra  `json:"p4qos_not_in_runtime_json,omitempty"`
}

type runtimeEntry struct {
	Table         string     `json:"table"`
	Match         orderedMap `json:"match,omitempty"`
	DefaultAction bool       `json:"default_action,omitempty"`
	ActionName    string     `json:"action_name"`
	ActionParams  orderedMap `json:"action_params"`
	Priority      int32      `json:"priority,omitempty"`
}

// runtimeExtra is what the shape cannot express, as P4Runtime JSON
// (protojson, like -o json) so that nothing is lost.
type runtimeExtra struct {
	Why      string          `json:"why"`
	Entities json.RawMessage `json:"entities"`
}

// orderedMap is a JSON object that keeps its keys in order (match fields
// and parameters in P4Info order, as a person reads them).
type orderedMap []struct {
	Key   string
	Value any
}

func (m orderedMap) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, kv := range m {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(kv.Key)
		v, err := json.Marshal(kv.Value)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func (m *orderedMap) add(k string, v any) {
	*m = append(*m, struct {
		Key   string
		Value any
	}{k, v})
}

// runtimeValue is a value as p4runtime_lib's encode takes it: MAC, IPv4
// and IPv6 addresses as strings, everything else as a JSON integer.
func runtimeValue(b []byte, w int32, name string) any {
	s := tables.FormatValue(b, w, name)
	if strings.HasPrefix(s, "0x") || strings.Trim(s, "0123456789") == "" {
		return json.Number(new(big.Int).SetBytes(b).String())
	}
	return s
}

// runtimeEntryOf converts a table entry whose action is a direct action
// call; false for anything the shape cannot express (action profile
// references, meter configurations, optional matches, reset defaults).
func runtimeEntryOf(s *tables.Schema, e *p4v1.Entity) (runtimeEntry, bool) {
	te := e.GetTableEntry()
	act := te.GetAction().GetAction()
	if te == nil || act == nil || te.GetMeterConfig() != nil || te.GetCounterData() != nil {
		return runtimeEntry{}, false
	}
	t, err := s.TableByID(te.GetTableId())
	if err != nil {
		return runtimeEntry{}, false
	}
	a, err := s.ActionByID(act.GetActionId())
	if err != nil {
		return runtimeEntry{}, false
	}
	out := runtimeEntry{Table: t.GetPreamble().GetName(), DefaultAction: te.GetIsDefaultAction(), ActionName: a.GetPreamble().GetName(), ActionParams: orderedMap{}, Priority: te.GetPriority()}
	for _, fm := range te.GetMatch() {
		var f *p4configv1.MatchField
		for _, mf := range t.GetMatchFields() {
			if mf.GetId() == fm.GetFieldId() {
				f = mf
			}
		}
		if f == nil {
			return runtimeEntry{}, false
		}
		v := func(b []byte) any { return runtimeValue(b, f.GetBitwidth(), f.GetName()) }
		switch m := fm.GetFieldMatchType().(type) {
		case *p4v1.FieldMatch_Exact_:
			out.Match.add(f.GetName(), v(m.Exact.GetValue()))
		case *p4v1.FieldMatch_Lpm:
			out.Match.add(f.GetName(), []any{v(m.Lpm.GetValue()), m.Lpm.GetPrefixLen()})
		case *p4v1.FieldMatch_Ternary_:
			out.Match.add(f.GetName(), []any{v(m.Ternary.GetValue()), v(m.Ternary.GetMask())})
		case *p4v1.FieldMatch_Range_:
			out.Match.add(f.GetName(), []any{v(m.Range.GetLow()), v(m.Range.GetHigh())})
		default:
			return runtimeEntry{}, false
		}
	}
	for _, p := range act.GetParams() {
		var name string
		var w int32
		for _, ap := range a.GetParams() {
			if ap.GetId() == p.GetParamId() {
				name, w = ap.GetName(), ap.GetBitwidth()
			}
		}
		if name == "" {
			return runtimeEntry{}, false
		}
		out.ActionParams.add(name, runtimeValue(p.GetValue(), w, name))
	}
	return out, true
}

// renderRuntimeJSON writes one switch's entities in the p4lang/tutorials
// sX-runtime.json shape. What the shape cannot express goes under
// RuntimeExtraKey and is listed on opt.Warn.
func renderRuntimeJSON(w io.Writer, s *tables.Schema, res *Result, name string, opt RenderOptions) error {
	out := runtimeSwitch{Target: "bmv2", P4Info: opt.P4Info, BMv2JSON: opt.BMv2JSON, TableEntries: []runtimeEntry{}}
	var rest []*p4v1.Entity
	for _, e := range res.Switches[name] {
		if re, ok := runtimeEntryOf(s, e); ok {
			out.TableEntries = append(out.TableEntries, re)
		} else {
			rest = append(rest, e)
		}
	}
	if len(rest) > 0 {
		var buf bytes.Buffer
		if err := s.FormatJSON(&buf, rest); err != nil {
			return err
		}
		out.Extra = &runtimeExtra{
			Why:      "p4runtime_lib's simple_controller.py writes only table entries with a direct action; these entities (P4Runtime JSON, as compile -o json) need another client, e.g. p4qos compile -o text and p4runtime-shell",
			Entities: bytes.TrimSpace(buf.Bytes()),
		}
		if opt.Warn != nil {
			fmt.Fprintf(opt.Warn, "p4qos: -o runtime-json: switch %s: %s not expressible in the runtime-json shape, kept under %q\n", name, tally(s, rest), RuntimeExtraKey)
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// tally counts entities by kind and object: "4 action_profile_member
// ecmp_selector, 8 table_entry ipv4_lpm".
func tally(s *tables.Schema, es []*p4v1.Entity) string {
	n := map[string]int{}
	var order []string
	for _, e := range es {
		d := s.Decode(e)
		k := d.Kind + " " + tables.ShortName(d.Object)
		if n[k] == 0 {
			order = append(order, k)
		}
		n[k]++
	}
	sort.Strings(order)
	parts := make([]string, 0, len(order))
	for _, k := range order {
		parts = append(parts, strconv.Itoa(n[k])+" "+k)
	}
	return strings.Join(parts, ", ")
}

package bmv2json

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
)

// UnifySharedProfileActions works around a p4c-bm2-ss / PI interplay that
// crashes simple_switch_grpc: p4c gives every table its own copy of an
// action it uses (QosIngress.set_next_hop becomes action ids 13 for
// ipv4_lpm and 14 for ipv6_lpm, both with the same name), but the members
// of an action profile shared by those tables (ecmp_selector) are created
// by PI with one of the copies, chosen by name. A member whose copy is not
// in the table's own action list makes BMv2 throw std::out_of_range in
// MatchTableAbstract::get_next_node on the first packet that hits it, and
// the switch aborts.
//
// It rewrites the tables that share an action profile to use the first
// such table's copy of each action, and drops the copies no table uses any
// more. It returns the JSON unchanged (and changed=false) when no table
// needs it.
func UnifySharedProfileActions(in []byte) (out []byte, changed bool, err error) {
	// json.Number keeps every number as written: BMv2's parser wants
	// integers, not the 1e+06 a float64 would become.
	var doc map[string]any
	dec := json.NewDecoder(bytes.NewReader(in))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return nil, false, fmt.Errorf("BMv2 JSON: %w", err)
	}
	actions, _ := doc["actions"].([]any)
	nameOf := map[json.Number]string{}
	for _, a := range actions {
		am, _ := a.(map[string]any)
		id, ok := am["id"].(json.Number)
		name, _ := am["name"].(string)
		if ok {
			nameOf[id] = name
		}
	}
	dropped := map[json.Number]bool{}
	pipelines, _ := doc["pipelines"].([]any)
	for _, p := range pipelines {
		pm, _ := p.(map[string]any)
		tables, _ := pm["tables"].([]any)
		byProfile := map[string][]map[string]any{}
		var order []string
		for _, t := range tables {
			tm, _ := t.(map[string]any)
			prof, _ := tm["action_profile"].(string)
			if prof == "" {
				continue
			}
			if _, seen := byProfile[prof]; !seen {
				order = append(order, prof)
			}
			byProfile[prof] = append(byProfile[prof], tm)
		}
		sort.Strings(order)
		for _, prof := range order {
			ts := byProfile[prof]
			first := map[string]json.Number{}
			for _, id := range ids(ts[0]["action_ids"]) {
				first[nameOf[id]] = id
			}
			for _, t := range ts[1:] {
				list := ids(t["action_ids"])
				for i, id := range list {
					if want, ok := first[nameOf[id]]; ok && want != id {
						dropped[id] = true
						list[i] = want
						changed = true
					}
				}
				t["action_ids"] = toAny(list)
				if de, ok := t["default_entry"].(map[string]any); ok {
					if id, ok := de["action_id"].(json.Number); ok && dropped[id] {
						de["action_id"] = first[nameOf[id]]
					}
				}
			}
		}
	}
	if !changed {
		return in, false, nil
	}
	var kept []any
	for _, a := range actions {
		am, _ := a.(map[string]any)
		if id, ok := am["id"].(json.Number); ok && dropped[id] {
			continue
		}
		kept = append(kept, a)
	}
	doc["actions"] = kept
	out, err = json.Marshal(doc)
	return out, true, err
}

func ids(v any) []json.Number {
	l, _ := v.([]any)
	out := make([]json.Number, 0, len(l))
	for _, x := range l {
		if n, ok := x.(json.Number); ok {
			out = append(out, n)
		}
	}
	return out
}

func toAny(l []json.Number) []any {
	out := make([]any, len(l))
	for i, f := range l {
		out[i] = f
	}
	return out
}

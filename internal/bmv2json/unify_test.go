package bmv2json

import (
	"encoding/json"
	"strings"
	"testing"
)

// A cut-down p4c-bm2-ss output with the shape of the qos pipeline's: two
// tables share ecmp_selector, and each has its own copy of set_next_hop
// (13, 14) and drop (3, 4); color_action has a third drop (2) and no
// profile, so it keeps it.
const sharedProfileJSON = `{"actions": [
  {"name": "drop", "id": 2}, {"name": "drop", "id": 3}, {"name": "drop", "id": 4},
  {"name": "set_next_hop", "id": 13}, {"name": "set_next_hop", "id": 14}],
 "pipelines": [{"tables": [
  {"name": "color_action", "action_ids": [2]},
  {"name": "ipv4_lpm", "action_profile": "ecmp_selector", "action_ids": [13, 3], "default_entry": {"action_id": 3}},
  {"name": "ipv6_lpm", "action_profile": "ecmp_selector", "action_ids": [14, 4], "default_entry": {"action_id": 4},
   "max_size": 1000000}]}]}`

func TestUnifySharedProfileActions(t *testing.T) {
	out, changed, err := UnifySharedProfileActions([]byte(sharedProfileJSON))
	if err != nil || !changed {
		t.Fatalf("changed %v, err %v", changed, err)
	}
	var doc struct {
		Actions []struct {
			ID int `json:"id"`
		} `json:"actions"`
		Pipelines []struct {
			Tables []struct {
				Name         string `json:"name"`
				ActionIDs    []int  `json:"action_ids"`
				DefaultEntry *struct {
					ActionID int `json:"action_id"`
				} `json:"default_entry"`
			} `json:"tables"`
		} `json:"pipelines"`
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}
	var ids []int
	for _, a := range doc.Actions {
		ids = append(ids, a.ID)
	}
	// 14 and 4 were ipv6_lpm's copies: gone; color_action's 2 stays.
	if len(ids) != 3 || ids[0] != 2 || ids[1] != 3 || ids[2] != 13 {
		t.Errorf("actions %v, want [2 3 13]", ids)
	}
	tb := doc.Pipelines[0].Tables
	if tb[0].ActionIDs[0] != 2 || tb[1].ActionIDs[0] != 13 || tb[2].ActionIDs[0] != 13 || tb[2].ActionIDs[1] != 3 || tb[2].DefaultEntry.ActionID != 3 {
		t.Errorf("tables %+v", tb)
	}
	// Numbers are kept as written, not turned into 1e+06.
	if !strings.Contains(string(out), `"max_size":1000000`) {
		t.Errorf("max_size rewritten: %s", out)
	}
}

func TestUnifySharedProfileActionsLeavesGoodJSONAlone(t *testing.T) {
	in := `{"actions": [{"name": "a", "id": 1}], "pipelines": [{"tables": [
  {"name": "t1", "action_profile": "p", "action_ids": [1]},
  {"name": "t2", "action_profile": "p", "action_ids": [1]}]}]}`
	out, changed, err := UnifySharedProfileActions([]byte(in))
	if err != nil || changed || string(out) != in {
		t.Errorf("changed %v, err %v, out %s", changed, err, out)
	}
	if _, _, err := UnifySharedProfileActions([]byte("{")); err == nil {
		t.Error("broken JSON accepted")
	}
}

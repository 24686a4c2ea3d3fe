package compiler

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/p4qos/p4qos/internal/units"
)

// -o json holds everything the table view shows: each class with its
// PHB, DSCP, queue, precedence and meter; each flow group's rate, fair
// share, state and bottleneck and its paths; the queue settings; and per
// switch every entity both in P4Runtime JSON and decoded by name.
func TestJSONIsASupersetOfTheTable(t *testing.T) {
	s := loadSchema(t)
	res, names := compileFabric(t)
	var buf, table bytes.Buffer
	if err := Render(&buf, s, "json", res, names, RenderOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := Render(&table, s, "table", res, names, RenderOptions{}); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Classes []struct {
			ID         int    `json:"id"`
			Name       string `json:"name"`
			PHB        string `json:"phb"`
			DSCP       uint8  `json:"dscp"`
			Queue      uint8  `json:"queue"`
			Precedence int    `json:"precedence"`
			Meter      *struct {
				CIR string `json:"cir"`
				PIR string `json:"pir"`
			} `json:"meter"`
		} `json:"classes"`
		Allocation struct {
			FlowGroups []struct {
				Name       string   `json:"name"`
				RateBps    float64  `json:"rate_bps"`
				FairShare  *float64 `json:"fair_share"`
				State      string   `json:"state"`
				Bottleneck string   `json:"bottleneck"`
				Paths      []struct {
					Links []string `json:"links"`
				} `json:"paths"`
			} `json:"flow_groups"`
		} `json:"allocation"`
		QueueSettings []json.RawMessage `json:"queue_settings"`
		Switches      []struct {
			Name     string            `json:"name"`
			Entities []json.RawMessage `json:"entities"`
			Decoded  []struct {
				Object string `json:"object"`
				Match  []struct {
					Name, Value string
				} `json:"match"`
			} `json:"decoded"`
		} `json:"switches"`
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Classes) != len(res.Classes) || len(doc.Classes) == 0 {
		t.Fatalf("%d classes, want %d", len(doc.Classes), len(res.Classes))
	}
	for i, c := range doc.Classes {
		want := res.Classes[i]
		if c.ID != want.ID || c.Name != want.Name || c.PHB != want.PHB || c.DSCP != uint8(want.DSCP) || c.Queue != want.Queue || c.Precedence != want.Precedence {
			t.Errorf("class %d: %+v, want %+v", i, c, want)
		}
		if (c.Meter == nil) != (want.Meter == nil) || c.Meter != nil && c.Meter.CIR != units.FormatBitrate(float64(want.Meter.CIR)*8) {
			t.Errorf("class %s: meter %+v, want %+v", c.Name, c.Meter, want.Meter)
		}
	}
	if len(doc.Allocation.FlowGroups) != len(res.Allocation.FlowGroups) {
		t.Fatalf("%d flow groups, want %d", len(doc.Allocation.FlowGroups), len(res.Allocation.FlowGroups))
	}
	for i, fg := range doc.Allocation.FlowGroups {
		want := res.Allocation.FlowGroups[i]
		if fg.Name != want.Name || fg.RateBps != want.Rate || fg.FairShare == nil || *fg.FairShare != want.FairShare || len(fg.Paths) != len(want.Paths) {
			t.Errorf("flow group %d: %+v, want %+v", i, fg, want)
		}
		if want.Satisfied && fg.State != "satisfied" || !want.Satisfied && (fg.State != "bottleneck" || fg.Bottleneck != want.Bottleneck) {
			t.Errorf("flow group %s: state %q %q, want satisfied=%v bottleneck %q", fg.Name, fg.State, fg.Bottleneck, want.Satisfied, want.Bottleneck)
		}
		if !strings.Contains(table.String(), fg.Name) {
			t.Errorf("table lacks %s", fg.Name)
		}
	}
	if len(doc.QueueSettings) != len(res.QueueSettings) {
		t.Errorf("%d queue settings, want %d", len(doc.QueueSettings), len(res.QueueSettings))
	}
	if len(doc.Switches) != len(names) {
		t.Fatalf("%d switches, want %d", len(doc.Switches), len(names))
	}
	for i, sw := range doc.Switches {
		n := len(res.Switches[names[i]])
		if sw.Name != names[i] || len(sw.Entities) != n || len(sw.Decoded) != n {
			t.Errorf("switch %s: %d entities, %d decoded, want %d", sw.Name, len(sw.Entities), len(sw.Decoded), n)
		}
		for _, d := range sw.Decoded {
			for _, m := range d.Match {
				if !strings.Contains(table.String(), m.Name+"="+m.Value) {
					t.Errorf("%s %s: %s=%s is in the JSON but not the table", sw.Name, d.Object, m.Name, m.Value)
				}
			}
		}
	}
}

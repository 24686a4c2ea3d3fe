package compiler

import (
	"bytes"
	"encoding/json"
	"io"
	"math"

	"github.com/p4qos/p4qos/internal/units"
	"github.com/p4qos/p4qos/tables"
)

// The -o json document: everything the table view shows (classes,
// allocation with fair share and state, queue settings, entities decoded
// by name) plus the entities in P4Runtime JSON.
type jsonDoc struct {
	Classes       []jsonClass     `json:"classes"`
	Allocation    *jsonAllocation `json:"allocation"`
	QueueSettings []jsonQueue     `json:"queue_settings"`
	Switches      []jsonSwitch    `json:"switches"`
}

type jsonClass struct {
	ID         int        `json:"id"`
	Name       string     `json:"name"`
	PHB        string     `json:"phb"`
	TrustDSCP  bool       `json:"trust_dscp"`
	DSCP       uint8      `json:"dscp"`
	DSCPName   string     `json:"dscp_name"`
	Queue      uint8      `json:"queue"`
	Precedence int        `json:"precedence"`
	Meter      *jsonMeter `json:"meter"`
	Switches   []string   `json:"switches"`
}

// jsonMeter is a class meter: rates in bits/s and with units, bursts in
// bytes.
type jsonMeter struct {
	CIRBps      float64 `json:"cir_bps"`
	PIRBps      float64 `json:"pir_bps"`
	CIR         string  `json:"cir"`
	PIR         string  `json:"pir"`
	CBurstBytes int64   `json:"cburst_bytes"`
	PBurstBytes int64   `json:"pburst_bytes"`
}

type jsonAllocation struct {
	FlowGroups []jsonFlowGroup `json:"flow_groups"`
	Links      []jsonLink      `json:"links"`
}

// jsonFlowGroup is a flow group's allocation. FairShare is null when it
// is unbounded; State is "satisfied" or "bottleneck", Bottleneck the
// link that froze it.
type jsonFlowGroup struct {
	Name       string     `json:"name"`
	RateBps    float64    `json:"rate_bps"`
	Rate       string     `json:"rate"`
	FairShare  *float64   `json:"fair_share"`
	State      string     `json:"state"`
	Bottleneck string     `json:"bottleneck,omitempty"`
	Paths      []jsonPath `json:"paths"`
}

type jsonPath struct {
	Links   []string `json:"links"`
	RateBps float64  `json:"rate_bps"`
	Rate    string   `json:"rate"`
}

type jsonLink struct {
	Name        string  `json:"name"`
	LoadBps     float64 `json:"load_bps"`
	CapacityBps float64 `json:"capacity_bps"`
	Saturated   bool    `json:"saturated"`
}

type jsonQueue struct {
	Switch       string  `json:"switch"`
	Port         uint32  `json:"port"`
	Queue        int     `json:"queue"`
	RateBps      float64 `json:"rate_bps,omitempty"`
	Rate         string  `json:"rate,omitempty"`
	DepthPackets uint32  `json:"depth_packets,omitempty"`
}

// jsonSwitch holds a switch's entities twice, index for index: in
// P4Runtime JSON (protojson, what a P4Runtime client loads) and decoded by
// name (as the table view and `p4qos show -o json` print them).
type jsonSwitch struct {
	Name     string           `json:"name"`
	Entities json.RawMessage  `json:"entities"`
	Decoded  []tables.Decoded `json:"decoded"`
}

func finite(f float64) *float64 {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return nil
	}
	return &f
}

func renderJSON(w io.Writer, s *tables.Schema, res *Result, names []string) error {
	doc := jsonDoc{Classes: []jsonClass{}, QueueSettings: []jsonQueue{}, Switches: []jsonSwitch{}}
	for _, c := range res.Classes {
		jc := jsonClass{ID: c.ID, Name: c.Name, PHB: c.PHB, TrustDSCP: c.TrustDSCP, DSCP: uint8(c.DSCP), DSCPName: DSCPName(uint8(c.DSCP)),
			Queue: c.Queue, Precedence: c.Precedence, Switches: c.Switches}
		if m := c.Meter; m != nil {
			jc.Meter = &jsonMeter{CIRBps: float64(m.CIR) * 8, PIRBps: float64(m.PIR) * 8, CIR: units.FormatBitrate(float64(m.CIR) * 8),
				PIR: units.FormatBitrate(float64(m.PIR) * 8), CBurstBytes: m.CBurst, PBurstBytes: m.PBurst}
		}
		doc.Classes = append(doc.Classes, jc)
	}
	if a := res.Allocation; a != nil {
		doc.Allocation = &jsonAllocation{FlowGroups: []jsonFlowGroup{}, Links: []jsonLink{}}
		for _, fg := range a.FlowGroups {
			jf := jsonFlowGroup{Name: fg.Name, RateBps: fg.Rate, Rate: units.FormatBitrate(fg.Rate), FairShare: finite(fg.FairShare), State: "satisfied", Paths: []jsonPath{}}
			if !fg.Satisfied {
				jf.State, jf.Bottleneck = "bottleneck", fg.Bottleneck
			}
			for _, p := range fg.Paths {
				jf.Paths = append(jf.Paths, jsonPath{Links: p.Links, RateBps: p.Rate, Rate: units.FormatBitrate(p.Rate)})
			}
			doc.Allocation.FlowGroups = append(doc.Allocation.FlowGroups, jf)
		}
		for _, l := range a.Links {
			doc.Allocation.Links = append(doc.Allocation.Links, jsonLink{Name: l.Name, LoadBps: l.Load, CapacityBps: l.Capacity, Saturated: l.Saturated})
		}
	}
	for _, q := range res.QueueSettings {
		jq := jsonQueue{Switch: q.Switch, Port: q.Port, Queue: q.Queue, RateBps: q.Rate, DepthPackets: q.Depth}
		if q.Rate > 0 {
			jq.Rate = units.FormatBitrate(q.Rate)
		}
		doc.QueueSettings = append(doc.QueueSettings, jq)
	}
	for _, n := range names {
		var buf bytes.Buffer
		if err := s.FormatJSON(&buf, res.Switches[n]); err != nil {
			return err
		}
		sw := jsonSwitch{Name: n, Entities: bytes.TrimSpace(buf.Bytes()), Decoded: []tables.Decoded{}}
		for _, e := range res.Switches[n] {
			sw.Decoded = append(sw.Decoded, s.Decode(e))
		}
		doc.Switches = append(doc.Switches, sw)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

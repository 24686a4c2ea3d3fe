package tofino

import (
	"encoding/json"
	"fmt"
	"strings"

	p4configv1 "github.com/p4lang/p4runtime/go/p4/config/v1"

	"github.com/p4qos/p4qos/tables"
)

// Context is what the driver reads from bf-p4c's context.json: the
// selectors and meters as the compiler built them, which the P4Info
// describes only as declared. For the committed qos outputs (Tofino 1 and
// 2 alike): QosIngress.ecmp_selector, "selection_type": "fair",
// "max_port_pool_size": 64, bound to the action table
// QosIngress.ecmp_profile; QosIngress.class_meter, "meter_type":
// "standard", "meter_granularity": "bytes", size 256.
type Context struct {
	Selectors []Selector
	Meters    []Meter
}

// Selector is one selection table of context.json.
type Selector struct {
	Name string // QosIngress.ecmp_selector
	// Profile is the action data table the selector picks members of,
	// the P4Info action profile (QosIngress.ecmp_profile).
	Profile string
	// MaxGroupSize is max_port_pool_size: the largest group (sum of
	// member weights) one selector word was sized for.
	MaxGroupSize int64
	Mode         string // selection_type: fair or resilient
}

// Meter is one meter table of context.json.
type Meter struct {
	Name        string
	Granularity string // meter_granularity: bytes or packets
	Type        string // meter_type: standard (trTCM) or lpf/wred
	Size        int64
}

// ParseContext reads the selectors and meters of a context.json.
func ParseContext(b []byte) (*Context, error) {
	var doc struct {
		Tables []struct {
			Name             string `json:"name"`
			Type             string `json:"table_type"`
			Handle           int64  `json:"handle"`
			Size             int64  `json:"size"`
			MaxPoolSize      int64  `json:"max_port_pool_size"`
			SelectionType    string `json:"selection_type"`
			BoundActionTable int64  `json:"bound_to_action_data_table_handle"`
			Granularity      string `json:"meter_granularity"`
			MeterType        string `json:"meter_type"`
		} `json:"tables"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("context.json: %w", err)
	}
	byHandle := map[int64]string{}
	for _, t := range doc.Tables {
		byHandle[t.Handle] = t.Name
	}
	c := &Context{}
	for _, t := range doc.Tables {
		switch t.Type {
		case "selection":
			profile, ok := byHandle[t.BoundActionTable]
			if !ok {
				return nil, fmt.Errorf("context.json: selector %s is bound to no action table (handle %d)", t.Name, t.BoundActionTable)
			}
			c.Selectors = append(c.Selectors, Selector{Name: t.Name, Profile: profile, MaxGroupSize: t.MaxPoolSize, Mode: t.SelectionType})
		case "meter":
			c.Meters = append(c.Meters, Meter{Name: t.Name, Granularity: t.Granularity, Type: t.MeterType, Size: t.Size})
		}
	}
	return c, nil
}

// check reports where context.json and the P4Info disagree about what the
// controller relies on: each selector's profile and its maximum group size
// (the compiler sizes WCMP groups by the P4Info's max_group_size; the
// hardware by max_port_pool_size), and each meter's unit (the compiler
// writes rates in the P4Info's unit: bytes/s for BYTES).
func (c *Context) check(s *tables.Schema) error {
	var bad []string
	for _, sel := range c.Selectors {
		ap, err := s.ActionProfile(sel.Profile)
		if err != nil {
			bad = append(bad, fmt.Sprintf("selector %s: action profile %s: %v", sel.Name, sel.Profile, err))
			continue
		}
		if !ap.GetWithSelector() || int64(ap.GetMaxGroupSize()) != sel.MaxGroupSize {
			bad = append(bad, fmt.Sprintf("selector %s: context.json max_port_pool_size %d, P4Info %s with_selector %v max_group_size %d",
				sel.Name, sel.MaxGroupSize, sel.Profile, ap.GetWithSelector(), ap.GetMaxGroupSize()))
		}
	}
	want := map[p4configv1.MeterSpec_Unit]string{p4configv1.MeterSpec_BYTES: "bytes", p4configv1.MeterSpec_PACKETS: "packets"}
	for _, m := range c.Meters {
		unit, size, err := meterShape(s, m.Name)
		if err != nil {
			bad = append(bad, fmt.Sprintf("meter %s: %v", m.Name, err))
			continue
		}
		if u := want[unit]; u != m.Granularity || size != m.Size {
			bad = append(bad, fmt.Sprintf("meter %s: context.json %s, %d cells; P4Info %s, %d cells", m.Name, m.Granularity, m.Size, unit, size))
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("tofino: context.json does not match the P4Info (compiled from another program?): %s", strings.Join(bad, "; "))
	}
	return nil
}

// meterShape is a P4Info meter's unit and cell count. context.json lists
// direct meters (the reservation table's) among the meters too, with one
// cell per entry of their table.
func meterShape(s *tables.Schema, name string) (p4configv1.MeterSpec_Unit, int64, error) {
	if m, err := s.Meter(name); err == nil {
		return m.GetSpec().GetUnit(), m.GetSize(), nil
	}
	dm, err := s.DirectMeter(name)
	if err != nil {
		return 0, 0, err
	}
	t, err := s.TableByID(dm.GetDirectTableId())
	if err != nil {
		return 0, 0, fmt.Errorf("direct meter of table %#x: %w", dm.GetDirectTableId(), err)
	}
	return dm.GetSpec().GetUnit(), t.GetSize(), nil
}

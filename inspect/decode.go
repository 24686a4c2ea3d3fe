package inspect

import (
	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"

	"github.com/p4qos/p4qos/tables"
)

// The decoded entities `show` and `diff` print, and their JSON
// (docs/inspect.md), are tables' by-name decoding, which compile's views
// share.
type (
	// Entity is a P4Runtime entity decoded by name with the P4Info.
	Entity = tables.Decoded
	// Value is a decoded match field or action parameter.
	Value = tables.DecodedValue
	// Action is an action call.
	Action = tables.DecodedAction
	// GroupMember is a member of an action profile group.
	GroupMember = tables.DecodedMember
	// Meter is a meter configuration with its rates for people.
	Meter = tables.DecodedMeter
	// Counter is a counter cell.
	Counter = tables.DecodedCounter
)

// decoder decodes entities of one P4Info.
type decoder struct{ s *tables.Schema }

func (d decoder) entity(e *p4v1.Entity) Entity { return d.s.Decode(e) }

func short(name string) string { return tables.ShortName(name) }

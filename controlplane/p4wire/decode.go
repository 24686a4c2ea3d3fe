package p4wire

import (
	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// UnmarshalReadResponse decodes b into m, replacing its contents. m holds no
// reference to b afterwards (gRPC reuses its receive buffers).
func UnmarshalReadResponse(b []byte, m *p4v1.ReadResponse) error {
	// One copy of the message backs every bytes field decoded from it: one
	// allocation instead of one per match value and parameter.
	return unmarshalOwned(append([]byte(nil), b...), m)
}

// unmarshalOwned is UnmarshalReadResponse of a b nobody else holds: the
// decoded bytes fields point into it.
func unmarshalOwned(b []byte, m *p4v1.ReadResponse) error {
	d := decoder{arena: b}
	if ents, ok := d.entities(); ok {
		proto.Reset(m)
		m.Entities = ents
		return nil
	}
	return proto.Unmarshal(b, m)
}

type decoder struct{ arena []byte }

// field is one decoded field: its number, wire type, and value (v for a
// varint; off:end into the arena for length-delimited bytes).
type field struct {
	num      protowire.Number
	typ      protowire.Type
	v        uint64
	off, end int
}

// each calls f for every field of arena[off:end]; false from f, or a field
// that is neither a varint nor length-delimited, or malformed input, gives
// up.
func (d *decoder) each(off, end int, f func(field) bool) bool {
	for off < end {
		b := d.arena[off:end]
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return false
		}
		fl := field{num: num, typ: typ}
		switch typ {
		case protowire.VarintType:
			var m int
			fl.v, m = protowire.ConsumeVarint(b[n:])
			if m < 0 {
				return false
			}
			n += m
		case protowire.BytesType:
			l, m := protowire.ConsumeVarint(b[n:])
			if m < 0 || l > uint64(len(b)-n-m) {
				return false
			}
			fl.off = off + n + m
			fl.end = fl.off + int(l)
			n += m + int(l)
		default:
			return false
		}
		off += n
		if !f(fl) {
			return false
		}
	}
	return true
}

// bytes is a field's value as a slice of the arena that cannot grow into
// its neighbours.
func (d *decoder) bytes(f field) []byte { return d.arena[f.off:f.end:f.end] }

func (f field) isVarint() bool { return f.typ == protowire.VarintType }
func (f field) isBytes() bool  { return f.typ == protowire.BytesType }

func (d *decoder) entities() ([]*p4v1.Entity, bool) {
	var out []*p4v1.Entity
	ok := d.each(0, len(d.arena), func(f field) bool {
		if f.num != 1 || !f.isBytes() {
			return false
		}
		e, ok := d.entity(f)
		out = append(out, e)
		return ok
	})
	return out, ok
}

// Boxes hold a message together with the oneof wrappers that point to it,
// so that the usual shapes cost one allocation instead of three: a read of
// a 2,000-switch fabric decodes ~556k entities, and allocating (and
// collecting) their parts was most of the decoder's time. The parts of a
// box live and die together, as the parts of one entity do.
type (
	tableEntryBox struct {
		e  p4v1.Entity
		w  p4v1.Entity_TableEntry
		te p4v1.TableEntry
	}
	exactBox struct {
		m p4v1.FieldMatch
		w p4v1.FieldMatch_Exact_
		x p4v1.FieldMatch_Exact
	}
	lpmBox struct {
		m p4v1.FieldMatch
		w p4v1.FieldMatch_Lpm
		x p4v1.FieldMatch_LPM
	}
	ternaryBox struct {
		m p4v1.FieldMatch
		w p4v1.FieldMatch_Ternary_
		x p4v1.FieldMatch_Ternary
	}
	actionBox struct {
		a p4v1.TableAction
		w p4v1.TableAction_Action
		x p4v1.Action
	}
	memberRefBox struct {
		a p4v1.TableAction
		w p4v1.TableAction_ActionProfileMemberId
	}
	groupRefBox struct {
		a p4v1.TableAction
		w p4v1.TableAction_ActionProfileGroupId
	}
)

// kindOf is the number of the first field of a message's encoding, or 0:
// which oneof member (or box) its decoder will need.
func (d *decoder) kindOf(in field) protowire.Number {
	if in.off >= in.end {
		return 0
	}
	num, _, n := protowire.ConsumeTag(d.arena[in.off:in.end])
	if n < 0 {
		return 0
	}
	return num
}

func (d *decoder) entity(in field) (*p4v1.Entity, bool) {
	var e *p4v1.Entity
	if d.kindOf(in) == 2 {
		// A table entry, the usual case: one allocation.
		b := &tableEntryBox{}
		e = &b.e
		var ok bool
		seen := false
		ok = d.each(in.off, in.end, func(f field) bool {
			if f.num != 2 || !f.isBytes() || seen {
				return false
			}
			seen = true
			b.w.TableEntry = &b.te
			e.Entity = &b.w
			return d.tableEntryInto(f, &b.te)
		})
		return e, ok
	}
	e = &p4v1.Entity{}
	ok := d.each(in.off, in.end, func(f field) bool {
		if !f.isBytes() || e.Entity != nil {
			return false
		}
		switch f.num {
		case 2:
			te, ok := d.tableEntry(f)
			e.Entity = &p4v1.Entity_TableEntry{TableEntry: te}
			return ok
		case 3:
			m, ok := d.member(f)
			e.Entity = &p4v1.Entity_ActionProfileMember{ActionProfileMember: m}
			return ok
		case 4:
			g, ok := d.group(f)
			e.Entity = &p4v1.Entity_ActionProfileGroup{ActionProfileGroup: g}
			return ok
		case 5:
			m, ok := d.meterEntry(f)
			e.Entity = &p4v1.Entity_MeterEntry{MeterEntry: m}
			return ok
		case 6:
			m, ok := d.directMeter(f)
			e.Entity = &p4v1.Entity_DirectMeterEntry{DirectMeterEntry: m}
			return ok
		case 7:
			c, ok := d.counterEntry(f)
			e.Entity = &p4v1.Entity_CounterEntry{CounterEntry: c}
			return ok
		case 8:
			c, ok := d.directCounter(f)
			e.Entity = &p4v1.Entity_DirectCounterEntry{DirectCounterEntry: c}
			return ok
		}
		return false
	})
	return e, ok
}

func (d *decoder) tableEntry(in field) (*p4v1.TableEntry, bool) {
	te := &p4v1.TableEntry{}
	return te, d.tableEntryInto(in, te)
}

func (d *decoder) tableEntryInto(in field, te *p4v1.TableEntry) bool {
	return d.each(in.off, in.end, func(f field) bool {
		switch {
		case f.num == 1 && f.isVarint():
			te.TableId = uint32(f.v)
		case f.num == 2 && f.isBytes():
			m, ok := d.fieldMatch(f)
			te.Match = append(te.Match, m)
			return ok
		case f.num == 3 && f.isBytes() && te.Action == nil:
			var ok bool
			te.Action, ok = d.tableAction(f)
			return ok
		case f.num == 4 && f.isVarint():
			te.Priority = int32(f.v)
		case f.num == 5 && f.isVarint():
			te.ControllerMetadata = f.v
		case f.num == 6 && f.isBytes() && te.MeterConfig == nil:
			var ok bool
			te.MeterConfig, ok = d.meterConfig(f)
			return ok
		case f.num == 7 && f.isBytes() && te.CounterData == nil:
			var ok bool
			te.CounterData, ok = d.counterData(f)
			return ok
		case f.num == 8 && f.isVarint():
			te.IsDefaultAction = protowire.DecodeBool(f.v)
		case f.num == 9 && f.isVarint():
			te.IdleTimeoutNs = int64(f.v)
		case f.num == 11 && f.isBytes():
			te.Metadata = d.bytes(f)
		case f.num == 12 && f.isBytes() && te.MeterCounterData == nil:
			var ok bool
			te.MeterCounterData, ok = d.meterCounterData(f)
			return ok
		case f.num == 13 && f.isVarint():
			te.IsConst = protowire.DecodeBool(f.v)
		default:
			return false
		}
		return true
	})
}

// matchKind is the kind (field number) of a FieldMatch's match: the
// first field after the field id, 0 if none or malformed.
func (d *decoder) matchKind(in field) protowire.Number {
	var kind protowire.Number
	d.each(in.off, in.end, func(f field) bool {
		if f.num == 1 && f.isVarint() {
			return true
		}
		kind = f.num
		return false
	})
	return kind
}

func (d *decoder) fieldMatch(in field) (*p4v1.FieldMatch, bool) {
	// The usual kinds in one allocation with their wrapper and value
	// (boxes above); a second match kind in the same FieldMatch is
	// refused below either way.
	var m *p4v1.FieldMatch
	var exact *exactBox
	var lpm *lpmBox
	var ternary *ternaryBox
	switch d.matchKind(in) {
	case 2:
		exact = &exactBox{}
		m = &exact.m
	case 3:
		ternary = &ternaryBox{}
		m = &ternary.m
	case 4:
		lpm = &lpmBox{}
		m = &lpm.m
	default:
		m = &p4v1.FieldMatch{}
	}
	ok := d.each(in.off, in.end, func(f field) bool {
		if f.num == 1 && f.isVarint() {
			m.FieldId = uint32(f.v)
			return true
		}
		if !f.isBytes() || m.FieldMatchType != nil {
			return false
		}
		var ok bool
		switch f.num {
		case 2:
			var x *p4v1.FieldMatch_Exact
			var w *p4v1.FieldMatch_Exact_
			if exact != nil {
				x, w = &exact.x, &exact.w
			} else {
				x, w = &p4v1.FieldMatch_Exact{}, &p4v1.FieldMatch_Exact_{}
			}
			w.Exact = x
			m.FieldMatchType = w
			x.Value, _, ok = d.twoBytes(f, false)
		case 3:
			var x *p4v1.FieldMatch_Ternary
			var w *p4v1.FieldMatch_Ternary_
			if ternary != nil {
				x, w = &ternary.x, &ternary.w
			} else {
				x, w = &p4v1.FieldMatch_Ternary{}, &p4v1.FieldMatch_Ternary_{}
			}
			w.Ternary = x
			m.FieldMatchType = w
			x.Value, x.Mask, ok = d.twoBytes(f, true)
		case 4:
			var x *p4v1.FieldMatch_LPM
			var w *p4v1.FieldMatch_Lpm
			if lpm != nil {
				x, w = &lpm.x, &lpm.w
			} else {
				x, w = &p4v1.FieldMatch_LPM{}, &p4v1.FieldMatch_Lpm{}
			}
			w.Lpm = x
			m.FieldMatchType = w
			ok = d.each(f.off, f.end, func(g field) bool {
				switch {
				case g.num == 1 && g.isBytes():
					x.Value = d.bytes(g)
				case g.num == 2 && g.isVarint():
					x.PrefixLen = int32(g.v)
				default:
					return false
				}
				return true
			})
		case 6:
			x := &p4v1.FieldMatch_Range{}
			m.FieldMatchType = &p4v1.FieldMatch_Range_{Range: x}
			x.Low, x.High, ok = d.twoBytes(f, true)
		case 7:
			x := &p4v1.FieldMatch_Optional{}
			m.FieldMatchType = &p4v1.FieldMatch_Optional_{Optional: x}
			x.Value, _, ok = d.twoBytes(f, false)
		}
		return ok
	})
	return m, ok
}

// twoBytes decodes a message of bytes field 1 and (when two) bytes field 2:
// the exact, optional, ternary and range matches.
func (d *decoder) twoBytes(in field, two bool) (a, b []byte, ok bool) {
	ok = d.each(in.off, in.end, func(f field) bool {
		switch {
		case f.num == 1 && f.isBytes():
			a = d.bytes(f)
		case f.num == 2 && f.isBytes() && two:
			b = d.bytes(f)
		default:
			return false
		}
		return true
	})
	return a, b, ok
}

func (d *decoder) tableAction(in field) (*p4v1.TableAction, bool) {
	// One allocation for the action and its oneof wrapper (and the Action
	// it points to), by the kind its first field announces; a second
	// field of the oneof is refused below either way.
	var a *p4v1.TableAction
	var act *actionBox
	var member *memberRefBox
	var group *groupRefBox
	switch d.kindOf(in) {
	case 1:
		act = &actionBox{}
		a = &act.a
	case 2:
		member = &memberRefBox{}
		a = &member.a
	case 3:
		group = &groupRefBox{}
		a = &group.a
	default:
		a = &p4v1.TableAction{}
	}
	ok := d.each(in.off, in.end, func(f field) bool {
		if a.Type != nil {
			return false
		}
		switch {
		case f.num == 1 && f.isBytes():
			var x *p4v1.Action
			var w *p4v1.TableAction_Action
			if act != nil {
				x, w = &act.x, &act.w
			} else {
				x, w = &p4v1.Action{}, &p4v1.TableAction_Action{}
			}
			w.Action = x
			a.Type = w
			return d.actionInto(f, x)
		case f.num == 2 && f.isVarint():
			var w *p4v1.TableAction_ActionProfileMemberId
			if member != nil {
				w = &member.w
			} else {
				w = &p4v1.TableAction_ActionProfileMemberId{}
			}
			w.ActionProfileMemberId = uint32(f.v)
			a.Type = w
		case f.num == 3 && f.isVarint():
			var w *p4v1.TableAction_ActionProfileGroupId
			if group != nil {
				w = &group.w
			} else {
				w = &p4v1.TableAction_ActionProfileGroupId{}
			}
			w.ActionProfileGroupId = uint32(f.v)
			a.Type = w
		default:
			return false
		}
		return true
	})
	return a, ok
}

func (d *decoder) action(in field) (*p4v1.Action, bool) {
	a := &p4v1.Action{}
	return a, d.actionInto(in, a)
}

// actionInto decodes an Action into a. Its parameters are allocated in one
// block (counted first), not one by one.
func (d *decoder) actionInto(in field, a *p4v1.Action) bool {
	n := 0
	d.each(in.off, in.end, func(f field) bool {
		if f.num == 4 {
			n++
		}
		return true
	})
	var params []p4v1.Action_Param
	if n > 0 {
		params = make([]p4v1.Action_Param, 0, n)
		a.Params = make([]*p4v1.Action_Param, 0, n)
	}
	return d.each(in.off, in.end, func(f field) bool {
		switch {
		case f.num == 1 && f.isVarint():
			a.ActionId = uint32(f.v)
		case f.num == 4 && f.isBytes():
			var p *p4v1.Action_Param
			if len(params) < cap(params) {
				params = params[:len(params)+1]
				p = &params[len(params)-1]
			} else {
				p = &p4v1.Action_Param{} // the count gave up on malformed input
			}
			a.Params = append(a.Params, p)
			return d.each(f.off, f.end, func(g field) bool {
				switch {
				case g.num == 2 && g.isVarint():
					p.ParamId = uint32(g.v)
				case g.num == 3 && g.isBytes():
					p.Value = d.bytes(g)
				default:
					return false
				}
				return true
			})
		default:
			return false
		}
		return true
	})
}

func (d *decoder) member(in field) (*p4v1.ActionProfileMember, bool) {
	m := &p4v1.ActionProfileMember{}
	ok := d.each(in.off, in.end, func(f field) bool {
		switch {
		case f.num == 1 && f.isVarint():
			m.ActionProfileId = uint32(f.v)
		case f.num == 2 && f.isVarint():
			m.MemberId = uint32(f.v)
		case f.num == 3 && f.isBytes() && m.Action == nil:
			var ok bool
			m.Action, ok = d.action(f)
			return ok
		default:
			return false
		}
		return true
	})
	return m, ok
}

func (d *decoder) group(in field) (*p4v1.ActionProfileGroup, bool) {
	g := &p4v1.ActionProfileGroup{}
	ok := d.each(in.off, in.end, func(f field) bool {
		switch {
		case f.num == 1 && f.isVarint():
			g.ActionProfileId = uint32(f.v)
		case f.num == 2 && f.isVarint():
			g.GroupId = uint32(f.v)
		case f.num == 3 && f.isBytes():
			m := &p4v1.ActionProfileGroup_Member{}
			g.Members = append(g.Members, m)
			return d.each(f.off, f.end, func(h field) bool {
				switch {
				case h.num == 1 && h.isVarint():
					m.MemberId = uint32(h.v)
				case h.num == 2 && h.isVarint():
					m.Weight = int32(h.v)
				case h.num == 3 && h.isVarint() && m.WatchKind == nil:
					m.WatchKind = &p4v1.ActionProfileGroup_Member_Watch{Watch: int32(h.v)}
				case h.num == 4 && h.isBytes() && m.WatchKind == nil:
					m.WatchKind = &p4v1.ActionProfileGroup_Member_WatchPort{WatchPort: d.bytes(h)}
				default:
					return false
				}
				return true
			})
		case f.num == 4 && f.isVarint():
			g.MaxSize = int32(f.v)
		default:
			return false
		}
		return true
	})
	return g, ok
}

func (d *decoder) meterEntry(in field) (*p4v1.MeterEntry, bool) {
	m := &p4v1.MeterEntry{}
	ok := d.each(in.off, in.end, func(f field) bool {
		var ok bool
		switch {
		case f.num == 1 && f.isVarint():
			m.MeterId = uint32(f.v)
			return true
		case f.num == 2 && f.isBytes() && m.Index == nil:
			m.Index, ok = d.index(f)
		case f.num == 3 && f.isBytes() && m.Config == nil:
			m.Config, ok = d.meterConfig(f)
		case f.num == 4 && f.isBytes() && m.CounterData == nil:
			m.CounterData, ok = d.meterCounterData(f)
		}
		return ok
	})
	return m, ok
}

func (d *decoder) directMeter(in field) (*p4v1.DirectMeterEntry, bool) {
	m := &p4v1.DirectMeterEntry{}
	ok := d.each(in.off, in.end, func(f field) bool {
		var ok bool
		switch {
		case f.num == 1 && f.isBytes() && m.TableEntry == nil:
			m.TableEntry, ok = d.tableEntry(f)
		case f.num == 2 && f.isBytes() && m.Config == nil:
			m.Config, ok = d.meterConfig(f)
		case f.num == 3 && f.isBytes() && m.CounterData == nil:
			m.CounterData, ok = d.meterCounterData(f)
		}
		return ok
	})
	return m, ok
}

func (d *decoder) counterEntry(in field) (*p4v1.CounterEntry, bool) {
	c := &p4v1.CounterEntry{}
	ok := d.each(in.off, in.end, func(f field) bool {
		var ok bool
		switch {
		case f.num == 1 && f.isVarint():
			c.CounterId = uint32(f.v)
			return true
		case f.num == 2 && f.isBytes() && c.Index == nil:
			c.Index, ok = d.index(f)
		case f.num == 3 && f.isBytes() && c.Data == nil:
			c.Data, ok = d.counterData(f)
		}
		return ok
	})
	return c, ok
}

func (d *decoder) directCounter(in field) (*p4v1.DirectCounterEntry, bool) {
	c := &p4v1.DirectCounterEntry{}
	ok := d.each(in.off, in.end, func(f field) bool {
		var ok bool
		switch {
		case f.num == 1 && f.isBytes() && c.TableEntry == nil:
			c.TableEntry, ok = d.tableEntry(f)
		case f.num == 2 && f.isBytes() && c.Data == nil:
			c.Data, ok = d.counterData(f)
		}
		return ok
	})
	return c, ok
}

func (d *decoder) index(in field) (*p4v1.Index, bool) {
	x := &p4v1.Index{}
	ok := d.each(in.off, in.end, func(f field) bool {
		if f.num == 1 && f.isVarint() {
			x.Index = int64(f.v)
			return true
		}
		return false
	})
	return x, ok
}

func (d *decoder) meterConfig(in field) (*p4v1.MeterConfig, bool) {
	c := &p4v1.MeterConfig{}
	ok := d.each(in.off, in.end, func(f field) bool {
		if !f.isVarint() {
			return false
		}
		switch f.num {
		case 1:
			c.Cir = int64(f.v)
		case 2:
			c.Cburst = int64(f.v)
		case 3:
			c.Pir = int64(f.v)
		case 4:
			c.Pburst = int64(f.v)
		case 5:
			c.Eburst = int64(f.v)
		default:
			return false
		}
		return true
	})
	return c, ok
}

func (d *decoder) counterData(in field) (*p4v1.CounterData, bool) {
	c := &p4v1.CounterData{}
	ok := d.each(in.off, in.end, func(f field) bool {
		switch {
		case f.num == 1 && f.isVarint():
			c.ByteCount = int64(f.v)
		case f.num == 2 && f.isVarint():
			c.PacketCount = int64(f.v)
		default:
			return false
		}
		return true
	})
	return c, ok
}

func (d *decoder) meterCounterData(in field) (*p4v1.MeterCounterData, bool) {
	c := &p4v1.MeterCounterData{}
	ok := d.each(in.off, in.end, func(f field) bool {
		var ok bool
		switch {
		case f.num == 1 && f.isBytes() && c.Green == nil:
			c.Green, ok = d.counterData(f)
		case f.num == 2 && f.isBytes() && c.Yellow == nil:
			c.Yellow, ok = d.counterData(f)
		case f.num == 3 && f.isBytes() && c.Red == nil:
			c.Red, ok = d.counterData(f)
		}
		return ok
	})
	return c, ok
}

package tables

import (
	"fmt"

	p4configv1 "github.com/p4lang/p4runtime/go/p4/config/v1"
	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/protobuf/proto"

	"github.com/p4qos/p4qos/internal/yamlerr"
)

// Match is one key field of a table entry, built by Exact, LPM, LPMValue,
// Ternary, Range or Optional and resolved against the P4Info by the entry
// builders.
type Match interface {
	// Field is the key field's name as given by the caller.
	Field() string
	// encode returns the FieldMatch, or nil for a don't-care match.
	encode(f *p4configv1.MatchField) (*p4v1.FieldMatch, error)
}

type matchBase struct{ field string }

func (m matchBase) Field() string { return m.field }

type exactMatch struct {
	matchBase
	v any
}

type lpmMatch struct {
	matchBase
	prefix string // "10.0.0.0/8" form; empty if v/plen are used
	v      any
	plen   int32
}

type ternaryMatch struct {
	matchBase
	v, mask any
}

type rangeMatch struct {
	matchBase
	low, high any
}

type optionalMatch struct {
	matchBase
	v any
}

// Exact matches field == v.
func Exact(field string, v any) Match { return exactMatch{matchBase{field}, v} }

// LPM matches a prefix written "value/len", e.g. "10.0.0.0/8",
// "2001:db8::/32" or "0x0a00/8". Host bits must be zero. A zero length is a
// don't-care and is omitted from the entry (§9.1.1).
func LPM(field string, prefix string) Match {
	return lpmMatch{matchBase: matchBase{field}, prefix: prefix}
}

// LPMValue matches the first prefixLen bits of v.
func LPMValue(field string, v any, prefixLen int32) Match {
	return lpmMatch{matchBase: matchBase{field}, v: v, plen: prefixLen}
}

// Ternary matches field & mask == value; value must have no bits outside
// mask. A zero mask is a don't-care and is omitted.
func Ternary(field string, value, mask any) Match { return ternaryMatch{matchBase{field}, value, mask} }

// Range matches low <= field <= high. The full range of the field is a
// don't-care and is omitted.
func Range(field string, low, high any) Match { return rangeMatch{matchBase{field}, low, high} }

// Optional matches field == v; a nil v is a don't-care and is omitted.
func Optional(field string, v any) Match { return optionalMatch{matchBase{field}, v} }

func kindErr(f *p4configv1.MatchField, used string) error {
	return invalidArg("match field %s is %s, not %s", yamlerr.Quote(f.Name), f.GetMatchType(), used)
}

func (m exactMatch) encode(f *p4configv1.MatchField) (*p4v1.FieldMatch, error) {
	if f.GetMatchType() != p4configv1.MatchField_EXACT {
		return nil, kindErr(f, "EXACT")
	}
	v, err := EncodeValue(m.v, f.Bitwidth)
	if err != nil {
		return nil, err
	}
	// One allocation holds the match, its oneof wrapper and its body.
	x := &struct {
		fm p4v1.FieldMatch
		w  p4v1.FieldMatch_Exact_
		m  p4v1.FieldMatch_Exact
	}{}
	x.m.Value = v
	x.w.Exact = &x.m
	x.fm.FieldId, x.fm.FieldMatchType = f.Id, &x.w
	return &x.fm, nil
}

func (m lpmMatch) encode(f *p4configv1.MatchField) (*p4v1.FieldMatch, error) {
	if f.GetMatchType() != p4configv1.MatchField_LPM {
		return nil, kindErr(f, "LPM")
	}
	var raw []byte
	plen := m.plen
	if m.prefix != "" {
		var err error
		if raw, plen, err = parsePrefix(m.prefix); err != nil {
			return nil, invalidArg("%v", err)
		}
	} else {
		var err error
		if raw, err = rawBytes(m.v); err != nil {
			return nil, invalidArg("%v", err)
		}
	}
	v := Canonical(raw)
	if n := BitLen(v); n > int(f.Bitwidth) {
		return nil, outOfRange("prefix value 0x%x needs %d bits, field %s has %d", v, n, yamlerr.Quote(f.Name), f.Bitwidth)
	}
	if plen < 0 || plen > f.Bitwidth {
		return nil, invalidArg("prefix length %d outside 0..%d for field %s", plen, f.Bitwidth, yamlerr.Quote(f.Name))
	}
	if plen == 0 {
		if !isZero(v) {
			return nil, invalidArg("field %s: /0 prefix with non-zero value 0x%x", yamlerr.Quote(f.Name), v)
		}
		return nil, nil
	}
	if trailingZeros(v) < int(f.Bitwidth-plen) && !isZero(v) {
		return nil, invalidArg("field %s: prefix 0x%x/%d has host bits set", yamlerr.Quote(f.Name), v, plen)
	}
	return &p4v1.FieldMatch{FieldId: f.Id, FieldMatchType: &p4v1.FieldMatch_Lpm{Lpm: &p4v1.FieldMatch_LPM{Value: v, PrefixLen: plen}}}, nil
}

func (m ternaryMatch) encode(f *p4configv1.MatchField) (*p4v1.FieldMatch, error) {
	if f.GetMatchType() != p4configv1.MatchField_TERNARY {
		return nil, kindErr(f, "TERNARY")
	}
	v, err := EncodeValue(m.v, f.Bitwidth)
	if err != nil {
		return nil, prefix("field "+f.Name+" value", err)
	}
	mask, err := EncodeValue(m.mask, f.Bitwidth)
	if err != nil {
		return nil, prefix("field "+f.Name+" mask", err)
	}
	if isZero(mask) {
		if !isZero(v) {
			return nil, invalidArg("field %s: mask 0 with non-zero value 0x%x", yamlerr.Quote(f.Name), v)
		}
		return nil, nil
	}
	if !withinMask(v, mask) {
		return nil, invalidArg("field %s: value 0x%x has bits outside mask 0x%x", yamlerr.Quote(f.Name), v, mask)
	}
	x := &struct {
		fm p4v1.FieldMatch
		w  p4v1.FieldMatch_Ternary_
		m  p4v1.FieldMatch_Ternary
	}{}
	x.m.Value, x.m.Mask = v, mask
	x.w.Ternary = &x.m
	x.fm.FieldId, x.fm.FieldMatchType = f.Id, &x.w
	return &x.fm, nil
}

func (m rangeMatch) encode(f *p4configv1.MatchField) (*p4v1.FieldMatch, error) {
	if f.GetMatchType() != p4configv1.MatchField_RANGE {
		return nil, kindErr(f, "RANGE")
	}
	lo, err := EncodeValue(m.low, f.Bitwidth)
	if err != nil {
		return nil, prefix("field "+f.Name+" low", err)
	}
	hi, err := EncodeValue(m.high, f.Bitwidth)
	if err != nil {
		return nil, prefix("field "+f.Name+" high", err)
	}
	if cmpBytes(lo, hi) > 0 {
		return nil, invalidArg("field %s: range low 0x%x > high 0x%x", yamlerr.Quote(f.Name), lo, hi)
	}
	if isZero(lo) && isAllOnes(hi, f.Bitwidth) {
		return nil, nil
	}
	x := &struct {
		fm p4v1.FieldMatch
		w  p4v1.FieldMatch_Range_
		m  p4v1.FieldMatch_Range
	}{}
	x.m.Low, x.m.High = lo, hi
	x.w.Range = &x.m
	x.fm.FieldId, x.fm.FieldMatchType = f.Id, &x.w
	return &x.fm, nil
}

func (m optionalMatch) encode(f *p4configv1.MatchField) (*p4v1.FieldMatch, error) {
	if f.GetMatchType() != p4configv1.MatchField_OPTIONAL {
		return nil, kindErr(f, "OPTIONAL")
	}
	if m.v == nil {
		return nil, nil
	}
	v, err := EncodeValue(m.v, f.Bitwidth)
	if err != nil {
		return nil, prefix("field "+f.Name, err)
	}
	return &p4v1.FieldMatch{FieldId: f.Id, FieldMatchType: &p4v1.FieldMatch_Optional_{Optional: &p4v1.FieldMatch_Optional{Value: v}}}, nil
}

// ActionParam is one argument of an ActionCall.
type ActionParam struct {
	Name  string
	Value any
}

// Param names an action argument: Param("port", 3).
func Param(name string, v any) ActionParam { return ActionParam{Name: name, Value: v} }

// ActionCall is an action with its arguments, by name. It is also an
// EntryAction for direct tables.
type ActionCall struct {
	Name   string
	Params []ActionParam
}

// Action builds an ActionCall: Action("set_class", Param("class_id", 3)).
func Action(name string, params ...ActionParam) ActionCall {
	return ActionCall{Name: name, Params: params}
}

// build resolves the call against the schema; every parameter of the action
// must be given exactly once (§9.1.2: no default parameter values).
func (c ActionCall) build(s *Schema) (*p4v1.Action, error) {
	a, err := s.Action(c.Name)
	if err != nil {
		return nil, lookupErr(err)
	}
	ai := s.actionInfo[a.Preamble.Id]
	// The action, its parameter pointers and the parameters themselves
	// share two allocations.
	out := &p4v1.Action{ActionId: a.Preamble.Id, Params: make([]*p4v1.Action_Param, 0, len(c.Params))}
	params := make([]p4v1.Action_Param, len(c.Params))
	// seen is indexed by parameter position; a stack array covers actions
	// of up to 16 parameters without allocating.
	var seenBuf [16]bool
	var seen []bool
	if len(a.Params) > len(seenBuf) {
		seen = make([]bool, len(a.Params))
	} else {
		seen = seenBuf[:len(a.Params)]
	}
	for i, p := range c.Params {
		pi, ok := ai.paramByNam[p.Name]
		if !ok {
			return nil, invalidArg("action %s has no parameter %s", yamlerr.Quote(a.Preamble.Name), yamlerr.Quote(p.Name))
		}
		pos := ai.paramPos[pi.Id]
		if seen[pos] {
			return nil, invalidArg("action %s: parameter %s given twice", yamlerr.Quote(a.Preamble.Name), yamlerr.Quote(p.Name))
		}
		seen[pos] = true
		v, err := EncodeValue(p.Value, pi.Bitwidth)
		if err != nil {
			return nil, prefix(fmt.Sprintf("action %s parameter %s", yamlerr.Quote(a.Preamble.Name), yamlerr.Quote(p.Name)), err)
		}
		params[i].ParamId, params[i].Value = pi.Id, v
		out.Params = append(out.Params, &params[i])
	}
	for i, pi := range a.Params {
		if !seen[i] {
			return nil, invalidArg("action %s: missing parameter %s", yamlerr.Quote(a.Preamble.Name), yamlerr.Quote(pi.Name))
		}
	}
	return out, nil
}

// EntryAction is what a table entry executes: an ActionCall (direct
// tables), Member or Group (indirect tables), or ActionSet (one-shot
// selector programming, §9.2.3).
type EntryAction interface {
	tableAction(s *Schema) (*p4v1.TableAction, error)
}

func (c ActionCall) tableAction(s *Schema) (*p4v1.TableAction, error) {
	a, err := c.build(s)
	if err != nil {
		return nil, err
	}
	return &p4v1.TableAction{Type: &p4v1.TableAction_Action{Action: a}}, nil
}

type memberRef uint32

func (m memberRef) tableAction(*Schema) (*p4v1.TableAction, error) {
	return &p4v1.TableAction{Type: &p4v1.TableAction_ActionProfileMemberId{ActionProfileMemberId: uint32(m)}}, nil
}

type groupRef uint32

func (g groupRef) tableAction(*Schema) (*p4v1.TableAction, error) {
	return &p4v1.TableAction{Type: &p4v1.TableAction_ActionProfileGroupId{ActionProfileGroupId: uint32(g)}}, nil
}

// Member points an indirect table entry at action profile member id.
func Member(id uint32) EntryAction { return memberRef(id) }

// Group points an indirect table entry at action selector group id.
func Group(id uint32) EntryAction { return groupRef(id) }

// WeightedAction is one action of a one-shot action set.
type WeightedAction struct {
	Action ActionCall
	// Weight must be > 0 unless the profile disallows weights (then 0).
	Weight int32
	// WatchPort is an optional SDN port whose liveness gates the member.
	WatchPort []byte
}

type actionSet []WeightedAction

// ActionSet programs a selector table entry in one shot (§9.2.3): the
// server creates the members and the group behind the scenes.
func ActionSet(actions ...WeightedAction) EntryAction { return actionSet(actions) }

func (as actionSet) tableAction(s *Schema) (*p4v1.TableAction, error) {
	set := &p4v1.ActionProfileActionSet{ActionProfileActions: make([]*p4v1.ActionProfileAction, 0, len(as))}
	for _, wa := range as {
		a, err := wa.Action.build(s)
		if err != nil {
			return nil, err
		}
		apa := &p4v1.ActionProfileAction{Action: a, Weight: wa.Weight}
		if len(wa.WatchPort) > 0 {
			apa.WatchKind = &p4v1.ActionProfileAction_WatchPort{WatchPort: wa.WatchPort}
		}
		set.ActionProfileActions = append(set.ActionProfileActions, apa)
	}
	return &p4v1.TableAction{Type: &p4v1.TableAction_ActionProfileActionSet{ActionProfileActionSet: set}}, nil
}

// MeterConfig is a trTCM configuration (RFC 2698) in the meter's unit:
// bytes/s and bytes for BYTES meters, packets/s and packets for PACKETS
// meters. EBurst is only for srTCM meters. A nil *MeterConfig means "reset
// to default" (all packets green, §9.4.2).
type MeterConfig struct {
	CIR, CBurst, PIR, PBurst, EBurst int64
}

// Proto converts to the P4Runtime message; nil stays nil.
func (c *MeterConfig) Proto() *p4v1.MeterConfig {
	if c == nil {
		return nil
	}
	return &p4v1.MeterConfig{Cir: c.CIR, Cburst: c.CBurst, Pir: c.PIR, Pburst: c.PBurst, Eburst: c.EBurst}
}

// EntryOption sets optional fields of a table entry.
type EntryOption func(*entryOptions)

type entryOptions struct {
	priority    int32
	isDefault   bool
	metadata    []byte
	meterConfig *MeterConfig
	idleTimeout int64
}

// Priority sets the entry priority (required, > 0, iff the table has
// ternary, range or optional key fields).
func Priority(p int32) EntryOption { return func(o *entryOptions) { o.priority = p } }

// AsDefault makes the entry the table's default entry: no matches, priority
// 0, MODIFY only (§9.1.3). A nil action resets the default to the P4
// program's.
func AsDefault() EntryOption { return func(o *entryOptions) { o.isDefault = true } }

// Metadata sets the opaque metadata cookie stored with the entry.
func Metadata(b []byte) EntryOption { return func(o *entryOptions) { o.metadata = b } }

// WithMeterConfig sets the direct meter configuration of the entry (the
// table must have a direct meter).
func WithMeterConfig(c *MeterConfig) EntryOption { return func(o *entryOptions) { o.meterConfig = c } }

// IdleTimeout sets idle_timeout_ns (the table must support idle timeout).
func IdleTimeout(ns int64) EntryOption { return func(o *entryOptions) { o.idleTimeout = ns } }

// TableEntry builds and validates a table entry. action may be nil for the
// key-only entries used by DELETE and reads, and for resetting a default
// entry.
func (s *Schema) TableEntry(table string, matches []Match, action EntryAction, opts ...EntryOption) (*p4v1.TableEntry, error) {
	te, err := s.tableKey(table, matches, opts...)
	if err != nil {
		return nil, err
	}
	var o entryOptions
	for _, opt := range opts {
		opt(&o)
	}
	if action != nil {
		if te.Action, err = action.tableAction(s); err != nil {
			return nil, prefix("table "+s.Name(te.TableId), err)
		}
	}
	te.Metadata = o.metadata
	te.MeterConfig = o.meterConfig.Proto()
	te.IdleTimeoutNs = o.idleTimeout
	if err := s.validateTableEntry(te, action == nil); err != nil {
		return nil, err
	}
	return te, nil
}

// tableKey builds the identifying part of an entry: table, matches,
// priority, default flag. Matches come out in P4Info key order.
func (s *Schema) tableKey(table string, matches []Match, opts ...EntryOption) (*p4v1.TableEntry, error) {
	t, err := s.Table(table)
	if err != nil {
		return nil, lookupErr(err)
	}
	ti := s.tableInfo[t.Preamble.Id]
	var o entryOptions
	for _, opt := range opts {
		opt(&o)
	}
	te := &p4v1.TableEntry{TableId: t.Preamble.Id, Priority: o.priority, IsDefaultAction: o.isDefault}
	if len(matches) > 0 {
		// One slot per key field, in P4Info order; given[i] catches a field
		// named twice even when its match is a don't-care (nil slot).
		slots := make([]*p4v1.FieldMatch, len(t.MatchFields))
		var givenBuf [16]bool
		var given []bool
		if len(slots) > len(givenBuf) {
			given = make([]bool, len(slots))
		} else {
			given = givenBuf[:len(slots)]
		}
		for _, m := range matches {
			f, err := ti.field(m.Field())
			if err != nil {
				return nil, lookupErr(err)
			}
			pos := ti.fieldPos[f.Id]
			if given[pos] {
				return nil, invalidArg("table %s: match field %s given twice", yamlerr.Quote(t.Preamble.Name), yamlerr.Quote(f.Name))
			}
			given[pos] = true
			if slots[pos], err = m.encode(f); err != nil {
				return nil, prefix("table "+t.Preamble.Name, err)
			}
		}
		n := 0
		for _, fm := range slots {
			if fm != nil {
				slots[n] = fm
				n++
			}
		}
		if n > 0 {
			te.Match = slots[:n:n]
		}
	}
	return te, nil
}

// DirectMeterEntry builds the MODIFY-only entry that configures the direct
// meter of the table entry with the given key (cfg nil resets it). opts
// may carry Priority.
func (s *Schema) DirectMeterEntry(table string, matches []Match, cfg *MeterConfig, opts ...EntryOption) (*p4v1.DirectMeterEntry, error) {
	te, err := s.tableKey(table, matches, opts...)
	if err != nil {
		return nil, err
	}
	e := &p4v1.DirectMeterEntry{TableEntry: te, Config: cfg.Proto()}
	if err := s.validateDirectMeterEntry(e); err != nil {
		return nil, err
	}
	return e, nil
}

// DirectCounterEntry builds a DirectCounterEntry for the table entry with
// the given key; data nil reads (or leaves unchanged on MODIFY).
func (s *Schema) DirectCounterEntry(table string, matches []Match, data *p4v1.CounterData, opts ...EntryOption) (*p4v1.DirectCounterEntry, error) {
	te, err := s.tableKey(table, matches, opts...)
	if err != nil {
		return nil, err
	}
	e := &p4v1.DirectCounterEntry{TableEntry: te, Data: data}
	if err := s.validateDirectCounterEntry(e); err != nil {
		return nil, err
	}
	return e, nil
}

// MeterEntry builds the MODIFY-only entry that configures cell index of an
// indirect meter; cfg nil resets the cell to default (§9.4.2). A negative
// index omits the index: the write applies to every cell.
func (s *Schema) MeterEntry(meter string, index int64, cfg *MeterConfig) (*p4v1.MeterEntry, error) {
	m, err := s.Meter(meter)
	if err != nil {
		return nil, lookupErr(err)
	}
	e := &p4v1.MeterEntry{MeterId: m.Preamble.Id, Config: cfg.Proto()}
	if index >= 0 {
		e.Index = &p4v1.Index{Index: index}
	}
	if err := s.validateMeterEntry(e); err != nil {
		return nil, err
	}
	return e, nil
}

// CounterEntry builds an indirect counter entry for reads (and, with Data
// set by the caller, MODIFY). A negative index is a wildcard over all cells.
func (s *Schema) CounterEntry(counter string, index int64) (*p4v1.CounterEntry, error) {
	c, err := s.Counter(counter)
	if err != nil {
		return nil, lookupErr(err)
	}
	e := &p4v1.CounterEntry{CounterId: c.Preamble.Id}
	if index >= 0 {
		e.Index = &p4v1.Index{Index: index}
	}
	if err := s.validateCounterEntry(e); err != nil {
		return nil, err
	}
	return e, nil
}

// GroupMember is one member of an action selector group.
type GroupMember struct {
	ID     uint32
	Weight int32
	// WatchPort is an optional SDN port whose liveness gates the member.
	WatchPort []byte
}

// ActionProfileMember builds member id of profile bound to action.
func (s *Schema) ActionProfileMember(profile string, id uint32, action ActionCall) (*p4v1.ActionProfileMember, error) {
	p, err := s.ActionProfile(profile)
	if err != nil {
		return nil, lookupErr(err)
	}
	a, err := action.build(s)
	if err != nil {
		return nil, prefix("action profile "+p.Preamble.Name, err)
	}
	m := &p4v1.ActionProfileMember{ActionProfileId: p.Preamble.Id, MemberId: id, Action: a}
	if err := s.validateMember(m); err != nil {
		return nil, err
	}
	return m, nil
}

// ActionProfileGroup builds group id of a selector with the given members
// and max_size (§9.2.2: 0 < maxSize <= max_group_size when the P4Info sets
// one).
func (s *Schema) ActionProfileGroup(profile string, id uint32, members []GroupMember, maxSize int32) (*p4v1.ActionProfileGroup, error) {
	p, err := s.ActionProfile(profile)
	if err != nil {
		return nil, lookupErr(err)
	}
	g := &p4v1.ActionProfileGroup{ActionProfileId: p.Preamble.Id, GroupId: id, MaxSize: maxSize,
		Members: make([]*p4v1.ActionProfileGroup_Member, 0, len(members))}
	for _, m := range members {
		gm := &p4v1.ActionProfileGroup_Member{MemberId: m.ID, Weight: m.Weight}
		if len(m.WatchPort) > 0 {
			gm.WatchKind = &p4v1.ActionProfileGroup_Member_WatchPort{WatchPort: m.WatchPort}
		}
		g.Members = append(g.Members, gm)
	}
	if err := s.validateGroup(g); err != nil {
		return nil, err
	}
	return g, nil
}

// EntityOf wraps a *p4v1.TableEntry, *p4v1.MeterEntry,
// *p4v1.DirectMeterEntry, *p4v1.CounterEntry, *p4v1.DirectCounterEntry,
// *p4v1.ActionProfileMember or *p4v1.ActionProfileGroup in an Entity. It
// returns nil for any other message.
func EntityOf(m proto.Message) *p4v1.Entity {
	switch x := m.(type) {
	case *p4v1.Entity:
		return x
	case *p4v1.TableEntry:
		return &p4v1.Entity{Entity: &p4v1.Entity_TableEntry{TableEntry: x}}
	case *p4v1.MeterEntry:
		return &p4v1.Entity{Entity: &p4v1.Entity_MeterEntry{MeterEntry: x}}
	case *p4v1.DirectMeterEntry:
		return &p4v1.Entity{Entity: &p4v1.Entity_DirectMeterEntry{DirectMeterEntry: x}}
	case *p4v1.CounterEntry:
		return &p4v1.Entity{Entity: &p4v1.Entity_CounterEntry{CounterEntry: x}}
	case *p4v1.DirectCounterEntry:
		return &p4v1.Entity{Entity: &p4v1.Entity_DirectCounterEntry{DirectCounterEntry: x}}
	case *p4v1.ActionProfileMember:
		return &p4v1.Entity{Entity: &p4v1.Entity_ActionProfileMember{ActionProfileMember: x}}
	case *p4v1.ActionProfileGroup:
		return &p4v1.Entity{Entity: &p4v1.Entity_ActionProfileGroup{ActionProfileGroup: x}}
	}
	return nil
}

package tables

import (
	"fmt"

	p4configv1 "github.com/p4lang/p4runtime/go/p4/config/v1"
	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/grpc/codes"

	"github.com/p4qos/p4qos/internal/yamlerr"
)

// ValidateEntity checks the shape of an entity to be written with INSERT or
// MODIFY, as a conforming P4Runtime v1.5 server does, and returns a
// *ValidationError with the code the spec prescribes. It does not check
// state (whether a member exists, whether the table is full): that is the
// server's job. Bytestrings that are too wide or empty are OutOfRange
// (§8.3); all other shape errors are InvalidArgument (§9.1.1, §9.1.2),
// including unknown object IDs (the PI reference server's answer; the
// error also wraps ErrNotFound); a scope violation is PermissionDenied.
// Builders differ on one point: an unknown *name* is NotFound, a failed
// lookup in the P4Info rather than a malformed request.
//
// Supported entities: table entries, action profile members and groups,
// meter, direct meter, counter and direct counter entries; others are
// Unimplemented.
func (s *Schema) ValidateEntity(e *p4v1.Entity) error {
	switch x := e.GetEntity().(type) {
	case *p4v1.Entity_TableEntry:
		return s.validateTableEntry(x.TableEntry, false)
	case *p4v1.Entity_ActionProfileMember:
		return s.validateMember(x.ActionProfileMember)
	case *p4v1.Entity_ActionProfileGroup:
		return s.validateGroup(x.ActionProfileGroup)
	case *p4v1.Entity_MeterEntry:
		return s.validateMeterEntry(x.MeterEntry)
	case *p4v1.Entity_DirectMeterEntry:
		return s.validateDirectMeterEntry(x.DirectMeterEntry)
	case *p4v1.Entity_CounterEntry:
		return s.validateCounterEntry(x.CounterEntry)
	case *p4v1.Entity_DirectCounterEntry:
		return s.validateDirectCounterEntry(x.DirectCounterEntry)
	case nil:
		return invalidArg("entity not set")
	default:
		return &ValidationError{Code: codes.Unimplemented, Msg: fmt.Sprintf("entity type %T not supported", x)}
	}
}

// ValidateUpdate applies ValidateEntity plus the rules that depend on the
// update type:
//   - meter, direct meter, counter and direct counter entries are MODIFY
//     only (§9.3, §9.4);
//   - the default entry is MODIFY only, and a constant default action or the
//     default of an indirect table cannot be modified, not even reset
//     (§9.1.3: PermissionDenied);
//   - entries of const tables cannot be written except to MODIFY direct
//     resources (§9.1.4: PermissionDenied);
//   - INSERT of a table entry and INSERT/MODIFY of a member need an action;
//   - DELETE looks only at the key (table, match, priority, default flag;
//     profile and member or group id): every other field is ignored (§9.1).
func (s *Schema) ValidateUpdate(u *p4v1.Update) error {
	e := u.GetEntity()
	switch u.GetType() {
	case p4v1.Update_INSERT, p4v1.Update_MODIFY, p4v1.Update_DELETE:
	default:
		return invalidArg("update type %s", u.GetType())
	}
	switch x := e.GetEntity().(type) {
	case *p4v1.Entity_MeterEntry, *p4v1.Entity_DirectMeterEntry, *p4v1.Entity_CounterEntry, *p4v1.Entity_DirectCounterEntry:
		if u.Type != p4v1.Update_MODIFY {
			return invalidArg("%s of %s: only MODIFY is allowed", u.Type, entityKind(e))
		}
		// Direct resources of const-table entries may be modified too
		// (§9.1.4), so there is no const check here.
		return s.ValidateEntity(e)
	case *p4v1.Entity_TableEntry:
		te := x.TableEntry
		if te.GetIsConst() {
			return invalidArg("is_const must be false in writes")
		}
		if te.GetIsDefaultAction() && u.Type != p4v1.Update_MODIFY {
			return invalidArg("%s of the default entry: only MODIFY is allowed (§9.1.3)", u.Type)
		}
		if u.Type == p4v1.Update_DELETE {
			return s.validateTableEntry(te, true)
		}
		if err := s.validateTableEntry(te, false); err != nil {
			return err
		}
		ti := s.tableInfo[te.TableId]
		if te.IsDefaultAction {
			// Even a reset (no action) is a modification attempt (§9.1.3).
			if !defaultModifiable(ti) {
				return &ValidationError{Code: codes.PermissionDenied, Msg: fmt.Sprintf("table %s: the default action is constant (§9.1.3)", yamlerr.Quote(ti.t.Preamble.Name))}
			}
			return nil
		}
		if ti.t.IsConstTable {
			if u.Type == p4v1.Update_INSERT || te.Action != nil {
				return &ValidationError{Code: codes.PermissionDenied, Msg: fmt.Sprintf("table %s is const", yamlerr.Quote(ti.t.Preamble.Name))}
			}
		}
		if u.Type == p4v1.Update_INSERT && te.Action == nil {
			return invalidArg("table %s: INSERT needs an action", yamlerr.Quote(ti.t.Preamble.Name))
		}
		return nil
	case *p4v1.Entity_ActionProfileMember:
		m := x.ActionProfileMember
		if u.Type == p4v1.Update_DELETE {
			return s.validateMemberKey(m)
		}
		if m.Action == nil {
			return invalidArg("%s of member %d: action is required", u.Type, m.MemberId)
		}
		return s.validateMember(m)
	case *p4v1.Entity_ActionProfileGroup:
		g := x.ActionProfileGroup
		if u.Type == p4v1.Update_DELETE {
			_, err := s.selectorForGroup(g)
			return err
		}
		return s.validateGroup(g)
	default:
		return s.ValidateEntity(e)
	}
}

// defaultModifiable reports whether the client may MODIFY the table's
// default entry: not when the P4 program declares it const, and not for
// indirect tables, whose default v1.x restricts to a constant NoAction
// (§9.1.3).
func defaultModifiable(ti *tableInfo) bool {
	return ti.t.ConstDefaultActionId == 0 && ti.profile == nil
}

// validateTableEntry checks a table entry; keyOnly skips everything but the
// identifying fields (DELETE, and the table_entry inside direct resources).
func (s *Schema) validateTableEntry(te *p4v1.TableEntry, keyOnly bool) error {
	if te == nil {
		return invalidArg("table entry not set")
	}
	ti := s.tableInfo[te.TableId]
	if ti == nil {
		return unknownID("unknown table id %d", te.TableId)
	}
	name := ti.t.Preamble.Name
	if err := s.validateKey(ti, te); err != nil {
		return err
	}
	if keyOnly {
		return nil
	}
	if te.Action != nil {
		if err := s.validateTableAction(ti, te.Action, te.IsDefaultAction); err != nil {
			return prefix("table "+name, err)
		}
	}
	if te.MeterConfig != nil {
		if ti.directMeter == 0 {
			return invalidArg("table %s has no direct meter but the entry sets meter_config", yamlerr.Quote(name))
		}
		if err := checkMeterConfig(s.directMeters.byID[ti.directMeter].GetSpec(), te.MeterConfig); err != nil {
			return prefix("table "+name, err)
		}
	}
	if te.MeterCounterData != nil && ti.directMeter == 0 {
		return invalidArg("table %s has no direct meter but the entry sets meter_counter_data", yamlerr.Quote(name))
	}
	if te.CounterData != nil && ti.directCount == 0 {
		return invalidArg("table %s has no direct counter but the entry sets counter_data", yamlerr.Quote(name))
	}
	if te.IdleTimeoutNs != 0 {
		if ti.t.IdleTimeoutBehavior != p4configv1.Table_NOTIFY_CONTROL {
			return invalidArg("table %s does not support idle timeout", yamlerr.Quote(name))
		}
		if te.IdleTimeoutNs < 0 {
			return invalidArg("table %s: negative idle_timeout_ns", yamlerr.Quote(name))
		}
	}
	return nil
}

// validateKey checks match fields, priority and the default-entry flag
// (§9.1, §9.1.1, §9.1.3).
func (s *Schema) validateKey(ti *tableInfo, te *p4v1.TableEntry) error {
	name := ti.t.Preamble.Name
	if te.IsDefaultAction {
		if len(te.Match) != 0 || te.Priority != 0 {
			return invalidArg("table %s: the default entry must have no match and priority 0", yamlerr.Quote(name))
		}
		return nil
	}
	if len(ti.t.MatchFields) == 0 {
		return invalidArg("table %s is keyless: only its default entry can be written", yamlerr.Quote(name))
	}
	var seen [8]uint32 // most tables have few fields; avoids a map per entry
	seenIDs := seen[:0]
	for _, fm := range te.Match {
		f := ti.fields[fm.GetFieldId()]
		if f == nil {
			return invalidArg("table %s has no match field id %d", yamlerr.Quote(name), fm.GetFieldId())
		}
		for _, id := range seenIDs {
			if id == f.Id {
				return invalidArg("table %s: match field %s given twice", yamlerr.Quote(name), yamlerr.Quote(f.Name))
			}
		}
		seenIDs = append(seenIDs, f.Id)
		if err := checkFieldMatch(f, fm); err != nil {
			return prefix(fmt.Sprintf("table %s field %s", yamlerr.Quote(name), yamlerr.Quote(f.Name)), err)
		}
	}
	for _, f := range ti.t.MatchFields {
		if f.GetMatchType() != p4configv1.MatchField_EXACT {
			continue
		}
		found := false
		for _, id := range seenIDs {
			if id == f.Id {
				found = true
				break
			}
		}
		if !found {
			return invalidArg("table %s: exact field %s must be present (§9.1.1)", yamlerr.Quote(name), yamlerr.Quote(f.Name))
		}
	}
	if ti.needsPrio && te.Priority <= 0 {
		return invalidArg("table %s has ternary/range/optional fields: priority must be > 0, got %d", yamlerr.Quote(name), te.Priority)
	}
	if !ti.needsPrio && te.Priority != 0 {
		return invalidArg("table %s has no ternary/range/optional fields: priority must be 0, got %d", yamlerr.Quote(name), te.Priority)
	}
	return nil
}

// checkFieldMatch applies the per-match-kind rules of §9.1.1.
func checkFieldMatch(f *p4configv1.MatchField, fm *p4v1.FieldMatch) error {
	w := f.Bitwidth
	want := f.GetMatchType()
	switch m := fm.FieldMatchType.(type) {
	case *p4v1.FieldMatch_Exact_:
		if want != p4configv1.MatchField_EXACT {
			return invalidArg("is %s, got EXACT", want)
		}
		return checkBytestring("value", m.Exact.GetValue(), w)
	case *p4v1.FieldMatch_Lpm:
		if want != p4configv1.MatchField_LPM {
			return invalidArg("is %s, got LPM", want)
		}
		v := m.Lpm.GetValue()
		if err := checkBytestring("value", v, w); err != nil {
			return err
		}
		plen := m.Lpm.GetPrefixLen()
		if plen <= 0 {
			return invalidArg("LPM prefix_len %d: a /0 is a don't-care and must be omitted", plen)
		}
		if plen > w {
			return invalidArg("LPM prefix_len %d > bitwidth %d", plen, w)
		}
		if !isZero(v) && trailingZeros(v) < int(w-plen) {
			return invalidArg("LPM value 0x%x has bits set beyond prefix_len %d", v, plen)
		}
	case *p4v1.FieldMatch_Ternary_:
		if want != p4configv1.MatchField_TERNARY {
			return invalidArg("is %s, got TERNARY", want)
		}
		v, mask := m.Ternary.GetValue(), m.Ternary.GetMask()
		if err := checkBytestring("value", v, w); err != nil {
			return err
		}
		if err := checkBytestring("mask", mask, w); err != nil {
			return err
		}
		if isZero(mask) {
			return invalidArg("ternary mask 0 is a don't-care and must be omitted")
		}
		if !withinMask(v, mask) {
			return invalidArg("ternary value 0x%x has bits outside mask 0x%x", v, mask)
		}
	case *p4v1.FieldMatch_Range_:
		if want != p4configv1.MatchField_RANGE {
			return invalidArg("is %s, got RANGE", want)
		}
		lo, hi := m.Range.GetLow(), m.Range.GetHigh()
		if err := checkBytestring("low", lo, w); err != nil {
			return err
		}
		if err := checkBytestring("high", hi, w); err != nil {
			return err
		}
		if cmpBytes(lo, hi) > 0 {
			return invalidArg("range low 0x%x > high 0x%x", lo, hi)
		}
		if isZero(lo) && isAllOnes(hi, w) {
			return invalidArg("range covering the whole field is a don't-care and must be omitted")
		}
	case *p4v1.FieldMatch_Optional_:
		if want != p4configv1.MatchField_OPTIONAL {
			return invalidArg("is %s, got OPTIONAL", want)
		}
		return checkBytestring("value", m.Optional.GetValue(), w)
	case nil:
		return invalidArg("field_match_type not set")
	default:
		return &ValidationError{Code: codes.Unimplemented, Msg: "non-PSA match type"}
	}
	return nil
}

// validateTableAction checks the TableAction oneof against the table's
// implementation (§9.1.2) and the action against the table's action refs.
func (s *Schema) validateTableAction(ti *tableInfo, ta *p4v1.TableAction, isDefault bool) error {
	switch x := ta.Type.(type) {
	case *p4v1.TableAction_Action:
		if ti.profile != nil {
			return invalidArg("indirect table needs a member, group or action set, not a direct action")
		}
		return s.checkAction(ti, x.Action, isDefault)
	case *p4v1.TableAction_ActionProfileMemberId:
		if ti.profile == nil {
			return invalidArg("direct table cannot use action profile member id %d", x.ActionProfileMemberId)
		}
		if isDefault {
			return &ValidationError{Code: codes.PermissionDenied, Msg: "the default entry of an indirect table is constant (§9.1.3)"}
		}
		if x.ActionProfileMemberId == 0 {
			return invalidArg("member id 0")
		}
	case *p4v1.TableAction_ActionProfileGroupId:
		if ti.profile == nil || !ti.profile.WithSelector {
			return invalidArg("group id %d needs a table implemented by an action selector", x.ActionProfileGroupId)
		}
		if isDefault {
			return &ValidationError{Code: codes.PermissionDenied, Msg: "the default entry of an indirect table is constant (§9.1.3)"}
		}
		if x.ActionProfileGroupId == 0 {
			return invalidArg("group id 0")
		}
	case *p4v1.TableAction_ActionProfileActionSet:
		if ti.profile == nil || !ti.profile.WithSelector {
			return invalidArg("action set needs a table implemented by an action selector (§9.2.3)")
		}
		if isDefault {
			return &ValidationError{Code: codes.PermissionDenied, Msg: "the default entry of an indirect table is constant (§9.1.3)"}
		}
		set := x.ActionProfileActionSet.GetActionProfileActions()
		if len(set) == 0 {
			return invalidArg("empty action set")
		}
		for i, apa := range set {
			if err := s.checkAction(ti, apa.GetAction(), false); err != nil {
				return prefix(fmt.Sprintf("action set [%d]", i), err)
			}
			if err := checkWeight(ti.profile, apa.Weight); err != nil {
				return prefix(fmt.Sprintf("action set [%d]", i), err)
			}
		}
	case nil:
		return invalidArg("table action set but empty")
	}
	return nil
}

func checkWeight(p *p4configv1.ActionProfile, w int32) error {
	if p.WeightsDisallowed {
		if w != 0 {
			return invalidArg("weight %d: profile %s disallows weights", w, yamlerr.Quote(p.Preamble.Name))
		}
		return nil
	}
	if w <= 0 {
		return invalidArg("weight %d must be > 0", w)
	}
	return nil
}

// checkAction validates an action against the table's refs, scope and the
// action's parameters (§9.1.2). ti nil skips the table checks.
func (s *Schema) checkAction(ti *tableInfo, a *p4v1.Action, isDefault bool) error {
	if a == nil {
		return invalidArg("action not set")
	}
	ai := s.actionInfo[a.ActionId]
	if ai == nil {
		return invalidArg("unknown action id %d", a.ActionId)
	}
	aname := ai.a.Preamble.Name
	if ti != nil {
		scope, ok := ti.actions[a.ActionId]
		if !ok {
			return invalidArg("action %s is not an action of the table", yamlerr.Quote(aname))
		}
		if isDefault && scope == p4configv1.ActionRef_TABLE_ONLY {
			return &ValidationError{Code: codes.PermissionDenied, Msg: fmt.Sprintf("action %s is TABLE_ONLY, cannot be the default", yamlerr.Quote(aname))}
		}
		if !isDefault && scope == p4configv1.ActionRef_DEFAULT_ONLY {
			return &ValidationError{Code: codes.PermissionDenied, Msg: fmt.Sprintf("action %s is DEFAULT_ONLY", yamlerr.Quote(aname))}
		}
	}
	if len(a.Params) != len(ai.a.Params) {
		return invalidArg("action %s takes %d parameters, got %d", yamlerr.Quote(aname), len(ai.a.Params), len(a.Params))
	}
	for i, p := range a.Params {
		pi := ai.params[p.ParamId]
		if pi == nil {
			return invalidArg("action %s has no parameter id %d", yamlerr.Quote(aname), p.ParamId)
		}
		for _, q := range a.Params[:i] {
			if q.ParamId == p.ParamId {
				return invalidArg("action %s: parameter %s given twice", yamlerr.Quote(aname), yamlerr.Quote(pi.Name))
			}
		}
		if err := checkBytestring("value", p.Value, pi.Bitwidth); err != nil {
			return prefix(fmt.Sprintf("action %s parameter %s", yamlerr.Quote(aname), yamlerr.Quote(pi.Name)), err)
		}
	}
	return nil
}

// checkMeterConfig applies §9.4 per meter type; negative rates and bursts
// are rejected as well (the spec has no meaning for them).
func checkMeterConfig(spec *p4configv1.MeterSpec, c *p4v1.MeterConfig) error {
	if c == nil {
		return nil
	}
	if c.Cir < 0 || c.Cburst < 0 || c.Pir < 0 || c.Pburst < 0 || c.Eburst < 0 {
		return invalidArg("meter config has negative values: %v", c)
	}
	switch spec.GetType() {
	case p4configv1.MeterSpec_TWO_RATE_THREE_COLOR:
		if c.Eburst != 0 {
			return invalidArg("trTCM meter: eburst must be unset")
		}
		// RFC 2698 §1: "The PIR must be equal to or greater than the CIR";
		// BMv2 rejects it too (Meter::set_rates, INVALID_INFO_RATE_VALUE).
		if c.Pir < c.Cir {
			return invalidArg("trTCM meter: pir %d < cir %d (RFC 2698)", c.Pir, c.Cir)
		}
	case p4configv1.MeterSpec_SINGLE_RATE_THREE_COLOR:
		if c.Pir != c.Cir || c.Pburst != c.Cburst {
			return invalidArg("srTCM meter: pir/pburst must equal cir/cburst")
		}
	case p4configv1.MeterSpec_SINGLE_RATE_TWO_COLOR:
		if c.Pir != c.Cir || c.Pburst != c.Cburst || c.Eburst != 0 {
			return invalidArg("single-rate two-color meter: pir/pburst must equal cir/cburst and eburst be unset")
		}
	}
	return nil
}

func checkMeterCounterData(d *p4v1.MeterCounterData) error {
	if d == nil {
		return nil
	}
	for _, c := range []*p4v1.CounterData{d.Green, d.Yellow, d.Red} {
		if c.GetByteCount() != 0 || c.GetPacketCount() != 0 {
			return invalidArg("meter counter_data can only reset counters to 0 (§9.4.1)")
		}
	}
	return nil
}

// checkIndex applies the index rules of §9.3.2/§9.4.2: negative is
// InvalidArgument, beyond the array OutOfRange; nil means all cells.
func checkIndex(kind, name string, idx *p4v1.Index, size int64) error {
	if idx == nil {
		return nil
	}
	if idx.Index < 0 {
		return invalidArg("%s %s: negative index %d", kind, yamlerr.Quote(name), idx.Index)
	}
	if idx.Index >= size {
		return outOfRange("%s %s: index %d, size %d", kind, yamlerr.Quote(name), idx.Index, size)
	}
	return nil
}

func (s *Schema) validateMeterEntry(e *p4v1.MeterEntry) error {
	m := s.meters.byID[e.GetMeterId()]
	if m == nil {
		return unknownID("unknown meter id %d", e.GetMeterId())
	}
	if err := checkIndex("meter", m.Preamble.Name, e.Index, m.Size); err != nil {
		return err
	}
	if err := checkMeterConfig(m.Spec, e.Config); err != nil {
		return prefix("meter "+m.Preamble.Name, err)
	}
	return checkMeterCounterData(e.CounterData)
}

func (s *Schema) validateCounterEntry(e *p4v1.CounterEntry) error {
	c := s.counters.byID[e.GetCounterId()]
	if c == nil {
		return unknownID("unknown counter id %d", e.GetCounterId())
	}
	if err := checkIndex("counter", c.Preamble.Name, e.Index, c.Size); err != nil {
		return err
	}
	if d := e.Data; d != nil && (d.ByteCount < 0 || d.PacketCount < 0) {
		return invalidArg("counter %s: negative counts", yamlerr.Quote(c.Preamble.Name))
	}
	return nil
}

func (s *Schema) validateDirectMeterEntry(e *p4v1.DirectMeterEntry) error {
	te := e.GetTableEntry()
	if err := s.validateTableEntry(te, true); err != nil {
		return err
	}
	ti := s.tableInfo[te.TableId]
	if ti.directMeter == 0 {
		return invalidArg("table %s has no direct meter", yamlerr.Quote(ti.t.Preamble.Name))
	}
	if err := checkMeterConfig(s.directMeters.byID[ti.directMeter].GetSpec(), e.Config); err != nil {
		return prefix("direct meter of "+ti.t.Preamble.Name, err)
	}
	return checkMeterCounterData(e.CounterData)
}

func (s *Schema) validateDirectCounterEntry(e *p4v1.DirectCounterEntry) error {
	te := e.GetTableEntry()
	if err := s.validateTableEntry(te, true); err != nil {
		return err
	}
	ti := s.tableInfo[te.TableId]
	if ti.directCount == 0 {
		return invalidArg("table %s has no direct counter", yamlerr.Quote(ti.t.Preamble.Name))
	}
	if d := e.Data; d != nil && (d.ByteCount < 0 || d.PacketCount < 0) {
		return invalidArg("direct counter of %s: negative counts", yamlerr.Quote(ti.t.Preamble.Name))
	}
	return nil
}

func (s *Schema) validateMemberKey(m *p4v1.ActionProfileMember) error {
	if m == nil {
		return invalidArg("action profile member not set")
	}
	p := s.profiles.byID[m.ActionProfileId]
	if p == nil {
		return unknownID("unknown action profile id %d", m.ActionProfileId)
	}
	if m.MemberId == 0 {
		return invalidArg("action profile %s: member id must be non-zero", yamlerr.Quote(p.Preamble.Name))
	}
	return nil
}

// validateMember checks that the member's action is an action of the tables
// the profile implements (§9.2.1).
func (s *Schema) validateMember(m *p4v1.ActionProfileMember) error {
	if err := s.validateMemberKey(m); err != nil {
		return err
	}
	p := s.profiles.byID[m.ActionProfileId]
	if m.Action == nil {
		return nil
	}
	if err := s.checkAction(nil, m.Action, false); err != nil {
		return prefix("action profile "+p.Preamble.Name, err)
	}
	for _, tid := range p.TableIds {
		ti := s.tableInfo[tid]
		if ti == nil {
			continue
		}
		if _, ok := ti.actions[m.Action.ActionId]; !ok {
			return invalidArg("action profile %s: action %s is not an action of table %s",
				yamlerr.Quote(p.Preamble.Name), yamlerr.Quote(s.Name(m.Action.ActionId)), yamlerr.Quote(ti.t.Preamble.Name))
		}
	}
	return nil
}

func (s *Schema) selectorForGroup(g *p4v1.ActionProfileGroup) (*p4configv1.ActionProfile, error) {
	if g == nil {
		return nil, invalidArg("action profile group not set")
	}
	p := s.profiles.byID[g.ActionProfileId]
	if p == nil {
		return nil, unknownID("unknown action profile id %d", g.ActionProfileId)
	}
	if !p.WithSelector {
		return nil, invalidArg("action profile %s has no selector: groups are not allowed", yamlerr.Quote(p.Preamble.Name))
	}
	if g.GroupId == 0 {
		return nil, invalidArg("action profile %s: group id must be non-zero", yamlerr.Quote(p.Preamble.Name))
	}
	return p, nil
}

// validateGroup applies §9.2.2: unique non-zero members, weights per
// weights_disallowed, max_size per max_group_size, and the members' total
// size (per selector_size_semantics) within max_size.
func (s *Schema) validateGroup(g *p4v1.ActionProfileGroup) error {
	p, err := s.selectorForGroup(g)
	if err != nil {
		return err
	}
	name := p.Preamble.Name
	if p.MaxGroupSize > 0 {
		if g.MaxSize <= 0 || g.MaxSize > p.MaxGroupSize {
			return invalidArg("action profile %s: max_size %d must be in 1..%d", yamlerr.Quote(name), g.MaxSize, p.MaxGroupSize)
		}
	} else if g.MaxSize < 0 {
		return invalidArg("action profile %s: negative max_size %d", yamlerr.Quote(name), g.MaxSize)
	}
	var total int64
	sumOfMembers := p.GetSumOfMembers() != nil
	for i, m := range g.Members {
		if m.MemberId == 0 {
			return invalidArg("action profile %s group %d: member id 0", yamlerr.Quote(name), g.GroupId)
		}
		for _, q := range g.Members[:i] {
			if q.MemberId == m.MemberId {
				return invalidArg("action profile %s group %d: member %d listed twice", yamlerr.Quote(name), g.GroupId, m.MemberId)
			}
		}
		if err := checkWeight(p, m.Weight); err != nil {
			return prefix(fmt.Sprintf("action profile %s group %d member %d", yamlerr.Quote(name), g.GroupId, m.MemberId), err)
		}
		if sumOfMembers || p.WeightsDisallowed {
			total++
		} else {
			total += int64(m.Weight)
		}
	}
	if g.MaxSize > 0 && total > int64(g.MaxSize) {
		return &ValidationError{Code: codes.ResourceExhausted,
			Msg: fmt.Sprintf("action profile %s group %d: members size %d exceeds max_size %d", yamlerr.Quote(name), g.GroupId, total, g.MaxSize)}
	}
	return nil
}

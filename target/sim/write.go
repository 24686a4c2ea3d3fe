package sim

import (
	"math/big"
	"sort"

	p4configv1 "github.com/p4lang/p4runtime/go/p4/config/v1"
	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
)

// apply performs one update of a Write batch. The returned error is a gRPC
// status error whose code becomes the update's p4.Error canonical_code.
func (st *state) apply(u *p4v1.Update) error {
	if u.GetType() == p4v1.Update_UNSPECIFIED {
		return statusf(codes.InvalidArgument, "update type is UNSPECIFIED")
	}
	switch e := u.GetEntity().GetEntity().(type) {
	case *p4v1.Entity_TableEntry:
		return st.writeTableEntry(u.GetType(), e.TableEntry)
	case *p4v1.Entity_ActionProfileMember:
		return st.writeMember(u.GetType(), e.ActionProfileMember)
	case *p4v1.Entity_ActionProfileGroup:
		return st.writeGroup(u.GetType(), e.ActionProfileGroup)
	case *p4v1.Entity_CounterEntry:
		return st.writeCounter(u.GetType(), e.CounterEntry)
	case *p4v1.Entity_MeterEntry:
		return st.writeMeter(u.GetType(), e.MeterEntry)
	case *p4v1.Entity_DirectCounterEntry:
		return st.writeDirectCounter(u.GetType(), e.DirectCounterEntry)
	case *p4v1.Entity_DirectMeterEntry:
		return st.writeDirectMeter(u.GetType(), e.DirectMeterEntry)
	case nil:
		return statusf(codes.InvalidArgument, "update has no entity")
	default:
		return statusf(codes.Unimplemented, "entity type %T is not supported by the sim target", e)
	}
}

// ---- table entries ----

// canonicalMatch validates the match of te against the table (§9.1.1) and
// returns it canonical and sorted by field ID.
func canonicalMatch(ti *tableInfo, match []*p4v1.FieldMatch) ([]*p4v1.FieldMatch, error) {
	out := make([]*p4v1.FieldMatch, 0, len(match))
	seen := map[uint32]bool{}
	for _, m := range match {
		f, ok := ti.fields[m.GetFieldId()]
		if !ok {
			return nil, statusf(codes.InvalidArgument, "table %q has no match field id %d", ti.name, m.GetFieldId())
		}
		if seen[m.GetFieldId()] {
			return nil, statusf(codes.InvalidArgument, "table %q: match field %q given twice", ti.name, f.GetName())
		}
		seen[m.GetFieldId()] = true
		w := f.GetBitwidth()
		what := ti.name + "." + f.GetName()
		cm := &p4v1.FieldMatch{FieldId: m.GetFieldId()}
		switch v := m.GetFieldMatchType().(type) {
		case *p4v1.FieldMatch_Exact_:
			if f.GetMatchType() != p4configv1.MatchField_EXACT {
				return nil, statusf(codes.InvalidArgument, "%s: exact match given for a %v field", what, f.GetMatchType())
			}
			val, err := canonical(v.Exact.GetValue(), w, what)
			if err != nil {
				return nil, err
			}
			cm.FieldMatchType = &p4v1.FieldMatch_Exact_{Exact: &p4v1.FieldMatch_Exact{Value: val}}
		case *p4v1.FieldMatch_Lpm:
			if f.GetMatchType() != p4configv1.MatchField_LPM {
				return nil, statusf(codes.InvalidArgument, "%s: lpm match given for a %v field", what, f.GetMatchType())
			}
			val, err := canonical(v.Lpm.GetValue(), w, what)
			if err != nil {
				return nil, err
			}
			pl := v.Lpm.GetPrefixLen()
			if pl <= 0 || pl > w {
				// §9.1.1: a don't-care LPM (prefix 0) must be omitted.
				return nil, statusf(codes.InvalidArgument, "%s: prefix_len %d not in 1..%d", what, pl, w)
			}
			if trailingZeroBits(val) < int(w-pl) && bitLen(val) > 0 {
				return nil, statusf(codes.InvalidArgument, "%s: value has bits set beyond prefix /%d", what, pl)
			}
			cm.FieldMatchType = &p4v1.FieldMatch_Lpm{Lpm: &p4v1.FieldMatch_LPM{Value: val, PrefixLen: pl}}
		case *p4v1.FieldMatch_Ternary_:
			if f.GetMatchType() != p4configv1.MatchField_TERNARY {
				return nil, statusf(codes.InvalidArgument, "%s: ternary match given for a %v field", what, f.GetMatchType())
			}
			val, err := canonical(v.Ternary.GetValue(), w, what)
			if err != nil {
				return nil, err
			}
			mask, err := canonical(v.Ternary.GetMask(), w, what+" mask")
			if err != nil {
				return nil, err
			}
			bv, bm := toBig(val), toBig(mask)
			if bm.Sign() == 0 {
				return nil, statusf(codes.InvalidArgument, "%s: mask 0 is a don't-care and must be omitted", what)
			}
			if new(big.Int).And(bv, bm).Cmp(bv) != 0 {
				return nil, statusf(codes.InvalidArgument, "%s: value %#x has bits outside mask %#x", what, val, mask)
			}
			cm.FieldMatchType = &p4v1.FieldMatch_Ternary_{Ternary: &p4v1.FieldMatch_Ternary{Value: val, Mask: mask}}
		case *p4v1.FieldMatch_Range_:
			if f.GetMatchType() != p4configv1.MatchField_RANGE {
				return nil, statusf(codes.InvalidArgument, "%s: range match given for a %v field", what, f.GetMatchType())
			}
			lo, err := canonical(v.Range.GetLow(), w, what+" low")
			if err != nil {
				return nil, err
			}
			hi, err := canonical(v.Range.GetHigh(), w, what+" high")
			if err != nil {
				return nil, err
			}
			blo, bhi := toBig(lo), toBig(hi)
			if blo.Cmp(bhi) > 0 {
				return nil, statusf(codes.InvalidArgument, "%s: low %#x > high %#x", what, lo, hi)
			}
			if blo.Sign() == 0 && bhi.Cmp(maxValue(w)) == 0 {
				return nil, statusf(codes.InvalidArgument, "%s: full range is a don't-care and must be omitted", what)
			}
			cm.FieldMatchType = &p4v1.FieldMatch_Range_{Range: &p4v1.FieldMatch_Range{Low: lo, High: hi}}
		case *p4v1.FieldMatch_Optional_:
			if f.GetMatchType() != p4configv1.MatchField_OPTIONAL {
				return nil, statusf(codes.InvalidArgument, "%s: optional match given for a %v field", what, f.GetMatchType())
			}
			val, err := canonical(v.Optional.GetValue(), w, what)
			if err != nil {
				return nil, err
			}
			cm.FieldMatchType = &p4v1.FieldMatch_Optional_{Optional: &p4v1.FieldMatch_Optional{Value: val}}
		default:
			return nil, statusf(codes.InvalidArgument, "%s: no or unsupported match kind set", what)
		}
		out = append(out, cm)
	}
	for _, f := range ti.fieldOrder {
		if f.GetMatchType() == p4configv1.MatchField_EXACT && !seen[f.GetId()] {
			return nil, statusf(codes.InvalidArgument, "table %q: exact field %q cannot be omitted", ti.name, f.GetName())
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].GetFieldId() < out[j].GetFieldId() })
	return out, nil
}

// canonicalAction validates a P4 action call against the allowed set and
// returns it with canonical parameter values sorted by ID (§9.1.2).
func (st *state) canonicalAction(owner string, allowed func(uint32) bool, a *p4v1.Action) (*p4v1.Action, error) {
	ai, ok := st.schema.actions[a.GetActionId()]
	if !ok || !allowed(a.GetActionId()) {
		return nil, statusf(codes.InvalidArgument, "%s: action id %#x is not allowed", owner, a.GetActionId())
	}
	out := &p4v1.Action{ActionId: a.GetActionId()}
	seen := map[uint32]bool{}
	for _, p := range a.GetParams() {
		pi, ok := ai.params[p.GetParamId()]
		if !ok {
			return nil, statusf(codes.InvalidArgument, "%s: action %q has no param id %d", owner, ai.name, p.GetParamId())
		}
		if seen[p.GetParamId()] {
			return nil, statusf(codes.InvalidArgument, "%s: action %q param %q given twice", owner, ai.name, pi.GetName())
		}
		seen[p.GetParamId()] = true
		v, err := canonical(p.GetValue(), pi.GetBitwidth(), ai.name+"."+pi.GetName())
		if err != nil {
			return nil, err
		}
		out.Params = append(out.Params, &p4v1.Action_Param{ParamId: p.GetParamId(), Value: v})
	}
	if len(seen) != len(ai.params) {
		return nil, statusf(codes.InvalidArgument, "%s: action %q needs %d params, got %d", owner, ai.name, len(ai.params), len(seen))
	}
	sort.Slice(out.Params, func(i, j int) bool { return out.Params[i].GetParamId() < out.Params[j].GetParamId() })
	return out, nil
}

// canonicalTableAction validates the action of a table entry.
func (st *state) canonicalTableAction(ti *tableInfo, ta *p4v1.TableAction, isDefault bool) (*p4v1.TableAction, error) {
	switch v := ta.GetType().(type) {
	case *p4v1.TableAction_Action:
		if ti.profile != nil {
			return nil, statusf(codes.InvalidArgument, "table %q is indirect: use a member or group id", ti.name)
		}
		scope, ok := ti.actions[v.Action.GetActionId()]
		if ok && ((isDefault && scope == p4configv1.ActionRef_TABLE_ONLY) || (!isDefault && scope == p4configv1.ActionRef_DEFAULT_ONLY)) {
			// §9.1.2: a valid action used outside its scope.
			return nil, statusf(codes.PermissionDenied, "table %q: action %#x has scope %v", ti.name, v.Action.GetActionId(), scope)
		}
		a, err := st.canonicalAction("table "+ti.name, func(id uint32) bool { _, ok := ti.actions[id]; return ok }, v.Action)
		if err != nil {
			return nil, err
		}
		return &p4v1.TableAction{Type: &p4v1.TableAction_Action{Action: a}}, nil
	case *p4v1.TableAction_ActionProfileMemberId:
		if ti.profile == nil {
			return nil, statusf(codes.InvalidArgument, "table %q is direct: member ids are not allowed", ti.name)
		}
		if _, ok := st.profiles[ti.profile.id].members[v.ActionProfileMemberId]; !ok {
			return nil, statusf(codes.NotFound, "table %q: member %d not in %q", ti.name, v.ActionProfileMemberId, ti.profile.name)
		}
		return &p4v1.TableAction{Type: &p4v1.TableAction_ActionProfileMemberId{ActionProfileMemberId: v.ActionProfileMemberId}}, nil
	case *p4v1.TableAction_ActionProfileGroupId:
		if ti.profile == nil || !ti.profile.selector {
			return nil, statusf(codes.InvalidArgument, "table %q has no action selector: group ids are not allowed", ti.name)
		}
		if _, ok := st.profiles[ti.profile.id].groups[v.ActionProfileGroupId]; !ok {
			return nil, statusf(codes.NotFound, "table %q: group %d not in %q", ti.name, v.ActionProfileGroupId, ti.profile.name)
		}
		return &p4v1.TableAction{Type: &p4v1.TableAction_ActionProfileGroupId{ActionProfileGroupId: v.ActionProfileGroupId}}, nil
	case *p4v1.TableAction_ActionProfileActionSet:
		return nil, statusf(codes.Unimplemented, "one-shot action selector programming is not supported")
	default:
		return nil, statusf(codes.InvalidArgument, "table %q: action has no type set", ti.name)
	}
}

// refs adjusts the reference counts of the member or group an indirect
// table action points to.
func (st *state) refs(ti *tableInfo, ta *p4v1.TableAction, delta int) {
	if ti.profile == nil || ta == nil {
		return
	}
	ps := st.profiles[ti.profile.id]
	switch v := ta.GetType().(type) {
	case *p4v1.TableAction_ActionProfileMemberId:
		if m := ps.members[v.ActionProfileMemberId]; m != nil {
			m.entryRefs += delta
		}
	case *p4v1.TableAction_ActionProfileGroupId:
		if g := ps.groups[v.ActionProfileGroupId]; g != nil {
			g.entryRefs += delta
		}
	}
}

// lookupTable resolves the table of an entry and its canonical key.
func (st *state) lookupTable(te *p4v1.TableEntry) (*tableState, []*p4v1.FieldMatch, error) {
	ts, ok := st.tables[te.GetTableId()]
	if !ok {
		return nil, nil, statusf(codes.InvalidArgument, "unknown table id %#x", te.GetTableId())
	}
	ti := ts.info
	if te.GetIsDefaultAction() {
		if len(te.GetMatch()) > 0 || te.GetPriority() != 0 {
			return nil, nil, statusf(codes.InvalidArgument, "table %q: the default entry has no match and priority 0", ti.name)
		}
		return ts, nil, nil
	}
	match, err := canonicalMatch(ti, te.GetMatch())
	if err != nil {
		return nil, nil, err
	}
	if ti.needsPriority && te.GetPriority() <= 0 {
		return nil, nil, statusf(codes.InvalidArgument, "table %q needs a priority > 0", ti.name)
	}
	if !ti.needsPriority && te.GetPriority() != 0 {
		return nil, nil, statusf(codes.InvalidArgument, "table %q takes no priority (got %d)", ti.name, te.GetPriority())
	}
	return ts, match, nil
}

func (st *state) writeTableEntry(op p4v1.Update_Type, te *p4v1.TableEntry) error {
	ts, match, err := st.lookupTable(te)
	if err != nil {
		return err
	}
	ti := ts.info
	if te.GetIsConst() {
		return statusf(codes.InvalidArgument, "is_const must be false in writes")
	}
	if te.GetIsDefaultAction() {
		return st.writeDefaultEntry(op, ts, te)
	}
	if ti.isConst && (op != p4v1.Update_MODIFY || te.GetAction() != nil) {
		// §9.1.4: a const table only takes MODIFYs of its entries' direct
		// resources (no action, even an equal one) and of its default entry.
		return statusf(codes.PermissionDenied, "table %q is const", ti.name)
	}
	if len(ti.fields) == 0 && op == p4v1.Update_INSERT {
		return statusf(codes.InvalidArgument, "table %q is keyless: only its default entry can be written", ti.name)
	}
	key := entryKey(&p4v1.TableEntry{Priority: te.GetPriority(), Match: match})
	cur := ts.entries[key]
	if op == p4v1.Update_DELETE {
		// §9.1: only the key is considered on DELETE.
		if cur == nil {
			return statusf(codes.NotFound, "table %q: no such entry", ti.name)
		}
		st.saveEntry(ts, cur)
		st.refs(ti, cur.te.GetAction(), -1)
		delete(ts.entries, key)
		return nil
	}
	if err := checkEntryExtras(ti, te); err != nil {
		return err
	}
	var action *p4v1.TableAction
	switch {
	case te.GetAction() != nil:
		if action, err = st.canonicalTableAction(ti, te.GetAction(), false); err != nil {
			return err
		}
	case op == p4v1.Update_INSERT:
		return statusf(codes.InvalidArgument, "table %q: INSERT needs an action", ti.name)
	}
	switch op {
	case p4v1.Update_INSERT:
		if cur != nil {
			return statusf(codes.AlreadyExists, "table %q: entry already exists", ti.name)
		}
		if int64(len(ts.entries)) >= ti.size {
			return statusf(codes.ResourceExhausted, "table %q is full (%d entries)", ti.name, ti.size)
		}
		e := &tableEntry{seq: st.nextSeq(), txn: st.txn, key: key, te: storedEntry(te, match, action)}
		if cd := te.GetCounterData(); cd != nil {
			e.counter = counterCell{bytes: cd.GetByteCount(), packets: cd.GetPacketCount()}
		}
		e.meter.configure(te.GetMeterConfig())
		ts.entries[key] = e
		st.refs(ti, action, +1)
	case p4v1.Update_MODIFY:
		if cur == nil {
			return statusf(codes.NotFound, "table %q: no such entry", ti.name)
		}
		st.saveEntry(ts, cur)
		if action == nil {
			action = cur.te.GetAction() // §9.1.2: unset action on MODIFY keeps it
		} else {
			st.refs(ti, cur.te.GetAction(), -1)
			st.refs(ti, action, +1)
		}
		cur.te = storedEntry(te, match, action)
		if cd := te.GetCounterData(); cd != nil {
			cur.counter = counterCell{bytes: cd.GetByteCount(), packets: cd.GetPacketCount()}
		}
		// §9.1.7: an unset meter_config on MODIFY resets the meter.
		cur.meter.configure(te.GetMeterConfig())
	}
	return nil
}

// checkEntryExtras validates the non-key, non-action fields of an INSERT
// or MODIFY (§9.1.7 direct resources, §9.1.8 idle timeout).
func checkEntryExtras(ti *tableInfo, te *p4v1.TableEntry) error {
	if te.GetCounterData() != nil && ti.directCounter == 0 {
		return statusf(codes.InvalidArgument, "table %q has no direct counter", ti.name)
	}
	if te.GetMeterConfig() != nil {
		if ti.directMeter == 0 {
			return statusf(codes.InvalidArgument, "table %q has no direct meter", ti.name)
		}
		if err := checkMeterConfig(te.GetMeterConfig(), p4configv1.MeterSpec_TWO_RATE_THREE_COLOR); err != nil {
			return err
		}
	}
	if te.GetMeterCounterData() != nil {
		return statusf(codes.Unimplemented, "per-color meter counters are not supported")
	}
	if te.GetTimeSinceLastHit() != nil {
		return statusf(codes.InvalidArgument, "time_since_last_hit must be unset in writes")
	}
	if te.GetIdleTimeoutNs() != 0 && !ti.idleTimeout {
		return statusf(codes.InvalidArgument, "table %q does not support idle timeout", ti.name)
	}
	return nil
}

// storedEntry is the canonical form kept in the store and returned by reads.
func storedEntry(te *p4v1.TableEntry, match []*p4v1.FieldMatch, action *p4v1.TableAction) *p4v1.TableEntry {
	return &p4v1.TableEntry{
		TableId:            te.GetTableId(),
		Match:              match,
		Action:             action,
		Priority:           te.GetPriority(),
		ControllerMetadata: te.GetControllerMetadata(),
		Metadata:           append([]byte(nil), te.GetMetadata()...),
		IdleTimeoutNs:      te.GetIdleTimeoutNs(),
	}
}

func (st *state) writeDefaultEntry(op p4v1.Update_Type, ts *tableState, te *p4v1.TableEntry) error {
	ti := ts.info
	if op != p4v1.Update_MODIFY {
		return statusf(codes.InvalidArgument, "table %q: the default entry can only be modified", ti.name)
	}
	if ti.profile != nil {
		return statusf(codes.PermissionDenied, "table %q is indirect: its default entry is a constant NoAction", ti.name)
	}
	if ti.constDefault != 0 {
		return statusf(codes.PermissionDenied, "table %q has a const default action", ti.name)
	}
	if te.GetIdleTimeoutNs() != 0 || te.GetTimeSinceLastHit() != nil {
		return statusf(codes.InvalidArgument, "table %q: no idle timeout on the default entry", ti.name)
	}
	if err := checkEntryExtras(ti, te); err != nil {
		return err
	}
	if te.GetAction() == nil {
		st.saveDef(ts)
		ts.def = nil // §9.1.3: reset to the P4 program's default
		return nil
	}
	action, err := st.canonicalTableAction(ti, te.GetAction(), true)
	if err != nil {
		return err
	}
	st.saveDef(ts)
	e := &tableEntry{seq: st.nextSeq(), txn: st.txn, te: storedEntry(te, nil, action)}
	e.te.IsDefaultAction = true
	if ts.def != nil {
		e.counter = ts.def.counter
	}
	if cd := te.GetCounterData(); cd != nil {
		e.counter = counterCell{bytes: cd.GetByteCount(), packets: cd.GetPacketCount()}
	}
	e.meter.configure(te.GetMeterConfig())
	ts.def = e
	return nil
}

// findEntry resolves the table entry named by a direct-resource entity.
func (st *state) findEntry(te *p4v1.TableEntry) (*tableState, *tableEntry, error) {
	if te == nil {
		return nil, nil, statusf(codes.InvalidArgument, "table_entry is required")
	}
	ts, match, err := st.lookupTable(te)
	if err != nil {
		return nil, nil, err
	}
	if te.GetIsDefaultAction() {
		if ts.def == nil {
			// Give the initial default entry storage so its direct
			// resources can be written like any other entry's.
			st.saveDef(ts)
			ts.def = &tableEntry{seq: st.nextSeq(), txn: st.txn, te: ts.defaultEntry(st.schema)}
		}
		return ts, ts.def, nil
	}
	e := ts.entries[entryKey(&p4v1.TableEntry{Priority: te.GetPriority(), Match: match})]
	if e == nil {
		return nil, nil, statusf(codes.NotFound, "table %q: no such entry", ts.info.name)
	}
	return ts, e, nil
}

func (st *state) writeDirectCounter(op p4v1.Update_Type, dc *p4v1.DirectCounterEntry) error {
	if op != p4v1.Update_MODIFY {
		return statusf(codes.InvalidArgument, "DirectCounterEntry only supports MODIFY")
	}
	ts, e, err := st.findEntry(dc.GetTableEntry())
	if err != nil {
		return err
	}
	if ts.info.directCounter == 0 {
		return statusf(codes.InvalidArgument, "table %q has no direct counter", ts.info.name)
	}
	if d := dc.GetData(); d != nil {
		st.saveDirect(ts, e)
		e.counter = counterCell{bytes: d.GetByteCount(), packets: d.GetPacketCount()}
	}
	return nil
}

func (st *state) writeDirectMeter(op p4v1.Update_Type, dm *p4v1.DirectMeterEntry) error {
	if op != p4v1.Update_MODIFY {
		return statusf(codes.InvalidArgument, "DirectMeterEntry only supports MODIFY")
	}
	if dm.GetCounterData() != nil {
		return statusf(codes.Unimplemented, "per-color meter counters are not supported")
	}
	ts, e, err := st.findEntry(dm.GetTableEntry())
	if err != nil {
		return err
	}
	if ts.info.directMeter == 0 {
		return statusf(codes.InvalidArgument, "table %q has no direct meter", ts.info.name)
	}
	if err := checkMeterConfig(dm.GetConfig(), p4configv1.MeterSpec_TWO_RATE_THREE_COLOR); err != nil {
		return err
	}
	st.saveDirect(ts, e)
	e.meter.configure(dm.GetConfig())
	return nil
}

// saveDirect records the entry whose direct resource is about to change.
func (st *state) saveDirect(ts *tableState, e *tableEntry) {
	if e == ts.def {
		st.saveDef(ts)
		return
	}
	st.saveEntry(ts, e)
}

// ---- action profiles ----

func (st *state) writeMember(op p4v1.Update_Type, m *p4v1.ActionProfileMember) error {
	ps, ok := st.profiles[m.GetActionProfileId()]
	if !ok {
		return statusf(codes.InvalidArgument, "unknown action profile id %#x", m.GetActionProfileId())
	}
	if m.GetMemberId() == 0 {
		return statusf(codes.InvalidArgument, "member_id must be non-zero")
	}
	cur := ps.members[m.GetMemberId()]
	if op == p4v1.Update_DELETE {
		switch {
		case cur == nil:
			return statusf(codes.NotFound, "%q: no member %d", ps.info.name, m.GetMemberId())
		case cur.groupRefs > 0:
			return statusf(codes.FailedPrecondition, "%q: member %d is in %d group(s)", ps.info.name, m.GetMemberId(), cur.groupRefs)
		case cur.entryRefs > 0:
			return statusf(codes.FailedPrecondition, "%q: member %d is used by %d table entries", ps.info.name, m.GetMemberId(), cur.entryRefs)
		}
		st.saveMember(ps, cur)
		delete(ps.members, m.GetMemberId())
		return nil
	}
	if m.GetAction() == nil {
		return statusf(codes.InvalidArgument, "%q: member %d needs an action", ps.info.name, m.GetMemberId())
	}
	a, err := st.canonicalAction("action profile "+ps.info.name, func(id uint32) bool { return ps.info.actions[id] }, m.GetAction())
	if err != nil {
		return err
	}
	stored := &p4v1.ActionProfileMember{ActionProfileId: m.GetActionProfileId(), MemberId: m.GetMemberId(), Action: a}
	switch op {
	case p4v1.Update_INSERT:
		if cur != nil {
			return statusf(codes.AlreadyExists, "%q: member %d exists", ps.info.name, m.GetMemberId())
		}
		if ps.info.size > 0 && int64(len(ps.members)) >= ps.info.size {
			return statusf(codes.ResourceExhausted, "%q is full (%d members)", ps.info.name, ps.info.size)
		}
		ps.members[m.GetMemberId()] = &apMember{seq: st.nextSeq(), txn: st.txn, m: stored}
	case p4v1.Update_MODIFY:
		if cur == nil {
			return statusf(codes.NotFound, "%q: no member %d", ps.info.name, m.GetMemberId())
		}
		if cur.groupRefs > 0 && cur.m.GetAction().GetActionId() != a.GetActionId() {
			// §9.2.4: a target without mixed-action groups "is also not
			// expected to support modifying the action function of a member
			// which is part of one or more groups" (parameters may change).
			return statusf(codes.Unimplemented, "%q: member %d is in %d group(s): its action cannot change", ps.info.name, m.GetMemberId(), cur.groupRefs)
		}
		st.saveMember(ps, cur)
		cur.m = stored
	}
	return nil
}

func (st *state) writeGroup(op p4v1.Update_Type, g *p4v1.ActionProfileGroup) error {
	ps, ok := st.profiles[g.GetActionProfileId()]
	if !ok {
		return statusf(codes.InvalidArgument, "unknown action profile id %#x", g.GetActionProfileId())
	}
	pi := ps.info
	if !pi.selector {
		return statusf(codes.InvalidArgument, "%q is not an action selector: it has no groups", pi.name)
	}
	if g.GetGroupId() == 0 {
		return statusf(codes.InvalidArgument, "group_id must be non-zero")
	}
	cur := ps.groups[g.GetGroupId()]
	if op == p4v1.Update_DELETE {
		switch {
		case cur == nil:
			return statusf(codes.NotFound, "%q: no group %d", pi.name, g.GetGroupId())
		case cur.entryRefs > 0:
			return statusf(codes.FailedPrecondition, "%q: group %d is used by %d table entries", pi.name, g.GetGroupId(), cur.entryRefs)
		}
		st.saveGroup(ps, cur)
		ps.adjustGroupRefs(cur.g, -1)
		delete(ps.groups, g.GetGroupId())
		return nil
	}
	// §9.2.2.1 rules on max_size.
	if pi.maxGroupSize > 0 && (g.GetMaxSize() <= 0 || g.GetMaxSize() > pi.maxGroupSize) {
		return statusf(codes.InvalidArgument, "%q: max_size %d not in 1..%d", pi.name, g.GetMaxSize(), pi.maxGroupSize)
	}
	if g.GetMaxSize() < 0 {
		return statusf(codes.InvalidArgument, "%q: negative max_size", pi.name)
	}
	if op == p4v1.Update_MODIFY && cur != nil && cur.g.GetMaxSize() != g.GetMaxSize() {
		return statusf(codes.InvalidArgument, "%q: max_size cannot change (%d -> %d)", pi.name, cur.g.GetMaxSize(), g.GetMaxSize())
	}
	seen := map[uint32]bool{}
	var total int64
	var actionID uint32
	stored := &p4v1.ActionProfileGroup{ActionProfileId: g.GetActionProfileId(), GroupId: g.GetGroupId(), MaxSize: g.GetMaxSize()}
	for _, gm := range g.GetMembers() {
		if seen[gm.GetMemberId()] {
			return statusf(codes.InvalidArgument, "%q: member %d listed twice in group %d", pi.name, gm.GetMemberId(), g.GetGroupId())
		}
		seen[gm.GetMemberId()] = true
		if pi.weightsDisallowed && gm.GetWeight() != 0 {
			return statusf(codes.InvalidArgument, "%q: weights are disallowed", pi.name)
		}
		if !pi.weightsDisallowed && gm.GetWeight() <= 0 {
			return statusf(codes.InvalidArgument, "%q: member %d weight must be > 0", pi.name, gm.GetMemberId())
		}
		if err := checkWatch(pi.name, gm); err != nil {
			return err
		}
		m := ps.members[gm.GetMemberId()]
		if m == nil {
			return statusf(codes.NotFound, "%q: group %d references unknown member %d", pi.name, g.GetGroupId(), gm.GetMemberId())
		}
		if actionID != 0 && m.m.GetAction().GetActionId() != actionID {
			// §9.2.4: mixed-action groups are optional; the sim, like
			// most hardware, does not support them.
			return statusf(codes.Unimplemented, "%q: group %d mixes actions", pi.name, g.GetGroupId())
		}
		actionID = m.m.GetAction().GetActionId()
		if pi.sumOfMembers || pi.weightsDisallowed {
			total++
		} else {
			total += int64(gm.GetWeight())
		}
		stored.Members = append(stored.Members, &p4v1.ActionProfileGroup_Member{MemberId: gm.GetMemberId(), Weight: gm.GetWeight(), WatchKind: gm.GetWatchKind()})
	}
	if limit := int64(g.GetMaxSize()); limit > 0 && total > limit {
		return statusf(codes.ResourceExhausted, "%q: group %d size %d exceeds max_size %d", pi.name, g.GetGroupId(), total, limit)
	}
	switch op {
	case p4v1.Update_INSERT:
		if cur != nil {
			return statusf(codes.AlreadyExists, "%q: group %d exists", pi.name, g.GetGroupId())
		}
		ps.groups[g.GetGroupId()] = &apGroup{seq: st.nextSeq(), txn: st.txn, g: stored}
		ps.adjustGroupRefs(stored, +1)
	case p4v1.Update_MODIFY:
		if cur == nil {
			return statusf(codes.NotFound, "%q: no group %d", pi.name, g.GetGroupId())
		}
		st.saveGroup(ps, cur)
		ps.adjustGroupRefs(cur.g, -1)
		cur.g = stored
		ps.adjustGroupRefs(stored, +1)
	}
	return nil
}

func (ps *profileState) adjustGroupRefs(g *p4v1.ActionProfileGroup, delta int) {
	for _, gm := range g.GetMembers() {
		if m := ps.members[gm.GetMemberId()]; m != nil {
			m.groupRefs += delta
		}
	}
}

// ---- indirect counters and meters ----

// checkIndex implements the index rules of §9.3.2 / §9.4.2.
func checkIndex(idx *p4v1.Index, size int64, what string) error {
	if idx == nil {
		return nil
	}
	if idx.GetIndex() < 0 {
		return statusf(codes.InvalidArgument, "%s: negative index %d", what, idx.GetIndex())
	}
	if idx.GetIndex() >= size {
		return statusf(codes.OutOfRange, "%s: index %d >= size %d", what, idx.GetIndex(), size)
	}
	return nil
}

func (st *state) writeCounter(op p4v1.Update_Type, ce *p4v1.CounterEntry) error {
	if op != p4v1.Update_MODIFY {
		return statusf(codes.InvalidArgument, "CounterEntry only supports MODIFY")
	}
	cells, ok := st.counters[ce.GetCounterId()]
	if !ok {
		return statusf(codes.InvalidArgument, "unknown counter id %#x", ce.GetCounterId())
	}
	if err := checkIndex(ce.GetIndex(), int64(len(cells)), st.schema.counters[ce.GetCounterId()].name); err != nil {
		return err
	}
	d := ce.GetData()
	if d == nil {
		return nil // §9.3.2: unset data leaves the value alone
	}
	v := counterCell{bytes: d.GetByteCount(), packets: d.GetPacketCount()}
	if ce.GetIndex() == nil {
		st.saveCounter(ce.GetCounterId(), -1)
		for i := range cells {
			cells[i] = v
		}
		return nil
	}
	st.saveCounter(ce.GetCounterId(), ce.GetIndex().GetIndex())
	cells[ce.GetIndex().GetIndex()] = v
	return nil
}

func (st *state) writeMeter(op p4v1.Update_Type, me *p4v1.MeterEntry) error {
	if op != p4v1.Update_MODIFY {
		return statusf(codes.InvalidArgument, "MeterEntry only supports MODIFY")
	}
	cells, ok := st.meters[me.GetMeterId()]
	if !ok {
		return statusf(codes.InvalidArgument, "unknown meter id %#x", me.GetMeterId())
	}
	mi := st.schema.meters[me.GetMeterId()]
	if err := checkIndex(me.GetIndex(), int64(len(cells)), mi.name); err != nil {
		return err
	}
	if me.GetCounterData() != nil {
		return statusf(codes.Unimplemented, "per-color meter counters are not supported")
	}
	if err := checkMeterConfig(me.GetConfig(), mi.typ); err != nil {
		return err
	}
	if me.GetIndex() == nil {
		st.saveMeter(me.GetMeterId(), -1)
		for i := range cells {
			cells[i].configure(me.GetConfig())
		}
		return nil
	}
	st.saveMeter(me.GetMeterId(), me.GetIndex().GetIndex())
	cells[me.GetIndex().GetIndex()].configure(me.GetConfig())
	return nil
}

// checkMeterConfig applies the per-type rules of §9.4. A nil config is the
// default (always green) and is valid.
func checkMeterConfig(c *p4v1.MeterConfig, typ p4configv1.MeterSpec_Type) error {
	if c == nil {
		return nil
	}
	if c.GetCir() < 0 || c.GetCburst() < 0 || c.GetPir() < 0 || c.GetPburst() < 0 || c.GetEburst() < 0 {
		return statusf(codes.InvalidArgument, "meter config has negative values")
	}
	switch typ {
	case p4configv1.MeterSpec_SINGLE_RATE_THREE_COLOR:
		if c.GetPir() != c.GetCir() || c.GetPburst() != c.GetCburst() {
			return statusf(codes.InvalidArgument, "srTCM meter: pir/pburst must equal cir/cburst")
		}
	case p4configv1.MeterSpec_SINGLE_RATE_TWO_COLOR:
		if c.GetPir() != c.GetCir() || c.GetPburst() != c.GetCburst() || c.GetEburst() != 0 {
			return statusf(codes.InvalidArgument, "single-rate two-color meter: pir/pburst must equal cir/cburst, no eburst")
		}
	default:
		if c.GetEburst() != 0 {
			return statusf(codes.InvalidArgument, "trTCM meter: eburst must be unset")
		}
		if c.GetPir() < c.GetCir() {
			// RFC 2698 §1: "The PIR must be equal to or greater than the CIR."
			return statusf(codes.InvalidArgument, "trTCM meter: pir %d < cir %d", c.GetPir(), c.GetCir())
		}
	}
	return nil
}

func cloneMeterConfig(c *p4v1.MeterConfig) *p4v1.MeterConfig {
	if c == nil {
		return nil
	}
	return proto.Clone(c).(*p4v1.MeterConfig)
}

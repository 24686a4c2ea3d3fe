package tables

import (
	"errors"
	"fmt"
	"slices"

	p4configv1 "github.com/p4lang/p4runtime/go/p4/config/v1"
	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/protobuf/proto"
)

// ErrDuplicateKey is wrapped when one side of a Diff holds two entities with
// the same Key.
var ErrDuplicateKey = errors.New("duplicate entity key")

// ErrImmutableChange is wrapped when the intent changes a field the switch
// does not allow to MODIFY: an action profile group's max_size (§9.2.2).
// The caller must delete the group (and whatever references it) and
// re-create it, or keep max_size.
var ErrImmutableChange = errors.New("change needs delete and re-insert")

// Plan is the ordered list of writes that turns current into intent. Each
// phase may be sent as one WriteRequest (P4Runtime §12.1: the server may
// apply the updates of one batch in any order), and the phases must be sent
// in order, each after the previous one succeeded:
//
//  1. INSERT/MODIFY action profile members
//  2. INSERT/MODIFY action profile groups (their members now exist)
//  3. INSERT/MODIFY table entries, including default entries (members and
//     groups they point to now exist)
//  4. MODIFY meters, counters, direct meters, direct counters (the table
//     entries that own direct resources now exist)
//  5. DELETE table entries (nothing will point to stale members or groups)
//  6. DELETE groups
//  7. DELETE members (no group holds them any more)
//
// Empty phases are left out.
type Plan struct {
	Phases [][]*p4v1.Update
}

// Updates returns all updates in phase order.
func (p Plan) Updates() []*p4v1.Update {
	var out []*p4v1.Update
	for _, ph := range p.Phases {
		out = append(out, ph...)
	}
	return out
}

// Len is the number of updates.
func (p Plan) Len() int {
	n := 0
	for _, ph := range p.Phases {
		n += len(ph)
	}
	return n
}

// Counts returns how many updates of each type the plan holds.
func (p Plan) Counts() (inserts, modifies, deletes int) {
	for _, ph := range p.Phases {
		for _, u := range ph {
			switch u.Type {
			case p4v1.Update_INSERT:
				inserts++
			case p4v1.Update_MODIFY:
				modifies++
			case p4v1.Update_DELETE:
				deletes++
			}
		}
	}
	return
}

const (
	phaseMemberUpsert = iota
	phaseGroupUpsert
	phaseEntryUpsert
	phaseResourceModify
	phaseEntryDelete
	phaseGroupDelete
	phaseMemberDelete
	numPhases
)

// Diff computes the updates that make a switch holding current hold intent.
// Entities are matched by Key and compared on their configuration, with
// bytestrings compared as numbers:
//   - in intent, not in current: INSERT; but meters, counters, direct
//     resources and default entries always exist on the switch, so for them
//     it is a MODIFY (§9.1.3, §9.3, §9.4);
//   - in both and different: MODIFY. Counter values, meter color counters,
//     time_since_last_hit and is_const are state, not configuration, and are
//     ignored; a counter entry in intent with no data never differs;
//   - in current, not in intent: DELETE for table entries, members and
//     groups. A meter or direct meter cell that has a config is reset with a
//     MODIFY carrying no config (§9.4.1, §9.4.2: "set to the default
//     behavior"), unless its table entry is being deleted anyway; a default
//     entry that is not the P4 program's initial default is reset with a
//     MODIFY carrying no action (§9.1.3). Counters are left alone: their
//     values are statistics, not intent.
//
// Within a phase, updates follow the order of intent (for inserts and
// modifies) and of current (for deletes and resets), so the plan is
// deterministic. Diffing a set against itself gives an empty plan.
func Diff(s *Schema, current, intent []*p4v1.Entity) (Plan, error) {
	// One map serves both sides: the index of the key in current (or -1)
	// and whether intent holds it. Lookups by string(b) do not allocate;
	// only keys that are stored do.
	type slot struct {
		cur      int32
		inIntent bool
	}
	keys := make(map[string]slot, len(current)+len(current)/8)
	buf := make([]byte, 0, 128)
	for i, e := range current {
		k, err := s.appendKey(buf[:0], e)
		if err != nil {
			return Plan{}, fmt.Errorf("diff: current[%d]: %w", i, err)
		}
		buf = k
		if _, dup := keys[string(k)]; dup {
			return Plan{}, fmt.Errorf("diff: current[%d] %s: %w", i, s.Describe(e), ErrDuplicateKey)
		}
		keys[string(k)] = slot{cur: int32(i)}
	}
	var phases [numPhases][]*p4v1.Update
	add := func(ph int, t p4v1.Update_Type, e *p4v1.Entity) {
		phases[ph] = append(phases[ph], &p4v1.Update{Type: t, Entity: e})
	}
	kept := make([]bool, len(current)) // current[i] is also in intent
	for i, e := range intent {
		k, err := s.appendKey(buf[:0], e)
		if err != nil {
			return Plan{}, fmt.Errorf("diff: intent[%d]: %w", i, err)
		}
		buf = k
		sl, exists := keys[string(k)]
		if sl.inIntent {
			return Plan{}, fmt.Errorf("diff: intent[%d] %s: %w", i, s.Describe(e), ErrDuplicateKey)
		}
		if !exists {
			sl.cur = -1
		}
		sl.inIntent = true
		keys[string(k)] = sl
		var old *p4v1.Entity
		if exists {
			kept[sl.cur] = true
			old = current[sl.cur]
			if s.sameConfig(old, e) {
				continue
			}
		}
		ph, alwaysExists := upsertPhase(e)
		typ := p4v1.Update_INSERT
		if exists || alwaysExists {
			typ = p4v1.Update_MODIFY
		}
		if g := e.GetActionProfileGroup(); exists && g != nil && old.GetActionProfileGroup().GetMaxSize() != g.MaxSize {
			return Plan{}, fmt.Errorf("diff: %s: max_size %d -> %d: %w",
				s.Describe(e), old.GetActionProfileGroup().GetMaxSize(), g.MaxSize, ErrImmutableChange)
		}
		add(ph, typ, e)
	}
	for i, e := range current {
		if kept[i] {
			continue
		}
		switch x := e.Entity.(type) {
		case *p4v1.Entity_TableEntry:
			te := x.TableEntry
			if te.IsDefaultAction {
				ti := s.tableInfo[te.TableId]
				if te.Action != nil && defaultModifiable(ti) && !s.isInitialDefault(te) {
					add(phaseEntryUpsert, p4v1.Update_MODIFY, EntityOf(&p4v1.TableEntry{TableId: te.TableId, IsDefaultAction: true}))
				}
				continue
			}
			// Entries the P4 program fixed cannot be deleted (§9.1.4); they
			// show up in reads of const tables but never in an intent.
			if te.IsConst || s.tableInfo[te.TableId].t.IsConstTable {
				continue
			}
			add(phaseEntryDelete, p4v1.Update_DELETE, e)
		case *p4v1.Entity_ActionProfileGroup:
			add(phaseGroupDelete, p4v1.Update_DELETE, e)
		case *p4v1.Entity_ActionProfileMember:
			add(phaseMemberDelete, p4v1.Update_DELETE, e)
		case *p4v1.Entity_MeterEntry:
			if x.MeterEntry.Config != nil {
				add(phaseResourceModify, p4v1.Update_MODIFY, EntityOf(&p4v1.MeterEntry{MeterId: x.MeterEntry.MeterId, Index: x.MeterEntry.Index}))
			}
		case *p4v1.Entity_DirectMeterEntry:
			dm := x.DirectMeterEntry
			if dm.Config == nil {
				continue
			}
			// The meter cell dies with its table entry; resetting it first
			// would be a wasted write, or a NOT_FOUND if the entry is gone.
			tk, err := s.appendKey(buf[:0], EntityOf(dm.TableEntry))
			if err != nil {
				return Plan{}, fmt.Errorf("diff: current[%d]: %w", i, err)
			}
			buf = tk
			if !keys[string(tk)].inIntent {
				continue
			}
			add(phaseResourceModify, p4v1.Update_MODIFY, EntityOf(&p4v1.DirectMeterEntry{TableEntry: dm.TableEntry}))
		}
	}
	var plan Plan
	for _, ph := range phases {
		if len(ph) > 0 {
			plan.Phases = append(plan.Phases, ph)
		}
	}
	return plan, nil
}

// upsertPhase returns the phase of an INSERT/MODIFY of e and whether the
// object always exists on the switch (so it is never inserted).
func upsertPhase(e *p4v1.Entity) (phase int, alwaysExists bool) {
	switch x := e.Entity.(type) {
	case *p4v1.Entity_ActionProfileMember:
		return phaseMemberUpsert, false
	case *p4v1.Entity_ActionProfileGroup:
		return phaseGroupUpsert, false
	case *p4v1.Entity_TableEntry:
		return phaseEntryUpsert, x.TableEntry.IsDefaultAction
	case *p4v1.Entity_MeterEntry, *p4v1.Entity_CounterEntry, *p4v1.Entity_DirectMeterEntry, *p4v1.Entity_DirectCounterEntry:
		return phaseResourceModify, true
	}
	return phaseEntryUpsert, false
}

// sameConfig reports whether writing intent over current would change the
// switch's configuration. Both have the same Key.
func (s *Schema) sameConfig(current, intent *p4v1.Entity) bool {
	switch in := intent.Entity.(type) {
	case *p4v1.Entity_TableEntry:
		c, i := current.GetTableEntry(), in.TableEntry
		if i.IsDefaultAction && i.Action == nil {
			// A reset: already done if the switch runs the initial default.
			return c.Action == nil || s.isInitialDefault(c)
		}
		return sameTableAction(c.Action, i.Action) &&
			bytesEqual(c.Metadata, i.Metadata) &&
			c.ControllerMetadata == i.ControllerMetadata &&
			c.IdleTimeoutNs == i.IdleTimeoutNs &&
			proto.Equal(c.MeterConfig, i.MeterConfig)
	case *p4v1.Entity_ActionProfileMember:
		return sameAction(current.GetActionProfileMember().GetAction(), in.ActionProfileMember.Action)
	case *p4v1.Entity_ActionProfileGroup:
		return sameGroup(current.GetActionProfileGroup(), in.ActionProfileGroup)
	case *p4v1.Entity_MeterEntry:
		return proto.Equal(current.GetMeterEntry().GetConfig(), in.MeterEntry.Config)
	case *p4v1.Entity_DirectMeterEntry:
		return proto.Equal(current.GetDirectMeterEntry().GetConfig(), in.DirectMeterEntry.Config)
	case *p4v1.Entity_CounterEntry:
		return in.CounterEntry.Data == nil || proto.Equal(current.GetCounterEntry().GetData(), in.CounterEntry.Data)
	case *p4v1.Entity_DirectCounterEntry:
		return in.DirectCounterEntry.Data == nil || proto.Equal(current.GetDirectCounterEntry().GetData(), in.DirectCounterEntry.Data)
	}
	return proto.Equal(current, intent)
}

// isInitialDefault reports whether a default entry runs the table's initial
// default action from the P4Info (or the table has none recorded and the
// entry runs its const default).
func (s *Schema) isInitialDefault(te *p4v1.TableEntry) bool {
	ti := s.tableInfo[te.TableId]
	if ti == nil {
		return false
	}
	a := te.GetAction().GetAction()
	if a == nil {
		return te.Action == nil
	}
	init := ti.t.InitialDefaultAction
	if init == nil {
		return ti.t.ConstDefaultActionId != 0 && a.ActionId == ti.t.ConstDefaultActionId && len(a.Params) == 0
	}
	if init.ActionId != a.ActionId || len(init.Arguments) != len(a.Params) {
		return false
	}
	for _, arg := range init.Arguments {
		if !paramPresent(a.Params, arg) {
			return false
		}
	}
	return true
}

func paramPresent(ps []*p4v1.Action_Param, arg *p4configv1.TableActionCall_Argument) bool {
	for _, p := range ps {
		if p.ParamId == arg.ParamId {
			return equalValue(p.Value, arg.Value)
		}
	}
	return false
}

func bytesEqual(a, b []byte) bool { return string(a) == string(b) }

func sameTableAction(a, b *p4v1.TableAction) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	switch x := b.Type.(type) {
	case *p4v1.TableAction_Action:
		return sameAction(a.GetAction(), x.Action)
	case *p4v1.TableAction_ActionProfileMemberId:
		y, ok := a.Type.(*p4v1.TableAction_ActionProfileMemberId)
		return ok && y.ActionProfileMemberId == x.ActionProfileMemberId
	case *p4v1.TableAction_ActionProfileGroupId:
		y, ok := a.Type.(*p4v1.TableAction_ActionProfileGroupId)
		return ok && y.ActionProfileGroupId == x.ActionProfileGroupId
	case *p4v1.TableAction_ActionProfileActionSet:
		as, bs := a.GetActionProfileActionSet(), x.ActionProfileActionSet
		if as == nil || len(as.ActionProfileActions) != len(bs.ActionProfileActions) ||
			as.ActionSelectionMode != bs.ActionSelectionMode || as.SizeSemantics != bs.SizeSemantics {
			return false
		}
		// Order matters here: a set with reordered actions is reported as a
		// change, which costs at most one redundant MODIFY.
		for i, y := range bs.ActionProfileActions {
			z := as.ActionProfileActions[i]
			if y.Weight != z.Weight || !sameAction(y.Action, z.Action) || !bytesEqual(y.GetWatchPort(), z.GetWatchPort()) || y.GetWatch() != z.GetWatch() {
				return false
			}
		}
		return true
	}
	return proto.Equal(a, b)
}

// sameAction compares actions with parameters as a set and values as
// numbers.
func sameAction(a, b *p4v1.Action) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	if a.ActionId != b.ActionId || len(a.Params) != len(b.Params) {
		return false
	}
	for i, p := range b.Params {
		q := a.Params[i] // usually the same order; fall back to a search
		if q.ParamId != p.ParamId {
			q = nil
			for _, r := range a.Params {
				if r.ParamId == p.ParamId {
					q = r
					break
				}
			}
			if q == nil {
				return false
			}
		}
		if !equalValue(q.Value, p.Value) {
			return false
		}
	}
	return true
}

// sameGroup compares groups with members as a set.
func sameGroup(a, b *p4v1.ActionProfileGroup) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	if a.MaxSize != b.MaxSize || len(a.Members) != len(b.Members) {
		return false
	}
	cmp := func(x, y *p4v1.ActionProfileGroup_Member) int {
		switch {
		case x.MemberId < y.MemberId:
			return -1
		case x.MemberId > y.MemberId:
			return 1
		}
		return 0
	}
	am := slices.SortedFunc(slices.Values(a.Members), cmp)
	bm := slices.SortedFunc(slices.Values(b.Members), cmp)
	for i := range am {
		x, y := am[i], bm[i]
		if x.MemberId != y.MemberId || x.Weight != y.Weight || !bytesEqual(x.GetWatchPort(), y.GetWatchPort()) || x.GetWatch() != y.GetWatch() {
			return false
		}
	}
	return true
}

package sim

import (
	"bytes"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
)

// read answers one element of a ReadRequest batch (§13), honouring the
// wildcards of §9.1.6, §9.2.1/§9.2.2, §9.3.2 and §9.4.2. A read that names a
// single absent entity returns nothing, except for direct resources where
// §9.3.1/§9.4.1 ask for NOT_FOUND.
func (st *state) read(e *p4v1.Entity) ([]*p4v1.Entity, error) {
	switch v := e.GetEntity().(type) {
	case *p4v1.Entity_TableEntry:
		return st.readTableEntries(v.TableEntry)
	case *p4v1.Entity_ActionProfileMember:
		return st.readMembers(v.ActionProfileMember)
	case *p4v1.Entity_ActionProfileGroup:
		return st.readGroups(v.ActionProfileGroup)
	case *p4v1.Entity_CounterEntry:
		return st.readCounters(v.CounterEntry)
	case *p4v1.Entity_MeterEntry:
		return st.readMeters(v.MeterEntry)
	case *p4v1.Entity_DirectCounterEntry:
		return st.readDirect(v.DirectCounterEntry.GetTableEntry(), true)
	case *p4v1.Entity_DirectMeterEntry:
		if v.DirectMeterEntry.GetCounterData() != nil {
			return nil, statusf(codes.Unimplemented, "per-color meter counters are not supported")
		}
		return st.readDirect(v.DirectMeterEntry.GetTableEntry(), false)
	case nil:
		// §13.2: an empty Entity is not a wildcard over everything.
		return nil, statusf(codes.InvalidArgument, "entity must be set")
	default:
		return nil, statusf(codes.Unimplemented, "reading %T is not supported by the sim target", v)
	}
}

func (st *state) tablesFor(id uint32) ([]*tableState, error) {
	if id == 0 {
		out := make([]*tableState, 0, len(st.tables))
		for _, tid := range st.schema.tableOrder {
			out = append(out, st.tables[tid])
		}
		return out, nil
	}
	ts, ok := st.tables[id]
	if !ok {
		return nil, statusf(codes.InvalidArgument, "unknown table id %#x", id)
	}
	return []*tableState{ts}, nil
}

func (st *state) readTableEntries(q *p4v1.TableEntry) ([]*p4v1.Entity, error) {
	if q.GetTableId() == 0 && len(q.GetMatch()) > 0 {
		return nil, statusf(codes.InvalidArgument, "a match filter needs a table_id")
	}
	tables, err := st.tablesFor(q.GetTableId())
	if err != nil {
		return nil, err
	}
	var out []*p4v1.Entity
	emit := func(ts *tableState, e *tableEntry, te *p4v1.TableEntry) {
		if q.GetCounterData() != nil && ts.info.directCounter != 0 {
			var c counterCell
			if e != nil {
				c = e.counter
			}
			te.CounterData = &p4v1.CounterData{ByteCount: c.bytes, PacketCount: c.packets}
		}
		if q.GetMeterConfig() != nil && e != nil && e.meter.cfg != nil {
			// §9.1.7: a default meter config reads back unset.
			te.MeterConfig = cloneMeterConfig(e.meter.cfg)
		}
		if q.GetTimeSinceLastHit() != nil && ts.info.idleTimeout {
			te.TimeSinceLastHit = &p4v1.TableEntry_IdleTimeout{}
		}
		out = append(out, &p4v1.Entity{Entity: &p4v1.Entity_TableEntry{TableEntry: te}})
	}
	for _, ts := range tables {
		if q.GetIsDefaultAction() {
			def := st.visibleDef(ts)
			emit(ts, def, ts.defaultEntryOf(def, st.schema))
			continue
		}
		if len(q.GetMatch()) > 0 {
			match, err := canonicalMatch(ts.info, q.GetMatch())
			if err != nil {
				return nil, err
			}
			if e := st.visibleEntry(ts, entryKey(&p4v1.TableEntry{Priority: q.GetPriority(), Match: match})); e != nil {
				emit(ts, e, readCopy(e.te))
			}
			continue
		}
		for _, e := range st.visibleEntries(ts) {
			if !entryPassesFilter(q, e.te) {
				continue
			}
			emit(ts, e, readCopy(e.te))
		}
	}
	return out, nil
}

// readCopy is the copy of a stored entry that a read returns and emit
// completes (counter data, meter config): a new TableEntry holding the
// stored one's fields, sharing its match, action and metadata. Those are
// never changed in place once stored (storedEntry builds them; a MODIFY
// replaces the entry), so sharing them is safe after the state's lock is
// released, and it spares the deep proto.Clone that was a quarter of a
// sim's CPU when a controller reads thousands of entries.
func readCopy(te *p4v1.TableEntry) *p4v1.TableEntry {
	return &p4v1.TableEntry{
		TableId:            te.TableId,
		Match:              te.Match,
		Action:             te.Action,
		Priority:           te.Priority,
		ControllerMetadata: te.ControllerMetadata,
		Metadata:           te.Metadata,
		IdleTimeoutNs:      te.IdleTimeoutNs,
		IsDefaultAction:    te.IsDefaultAction,
	}
}

// entryPassesFilter applies the non-key wildcard filters of §9.1.6.
func entryPassesFilter(q, te *p4v1.TableEntry) bool {
	if q.GetPriority() != 0 && q.GetPriority() != te.GetPriority() {
		return false
	}
	if q.GetControllerMetadata() != 0 && q.GetControllerMetadata() != te.GetControllerMetadata() {
		return false
	}
	if len(q.GetMetadata()) > 0 && !bytes.Equal(q.GetMetadata(), te.GetMetadata()) {
		return false
	}
	if a := q.GetAction().GetAction(); a != nil && a.GetActionId() != 0 && a.GetActionId() != te.GetAction().GetAction().GetActionId() {
		return false
	}
	return true
}

func (st *state) profilesFor(id uint32) ([]*profileState, error) {
	if id == 0 {
		out := make([]*profileState, 0, len(st.profiles))
		for _, pid := range st.schema.profileOrder {
			out = append(out, st.profiles[pid])
		}
		return out, nil
	}
	ps, ok := st.profiles[id]
	if !ok {
		return nil, statusf(codes.InvalidArgument, "unknown action profile id %#x", id)
	}
	return []*profileState{ps}, nil
}

func (st *state) readMembers(q *p4v1.ActionProfileMember) ([]*p4v1.Entity, error) {
	if q.GetActionProfileId() == 0 && q.GetMemberId() != 0 {
		return nil, statusf(codes.InvalidArgument, "a member_id filter needs an action_profile_id")
	}
	profiles, err := st.profilesFor(q.GetActionProfileId())
	if err != nil {
		return nil, err
	}
	var out []*p4v1.Entity
	for _, ps := range profiles {
		for _, m := range st.visibleMembers(ps) {
			if q.GetMemberId() != 0 && m.GetMemberId() != q.GetMemberId() {
				continue
			}
			out = append(out, &p4v1.Entity{Entity: &p4v1.Entity_ActionProfileMember{ActionProfileMember: proto.Clone(m).(*p4v1.ActionProfileMember)}})
		}
	}
	return out, nil
}

func (st *state) readGroups(q *p4v1.ActionProfileGroup) ([]*p4v1.Entity, error) {
	if q.GetActionProfileId() == 0 && q.GetGroupId() != 0 {
		return nil, statusf(codes.InvalidArgument, "a group_id filter needs an action_profile_id")
	}
	profiles, err := st.profilesFor(q.GetActionProfileId())
	if err != nil {
		return nil, err
	}
	var out []*p4v1.Entity
	for _, ps := range profiles {
		for _, g := range st.visibleGroups(ps) {
			if q.GetGroupId() != 0 && g.GetGroupId() != q.GetGroupId() {
				continue
			}
			out = append(out, &p4v1.Entity{Entity: &p4v1.Entity_ActionProfileGroup{ActionProfileGroup: proto.Clone(g).(*p4v1.ActionProfileGroup)}})
		}
	}
	return out, nil
}

func (st *state) readCounters(q *p4v1.CounterEntry) ([]*p4v1.Entity, error) {
	ids := st.schema.counterOrder
	if q.GetCounterId() != 0 {
		if _, ok := st.counters[q.GetCounterId()]; !ok {
			return nil, statusf(codes.InvalidArgument, "unknown counter id %#x", q.GetCounterId())
		}
		ids = []uint32{q.GetCounterId()}
	} else if q.GetIndex() != nil {
		return nil, statusf(codes.InvalidArgument, "an index filter needs a counter_id")
	}
	var out []*p4v1.Entity
	for _, id := range ids {
		cells := st.counters[id]
		lo, hi := int64(0), int64(len(cells))
		if idx := q.GetIndex(); idx != nil {
			if err := checkIndex(idx, int64(len(cells)), st.schema.counters[id].name); err != nil {
				return nil, err
			}
			lo, hi = idx.GetIndex(), idx.GetIndex()+1
		}
		for i := lo; i < hi; i++ {
			c := st.visibleCounter(id, i)
			out = append(out, &p4v1.Entity{Entity: &p4v1.Entity_CounterEntry{CounterEntry: &p4v1.CounterEntry{
				CounterId: id, Index: &p4v1.Index{Index: i},
				Data: &p4v1.CounterData{ByteCount: c.bytes, PacketCount: c.packets},
			}}})
		}
	}
	return out, nil
}

func (st *state) readMeters(q *p4v1.MeterEntry) ([]*p4v1.Entity, error) {
	ids := st.schema.meterOrder
	if q.GetMeterId() != 0 {
		if _, ok := st.meters[q.GetMeterId()]; !ok {
			return nil, statusf(codes.InvalidArgument, "unknown meter id %#x", q.GetMeterId())
		}
		ids = []uint32{q.GetMeterId()}
	} else if q.GetIndex() != nil {
		return nil, statusf(codes.InvalidArgument, "an index filter needs a meter_id")
	}
	var out []*p4v1.Entity
	for _, id := range ids {
		cells := st.meters[id]
		lo, hi := int64(0), int64(len(cells))
		if idx := q.GetIndex(); idx != nil {
			if err := checkIndex(idx, int64(len(cells)), st.schema.meters[id].name); err != nil {
				return nil, err
			}
			lo, hi = idx.GetIndex(), idx.GetIndex()+1
		}
		for i := lo; i < hi; i++ {
			me := &p4v1.MeterEntry{MeterId: id, Index: &p4v1.Index{Index: i}, Config: cloneMeterConfig(st.visibleMeter(id, i))}
			if q.GetCounterData() != nil { // per-color counts, asked for (§9.4.1)
				c := &cells[i].colors
				me.CounterData = &p4v1.MeterCounterData{
					Green:  &p4v1.CounterData{ByteCount: c[Green].bytes, PacketCount: c[Green].packets},
					Yellow: &p4v1.CounterData{ByteCount: c[Yellow].bytes, PacketCount: c[Yellow].packets},
					Red:    &p4v1.CounterData{ByteCount: c[Red].bytes, PacketCount: c[Red].packets},
				}
			}
			out = append(out, &p4v1.Entity{Entity: &p4v1.Entity_MeterEntry{MeterEntry: me}})
		}
	}
	return out, nil
}

// readDirect reads DirectCounterEntry (counter=true) or DirectMeterEntry
// entities. A nil or zero-table query reads every table with such a
// resource; an unset match reads every entry of the table.
func (st *state) readDirect(q *p4v1.TableEntry, counter bool) ([]*p4v1.Entity, error) {
	has := func(ti *tableInfo) bool {
		if counter {
			return ti.directCounter != 0
		}
		return ti.directMeter != 0
	}
	keyOnly := func(te *p4v1.TableEntry) *p4v1.TableEntry {
		return &p4v1.TableEntry{TableId: te.GetTableId(), Match: te.GetMatch(), Priority: te.GetPriority(), IsDefaultAction: te.GetIsDefaultAction()}
	}
	wrap := func(te *p4v1.TableEntry, e *tableEntry) *p4v1.Entity {
		te = proto.Clone(keyOnly(te)).(*p4v1.TableEntry)
		if counter {
			var c counterCell
			if e != nil {
				c = e.counter
			}
			return &p4v1.Entity{Entity: &p4v1.Entity_DirectCounterEntry{DirectCounterEntry: &p4v1.DirectCounterEntry{
				TableEntry: te, Data: &p4v1.CounterData{ByteCount: c.bytes, PacketCount: c.packets},
			}}}
		}
		var cfg *p4v1.MeterConfig
		if e != nil {
			cfg = cloneMeterConfig(e.meter.cfg)
		}
		return &p4v1.Entity{Entity: &p4v1.Entity_DirectMeterEntry{DirectMeterEntry: &p4v1.DirectMeterEntry{TableEntry: te, Config: cfg}}}
	}
	if q.GetTableId() != 0 && (len(q.GetMatch()) > 0 || q.GetIsDefaultAction()) {
		ts, ok := st.tables[q.GetTableId()]
		if !ok {
			return nil, statusf(codes.InvalidArgument, "unknown table id %#x", q.GetTableId())
		}
		if !has(ts.info) {
			return nil, statusf(codes.InvalidArgument, "table %q has no such direct resource", ts.info.name)
		}
		if q.GetIsDefaultAction() {
			def := st.visibleDef(ts)
			return []*p4v1.Entity{wrap(ts.defaultEntryOf(def, st.schema), def)}, nil
		}
		match, err := canonicalMatch(ts.info, q.GetMatch())
		if err != nil {
			return nil, err
		}
		e := st.visibleEntry(ts, entryKey(&p4v1.TableEntry{Priority: q.GetPriority(), Match: match}))
		if e == nil {
			return nil, statusf(codes.NotFound, "table %q: no such entry", ts.info.name)
		}
		return []*p4v1.Entity{wrap(e.te, e)}, nil
	}
	tables, err := st.tablesFor(q.GetTableId())
	if err != nil {
		return nil, err
	}
	var out []*p4v1.Entity
	for _, ts := range tables {
		if !has(ts.info) {
			if q.GetTableId() != 0 {
				return nil, statusf(codes.InvalidArgument, "table %q has no such direct resource", ts.info.name)
			}
			continue
		}
		for _, e := range st.visibleEntries(ts) {
			out = append(out, wrap(e.te, e))
		}
	}
	return out, nil
}

// reconcile replays the entities of old into fresh, which belongs to a new
// pipeline, for RECONCILE_AND_COMMIT (§14). Any entity the new pipeline
// rejects makes the reconciliation fail.
func reconcile(old, fresh *state) error {
	ins := func(t p4v1.Update_Type, e *p4v1.Entity) error {
		return fresh.apply(&p4v1.Update{Type: t, Entity: e})
	}
	for _, pid := range old.schema.profileOrder {
		ps := old.profiles[pid]
		for _, m := range ps.sortedMembers() {
			if err := ins(p4v1.Update_INSERT, &p4v1.Entity{Entity: &p4v1.Entity_ActionProfileMember{ActionProfileMember: m.m}}); err != nil {
				return err
			}
		}
		for _, g := range ps.sortedGroups() {
			if err := ins(p4v1.Update_INSERT, &p4v1.Entity{Entity: &p4v1.Entity_ActionProfileGroup{ActionProfileGroup: g.g}}); err != nil {
				return err
			}
		}
	}
	for _, tid := range old.schema.tableOrder {
		ts := old.tables[tid]
		for _, e := range ts.sortedEntries() {
			te := proto.Clone(e.te).(*p4v1.TableEntry)
			if ts.info.directCounter != 0 {
				te.CounterData = &p4v1.CounterData{ByteCount: e.counter.bytes, PacketCount: e.counter.packets}
			}
			te.MeterConfig = cloneMeterConfig(e.meter.cfg)
			if err := ins(p4v1.Update_INSERT, &p4v1.Entity{Entity: &p4v1.Entity_TableEntry{TableEntry: te}}); err != nil {
				return err
			}
		}
		if ts.def != nil && ts.info.profile == nil && ts.info.constDefault == 0 {
			if err := ins(p4v1.Update_MODIFY, &p4v1.Entity{Entity: &p4v1.Entity_TableEntry{TableEntry: ts.def.te}}); err != nil {
				return err
			}
		}
	}
	for _, id := range old.schema.counterOrder {
		for i, c := range old.counters[id] {
			if c == (counterCell{}) {
				continue
			}
			ce := &p4v1.CounterEntry{CounterId: id, Index: &p4v1.Index{Index: int64(i)}, Data: &p4v1.CounterData{ByteCount: c.bytes, PacketCount: c.packets}}
			if err := ins(p4v1.Update_MODIFY, &p4v1.Entity{Entity: &p4v1.Entity_CounterEntry{CounterEntry: ce}}); err != nil {
				return err
			}
		}
	}
	for _, id := range old.schema.meterOrder {
		for i, m := range old.meters[id] {
			if m.cfg == nil {
				continue
			}
			me := &p4v1.MeterEntry{MeterId: id, Index: &p4v1.Index{Index: int64(i)}, Config: m.cfg}
			if err := ins(p4v1.Update_MODIFY, &p4v1.Entity{Entity: &p4v1.Entity_MeterEntry{MeterEntry: me}}); err != nil {
				return err
			}
		}
	}
	return nil
}

package sim

import (
	"sort"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
)

// A Write is applied in chunks, releasing the switch's lock in between so
// that other clients' Reads are not stalled for the whole batch. P4Runtime
// ("Parallelism of Read and Write Requests") still wants every Read to see
// the state before a Write began or after it completed. So while a Write
// runs, the state keeps a before-image of what it changed, and Reads answer
// from it:
//
//   - entities the Write creates carry its transaction number and stay
//     hidden until it commits (no copying: INSERT, the bulk case, is free);
//   - before changing or deleting an entity that Reads can see, the Write
//     saves the old value once.
//
// Commit drops the before-image and makes the new entities visible in O(1).
// The traffic model (the data plane) runs on the live state: CONTINUE_ON_ERROR
// lets packets see the batch between two of its updates (§12.2).

// beforeImage is what the Write in progress changed, as Reads must see it.
type beforeImage struct {
	entries map[*tableState]map[string]*tableEntry // by key; copies
	defs    map[*tableState]*tableEntry            // ts.def before (nil: initial default)
	members map[*profileState]map[uint32]*p4v1.ActionProfileMember
	groups  map[*profileState]map[uint32]*p4v1.ActionProfileGroup
	// Counter and meter cells by index, or whole arrays once a wildcard
	// write touched them.
	counters     map[uint32]map[int64]counterCell
	counterArray map[uint32][]counterCell
	meters       map[uint32]map[int64]*p4v1.MeterConfig
	meterArray   map[uint32][]*p4v1.MeterConfig
}

func newBeforeImage() *beforeImage {
	return &beforeImage{
		entries:      map[*tableState]map[string]*tableEntry{},
		defs:         map[*tableState]*tableEntry{},
		members:      map[*profileState]map[uint32]*p4v1.ActionProfileMember{},
		groups:       map[*profileState]map[uint32]*p4v1.ActionProfileGroup{},
		counters:     map[uint32]map[int64]counterCell{},
		counterArray: map[uint32][]counterCell{},
		meters:       map[uint32]map[int64]*p4v1.MeterConfig{},
		meterArray:   map[uint32][]*p4v1.MeterConfig{},
	}
}

// begin starts a Write: until commit, Reads see the state as it is now.
func (st *state) begin() {
	st.txn++
	st.before = newBeforeImage()
}

// commit makes everything since begin visible to Reads.
func (st *state) commit() {
	st.committed = st.txn
	st.before = nil
}

// visible reports whether Reads may see an entity created by transaction
// txn: everything but what the Write in progress created.
func (st *state) visible(txn uint64) bool { return txn <= st.committed }

// ---- saving old values (write side) ----

// saveEntry records e before its first change by the running Write.
func (st *state) saveEntry(ts *tableState, e *tableEntry) {
	if st.before == nil || !st.visible(e.txn) {
		return
	}
	m := st.before.entries[ts]
	if m == nil {
		m = map[string]*tableEntry{}
		st.before.entries[ts] = m
	}
	if _, ok := m[e.key]; !ok {
		c := *e
		m[e.key] = &c
	}
}

// saveDef records the default entry of ts before its first change.
func (st *state) saveDef(ts *tableState) {
	if st.before == nil {
		return
	}
	if _, ok := st.before.defs[ts]; ok {
		return
	}
	var c *tableEntry
	if ts.def != nil {
		cp := *ts.def
		c = &cp
	}
	st.before.defs[ts] = c
}

func (st *state) saveMember(ps *profileState, m *apMember) {
	if st.before == nil || !st.visible(m.txn) {
		return
	}
	saved := st.before.members[ps]
	if saved == nil {
		saved = map[uint32]*p4v1.ActionProfileMember{}
		st.before.members[ps] = saved
	}
	if _, ok := saved[m.m.GetMemberId()]; !ok {
		saved[m.m.GetMemberId()] = m.m // stored protos are never mutated
	}
}

func (st *state) saveGroup(ps *profileState, g *apGroup) {
	if st.before == nil || !st.visible(g.txn) {
		return
	}
	saved := st.before.groups[ps]
	if saved == nil {
		saved = map[uint32]*p4v1.ActionProfileGroup{}
		st.before.groups[ps] = saved
	}
	if _, ok := saved[g.g.GetGroupId()]; !ok {
		saved[g.g.GetGroupId()] = g.g
	}
}

// saveCounter records cell i of counter id (all cells when i < 0).
func (st *state) saveCounter(id uint32, i int64) {
	if st.before == nil || st.before.counterArray[id] != nil {
		return
	}
	cells := st.counters[id]
	saved := st.before.counters[id]
	if i < 0 {
		full := append([]counterCell(nil), cells...)
		for j, c := range saved {
			full[j] = c
		}
		st.before.counterArray[id] = full
		return
	}
	if saved == nil {
		saved = map[int64]counterCell{}
		st.before.counters[id] = saved
	}
	if _, ok := saved[i]; !ok {
		saved[i] = cells[i]
	}
}

// saveMeter records the config of cell i of meter id (all cells when i < 0).
func (st *state) saveMeter(id uint32, i int64) {
	if st.before == nil || st.before.meterArray[id] != nil {
		return
	}
	cells := st.meters[id]
	saved := st.before.meters[id]
	if i < 0 {
		full := make([]*p4v1.MeterConfig, len(cells))
		for j := range cells {
			full[j] = cells[j].cfg
		}
		for j, c := range saved {
			full[j] = c
		}
		st.before.meterArray[id] = full
		return
	}
	if saved == nil {
		saved = map[int64]*p4v1.MeterConfig{}
		st.before.meters[id] = saved
	}
	if _, ok := saved[i]; !ok {
		saved[i] = cells[i].cfg
	}
}

// ---- what Reads see (read side) ----

// visibleEntry is the entry of ts with key as Reads see it, or nil.
func (st *state) visibleEntry(ts *tableState, key string) *tableEntry {
	if st.before != nil {
		if e, ok := st.before.entries[ts][key]; ok {
			return e
		}
	}
	if e := ts.entries[key]; e != nil && st.visible(e.txn) {
		return e
	}
	return nil
}

// visibleEntries is what Reads see of ts, in insertion order.
func (st *state) visibleEntries(ts *tableState) []*tableEntry {
	if st.before == nil {
		return ts.sortedEntries()
	}
	saved := st.before.entries[ts]
	out := make([]*tableEntry, 0, len(ts.entries)+len(saved))
	for key, e := range ts.entries {
		if _, changed := saved[key]; !changed && st.visible(e.txn) {
			out = append(out, e)
		}
	}
	for _, e := range saved {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].seq < out[j].seq })
	return out
}

// visibleDef is the client-written default entry of ts as Reads see it
// (nil: the P4Info's initial default).
func (st *state) visibleDef(ts *tableState) *tableEntry {
	if st.before != nil {
		if e, ok := st.before.defs[ts]; ok {
			return e
		}
	}
	return ts.def
}

// visibleMembers is what Reads see of ps's members, by member ID.
func (st *state) visibleMembers(ps *profileState) []*p4v1.ActionProfileMember {
	var saved map[uint32]*p4v1.ActionProfileMember
	if st.before != nil {
		saved = st.before.members[ps]
	}
	out := make([]*p4v1.ActionProfileMember, 0, len(ps.members)+len(saved))
	for id, m := range ps.members {
		if _, changed := saved[id]; !changed && st.visible(m.txn) {
			out = append(out, m.m)
		}
	}
	for _, m := range saved {
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].GetMemberId() < out[j].GetMemberId() })
	return out
}

// visibleGroups is what Reads see of ps's groups, by group ID.
func (st *state) visibleGroups(ps *profileState) []*p4v1.ActionProfileGroup {
	var saved map[uint32]*p4v1.ActionProfileGroup
	if st.before != nil {
		saved = st.before.groups[ps]
	}
	out := make([]*p4v1.ActionProfileGroup, 0, len(ps.groups)+len(saved))
	for id, g := range ps.groups {
		if _, changed := saved[id]; !changed && st.visible(g.txn) {
			out = append(out, g.g)
		}
	}
	for _, g := range saved {
		out = append(out, g)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].GetGroupId() < out[j].GetGroupId() })
	return out
}

// visibleCounter is cell i of counter id as Reads see it.
func (st *state) visibleCounter(id uint32, i int64) counterCell {
	if st.before != nil {
		if full := st.before.counterArray[id]; full != nil {
			return full[i]
		}
		if c, ok := st.before.counters[id][i]; ok {
			return c
		}
	}
	return st.counters[id][i]
}

// visibleMeter is the config of cell i of meter id as Reads see it.
func (st *state) visibleMeter(id uint32, i int64) *p4v1.MeterConfig {
	if st.before != nil {
		if full := st.before.meterArray[id]; full != nil {
			return full[i]
		}
		if c, ok := st.before.meters[id][i]; ok {
			return c
		}
	}
	return st.meters[id][i].cfg
}

// ---- rolling back (ROLLBACK_ON_ERROR, DATAPLANE_ATOMIC) ----

// rollback undoes everything the running Write changed: what it created
// carries its transaction number and is removed, what it changed or deleted
// comes back from the before-image. Reference counts are then recounted.
// The caller still calls commit to end the transaction. Called with mu
// held since the Write began, so no packet saw the changes.
func (st *state) rollback() {
	b := st.before
	if b == nil {
		return
	}
	for _, ts := range st.tables {
		for key, e := range ts.entries {
			if e.txn == st.txn {
				delete(ts.entries, key)
			}
		}
		for key, e := range b.entries[ts] {
			ts.entries[key] = e
		}
		if d, ok := b.defs[ts]; ok {
			ts.def = d
		}
	}
	for _, ps := range st.profiles {
		for id, m := range ps.members {
			if m.txn == st.txn {
				delete(ps.members, id)
			}
		}
		for id, m := range b.members[ps] { // reference counts: recountRefs
			ps.members[id] = &apMember{seq: st.nextSeq(), txn: st.committed, m: m}
		}
		for id, g := range ps.groups {
			if g.txn == st.txn {
				delete(ps.groups, id)
			}
		}
		for id, g := range b.groups[ps] {
			ps.groups[id] = &apGroup{seq: st.nextSeq(), txn: st.committed, g: g}
		}
	}
	st.recountRefs()
	for id, cells := range st.counters {
		if full := b.counterArray[id]; full != nil {
			copy(cells, full)
			continue
		}
		for i, c := range b.counters[id] {
			cells[i] = c
		}
	}
	for id, cells := range st.meters {
		restore := func(i int64, cfg *p4v1.MeterConfig) {
			if cells[i].cfg != cfg { // configure clones: a changed cell has a new pointer
				cells[i].configure(cfg)
			}
		}
		if full := b.meterArray[id]; full != nil {
			for i, cfg := range full {
				restore(int64(i), cfg)
			}
			continue
		}
		for i, cfg := range b.meters[id] {
			restore(i, cfg)
		}
	}
}

// recountRefs recomputes the member and group reference counts from the
// groups and table entries.
func (st *state) recountRefs() {
	for _, ps := range st.profiles {
		for _, m := range ps.members {
			m.groupRefs, m.entryRefs = 0, 0
		}
		for _, g := range ps.groups {
			g.entryRefs = 0
		}
		for _, g := range ps.groups {
			ps.adjustGroupRefs(g.g, +1)
		}
	}
	for _, ts := range st.tables {
		for _, e := range ts.entries {
			st.refs(ts.info, e.te.GetAction(), +1)
		}
	}
}

package sim

import (
	"encoding/binary"
	"sort"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/protobuf/proto"
)

// state is the forwarding state of one committed pipeline: what Write
// changes, what Read returns and what the traffic model looks up. It is
// guarded by Switch.mu.
type state struct {
	schema   *schema
	tables   map[uint32]*tableState
	profiles map[uint32]*profileState
	counters map[uint32][]counterCell
	meters   map[uint32][]meterCell
	// seq orders entities by insertion so that reads and equal-priority
	// lookups are deterministic.
	seq uint64
	// txn numbers Writes and committed is the last one done; before is the
	// before-image of the Write in progress (nil when none). See txn.go.
	txn, committed uint64
	before         *beforeImage
}

type counterCell struct{ bytes, packets int64 }

type tableState struct {
	info    *tableInfo
	entries map[string]*tableEntry
	// def is the default entry written by a client; nil means the P4Info's
	// initial default action (§9.1.3).
	def *tableEntry
}

type tableEntry struct {
	seq uint64
	txn uint64 // the Write that created it (see txn.go)
	key string
	// te is the canonical entry without direct resource data; counter and
	// meter carry those.
	te      *p4v1.TableEntry
	counter counterCell
	meter   meterCell
}

type profileState struct {
	info    *profileInfo
	members map[uint32]*apMember
	groups  map[uint32]*apGroup
}

type apMember struct {
	seq uint64
	txn uint64
	m   *p4v1.ActionProfileMember
	// groupRefs counts groups containing the member, entryRefs the table
	// entries pointing at it; §9.2.1 forbids deleting it while either is > 0.
	groupRefs, entryRefs int
}

type apGroup struct {
	seq       uint64
	txn       uint64
	g         *p4v1.ActionProfileGroup
	entryRefs int
}

func newState(s *schema) *state {
	st := &state{
		schema:   s,
		tables:   map[uint32]*tableState{},
		profiles: map[uint32]*profileState{},
		counters: map[uint32][]counterCell{},
		meters:   map[uint32][]meterCell{},
	}
	for id, ti := range s.tables {
		st.tables[id] = &tableState{info: ti, entries: map[string]*tableEntry{}}
	}
	for id, pi := range s.profiles {
		st.profiles[id] = &profileState{info: pi, members: map[uint32]*apMember{}, groups: map[uint32]*apGroup{}}
	}
	for id, ci := range s.counters {
		st.counters[id] = make([]counterCell, clampSize(ci.size))
	}
	for id, mi := range s.meters {
		st.meters[id] = make([]meterCell, clampSize(mi.size))
	}
	return st
}

// clampSize keeps negative sizes out; newSchema has already refused
// P4Infos whose counters and meters exceed maxCells in total.
func clampSize(n int64) int64 {
	if n < 0 {
		return 0
	}
	return n
}

func (st *state) nextSeq() uint64 {
	st.seq++
	return st.seq
}

// entryKey is the identity of a table entry (§9.1: match and priority; the
// table ID scopes it). Matches are canonical and sorted by field ID before
// this is called.
func entryKey(te *p4v1.TableEntry) string {
	b := make([]byte, 0, 64)
	b = binary.BigEndian.AppendUint32(b, uint32(te.GetPriority()))
	for _, m := range te.GetMatch() {
		b = binary.BigEndian.AppendUint32(b, m.GetFieldId())
		switch f := m.GetFieldMatchType().(type) {
		case *p4v1.FieldMatch_Exact_:
			b = appendLV(append(b, 'e'), f.Exact.GetValue())
		case *p4v1.FieldMatch_Ternary_:
			b = appendLV(appendLV(append(b, 't'), f.Ternary.GetValue()), f.Ternary.GetMask())
		case *p4v1.FieldMatch_Lpm:
			b = binary.BigEndian.AppendUint32(appendLV(append(b, 'l'), f.Lpm.GetValue()), uint32(f.Lpm.GetPrefixLen()))
		case *p4v1.FieldMatch_Range_:
			b = appendLV(appendLV(append(b, 'r'), f.Range.GetLow()), f.Range.GetHigh())
		case *p4v1.FieldMatch_Optional_:
			b = appendLV(append(b, 'o'), f.Optional.GetValue())
		}
	}
	return string(b)
}

func appendLV(b, v []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(v)))
	return append(b, v...)
}

// sortedEntries returns the table's entries in insertion order.
func (ts *tableState) sortedEntries() []*tableEntry {
	out := make([]*tableEntry, 0, len(ts.entries))
	for _, e := range ts.entries {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].seq < out[j].seq })
	return out
}

func (ps *profileState) sortedMembers() []*apMember {
	out := make([]*apMember, 0, len(ps.members))
	for _, m := range ps.members {
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].m.GetMemberId() < out[j].m.GetMemberId() })
	return out
}

func (ps *profileState) sortedGroups() []*apGroup {
	out := make([]*apGroup, 0, len(ps.groups))
	for _, g := range ps.groups {
		out = append(out, g)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].g.GetGroupId() < out[j].g.GetGroupId() })
	return out
}

// defaultEntry returns the default entry as a client would read it.
func (ts *tableState) defaultEntry(s *schema) *p4v1.TableEntry {
	return ts.defaultEntryOf(ts.def, s)
}

// defaultEntryOf is defaultEntry with def as the client-written default.
func (ts *tableState) defaultEntryOf(def *tableEntry, s *schema) *p4v1.TableEntry {
	if def != nil {
		return proto.Clone(def.te).(*p4v1.TableEntry)
	}
	te := &p4v1.TableEntry{TableId: ts.info.id, IsDefaultAction: true}
	if ts.info.profile != nil {
		// §9.1.3: the default entry of an indirect table is a constant
		// NoAction; there is nothing meaningful to report as its action.
		return te
	}
	if init := ts.info.initial; init != nil && init.GetActionId() != 0 {
		a := &p4v1.Action{ActionId: init.GetActionId()}
		ai := s.actions[init.GetActionId()]
		for _, arg := range init.GetArguments() {
			if ai == nil || ai.params[arg.GetParamId()] == nil {
				continue
			}
			v, err := canonical(arg.GetValue(), ai.params[arg.GetParamId()].GetBitwidth(), "default action argument")
			if err != nil {
				continue
			}
			a.Params = append(a.Params, &p4v1.Action_Param{ParamId: arg.GetParamId(), Value: v})
		}
		te.Action = &p4v1.TableAction{Type: &p4v1.TableAction_Action{Action: a}}
	}
	return te
}

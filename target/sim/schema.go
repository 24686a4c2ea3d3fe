package sim

import (
	"fmt"
	"strings"

	p4configv1 "github.com/p4lang/p4runtime/go/p4/config/v1"
	"google.golang.org/grpc/codes"
)

// maxCells bounds the indirect counter and meter cells a pipeline may
// declare, so that a P4Info cannot make the sim allocate without limit.
const maxCells = 1 << 22

// schema indexes a P4Info by ID (what P4Runtime messages carry) and by name
// (what the traffic model uses). It is immutable once built.
type schema struct {
	p4info   *p4configv1.P4Info
	tables   map[uint32]*tableInfo
	actions  map[uint32]*actionInfo
	profiles map[uint32]*profileInfo
	counters map[uint32]*counterInfo
	meters   map[uint32]*meterInfo
	// direct resources by their own ID; the value is the table they belong to.
	directCounters map[uint32]uint32
	directMeters   map[uint32]uint32
	// tableOrder and the other *Order slices give reads a stable order.
	tableOrder   []uint32
	profileOrder []uint32
	counterOrder []uint32
	meterOrder   []uint32
}

type tableInfo struct {
	id     uint32
	name   string
	alias  string
	fields map[uint32]*p4configv1.MatchField
	// fieldOrder is the key in P4Info order.
	fieldOrder []*p4configv1.MatchField
	actions    map[uint32]p4configv1.ActionRef_Scope
	// needsPriority is true when the key has a ternary, range or optional
	// field (§9.1: priority must then be non-zero, and zero otherwise).
	needsPriority bool
	profile       *profileInfo // nil for a direct table
	directCounter uint32
	directMeter   uint32
	// directMeterUnit is the unit of directMeter's buckets (bytes or
	// packets), which the traffic model meters in.
	directMeterUnit p4configv1.MeterSpec_Unit
	size            int64
	constDefault    uint32
	initial         *p4configv1.TableActionCall
	idleTimeout     bool
	isConst         bool
}

type actionInfo struct {
	id     uint32
	name   string
	alias  string
	params map[uint32]*p4configv1.Action_Param
}

type profileInfo struct {
	id                uint32
	name              string
	alias             string
	selector          bool
	size              int64
	maxGroupSize      int32
	weightsDisallowed bool
	sumOfMembers      bool
	tables            []uint32
	// actions is the union of the action sets of the tables it implements
	// (§9.2.1: those must be identical anyway).
	actions map[uint32]bool
}

type counterInfo struct {
	id    uint32
	name  string
	alias string
	size  int64
	unit  p4configv1.CounterSpec_Unit
}

type meterInfo struct {
	id    uint32
	name  string
	alias string
	size  int64
	unit  p4configv1.MeterSpec_Unit
	typ   p4configv1.MeterSpec_Type
}

// newSchema checks that the P4Info is self-consistent (every reference
// resolves, IDs are unique) and indexes it. sizeOverride maps a table name
// (full, alias or last dotted component) to a size that replaces the P4Info
// size, so tests can reach RESOURCE_EXHAUSTED quickly.
func newSchema(info *p4configv1.P4Info, sizeOverride map[string]int64) (*schema, error) {
	if info == nil {
		return nil, statusf(codes.InvalidArgument, "config has no p4info")
	}
	s := &schema{
		p4info:         info,
		tables:         map[uint32]*tableInfo{},
		actions:        map[uint32]*actionInfo{},
		profiles:       map[uint32]*profileInfo{},
		counters:       map[uint32]*counterInfo{},
		meters:         map[uint32]*meterInfo{},
		directCounters: map[uint32]uint32{},
		directMeters:   map[uint32]uint32{},
	}
	seen := map[uint32]string{}
	claim := func(id uint32, name string) error {
		if id == 0 {
			return statusf(codes.InvalidArgument, "p4info object %q has id 0", name)
		}
		if prev, ok := seen[id]; ok {
			return statusf(codes.InvalidArgument, "p4info id %#x used by both %q and %q", id, prev, name)
		}
		seen[id] = name
		return nil
	}
	for _, a := range info.GetActions() {
		p := a.GetPreamble()
		if err := claim(p.GetId(), p.GetName()); err != nil {
			return nil, err
		}
		ai := &actionInfo{id: p.GetId(), name: p.GetName(), alias: p.GetAlias(), params: map[uint32]*p4configv1.Action_Param{}}
		for _, prm := range a.GetParams() {
			if _, dup := ai.params[prm.GetId()]; dup || prm.GetId() == 0 {
				return nil, statusf(codes.InvalidArgument, "action %q: bad or duplicate param id %d", p.GetName(), prm.GetId())
			}
			ai.params[prm.GetId()] = prm
		}
		s.actions[ai.id] = ai
	}
	for _, ap := range info.GetActionProfiles() {
		p := ap.GetPreamble()
		if err := claim(p.GetId(), p.GetName()); err != nil {
			return nil, err
		}
		pi := &profileInfo{
			id: p.GetId(), name: p.GetName(), alias: p.GetAlias(),
			selector: ap.GetWithSelector(), size: ap.GetSize(), maxGroupSize: ap.GetMaxGroupSize(),
			weightsDisallowed: ap.GetWeightsDisallowed(), sumOfMembers: ap.GetSumOfMembers() != nil,
			tables: ap.GetTableIds(), actions: map[uint32]bool{},
		}
		s.profiles[pi.id] = pi
		s.profileOrder = append(s.profileOrder, pi.id)
	}
	for _, c := range info.GetCounters() {
		p := c.GetPreamble()
		if err := claim(p.GetId(), p.GetName()); err != nil {
			return nil, err
		}
		s.counters[p.GetId()] = &counterInfo{id: p.GetId(), name: p.GetName(), alias: p.GetAlias(), size: c.GetSize(), unit: c.GetSpec().GetUnit()}
		s.counterOrder = append(s.counterOrder, p.GetId())
	}
	for _, m := range info.GetMeters() {
		p := m.GetPreamble()
		if err := claim(p.GetId(), p.GetName()); err != nil {
			return nil, err
		}
		s.meters[p.GetId()] = &meterInfo{id: p.GetId(), name: p.GetName(), alias: p.GetAlias(), size: m.GetSize(), unit: m.GetSpec().GetUnit(), typ: m.GetSpec().GetType()}
		s.meterOrder = append(s.meterOrder, p.GetId())
	}
	for _, dc := range info.GetDirectCounters() {
		p := dc.GetPreamble()
		if err := claim(p.GetId(), p.GetName()); err != nil {
			return nil, err
		}
		s.directCounters[p.GetId()] = dc.GetDirectTableId()
	}
	directMeterUnit := map[uint32]p4configv1.MeterSpec_Unit{}
	for _, dm := range info.GetDirectMeters() {
		p := dm.GetPreamble()
		if err := claim(p.GetId(), p.GetName()); err != nil {
			return nil, err
		}
		s.directMeters[p.GetId()] = dm.GetDirectTableId()
		directMeterUnit[p.GetId()] = dm.GetSpec().GetUnit()
	}
	// Objects this server does not model are still claimed so that ID
	// collisions are caught; their entities are UNIMPLEMENTED at write time.
	for _, r := range info.GetRegisters() {
		if err := claim(r.GetPreamble().GetId(), r.GetPreamble().GetName()); err != nil {
			return nil, err
		}
	}
	for _, d := range info.GetDigests() {
		if err := claim(d.GetPreamble().GetId(), d.GetPreamble().GetName()); err != nil {
			return nil, err
		}
	}
	for _, c := range info.GetControllerPacketMetadata() {
		if err := claim(c.GetPreamble().GetId(), c.GetPreamble().GetName()); err != nil {
			return nil, err
		}
	}
	for _, v := range info.GetValueSets() {
		if err := claim(v.GetPreamble().GetId(), v.GetPreamble().GetName()); err != nil {
			return nil, err
		}
	}

	bound := map[uint32]bool{} // action profiles already implementing a table
	for _, t := range info.GetTables() {
		p := t.GetPreamble()
		if err := claim(p.GetId(), p.GetName()); err != nil {
			return nil, err
		}
		ti := &tableInfo{
			id: p.GetId(), name: p.GetName(), alias: p.GetAlias(),
			fields: map[uint32]*p4configv1.MatchField{}, actions: map[uint32]p4configv1.ActionRef_Scope{},
			size: t.GetSize(), constDefault: t.GetConstDefaultActionId(), initial: t.GetInitialDefaultAction(),
			idleTimeout: t.GetIdleTimeoutBehavior() == p4configv1.Table_NOTIFY_CONTROL, isConst: t.GetIsConstTable(),
		}
		for _, f := range t.GetMatchFields() {
			if _, dup := ti.fields[f.GetId()]; dup || f.GetId() == 0 {
				return nil, statusf(codes.InvalidArgument, "table %q: bad or duplicate match field id %d", ti.name, f.GetId())
			}
			if f.GetBitwidth() <= 0 {
				return nil, statusf(codes.InvalidArgument, "table %q: match field %q has bitwidth %d", ti.name, f.GetName(), f.GetBitwidth())
			}
			switch f.GetMatchType() {
			case p4configv1.MatchField_EXACT, p4configv1.MatchField_LPM:
			case p4configv1.MatchField_TERNARY, p4configv1.MatchField_RANGE, p4configv1.MatchField_OPTIONAL:
				ti.needsPriority = true
			default:
				return nil, statusf(codes.InvalidArgument, "table %q: match field %q has unsupported match type %v", ti.name, f.GetName(), f.GetMatchType())
			}
			ti.fields[f.GetId()] = f
			ti.fieldOrder = append(ti.fieldOrder, f)
		}
		for _, ref := range t.GetActionRefs() {
			if _, ok := s.actions[ref.GetId()]; !ok {
				return nil, statusf(codes.InvalidArgument, "table %q references unknown action id %#x", ti.name, ref.GetId())
			}
			ti.actions[ref.GetId()] = ref.GetScope()
		}
		if ti.constDefault != 0 {
			if _, ok := ti.actions[ti.constDefault]; !ok {
				return nil, statusf(codes.InvalidArgument, "table %q: const default action %#x is not one of its actions", ti.name, ti.constDefault)
			}
		}
		if impl := t.GetImplementationId(); impl != 0 {
			pi, ok := s.profiles[impl]
			if !ok {
				return nil, statusf(codes.InvalidArgument, "table %q: implementation %#x is not an action profile", ti.name, impl)
			}
			if bound[impl] && !sameActions(pi.actions, ti.actions) {
				// §9.2.1: "the actions attributes of the tables must have an
				// identical list of P4 actions".
				return nil, statusf(codes.InvalidArgument, "table %q: the tables sharing action profile %q must have identical actions", ti.name, pi.name)
			}
			bound[impl] = true
			ti.profile = pi
			for a := range ti.actions {
				pi.actions[a] = true
			}
		}
		for _, rid := range t.GetDirectResourceIds() {
			switch {
			case s.directCounters[rid] == ti.id:
				ti.directCounter = rid
			case s.directMeters[rid] == ti.id:
				ti.directMeter, ti.directMeterUnit = rid, directMeterUnit[rid]
			default:
				return nil, statusf(codes.InvalidArgument, "table %q: direct resource %#x is not a direct counter or meter of this table", ti.name, rid)
			}
		}
		if n, ok := lookupOverride(sizeOverride, ti.name, ti.alias); ok {
			ti.size = n
		}
		s.tables[ti.id] = ti
		s.tableOrder = append(s.tableOrder, ti.id)
	}
	var cells int64
	for _, c := range s.counters {
		cells += min(max(c.size, 0), maxCells+1) // saturating: no overflow
	}
	for _, m := range s.meters {
		cells += min(max(m.size, 0), maxCells+1)
	}
	if cells > maxCells {
		// §14: a config the target cannot realize is INVALID_ARGUMENT.
		return nil, statusf(codes.InvalidArgument, "counters and meters need %d cells; the sim target holds at most %d", cells, maxCells)
	}
	for _, pi := range s.profiles {
		for _, tid := range pi.tables {
			if _, ok := s.tables[tid]; !ok {
				return nil, statusf(codes.InvalidArgument, "action profile %q lists unknown table %#x", pi.name, tid)
			}
		}
	}
	for id, tid := range s.directCounters {
		if _, ok := s.tables[tid]; !ok {
			return nil, statusf(codes.InvalidArgument, "direct counter %#x belongs to unknown table %#x", id, tid)
		}
	}
	for id, tid := range s.directMeters {
		if _, ok := s.tables[tid]; !ok {
			return nil, statusf(codes.InvalidArgument, "direct meter %#x belongs to unknown table %#x", id, tid)
		}
	}
	return s, nil
}

func lookupOverride(m map[string]int64, name, alias string) (int64, bool) {
	for _, k := range []string{name, alias, lastComponent(name)} {
		if n, ok := m[k]; ok && k != "" {
			return n, true
		}
	}
	return 0, false
}

// lastComponent returns "classifier" for "QosIngress.classifier".
func lastComponent(name string) string {
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		return name[i+1:]
	}
	return name
}

// nameMatches reports whether a P4Info object with the given full name and
// alias is the one called want (full name, alias or last component).
func nameMatches(name, alias, want string) bool {
	return name == want || (alias != "" && alias == want) || lastComponent(name) == want
}

func (s *schema) tableNamed(want string) *tableInfo {
	for _, id := range s.tableOrder {
		if t := s.tables[id]; nameMatches(t.name, t.alias, want) {
			return t
		}
	}
	return nil
}

func (s *schema) counterNamed(want string) *counterInfo {
	for _, id := range s.counterOrder {
		if c := s.counters[id]; nameMatches(c.name, c.alias, want) {
			return c
		}
	}
	return nil
}

func (s *schema) meterNamed(want string) *meterInfo {
	for _, id := range s.meterOrder {
		if m := s.meters[id]; nameMatches(m.name, m.alias, want) {
			return m
		}
	}
	return nil
}

func (a *actionInfo) paramNamed(want string) *p4configv1.Action_Param {
	for _, p := range a.params {
		if p.GetName() == want {
			return p
		}
	}
	return nil
}

func (s *schema) String() string {
	return fmt.Sprintf("p4info{%d tables, %d actions}", len(s.tables), len(s.actions))
}

// sameActions reports whether a table's action set is the profile's.
func sameActions(profile map[uint32]bool, table map[uint32]p4configv1.ActionRef_Scope) bool {
	if len(profile) != len(table) {
		return false
	}
	for a := range table {
		if !profile[a] {
			return false
		}
	}
	return true
}

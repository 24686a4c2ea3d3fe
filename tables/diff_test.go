package tables

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	p4configv1 "github.com/p4lang/p4runtime/go/p4/config/v1"
	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/protobuf/proto"

	"github.com/p4qos/p4qos/compiler/contract"
)

// fakeSwitch applies updates with the reference rules of a P4Runtime
// server (§9.2.1, §9.2.2, §9.1.2), so a test can check that a Plan's order
// never references a member or group that does not exist, or deletes one
// that is still in use.
type fakeSwitch struct {
	s     *Schema
	state map[string]*p4v1.Entity
	order []string // insertion order, for a deterministic dump
}

func newFakeSwitch(t *testing.T, s *Schema, es []*p4v1.Entity) *fakeSwitch {
	f := &fakeSwitch{s: s, state: map[string]*p4v1.Entity{}}
	for _, e := range es {
		k, err := s.Key(e)
		if err != nil {
			t.Fatal(err)
		}
		f.state[k] = e
		f.order = append(f.order, k)
	}
	return f
}

func (f *fakeSwitch) entities() []*p4v1.Entity {
	var out []*p4v1.Entity
	for _, k := range f.order {
		if e, ok := f.state[k]; ok {
			out = append(out, e)
		}
	}
	return out
}

func (f *fakeSwitch) has(e *p4v1.Entity) bool {
	k, _ := f.s.Key(e)
	_, ok := f.state[k]
	return ok
}

// references returns the member and group keys e points at.
func (f *fakeSwitch) references(e *p4v1.Entity) []*p4v1.Entity {
	var out []*p4v1.Entity
	if g := e.GetActionProfileGroup(); g != nil {
		for _, m := range g.Members {
			out = append(out, EntityOf(&p4v1.ActionProfileMember{ActionProfileId: g.ActionProfileId, MemberId: m.MemberId}))
		}
	}
	if te := e.GetTableEntry(); te != nil {
		prof := f.s.tableInfo[te.TableId].profile
		switch a := te.GetAction().GetType().(type) {
		case *p4v1.TableAction_ActionProfileMemberId:
			out = append(out, EntityOf(&p4v1.ActionProfileMember{ActionProfileId: prof.Preamble.Id, MemberId: a.ActionProfileMemberId}))
		case *p4v1.TableAction_ActionProfileGroupId:
			out = append(out, EntityOf(&p4v1.ActionProfileGroup{ActionProfileId: prof.Preamble.Id, GroupId: a.ActionProfileGroupId}))
		}
	}
	if dm := e.GetDirectMeterEntry(); dm != nil {
		out = append(out, EntityOf(dm.TableEntry))
	}
	return out
}

func (f *fakeSwitch) apply(u *p4v1.Update) error {
	if err := f.s.ValidateUpdate(u); err != nil {
		return err
	}
	e := u.Entity
	k, err := f.s.Key(e)
	if err != nil {
		return err
	}
	_, exists := f.state[k]
	switch u.Type {
	case p4v1.Update_INSERT, p4v1.Update_MODIFY:
		_, always := upsertPhase(e)
		if u.Type == p4v1.Update_INSERT && exists {
			return fmt.Errorf("ALREADY_EXISTS %s", f.s.Describe(e))
		}
		if u.Type == p4v1.Update_MODIFY && !exists && !always {
			return fmt.Errorf("NOT_FOUND %s", f.s.Describe(e))
		}
		for _, r := range f.references(e) {
			if !f.has(r) {
				return fmt.Errorf("NOT_FOUND: %s references missing %s", f.s.Describe(e), f.s.Describe(r))
			}
		}
		if te := e.GetTableEntry(); te != nil && te.IsDefaultAction && te.Action == nil {
			// A reset installs the P4 program's initial default action.
			init := f.s.tableInfo[te.TableId].t.InitialDefaultAction
			e = EntityOf(&p4v1.TableEntry{TableId: te.TableId, IsDefaultAction: true, Action: action(init.ActionId)})
		}
		if !exists {
			f.order = append(f.order, k)
		}
		f.state[k] = e
	case p4v1.Update_DELETE:
		if !exists {
			return fmt.Errorf("NOT_FOUND %s", f.s.Describe(e))
		}
		delete(f.state, k)
		for _, other := range f.state {
			for _, r := range f.references(other) {
				if rk, _ := f.s.Key(r); rk == k && other.GetDirectMeterEntry() == nil {
					return fmt.Errorf("FAILED_PRECONDITION: %s still used by %s", f.s.Describe(e), f.s.Describe(other))
				}
			}
		}
		// A table entry takes its direct resources with it.
		for ok, other := range f.state {
			if dm := other.GetDirectMeterEntry(); dm != nil {
				if dk, _ := f.s.Key(EntityOf(dm.TableEntry)); dk == k {
					delete(f.state, ok)
				}
			}
		}
	}
	return nil
}

func TestDiffOrderAndConvergence(t *testing.T) {
	s := testSchema(t)
	must := func(e proto.Message, err error) *p4v1.Entity {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return EntityOf(e)
	}
	nh := func(port int) ActionCall {
		return Action(contract.SetNextHop, Param(contract.ParamPort, port), Param(contract.ParamSMAC, "02:00:00:00:00:01"), Param(contract.ParamDMAC, fmt.Sprintf("02:00:00:00:00:%02x", port)))
	}
	member := func(id uint32, port int) *p4v1.Entity {
		return must(s.ActionProfileMember(contract.ECMPSelector, id, nh(port)))
	}
	group := func(id uint32, members ...uint32) *p4v1.Entity {
		var gm []GroupMember
		for _, m := range members {
			gm = append(gm, GroupMember{ID: m, Weight: 1})
		}
		return must(s.ActionProfileGroup(contract.ECMPSelector, id, gm, 8))
	}
	route := func(prefix string, a EntryAction) *p4v1.Entity {
		return must(s.TableEntry(contract.IPv4LPM, []Match{LPM(contract.KeyIPv4Dst, prefix)}, a))
	}
	color := func(class, c int, dscp int) *p4v1.Entity {
		return must(s.TableEntry(contract.ColorAction, []Match{Exact(contract.KeyClassID, class), Exact(contract.KeyColor, c)}, Action(contract.RemarkDSCP, Param(contract.ParamDSCP, dscp))))
	}
	colorMeter := func(class, c int, cir int64) *p4v1.Entity {
		return must(s.DirectMeterEntry(contract.ColorAction, []Match{Exact(contract.KeyClassID, class), Exact(contract.KeyColor, c)}, &MeterConfig{CIR: cir, CBurst: 1, PIR: cir, PBurst: 1}))
	}
	meter := func(i int64, cir int64) *p4v1.Entity {
		return must(s.MeterEntry(contract.ClassMeter, i, &MeterConfig{CIR: cir, CBurst: 1, PIR: 2 * cir, PBurst: 1}))
	}
	acl := must(s.TableEntry("acl", []Match{Ternary(contract.KeyIPv4Src, "10.0.0.0", "255.0.0.0")}, Action(contract.SetClass, Param(contract.ParamClassID, 1), Param(contract.ParamDSCP, 10)), Priority(5)))
	aclDefault := must(s.TableEntry("acl", nil, Action("NoAction"), AsDefault()))
	colorDefaultDrop := must(s.TableEntry(contract.ColorAction, nil, Action("Ing.drop"), AsDefault()))

	current := []*p4v1.Entity{
		member(1, 1), member(2, 2), member(9, 9),
		group(10, 1, 2), group(30, 9),
		route("10.0.0.0/8", Group(10)), route("20.0.0.0/8", Member(1)), route("40.0.0.0/8", Group(30)),
		acl, aclDefault, colorDefaultDrop,
		color(1, 1, 12), color(2, 2, 14), colorMeter(1, 1, 100), colorMeter(2, 2, 200),
		meter(3, 1000), meter(4, 1000),
	}
	intent := []*p4v1.Entity{
		member(1, 1), member(2, 22), member(3, 3),
		group(10, 1, 3), group(20, 2),
		route("10.0.0.0/8", Group(20)), route("30.0.0.0/8", Member(3)),
		acl, color(1, 1, 12),
		meter(3, 2000), meter(5, 1000),
	}
	plan, err := Diff(s, current, intent)
	if err != nil {
		t.Fatal(err)
	}
	// Worked out by hand from the lists above; see Plan's doc for the phases.
	want := [][]string{
		{"MODIFY member 2", "INSERT member 3"},
		{"MODIFY group 10", "INSERT group 20"},
		{"MODIFY route 10.0.0.0/8", "INSERT route 30.0.0.0/8", "MODIFY default color_action reset"},
		// Resets follow the order of current: the direct meter of color 1/1
		// is listed before meter cell 4 there.
		{"MODIFY meter 3", "MODIFY meter 5", "MODIFY direct_meter 1/1 reset", "MODIFY meter 4 reset"},
		{"DELETE route 20.0.0.0/8", "DELETE route 40.0.0.0/8", "DELETE color 2/2"},
		{"DELETE group 30"},
		{"DELETE member 9"},
	}
	if got := labelPlan(t, plan); !slices.EqualFunc(got, want, slices.Equal) {
		t.Fatalf("plan:\n got %q\nwant %q", got, want)
	}
	// 3 inserts (member 3, group 20, route 30/8), 8 modifies, 5 deletes.
	if i, m, d := plan.Counts(); i != 3 || m != 8 || d != 5 || plan.Len() != 16 || len(plan.Updates()) != 16 {
		t.Errorf("Counts = %d/%d/%d, Len %d", i, m, d, plan.Len())
	}

	sw := newFakeSwitch(t, s, current)
	for pi, phase := range plan.Phases {
		for _, u := range phase {
			if err := sw.apply(u); err != nil {
				t.Fatalf("phase %d: %s %s: %v", pi, u.Type, s.Describe(u.Entity), err)
			}
		}
	}
	// The fake switch does bite: the same updates in reverse phase order
	// reference members and groups before they exist.
	rev := newFakeSwitch(t, s, current)
	var revErr error
	for pi := len(plan.Phases) - 1; pi >= 0 && revErr == nil; pi-- {
		for _, u := range plan.Phases[pi] {
			if revErr = rev.apply(u); revErr != nil {
				break
			}
		}
	}
	if revErr == nil {
		t.Error("reversed plan applied cleanly; the fake switch checks nothing")
	}

	again, err := Diff(s, sw.entities(), intent)
	if err != nil {
		t.Fatal(err)
	}
	if again.Len() != 0 {
		t.Fatalf("second diff not empty: %q", labelPlan(t, again))
	}
	for _, set := range [][]*p4v1.Entity{current, intent} {
		if p, err := Diff(s, set, set); err != nil || p.Len() != 0 {
			t.Errorf("Diff(x, x) = %q, %v", labelPlan(t, p), err)
		}
	}
}

func TestDiffSemantics(t *testing.T) {
	s := testSchema(t)
	te := validACL()
	padded := validACL() // same entry with non-canonical bytes and reordered params
	padded.Match[1] = ternary(2, []byte{0, 10, 0, 0, 0}, []byte{0, 255, 0, 0, 0})
	padded.Action.GetAction().Params[0], padded.Action.GetAction().Params[1] = &p4v1.Action_Param{ParamId: 2, Value: []byte{0, 46}}, &p4v1.Action_Param{ParamId: 1, Value: []byte{3}}
	withStats := validACL()
	withStats.CounterData = &p4v1.CounterData{PacketCount: 99}
	if p, _ := Diff(s, []*p4v1.Entity{EntityOf(te)}, []*p4v1.Entity{EntityOf(padded)}); p.Len() != 0 {
		t.Errorf("non-canonical equal entry gave %q", labelPlan(t, p))
	}
	if p, _ := Diff(s, []*p4v1.Entity{EntityOf(withStats)}, []*p4v1.Entity{EntityOf(te)}); p.Len() != 0 {
		t.Errorf("counter data counted as a change: %q", labelPlan(t, p))
	}
	counter := EntityOf(&p4v1.CounterEntry{CounterId: idClassCounter, Index: &p4v1.Index{Index: 1}, Data: &p4v1.CounterData{PacketCount: 5}})
	if p, _ := Diff(s, []*p4v1.Entity{counter}, nil); p.Len() != 0 {
		t.Errorf("a counter absent from intent was touched: %q", labelPlan(t, p))
	}
	resetCounter := EntityOf(&p4v1.CounterEntry{CounterId: idClassCounter, Index: &p4v1.Index{Index: 1}, Data: &p4v1.CounterData{}})
	if p, _ := Diff(s, []*p4v1.Entity{counter}, []*p4v1.Entity{resetCounter}); p.Len() != 1 || p.Phases[0][0].Type != p4v1.Update_MODIFY {
		t.Errorf("counter reset in intent: %q", labelPlan(t, p))
	}
	// A group member set is a set: order does not matter.
	g1 := EntityOf(&p4v1.ActionProfileGroup{ActionProfileId: idECMP, GroupId: 1, MaxSize: 8, Members: []*p4v1.ActionProfileGroup_Member{{MemberId: 1, Weight: 1}, {MemberId: 2, Weight: 2}}})
	g2 := EntityOf(&p4v1.ActionProfileGroup{ActionProfileId: idECMP, GroupId: 1, MaxSize: 8, Members: []*p4v1.ActionProfileGroup_Member{{MemberId: 2, Weight: 2}, {MemberId: 1, Weight: 1}}})
	if p, _ := Diff(s, []*p4v1.Entity{g1}, []*p4v1.Entity{g2}); p.Len() != 0 {
		t.Errorf("reordered group members gave %q", labelPlan(t, p))
	}
	g3 := EntityOf(&p4v1.ActionProfileGroup{ActionProfileId: idECMP, GroupId: 1, MaxSize: 16, Members: g1.GetActionProfileGroup().Members})
	if _, err := Diff(s, []*p4v1.Entity{g1}, []*p4v1.Entity{g3}); !errors.Is(err, ErrImmutableChange) {
		t.Errorf("max_size change: err = %v, want ErrImmutableChange", err)
	}
	if _, err := Diff(s, nil, []*p4v1.Entity{g1, g2}); !errors.Is(err, ErrDuplicateKey) {
		t.Errorf("duplicate intent: err = %v, want ErrDuplicateKey", err)
	}
	if _, err := Diff(s, []*p4v1.Entity{g1, g2}, nil); !errors.Is(err, ErrDuplicateKey) {
		t.Errorf("duplicate current: err = %v, want ErrDuplicateKey", err)
	}
	if _, err := Diff(s, nil, []*p4v1.Entity{EntityOf(&p4v1.TableEntry{TableId: 1})}); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown table: err = %v", err)
	}
	// Const entries and constant defaults are never written, even when
	// intent does not mention them.
	constEntry := EntityOf(&p4v1.TableEntry{TableId: idConstMap, Match: []*p4v1.FieldMatch{exact(1, 1)}, Action: action(idMark, []byte{1}), IsConst: true})
	lpmDefault := EntityOf(&p4v1.TableEntry{TableId: idIPv4LPM, IsDefaultAction: true, Action: action(idIngDrop)})
	tunnelDefault := EntityOf(&p4v1.TableEntry{TableId: idTunnel, IsDefaultAction: true, Action: action(idEgDrop)})
	if p, err := Diff(s, []*p4v1.Entity{constEntry, lpmDefault, tunnelDefault}, nil); err != nil || p.Len() != 0 {
		t.Errorf("const state gave %q, %v", labelPlan(t, p), err)
	}
	// An explicit default reset in intent is a no-op when the switch already
	// runs the initial default, and a MODIFY when it does not.
	reset := EntityOf(&p4v1.TableEntry{TableId: idACL, IsDefaultAction: true})
	initial := EntityOf(&p4v1.TableEntry{TableId: idACL, IsDefaultAction: true, Action: action(idNoAction)})
	changed := EntityOf(&p4v1.TableEntry{TableId: idACL, IsDefaultAction: true, Action: action(idIngDrop)})
	if p, _ := Diff(s, []*p4v1.Entity{initial}, []*p4v1.Entity{reset}); p.Len() != 0 {
		t.Errorf("reset of initial default gave %q", labelPlan(t, p))
	}
	if p, _ := Diff(s, []*p4v1.Entity{changed}, []*p4v1.Entity{reset}); p.Len() != 1 {
		t.Errorf("reset of changed default gave %q", labelPlan(t, p))
	}
	// Default entries and meters are MODIFY even when current lacks them.
	p, _ := Diff(s, nil, []*p4v1.Entity{changed, EntityOf(&p4v1.MeterEntry{MeterId: idClassMeter, Index: &p4v1.Index{Index: 0}, Config: &p4v1.MeterConfig{Cir: 1}})})
	for _, u := range p.Updates() {
		if u.Type != p4v1.Update_MODIFY {
			t.Errorf("%s %s, want MODIFY", u.Type, s.Describe(u.Entity))
		}
	}
}

// labelPlan names each update in a few words, for comparing with plans
// written by hand.
func labelPlan(t *testing.T, p Plan) [][]string {
	t.Helper()
	var out [][]string
	for _, ph := range p.Phases {
		var labels []string
		for _, u := range ph {
			labels = append(labels, u.Type.String()+" "+label(u.Entity))
		}
		out = append(out, labels)
	}
	return out
}

func label(e *p4v1.Entity) string {
	switch x := e.Entity.(type) {
	case *p4v1.Entity_ActionProfileMember:
		return fmt.Sprintf("member %d", x.ActionProfileMember.MemberId)
	case *p4v1.Entity_ActionProfileGroup:
		return fmt.Sprintf("group %d", x.ActionProfileGroup.GroupId)
	case *p4v1.Entity_MeterEntry:
		l := fmt.Sprintf("meter %d", x.MeterEntry.GetIndex().GetIndex())
		if x.MeterEntry.Config == nil {
			l += " reset"
		}
		return l
	case *p4v1.Entity_DirectMeterEntry:
		m := x.DirectMeterEntry.TableEntry.Match
		l := fmt.Sprintf("direct_meter %s/%s", FormatValue(m[0].GetExact().Value, 8, ""), FormatValue(m[1].GetExact().Value, 2, ""))
		if x.DirectMeterEntry.Config == nil {
			l += " reset"
		}
		return l
	case *p4v1.Entity_TableEntry:
		te := x.TableEntry
		switch {
		case te.IsDefaultAction:
			l := "default " + map[uint32]string{idACL: "acl", idColorAction: "color_action"}[te.TableId]
			if te.Action == nil {
				l += " reset"
			}
			return l
		case te.TableId == idIPv4LPM:
			lp := te.Match[0].GetLpm()
			return fmt.Sprintf("route %s/%d", FormatValue(lp.Value, 32, "ip"), lp.PrefixLen)
		case te.TableId == idColorAction:
			return fmt.Sprintf("color %s/%s", FormatValue(te.Match[0].GetExact().Value, 8, ""), FormatValue(te.Match[1].GetExact().Value, 2, ""))
		}
	}
	return "?"
}

func TestDiffIndirectActions(t *testing.T) {
	s := testSchema(t)
	route := func(a *p4v1.TableAction) *p4v1.Entity {
		return EntityOf(&p4v1.TableEntry{TableId: idIPv4LPM, Match: []*p4v1.FieldMatch{lpm(1, 8, 10, 0, 0, 0)}, Action: a})
	}
	mem := func(id uint32) *p4v1.TableAction {
		return &p4v1.TableAction{Type: &p4v1.TableAction_ActionProfileMemberId{ActionProfileMemberId: id}}
	}
	grp := func(id uint32) *p4v1.TableAction {
		return &p4v1.TableAction{Type: &p4v1.TableAction_ActionProfileGroupId{ActionProfileGroupId: id}}
	}
	set := func(weights ...int32) *p4v1.TableAction {
		as := &p4v1.ActionProfileActionSet{}
		for i, w := range weights {
			as.ActionProfileActions = append(as.ActionProfileActions, &p4v1.ActionProfileAction{
				Action: action(idSetNextHop, []byte{byte(i + 1)}, []byte{1}, []byte{2}).GetAction(), Weight: w})
		}
		return &p4v1.TableAction{Type: &p4v1.TableAction_ActionProfileActionSet{ActionProfileActionSet: as}}
	}
	tests := []struct {
		desc      string
		cur, want *p4v1.TableAction
		modify    bool
	}{
		{"same member", mem(1), mem(1), false},
		{"other member", mem(1), mem(2), true},
		{"same group", grp(1), grp(1), false},
		{"member to group with the same id", mem(1), grp(1), true},
		{"group to member", grp(1), mem(1), true},
		{"same action set", set(1, 2), set(1, 2), false},
		{"action set weight", set(1, 2), set(1, 3), true},
		{"action set size", set(1, 2), set(1), true},
		{"action set to group", set(1), grp(1), true},
	}
	for _, tc := range tests {
		p, err := Diff(s, []*p4v1.Entity{route(tc.cur)}, []*p4v1.Entity{route(tc.want)})
		if err != nil {
			t.Fatalf("%s: %v", tc.desc, err)
		}
		if got := p.Len() == 1; got != tc.modify {
			t.Errorf("%s: plan %q, want modify=%v", tc.desc, labelPlan(t, p), tc.modify)
		}
	}
}

// TestDiffInitialDefaultWithArguments uses a P4Info whose initial default
// action carries an argument, as p4c writes for `default_action = f(3)`.
func TestDiffInitialDefaultWithArguments(t *testing.T) {
	info := proto.Clone(testSchema(t).P4Info()).(*p4configv1.P4Info)
	for _, tb := range info.Tables {
		if tb.Preamble.Name == "Eg.keyless" {
			tb.InitialDefaultAction = &p4configv1.TableActionCall{ActionId: idMark,
				Arguments: []*p4configv1.TableActionCall_Argument{{ParamId: 1, Value: []byte{0, 3}}}}
		}
	}
	s, err := New(info)
	if err != nil {
		t.Fatal(err)
	}
	def := func(v byte) *p4v1.Entity {
		return EntityOf(&p4v1.TableEntry{TableId: idKeyless, IsDefaultAction: true, Action: action(idMark, []byte{v})})
	}
	// mark(3) is the initial default (the P4Info's 0x0003 equals 0x03 as a
	// number): leaving it out of intent needs no reset; mark(4) does.
	if p, _ := Diff(s, []*p4v1.Entity{def(3)}, nil); p.Len() != 0 {
		t.Errorf("initial default with argument reset: %q", labelPlan(t, p))
	}
	if p, _ := Diff(s, []*p4v1.Entity{def(4)}, nil); p.Len() != 1 {
		t.Errorf("changed default not reset: %q", labelPlan(t, p))
	}
}

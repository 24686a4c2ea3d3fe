package tables

import (
	"testing"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/grpc/codes"
)

func TestKey(t *testing.T) {
	s := testSchema(t)
	key := func(e *p4v1.Entity) string {
		t.Helper()
		k, err := s.Key(e)
		if err != nil {
			t.Fatalf("Key(%v): %v", e, err)
		}
		return k
	}
	base := validACL()
	reordered := validACL()
	reordered.Match[0], reordered.Match[2] = reordered.Match[2], reordered.Match[0]
	padded := validACL()
	padded.Match[1] = ternary(2, []byte{0, 10, 0, 0, 0}, []byte{0, 0, 255, 0, 0, 0})
	otherAction := validACL()
	otherAction.Action = action(idIngDrop)
	otherAction.Metadata = []byte("x")
	otherPrio := validACL()
	otherPrio.Priority = 2
	otherMask := validACL()
	otherMask.Match[1] = ternary(2, []byte{10, 0, 0, 0}, []byte{255, 255, 0, 0})

	same := []struct {
		desc string
		a, b *p4v1.Entity
	}{
		{"match order does not matter", EntityOf(base), EntityOf(reordered)},
		{"leading zero bytes do not matter", EntityOf(base), EntityOf(padded)},
		{"action and metadata are not identity", EntityOf(base), EntityOf(otherAction)},
		{"default entries by table only", EntityOf(&p4v1.TableEntry{TableId: idACL, IsDefaultAction: true}), EntityOf(&p4v1.TableEntry{TableId: idACL, IsDefaultAction: true, Action: action(idNoAction)})},
		{"meter config is not identity", EntityOf(&p4v1.MeterEntry{MeterId: idClassMeter, Index: &p4v1.Index{Index: 3}}),
			EntityOf(&p4v1.MeterEntry{MeterId: idClassMeter, Index: &p4v1.Index{Index: 3}, Config: &p4v1.MeterConfig{Cir: 1}})},
		{"member action is not identity", EntityOf(&p4v1.ActionProfileMember{ActionProfileId: idECMP, MemberId: 1}),
			EntityOf(&p4v1.ActionProfileMember{ActionProfileId: idECMP, MemberId: 1, Action: action(idIngDrop).GetAction()})},
	}
	for _, tc := range same {
		if key(tc.a) != key(tc.b) {
			t.Errorf("%s: keys differ", tc.desc)
		}
	}
	different := []struct {
		desc string
		a, b *p4v1.Entity
	}{
		{"priority is identity", EntityOf(base), EntityOf(otherPrio)},
		{"mask is identity", EntityOf(base), EntityOf(otherMask)},
		{"default vs match-all entry", EntityOf(&p4v1.TableEntry{TableId: idACL, IsDefaultAction: true}), EntityOf(&p4v1.TableEntry{TableId: idACL})},
		{"member and group ids are separate scopes", EntityOf(&p4v1.ActionProfileMember{ActionProfileId: idECMP, MemberId: 5}),
			EntityOf(&p4v1.ActionProfileGroup{ActionProfileId: idECMP, GroupId: 5})},
		{"meter index", EntityOf(&p4v1.MeterEntry{MeterId: idClassMeter, Index: &p4v1.Index{Index: 3}}), EntityOf(&p4v1.MeterEntry{MeterId: idClassMeter, Index: &p4v1.Index{Index: 4}})},
		{"meter cell vs all cells", EntityOf(&p4v1.MeterEntry{MeterId: idClassMeter, Index: &p4v1.Index{Index: 0}}), EntityOf(&p4v1.MeterEntry{MeterId: idClassMeter})},
		{"table entry vs its direct counter", EntityOf(base), EntityOf(&p4v1.DirectCounterEntry{TableEntry: base})},
		{"direct meter vs direct counter", EntityOf(&p4v1.DirectMeterEntry{TableEntry: base}), EntityOf(&p4v1.DirectCounterEntry{TableEntry: base})},
		// Length prefixes keep (0x0102, 0x03) apart from (0x01, 0x0203).
		{"adjacent values do not run together", EntityOf(&p4v1.TableEntry{TableId: idColorAction, Match: []*p4v1.FieldMatch{exact(1, 1, 2), exact(2, 3)}}),
			EntityOf(&p4v1.TableEntry{TableId: idColorAction, Match: []*p4v1.FieldMatch{exact(1, 1), exact(2, 2, 3)}})},
		{"lpm prefix length", EntityOf(&p4v1.TableEntry{TableId: idIPv4LPM, Match: []*p4v1.FieldMatch{lpm(1, 8, 10, 0, 0, 0)}}),
			EntityOf(&p4v1.TableEntry{TableId: idIPv4LPM, Match: []*p4v1.FieldMatch{lpm(1, 16, 10, 0, 0, 0)}})},
	}
	for _, tc := range different {
		if key(tc.a) == key(tc.b) {
			t.Errorf("%s: keys equal", tc.desc)
		}
	}
	for _, bad := range []*p4v1.Entity{
		EntityOf(&p4v1.TableEntry{TableId: 1}),
		EntityOf(&p4v1.MeterEntry{MeterId: 1}),
		EntityOf(&p4v1.CounterEntry{CounterId: 1}),
		EntityOf(&p4v1.ActionProfileGroup{ActionProfileId: 1}),
		EntityOf(&p4v1.ActionProfileMember{ActionProfileId: 1}),
	} {
		if _, err := s.Key(bad); Code(err) != codes.InvalidArgument {
			t.Errorf("Key(%v) = %v, want InvalidArgument", bad, err)
		}
	}
	if _, err := s.Key(&p4v1.Entity{}); Code(err) != codes.InvalidArgument {
		t.Errorf("Key(empty) = %v, want InvalidArgument", err)
	}
	// The key does not change the caller's entity.
	if reordered.Match[0].FieldId != 3 {
		t.Error("Key sorted the caller's matches in place")
	}
}

func TestCanonicalize(t *testing.T) {
	padded := validACL()
	padded.Match[0], padded.Match[2] = padded.Match[2], padded.Match[0]
	padded.Action = action(idSetClass, []byte{0, 0, 3}, []byte{0, 46})
	got := Canonicalize(EntityOf(padded)).GetTableEntry()
	want := []struct {
		id   uint32
		val  string
		rest string
	}{{1, "\x01\x00", "\x01\xff"}, {2, "\x0a\x00\x00\x00", "\xff\x00\x00\x00"}, {3, "\x50", "\x50"}}
	for i, w := range want {
		fm := got.Match[i]
		var v, r []byte
		switch m := fm.FieldMatchType.(type) {
		case *p4v1.FieldMatch_Ternary_:
			v, r = m.Ternary.Value, m.Ternary.Mask
		case *p4v1.FieldMatch_Range_:
			v, r = m.Range.Low, m.Range.High
		}
		if fm.FieldId != w.id || string(v) != w.val || string(r) != w.rest {
			t.Errorf("match %d = %v, want id %d %x %x", i, fm, w.id, w.val, w.rest)
		}
	}
	ps := got.Action.GetAction().Params
	if string(ps[0].Value) != "\x03" || string(ps[1].Value) != "\x2e" {
		t.Errorf("params = %x %x, want 03 2e", ps[0].Value, ps[1].Value)
	}
	if len(padded.Action.GetAction().Params[0].Value) != 3 || padded.Match[0].FieldId != 3 {
		t.Error("Canonicalize modified its input")
	}
}

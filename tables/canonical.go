package tables

import (
	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/protobuf/proto"
)

// Canonicalize returns a copy of e with every bytestring of its matches and
// action parameters in canonical form (§8.3) and the matches of table
// entries sorted by field id. A server stores and returns this form to give
// read-write symmetry (§8.2); Diff and Key do not need it, they compare
// values numerically.
func Canonicalize(e *p4v1.Entity) *p4v1.Entity {
	c := proto.Clone(e).(*p4v1.Entity)
	switch x := c.GetEntity().(type) {
	case *p4v1.Entity_TableEntry:
		canonTableEntry(x.TableEntry)
	case *p4v1.Entity_DirectMeterEntry:
		canonTableEntry(x.DirectMeterEntry.GetTableEntry())
	case *p4v1.Entity_DirectCounterEntry:
		canonTableEntry(x.DirectCounterEntry.GetTableEntry())
	case *p4v1.Entity_ActionProfileMember:
		canonAction(x.ActionProfileMember.GetAction())
	}
	return c
}

func canonTableEntry(te *p4v1.TableEntry) {
	if te == nil {
		return
	}
	for _, fm := range te.Match {
		switch m := fm.FieldMatchType.(type) {
		case *p4v1.FieldMatch_Exact_:
			m.Exact.Value = canonCopy(m.Exact.Value)
		case *p4v1.FieldMatch_Lpm:
			m.Lpm.Value = canonCopy(m.Lpm.Value)
		case *p4v1.FieldMatch_Ternary_:
			m.Ternary.Value = canonCopy(m.Ternary.Value)
			m.Ternary.Mask = canonCopy(m.Ternary.Mask)
		case *p4v1.FieldMatch_Range_:
			m.Range.Low = canonCopy(m.Range.Low)
			m.Range.High = canonCopy(m.Range.High)
		case *p4v1.FieldMatch_Optional_:
			m.Optional.Value = canonCopy(m.Optional.Value)
		}
	}
	sortMatches(te.Match)
	switch a := te.GetAction().GetType().(type) {
	case *p4v1.TableAction_Action:
		canonAction(a.Action)
	case *p4v1.TableAction_ActionProfileActionSet:
		for _, apa := range a.ActionProfileActionSet.GetActionProfileActions() {
			canonAction(apa.GetAction())
		}
	}
}

func canonAction(a *p4v1.Action) {
	if a == nil {
		return
	}
	for _, p := range a.Params {
		p.Value = canonCopy(p.Value)
	}
}

func canonCopy(b []byte) []byte {
	c := Canonical(b)
	if len(c) == len(b) {
		return b
	}
	return append([]byte(nil), c...)
}

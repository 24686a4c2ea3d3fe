package inspect

import (
	"testing"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"

	"github.com/p4qos/p4qos/tables"
)

// A malformed or unknown entity decodes to something printable, never a
// panic: what a switch sends back is not trusted.
func TestDecodeUnknownIDs(t *testing.T) {
	d := decoder{s: mustSchema(t)}
	for _, e := range []*p4v1.Entity{
		{},
		{Entity: &p4v1.Entity_TableEntry{TableEntry: &p4v1.TableEntry{TableId: 99, Match: []*p4v1.FieldMatch{{FieldId: 7}},
			Action: &p4v1.TableAction{Type: &p4v1.TableAction_Action{Action: &p4v1.Action{ActionId: 98, Params: []*p4v1.Action_Param{{ParamId: 3, Value: []byte{1}}}}}}}}},
		{Entity: &p4v1.Entity_MeterEntry{MeterEntry: &p4v1.MeterEntry{MeterId: 97}}},
		{Entity: &p4v1.Entity_ActionProfileGroup{ActionProfileGroup: &p4v1.ActionProfileGroup{}}},
		{Entity: &p4v1.Entity_DirectCounterEntry{DirectCounterEntry: &p4v1.DirectCounterEntry{}}},
	} {
		got := d.entity(e)
		if got.Line() == "" || entityKey(got) == "" || got.Kind == "" {
			t.Errorf("%v decoded to %+v", e, got)
		}
	}
	if got := d.entity(&p4v1.Entity{Entity: &p4v1.Entity_TableEntry{TableEntry: &p4v1.TableEntry{TableId: 99}}}).Line(); got != "#99 (match all)" {
		t.Errorf("unknown table: %q", got)
	}
}

func mustSchema(t *testing.T) *tables.Schema {
	t.Helper()
	s, err := tables.Load(repoFile(t, DefaultP4Info))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

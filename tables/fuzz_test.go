package tables

import (
	"bytes"
	"testing"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/protobuf/proto"
)

// FuzzEntity feeds arbitrary wire bytes, as a server receives them, to
// every function that takes an entity from the network. None may panic;
// what validates must also have a key, and its canonical form must
// validate and have the same key.
func FuzzEntity(f *testing.F) {
	s := testSchema(f)
	seeds := []proto.Message{
		EntityOf(validACL()),
		EntityOf(&p4v1.TableEntry{TableId: idIPv4LPM, Match: []*p4v1.FieldMatch{lpm(1, 8, 10, 0, 0, 0)},
			Action: &p4v1.TableAction{Type: &p4v1.TableAction_ActionProfileGroupId{ActionProfileGroupId: 1}}}),
		EntityOf(&p4v1.ActionProfileGroup{ActionProfileId: idECMP, GroupId: 1, MaxSize: 4, Members: []*p4v1.ActionProfileGroup_Member{{MemberId: 1, Weight: 1}}}),
		EntityOf(&p4v1.MeterEntry{MeterId: idClassMeter, Index: &p4v1.Index{Index: 1}, Config: &p4v1.MeterConfig{Cir: 1}}),
		EntityOf(&p4v1.DirectMeterEntry{TableEntry: &p4v1.TableEntry{TableId: idColorAction, Match: []*p4v1.FieldMatch{exact(1, 1), exact(2, 1)}}}),
	}
	for _, m := range seeds {
		b, err := proto.Marshal(m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var e p4v1.Entity
		if err := proto.Unmarshal(data, &e); err != nil {
			return
		}
		_ = s.Describe(&e)
		_ = s.FormatTable(&bytes.Buffer{}, []*p4v1.Entity{&e})
		for _, typ := range []p4v1.Update_Type{p4v1.Update_INSERT, p4v1.Update_MODIFY, p4v1.Update_DELETE} {
			_ = s.ValidateUpdate(&p4v1.Update{Type: typ, Entity: &e})
		}
		if err := s.ValidateEntity(&e); err != nil {
			return
		}
		k, err := s.Key(&e)
		if err != nil {
			t.Fatalf("valid entity has no key: %v", err)
		}
		c := Canonicalize(&e)
		if err := s.ValidateEntity(c); err != nil {
			t.Fatalf("canonical form does not validate: %v", err)
		}
		if kc, _ := s.Key(c); kc != k {
			t.Fatal("canonical form has a different key")
		}
		if p, err := Diff(s, []*p4v1.Entity{&e}, []*p4v1.Entity{c}); err != nil || p.Len() != 0 {
			t.Fatalf("entity differs from its canonical form: %v %v", p, err)
		}
	})
}

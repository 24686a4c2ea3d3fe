package sim

import (
	"testing"

	p4configv1 "github.com/p4lang/p4runtime/go/p4/config/v1"
	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/protobuf/proto"
)

// FuzzWriteAndRead feeds arbitrary updates to the store of the generic
// pipeline and reads everything back: whatever a client sends, the target
// answers with a status, never a panic.
func FuzzWriteAndRead(f *testing.F) {
	for _, tc := range writeCases() {
		for _, u := range append(append([]*p4v1.Update{}, tc.setup...), tc.u) {
			b, err := proto.Marshal(u)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
	info := loadP4Info(f, "testdata/generic.p4info.txtpb")
	sc, err := newSchema(info, nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		u := &p4v1.Update{}
		if proto.Unmarshal(b, u) != nil {
			return
		}
		st := newState(sc)
		// Twice: the second pass exercises the exists / refcount paths.
		_ = st.apply(u)
		_ = st.apply(u)
		if u.GetEntity() != nil {
			_, _ = st.read(u.GetEntity())
		}
		for _, q := range []*p4v1.Entity{
			tableEntity(&p4v1.TableEntry{}),
			{Entity: &p4v1.Entity_ActionProfileGroup{ActionProfileGroup: &p4v1.ActionProfileGroup{}}},
			{Entity: &p4v1.Entity_DirectCounterEntry{DirectCounterEntry: &p4v1.DirectCounterEntry{}}},
		} {
			if _, err := st.read(q); err != nil {
				t.Fatalf("wildcard read after %v: %v", u, err)
			}
		}
		for _, ts := range st.tables {
			lookup(ts, nil)
		}
	})
}

// FuzzSetPipeline pushes arbitrary P4Infos: they are accepted or refused
// with a status, never a panic, and an accepted one can be used.
func FuzzSetPipeline(f *testing.F) {
	for _, path := range []string{"testdata/generic.p4info.txtpb", qosP4InfoPath} {
		b, err := proto.Marshal(loadP4Info(f, path))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var info p4configv1.P4Info
		if proto.Unmarshal(b, &info) != nil {
			return
		}
		sc, err := newSchema(&info, nil)
		if err != nil {
			return
		}
		st := newState(sc)
		for _, q := range []*p4v1.Entity{
			tableEntity(&p4v1.TableEntry{}),
			{Entity: &p4v1.Entity_CounterEntry{CounterEntry: &p4v1.CounterEntry{}}},
			{Entity: &p4v1.Entity_MeterEntry{MeterEntry: &p4v1.MeterEntry{}}},
			{Entity: &p4v1.Entity_ActionProfileMember{ActionProfileMember: &p4v1.ActionProfileMember{}}},
		} {
			_, _ = st.read(q)
		}
		if m := newQosModel(sc); m != nil {
			sw := New()
			p := &pipeline{schema: sc, state: st, model: m}
			sw.fwd, sw.dp = p, p
			_ = sw.SetFlows([]Flow{udpFlow("10.0.0.1", "10.0.0.2", 80, 8e6, 1000)})
			sw.Advance(1e6)
		}
	})
}

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
		// A Write in progress is invisible to Reads until it commits,
		// whatever it changes: the same update again, then its MODIFY,
		// DELETE, INSERT and MODIFY forms.
		seen := readEverything(t, st)
		st.begin()
		for _, typ := range []p4v1.Update_Type{u.GetType(), p4v1.Update_MODIFY, p4v1.Update_DELETE, p4v1.Update_INSERT, p4v1.Update_MODIFY} {
			e := u.GetEntity()
			if typ == p4v1.Update_MODIFY {
				e = altered(e)
			}
			_ = st.apply(&p4v1.Update{Type: typ, Entity: e})
		}
		if during := readEverything(t, st); !proto.Equal(seen, during) {
			t.Fatalf("read during a Write of %v:\n%v\nwant the state before it:\n%v", u, during, seen)
		}
		st.commit()
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

// readEverything reads every entity of st, default entries included, as
// one message so that results compare with proto.Equal.
func readEverything(t *testing.T, st *state) *p4v1.ReadResponse {
	t.Helper()
	queries := []*p4v1.Entity{
		tableEntity(&p4v1.TableEntry{}),
		{Entity: &p4v1.Entity_ActionProfileMember{ActionProfileMember: &p4v1.ActionProfileMember{}}},
		{Entity: &p4v1.Entity_ActionProfileGroup{ActionProfileGroup: &p4v1.ActionProfileGroup{}}},
		{Entity: &p4v1.Entity_CounterEntry{CounterEntry: &p4v1.CounterEntry{}}},
		{Entity: &p4v1.Entity_MeterEntry{MeterEntry: &p4v1.MeterEntry{}}},
		{Entity: &p4v1.Entity_DirectCounterEntry{DirectCounterEntry: &p4v1.DirectCounterEntry{}}},
		{Entity: &p4v1.Entity_DirectMeterEntry{DirectMeterEntry: &p4v1.DirectMeterEntry{}}},
	}
	for _, id := range st.schema.tableOrder {
		queries = append(queries, tableEntity(&p4v1.TableEntry{TableId: id, IsDefaultAction: true, CounterData: &p4v1.CounterData{}, MeterConfig: &p4v1.MeterConfig{}}))
	}
	out := &p4v1.ReadResponse{}
	for _, q := range queries {
		got, err := st.read(q)
		if err != nil {
			t.Fatalf("read %v: %v", q, err)
		}
		out.Entities = append(out.Entities, got...)
	}
	return out
}

// altered returns a copy of e whose MODIFY changes something a Read shows.
func altered(e *p4v1.Entity) *p4v1.Entity {
	if e == nil {
		return nil
	}
	e = proto.Clone(e).(*p4v1.Entity)
	bump := func(d *p4v1.CounterData) *p4v1.CounterData {
		return &p4v1.CounterData{ByteCount: d.GetByteCount() + 1, PacketCount: d.GetPacketCount() + 1}
	}
	switch v := e.GetEntity().(type) {
	case *p4v1.Entity_TableEntry:
		v.TableEntry.ControllerMetadata++
		if v.TableEntry.CounterData != nil {
			v.TableEntry.CounterData = bump(v.TableEntry.CounterData)
		}
	case *p4v1.Entity_CounterEntry:
		v.CounterEntry.Data = bump(v.CounterEntry.Data)
	case *p4v1.Entity_DirectCounterEntry:
		v.DirectCounterEntry.Data = bump(v.DirectCounterEntry.Data)
	case *p4v1.Entity_MeterEntry:
		if c := v.MeterEntry.Config; c != nil {
			c.Cir++
			c.Pir++
		}
	case *p4v1.Entity_DirectMeterEntry:
		if c := v.DirectMeterEntry.Config; c != nil {
			c.Cir++
			c.Pir++
		}
	}
	return e
}

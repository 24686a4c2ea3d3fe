package sim

import (
	"testing"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// populated returns a harness with: t_exact entries k=1,2 (k=2 with
// controller_metadata 5), t_tern entries at priorities 10 and 20, selector
// members 1,2 and group 1 {1,2}, an lpm entry to group 1, counter c[3] and
// meter m[4] set.
func populated(t *testing.T) *harness {
	h := newHarness(t)
	h.primary(1)
	h.setPipeline(loadP4Info(t, "testdata/generic.p4info.txtpb"), 1)
	k2 := exactEntry(2)
	k2.GetTableEntry().ControllerMetadata = 5
	h.mustWrite(1,
		insert(exactEntry(1)), insert(k2),
		insert(ternEntry(10, []byte{10, 0, 0, 0}, []byte{0xff, 0, 0, 0})),
		insert(ternEntry(20, []byte{10, 1, 0, 0}, []byte{0xff, 0xff, 0, 0})),
		insert(member(apSel, 1, aFwd, param(1, 1))), insert(member(apSel, 2, aFwd, param(1, 2))),
		modify(counterEntity(cnt, idx(3), &p4v1.CounterData{ByteCount: 300, PacketCount: 3})),
		modify(meterEntity(mtr, idx(4), &p4v1.MeterConfig{Cir: 1000, Cburst: 100, Pir: 2000, Pburst: 200})),
	)
	h.mustWrite(1, insert(group(1, 4, 1, 2)))
	h.mustWrite(1, insert(lpmEntry([]byte{10, 0, 0, 0}, 8, groupAction(1))))
	return h
}

func TestReadWildcards(t *testing.T) {
	h := populated(t)
	tests := []struct {
		name  string
		query *p4v1.Entity
		want  int
	}{
		{"§9.1.6 table_id 0: all entries of all tables", tableEntity(&p4v1.TableEntry{}), 5},
		{"§9.1.6 one table", tableEntity(&p4v1.TableEntry{TableId: tExact}), 2},
		{"§9.1.6 exact match: one entry", tableEntity(&p4v1.TableEntry{TableId: tExact, Match: []*p4v1.FieldMatch{exact(1, 2)}}), 1},
		{"§9.1.6 padded match key finds the entry", tableEntity(&p4v1.TableEntry{TableId: tExact, Match: []*p4v1.FieldMatch{exact(1, 0, 2)}}), 1},
		{"§9.1.6 absent key: nothing", tableEntity(&p4v1.TableEntry{TableId: tExact, Match: []*p4v1.FieldMatch{exact(1, 7)}}), 0},
		{"§9.1.6 priority filter", tableEntity(&p4v1.TableEntry{TableId: tTern, Priority: 20}), 1},
		{"§9.1.6 controller_metadata filter", tableEntity(&p4v1.TableEntry{TableId: tExact, ControllerMetadata: 5}), 1},
		{"§9.1.6 action filter", tableEntity(&p4v1.TableEntry{TableId: tExact, Action: directAction(aSet)}), 2},
		{"§9.1.6 action filter, other action", tableEntity(&p4v1.TableEntry{TableId: tExact, Action: directAction(aNoAction)}), 0},
		{"§9.1.6 default entry only", tableEntity(&p4v1.TableEntry{TableId: tExact, IsDefaultAction: true}), 1},
		{"§9.2.1 all members of all profiles", &p4v1.Entity{Entity: &p4v1.Entity_ActionProfileMember{ActionProfileMember: &p4v1.ActionProfileMember{}}}, 2},
		{"§9.2.1 one member", &p4v1.Entity{Entity: &p4v1.Entity_ActionProfileMember{ActionProfileMember: &p4v1.ActionProfileMember{ActionProfileId: apSel, MemberId: 2}}}, 1},
		{"§9.2.2 all groups", &p4v1.Entity{Entity: &p4v1.Entity_ActionProfileGroup{ActionProfileGroup: &p4v1.ActionProfileGroup{}}}, 1},
		{"§9.3.2 all cells of all counters", counterEntity(0, nil, nil), 16},
		{"§9.3.2 all cells of one counter", counterEntity(cnt, nil, nil), 16},
		{"§9.3.2 one cell", counterEntity(cnt, idx(3), nil), 1},
		{"§9.4.2 all cells of one meter", meterEntity(mtr, nil, nil), 16},
		{"§9.3.1 all direct counters", &p4v1.Entity{Entity: &p4v1.Entity_DirectCounterEntry{DirectCounterEntry: &p4v1.DirectCounterEntry{}}}, 2},
		{"§9.4.1 direct meters of one table", &p4v1.Entity{Entity: &p4v1.Entity_DirectMeterEntry{DirectMeterEntry: &p4v1.DirectMeterEntry{TableEntry: &p4v1.TableEntry{TableId: tExact}}}}, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := h.read(tc.query)
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			if len(got) != tc.want {
				t.Errorf("%d entities, want %d: %v", len(got), tc.want, got)
			}
		})
	}
}

func TestReadValues(t *testing.T) {
	h := populated(t)

	// Read-write symmetry (§8.2): what was written comes back.
	got := h.mustRead(tableEntity(&p4v1.TableEntry{TableId: tExact, Match: []*p4v1.FieldMatch{exact(1, 2)}}))
	want := exactEntry(2).GetTableEntry()
	want.ControllerMetadata = 5
	if !proto.Equal(got[0].GetTableEntry(), want) {
		t.Errorf("read back %v, want %v", got[0].GetTableEntry(), want)
	}
	// The default entry is the P4Info's initial default (NoAction).
	got = h.mustRead(tableEntity(&p4v1.TableEntry{TableId: tExact, IsDefaultAction: true}))
	if a := got[0].GetTableEntry().GetAction().GetAction(); a.GetActionId() != aNoAction || !got[0].GetTableEntry().GetIsDefaultAction() {
		t.Errorf("default entry %v, want NoAction marked default", got[0])
	}
	// Counter cell 3 holds what was written.
	got = h.mustRead(counterEntity(cnt, idx(3), nil))
	if d := got[0].GetCounterEntry().GetData(); d.GetByteCount() != 300 || d.GetPacketCount() != 3 {
		t.Errorf("counter cell 3 = %v", d)
	}
	// Meter: configured cell returns its config, default cells none (§9.4).
	got = h.mustRead(meterEntity(mtr, nil, nil))
	for _, e := range got {
		me := e.GetMeterEntry()
		if (me.GetIndex().GetIndex() == 4) != (me.GetConfig() != nil) {
			t.Errorf("meter cell %d config %v", me.GetIndex().GetIndex(), me.GetConfig())
		}
	}
	// Direct counter through the table entry (§9.1.7): set only if asked.
	got = h.mustRead(tableEntity(&p4v1.TableEntry{TableId: tExact}))
	if got[0].GetTableEntry().GetCounterData() != nil {
		t.Errorf("counter_data returned without being asked for")
	}
	got = h.mustRead(tableEntity(&p4v1.TableEntry{TableId: tExact, CounterData: &p4v1.CounterData{}}))
	if got[0].GetTableEntry().GetCounterData() == nil {
		t.Errorf("counter_data not returned although asked for")
	}
	// Group membership round-trips.
	got = h.mustRead(&p4v1.Entity{Entity: &p4v1.Entity_ActionProfileGroup{ActionProfileGroup: &p4v1.ActionProfileGroup{ActionProfileId: apSel, GroupId: 1}}})
	if !proto.Equal(got[0], group(1, 4, 1, 2)) {
		t.Errorf("group read %v", got[0])
	}
}

func TestReadDirectCounterWriteAndRead(t *testing.T) {
	h := populated(t)
	key := exactEntry(1).GetTableEntry()
	h.mustWrite(1, modify(&p4v1.Entity{Entity: &p4v1.Entity_DirectCounterEntry{DirectCounterEntry: &p4v1.DirectCounterEntry{TableEntry: key, Data: &p4v1.CounterData{ByteCount: 42, PacketCount: 1}}}}))
	got := h.mustRead(&p4v1.Entity{Entity: &p4v1.Entity_DirectCounterEntry{DirectCounterEntry: &p4v1.DirectCounterEntry{TableEntry: &p4v1.TableEntry{TableId: tExact, Match: key.GetMatch()}}}})
	if d := got[0].GetDirectCounterEntry().GetData(); d.GetByteCount() != 42 || d.GetPacketCount() != 1 {
		t.Errorf("direct counter %v", d)
	}
	// §9.3.1: reading the direct counter of a missing entry is NOT_FOUND.
	_, err := h.read(&p4v1.Entity{Entity: &p4v1.Entity_DirectCounterEntry{DirectCounterEntry: &p4v1.DirectCounterEntry{TableEntry: exactEntry(9).GetTableEntry()}}})
	if cs := updateCodes(err); len(cs) != 1 || cs[0] != codes.NotFound {
		t.Errorf("direct counter of a missing entry: %v, want one NOT_FOUND detail", err)
	}
}

// TestReadBatchErrors checks §13.3: good requests return entities, bad ones
// get a p4.Error at their position, and the status is UNKNOWN.
func TestReadBatchErrors(t *testing.T) {
	h := populated(t)
	got, err := h.read(
		tableEntity(&p4v1.TableEntry{TableId: tExact}),
		&p4v1.Entity{}, // §13.2: an empty entity is INVALID_ARGUMENT
		counterEntity(cnt, idx(99), nil),
		tableEntity(&p4v1.TableEntry{TableId: tTern}),
	)
	if status.Code(err) != codes.Unknown {
		t.Fatalf("status %v, want UNKNOWN", status.Code(err))
	}
	want := []codes.Code{codes.OK, codes.InvalidArgument, codes.OutOfRange, codes.OK}
	cs := updateCodes(err)
	if len(cs) != len(want) {
		t.Fatalf("details %v, want %v", cs, want)
	}
	for i := range want {
		if cs[i] != want[i] {
			t.Errorf("request %d: %v, want %v", i, cs[i], want[i])
		}
	}
	if len(got) != 4 {
		t.Errorf("%d entities from the good requests, want 4", len(got))
	}
}

// TestReadManyEntitiesIsStreamed checks that a read larger than one
// response chunk arrives complete.
func TestReadManyEntitiesIsStreamed(t *testing.T) {
	h := newHarness(t)
	h.primary(1)
	info := loadP4Info(t, "testdata/generic.p4info.txtpb")
	info.GetTables()[1].Size = 2000 // t_tern
	h.setPipeline(info, 1)
	var us []*p4v1.Update
	for i := 0; i < 1200; i++ {
		us = append(us, insert(ternEntry(int32(i+1), []byte{byte(i >> 8), byte(i)}, []byte{0xff, 0xff})))
	}
	h.mustWrite(1, us...)
	rs, err := h.c.Read(h.ctx, &p4v1.ReadRequest{DeviceId: 1, Entities: []*p4v1.Entity{tableEntity(&p4v1.TableEntry{TableId: tTern})}})
	if err != nil {
		t.Fatal(err)
	}
	msgs, total := 0, 0
	for {
		r, err := rs.Recv()
		if err != nil {
			break
		}
		msgs++
		total += len(r.GetEntities())
	}
	if total != 1200 || msgs < 2 {
		t.Errorf("got %d entities in %d messages, want 1200 in several", total, msgs)
	}
}

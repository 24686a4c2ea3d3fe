package sim

import (
	"testing"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// IDs of testdata/generic.p4info.txtpb.
const (
	tExact, tTern, tLpm, tInd, tKeyless = 100, 101, 102, 103, 104
	aNoAction, aSet, aDrop, aFwd        = 1, 2, 3, 4
	aDefaultOnly, aTableOnly            = 5, 6
	apSel, apProf                       = 300, 301
	cnt, mtr                            = 200, 201
)

func exactEntry(k byte, v ...byte) *p4v1.Entity {
	if len(v) == 0 {
		v = []byte{1}
	}
	return tableEntity(&p4v1.TableEntry{TableId: tExact, Match: []*p4v1.FieldMatch{exact(1, k)}, Action: directAction(aSet, param(1, v...))})
}

func ternEntry(prio int32, value, mask []byte) *p4v1.Entity {
	return tableEntity(&p4v1.TableEntry{TableId: tTern, Priority: prio, Match: []*p4v1.FieldMatch{
		{FieldId: 1, FieldMatchType: &p4v1.FieldMatch_Ternary_{Ternary: &p4v1.FieldMatch_Ternary{Value: value, Mask: mask}}},
	}, Action: directAction(aSet, param(1, 9))})
}

func lpmEntry(value []byte, plen int32, ta *p4v1.TableAction) *p4v1.Entity {
	return tableEntity(&p4v1.TableEntry{TableId: tLpm, Match: []*p4v1.FieldMatch{
		{FieldId: 1, FieldMatchType: &p4v1.FieldMatch_Lpm{Lpm: &p4v1.FieldMatch_LPM{Value: value, PrefixLen: plen}}},
	}, Action: ta})
}

func member(profile, id uint32, action uint32, params ...*p4v1.Action_Param) *p4v1.Entity {
	return &p4v1.Entity{Entity: &p4v1.Entity_ActionProfileMember{ActionProfileMember: &p4v1.ActionProfileMember{
		ActionProfileId: profile, MemberId: id, Action: &p4v1.Action{ActionId: action, Params: params}}}}
}

func group(id uint32, maxSize int32, members ...uint32) *p4v1.Entity {
	g := &p4v1.ActionProfileGroup{ActionProfileId: apSel, GroupId: id, MaxSize: maxSize}
	for _, m := range members {
		g.Members = append(g.Members, &p4v1.ActionProfileGroup_Member{MemberId: m, Weight: 1})
	}
	return &p4v1.Entity{Entity: &p4v1.Entity_ActionProfileGroup{ActionProfileGroup: g}}
}

func memberAction(id uint32) *p4v1.TableAction {
	return &p4v1.TableAction{Type: &p4v1.TableAction_ActionProfileMemberId{ActionProfileMemberId: id}}
}

func groupAction(id uint32) *p4v1.TableAction {
	return &p4v1.TableAction{Type: &p4v1.TableAction_ActionProfileGroupId{ActionProfileGroupId: id}}
}

func counterEntity(id uint32, idx *p4v1.Index, data *p4v1.CounterData) *p4v1.Entity {
	return &p4v1.Entity{Entity: &p4v1.Entity_CounterEntry{CounterEntry: &p4v1.CounterEntry{CounterId: id, Index: idx, Data: data}}}
}

func meterEntity(id uint32, idx *p4v1.Index, cfg *p4v1.MeterConfig) *p4v1.Entity {
	return &p4v1.Entity{Entity: &p4v1.Entity_MeterEntry{MeterEntry: &p4v1.MeterEntry{MeterId: id, Index: idx, Config: cfg}}}
}

func idx(i int64) *p4v1.Index { return &p4v1.Index{Index: i} }

// TestWriteErrorCodes checks each update against the code P4Runtime v1.5
// prescribes; the section is in the case name.
func TestWriteErrorCodes(t *testing.T) {
	info := loadP4Info(t, "testdata/generic.p4info.txtpb")
	for _, tc := range writeCases() {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.primary(1)
			h.setPipeline(info, 1)
			for _, u := range tc.setup {
				h.mustWrite(1, u)
			}
			if got := writeCode(h.write(1, tc.u)); got != tc.want {
				t.Errorf("got %v, want %v (err: %v)", got, tc.want, h.write(1, tc.u))
			}
		})
	}
}

type writeCase struct {
	name  string
	setup []*p4v1.Update
	u     *p4v1.Update
	want  codes.Code
}

func writeCases() []writeCase {
	fwd := func(port byte) []*p4v1.Action_Param { return []*p4v1.Action_Param{param(1, port)} }
	return []writeCase{
		{"insert ok", nil, insert(exactEntry(1)), codes.OK},
		{"§12 insert existing -> ALREADY_EXISTS", []*p4v1.Update{insert(exactEntry(1))}, insert(exactEntry(1, 2)), codes.AlreadyExists},
		{"§8.3 padded key is the same entry -> ALREADY_EXISTS", []*p4v1.Update{insert(exactEntry(1))},
			insert(tableEntity(&p4v1.TableEntry{TableId: tExact, Match: []*p4v1.FieldMatch{exact(1, 0, 0, 1)}, Action: directAction(aSet, param(1, 1))})), codes.AlreadyExists},
		{"§12 modify missing -> NOT_FOUND", nil, modify(exactEntry(1)), codes.NotFound},
		{"§12 delete missing -> NOT_FOUND", nil, del(exactEntry(1)), codes.NotFound},
		{"modify existing", []*p4v1.Update{insert(exactEntry(1))}, modify(exactEntry(1, 5)), codes.OK},
		{"§9.1 delete ignores the action", []*p4v1.Update{insert(exactEntry(1))},
			del(tableEntity(&p4v1.TableEntry{TableId: tExact, Match: []*p4v1.FieldMatch{exact(1, 1)}, Action: directAction(999)})), codes.OK},
		{"§9.1 table full -> RESOURCE_EXHAUSTED", []*p4v1.Update{insert(exactEntry(1)), insert(exactEntry(2)), insert(exactEntry(3)), insert(exactEntry(4))},
			insert(exactEntry(5)), codes.ResourceExhausted},
		{"§8.3 value wider than the field -> OUT_OF_RANGE", nil,
			insert(tableEntity(&p4v1.TableEntry{TableId: tExact, Match: []*p4v1.FieldMatch{exact(1, 1, 0)}, Action: directAction(aSet, param(1, 1))})), codes.OutOfRange},
		{"§8.3 empty bytestring -> OUT_OF_RANGE", nil,
			insert(tableEntity(&p4v1.TableEntry{TableId: tExact, Match: []*p4v1.FieldMatch{exact(1)}, Action: directAction(aSet, param(1, 1))})), codes.OutOfRange},
		{"§8.3 param too wide -> OUT_OF_RANGE", nil,
			insert(tableEntity(&p4v1.TableEntry{TableId: tExact, Match: []*p4v1.FieldMatch{exact(1, 1)}, Action: directAction(aSet, param(1, 1, 0, 0))})), codes.OutOfRange},
		{"unknown table -> INVALID_ARGUMENT", nil, insert(tableEntity(&p4v1.TableEntry{TableId: 77})), codes.InvalidArgument},
		{"§9.1.1 exact field omitted -> INVALID_ARGUMENT", nil,
			insert(tableEntity(&p4v1.TableEntry{TableId: tExact, Action: directAction(aSet, param(1, 1))})), codes.InvalidArgument},
		{"§9.1.1 unknown field id -> INVALID_ARGUMENT", nil,
			insert(tableEntity(&p4v1.TableEntry{TableId: tExact, Match: []*p4v1.FieldMatch{exact(1, 1), exact(9, 1)}, Action: directAction(aSet, param(1, 1))})), codes.InvalidArgument},
		{"§9.1.1 ternary mask 0 -> INVALID_ARGUMENT", nil, insert(ternEntry(1, []byte{0}, []byte{0})), codes.InvalidArgument},
		{"§9.1.1 ternary value outside mask -> INVALID_ARGUMENT", nil, insert(ternEntry(1, []byte{0xff}, []byte{0xf0})), codes.InvalidArgument},
		{"§9.1 ternary without priority -> INVALID_ARGUMENT", nil, insert(ternEntry(0, []byte{1}, []byte{0xff})), codes.InvalidArgument},
		{"§9.1 exact table with priority -> INVALID_ARGUMENT", nil,
			insert(tableEntity(&p4v1.TableEntry{TableId: tExact, Priority: 3, Match: []*p4v1.FieldMatch{exact(1, 1)}, Action: directAction(aSet, param(1, 1))})), codes.InvalidArgument},
		{"§9.1.1 lpm prefix 0 -> INVALID_ARGUMENT", []*p4v1.Update{insert(member(apSel, 1, aFwd, fwd(1)...))}, insert(lpmEntry([]byte{0}, 0, memberAction(1))), codes.InvalidArgument},
		{"§9.1.1 lpm bits past the prefix -> INVALID_ARGUMENT", []*p4v1.Update{insert(member(apSel, 1, aFwd, fwd(1)...))},
			insert(lpmEntry([]byte{10, 0, 0, 1}, 8, memberAction(1))), codes.InvalidArgument},
		{"§9.1.1 range low > high -> INVALID_ARGUMENT", nil, insert(tableEntity(&p4v1.TableEntry{TableId: tTern, Priority: 1, Match: []*p4v1.FieldMatch{
			{FieldId: 2, FieldMatchType: &p4v1.FieldMatch_Range_{Range: &p4v1.FieldMatch_Range{Low: []byte{9}, High: []byte{3}}}}}, Action: directAction(aSet, param(1, 1))})), codes.InvalidArgument},
		{"§9.1.1 full range is a don't-care -> INVALID_ARGUMENT", nil, insert(tableEntity(&p4v1.TableEntry{TableId: tTern, Priority: 1, Match: []*p4v1.FieldMatch{
			{FieldId: 2, FieldMatchType: &p4v1.FieldMatch_Range_{Range: &p4v1.FieldMatch_Range{Low: []byte{0}, High: []byte{0xff, 0xff}}}}}, Action: directAction(aSet, param(1, 1))})), codes.InvalidArgument},
		{"§9.1.1 match kind differs from P4Info -> INVALID_ARGUMENT", nil, insert(tableEntity(&p4v1.TableEntry{TableId: tTern, Priority: 1, Match: []*p4v1.FieldMatch{exact(1, 1)}, Action: directAction(aSet, param(1, 1))})), codes.InvalidArgument},
		{"§9.1.2 action not in table -> INVALID_ARGUMENT", nil,
			insert(tableEntity(&p4v1.TableEntry{TableId: tExact, Match: []*p4v1.FieldMatch{exact(1, 1)}, Action: directAction(aFwd, param(1, 1))})), codes.InvalidArgument},
		{"§9.1.2 missing param -> INVALID_ARGUMENT", nil,
			insert(tableEntity(&p4v1.TableEntry{TableId: tExact, Match: []*p4v1.FieldMatch{exact(1, 1)}, Action: directAction(aSet)})), codes.InvalidArgument},
		{"§9.1.2 insert without action -> INVALID_ARGUMENT", nil,
			insert(tableEntity(&p4v1.TableEntry{TableId: tExact, Match: []*p4v1.FieldMatch{exact(1, 1)}})), codes.InvalidArgument},
		{"§9.1.2 DEFAULT_ONLY action in an entry -> PERMISSION_DENIED", nil,
			insert(tableEntity(&p4v1.TableEntry{TableId: tExact, Match: []*p4v1.FieldMatch{exact(1, 1)}, Action: directAction(aDefaultOnly)})), codes.PermissionDenied},
		{"§9.1.2 TABLE_ONLY action as default -> PERMISSION_DENIED", nil,
			modify(tableEntity(&p4v1.TableEntry{TableId: tExact, IsDefaultAction: true, Action: directAction(aTableOnly)})), codes.PermissionDenied},
		{"§9.1.3 default entry modify", nil,
			modify(tableEntity(&p4v1.TableEntry{TableId: tExact, IsDefaultAction: true, Action: directAction(aDefaultOnly)})), codes.OK},
		{"§9.1.3 default entry insert -> INVALID_ARGUMENT", nil,
			insert(tableEntity(&p4v1.TableEntry{TableId: tExact, IsDefaultAction: true, Action: directAction(aNoAction)})), codes.InvalidArgument},
		{"§9.1.3 default entry delete -> INVALID_ARGUMENT", nil,
			del(tableEntity(&p4v1.TableEntry{TableId: tExact, IsDefaultAction: true})), codes.InvalidArgument},
		{"§9.1.3 const default -> PERMISSION_DENIED", nil,
			modify(tableEntity(&p4v1.TableEntry{TableId: tTern, IsDefaultAction: true, Action: directAction(aDrop)})), codes.PermissionDenied},
		{"§9.1.3 default of indirect table -> PERMISSION_DENIED", nil,
			modify(tableEntity(&p4v1.TableEntry{TableId: tLpm, IsDefaultAction: true})), codes.PermissionDenied},
		{"§9.1 keyless insert -> INVALID_ARGUMENT", nil,
			insert(tableEntity(&p4v1.TableEntry{TableId: tKeyless, Action: directAction(aSet, param(1, 1))})), codes.InvalidArgument},
		{"§9.1 is_const in a write -> INVALID_ARGUMENT", nil,
			insert(tableEntity(&p4v1.TableEntry{TableId: tExact, IsConst: true, Match: []*p4v1.FieldMatch{exact(1, 1)}, Action: directAction(aSet, param(1, 1))})), codes.InvalidArgument},
		{"§9.1.8 idle timeout on a table without it -> INVALID_ARGUMENT", nil,
			insert(tableEntity(&p4v1.TableEntry{TableId: tExact, IdleTimeoutNs: 5, Match: []*p4v1.FieldMatch{exact(1, 1)}, Action: directAction(aSet, param(1, 1))})), codes.InvalidArgument},
		{"§9.1.7 direct counter data on a table without one -> INVALID_ARGUMENT", nil,
			insert(tableEntity(&p4v1.TableEntry{TableId: tTern, Priority: 1, CounterData: &p4v1.CounterData{}, Match: []*p4v1.FieldMatch{{FieldId: 3, FieldMatchType: &p4v1.FieldMatch_Optional_{Optional: &p4v1.FieldMatch_Optional{Value: []byte{1}}}}}, Action: directAction(aSet, param(1, 1))})), codes.InvalidArgument},
		{"§9.1.2 direct action on an indirect table -> INVALID_ARGUMENT", nil, insert(lpmEntry([]byte{10, 0, 0, 0}, 8, directAction(aFwd, param(1, 1)))), codes.InvalidArgument},
		{"§9.1.2 unknown member -> NOT_FOUND", nil, insert(lpmEntry([]byte{10, 0, 0, 0}, 8, memberAction(3))), codes.NotFound},
		{"§9.1.2 unknown group -> NOT_FOUND", nil, insert(lpmEntry([]byte{10, 0, 0, 0}, 8, groupAction(3))), codes.NotFound},
		{"§9.1.2 group on a profile without selector -> INVALID_ARGUMENT", nil,
			insert(tableEntity(&p4v1.TableEntry{TableId: tInd, Match: []*p4v1.FieldMatch{exact(1, 1)}, Action: groupAction(1)})), codes.InvalidArgument},
		{"§9.2.1 member insert existing -> ALREADY_EXISTS", []*p4v1.Update{insert(member(apSel, 1, aFwd, fwd(1)...))}, insert(member(apSel, 1, aFwd, fwd(2)...)), codes.AlreadyExists},
		{"§9.2.1 member action not of the profile's tables -> INVALID_ARGUMENT", nil, insert(member(apSel, 1, aSet, param(1, 1))), codes.InvalidArgument},
		{"§9.2.1 profile full -> RESOURCE_EXHAUSTED", []*p4v1.Update{insert(member(apProf, 1, aSet, param(1, 1))), insert(member(apProf, 2, aSet, param(1, 1)))},
			insert(member(apProf, 3, aSet, param(1, 1))), codes.ResourceExhausted},
		{"§9.2.1 modify missing member -> NOT_FOUND", nil, modify(member(apSel, 1, aFwd, fwd(1)...)), codes.NotFound},
		{"§9.2.1 delete member in a group -> FAILED_PRECONDITION", []*p4v1.Update{insert(member(apSel, 1, aFwd, fwd(1)...)), insert(group(1, 4, 1))},
			del(member(apSel, 1, aFwd)), codes.FailedPrecondition},
		{"§9.2.1 delete member used by an entry -> FAILED_PRECONDITION", []*p4v1.Update{insert(member(apSel, 1, aFwd, fwd(1)...)), insert(lpmEntry([]byte{10, 0, 0, 0}, 8, memberAction(1)))},
			del(member(apSel, 1, aFwd)), codes.FailedPrecondition},
		{"§9.2.2 group with unknown member -> NOT_FOUND", nil, insert(group(1, 4, 9)), codes.NotFound},
		{"§9.2.2 group duplicate member -> INVALID_ARGUMENT", []*p4v1.Update{insert(member(apSel, 1, aFwd, fwd(1)...))}, insert(group(1, 4, 1, 1)), codes.InvalidArgument},
		{"§9.2.2.1 max_size above max_group_size -> INVALID_ARGUMENT", []*p4v1.Update{insert(member(apSel, 1, aFwd, fwd(1)...))}, insert(group(1, 5, 1)), codes.InvalidArgument},
		{"§9.2.2 group larger than max_size -> RESOURCE_EXHAUSTED", []*p4v1.Update{insert(member(apSel, 1, aFwd, fwd(1)...)), insert(member(apSel, 2, aFwd, fwd(2)...))},
			insert(group(1, 1, 1, 2)), codes.ResourceExhausted},
		{"§9.2.2 modify changes max_size -> INVALID_ARGUMENT", []*p4v1.Update{insert(member(apSel, 1, aFwd, fwd(1)...)), insert(group(1, 4, 1))}, modify(group(1, 3, 1)), codes.InvalidArgument},
		{"§9.2.2 delete group used by an entry -> FAILED_PRECONDITION", []*p4v1.Update{insert(member(apSel, 1, aFwd, fwd(1)...)), insert(group(1, 4, 1)), insert(lpmEntry([]byte{10, 0, 0, 0}, 8, groupAction(1)))},
			del(group(1, 4)), codes.FailedPrecondition},
		{"§9.2.2 delete missing group -> NOT_FOUND", nil, del(group(1, 4)), codes.NotFound},
		{"§9.2.2 group weight 0 -> INVALID_ARGUMENT", []*p4v1.Update{insert(member(apSel, 1, aFwd, fwd(1)...))},
			insert(&p4v1.Entity{Entity: &p4v1.Entity_ActionProfileGroup{ActionProfileGroup: &p4v1.ActionProfileGroup{ActionProfileId: apSel, GroupId: 1, MaxSize: 4,
				Members: []*p4v1.ActionProfileGroup_Member{{MemberId: 1}}}}}), codes.InvalidArgument},
		{"§9.3.2 counter insert -> INVALID_ARGUMENT", nil, insert(counterEntity(cnt, idx(1), &p4v1.CounterData{})), codes.InvalidArgument},
		{"§9.3.2 counter delete -> INVALID_ARGUMENT", nil, del(counterEntity(cnt, idx(1), nil)), codes.InvalidArgument},
		{"§9.3.2 counter modify", nil, modify(counterEntity(cnt, idx(1), &p4v1.CounterData{PacketCount: 3})), codes.OK},
		{"§9.3.2 counter index past size -> OUT_OF_RANGE", nil, modify(counterEntity(cnt, idx(16), &p4v1.CounterData{})), codes.OutOfRange},
		{"§9.3.2 negative counter index -> INVALID_ARGUMENT", nil, modify(counterEntity(cnt, idx(-1), &p4v1.CounterData{})), codes.InvalidArgument},
		{"§9.4.2 meter insert -> INVALID_ARGUMENT", nil, insert(meterEntity(mtr, idx(1), nil)), codes.InvalidArgument},
		{"§9.4.2 meter index past size -> OUT_OF_RANGE", nil, modify(meterEntity(mtr, idx(99), nil)), codes.OutOfRange},
		{"§9.4 trTCM with eburst -> INVALID_ARGUMENT", nil, modify(meterEntity(mtr, idx(1), &p4v1.MeterConfig{Cir: 1, Pir: 2, Eburst: 3})), codes.InvalidArgument},
		{"RFC 2698 PIR < CIR -> INVALID_ARGUMENT", nil, modify(meterEntity(mtr, idx(1), &p4v1.MeterConfig{Cir: 5, Pir: 2})), codes.InvalidArgument},
		{"§9.4.2 meter modify", nil, modify(meterEntity(mtr, idx(1), &p4v1.MeterConfig{Cir: 100, Cburst: 10, Pir: 200, Pburst: 20})), codes.OK},
		{"§9.3.1 direct counter insert -> INVALID_ARGUMENT", []*p4v1.Update{insert(exactEntry(1))},
			insert(&p4v1.Entity{Entity: &p4v1.Entity_DirectCounterEntry{DirectCounterEntry: &p4v1.DirectCounterEntry{TableEntry: exactEntry(1).GetTableEntry()}}}), codes.InvalidArgument},
		{"§9.3.1 direct counter of a missing entry -> NOT_FOUND", nil,
			modify(&p4v1.Entity{Entity: &p4v1.Entity_DirectCounterEntry{DirectCounterEntry: &p4v1.DirectCounterEntry{TableEntry: exactEntry(1).GetTableEntry(), Data: &p4v1.CounterData{}}}}), codes.NotFound},
		{"§9.4.1 direct meter modify", []*p4v1.Update{insert(exactEntry(1))},
			modify(&p4v1.Entity{Entity: &p4v1.Entity_DirectMeterEntry{DirectMeterEntry: &p4v1.DirectMeterEntry{TableEntry: exactEntry(1).GetTableEntry(), Config: &p4v1.MeterConfig{Cir: 1, Pir: 1}}}}), codes.OK},
		{"update type unspecified -> INVALID_ARGUMENT", nil, &p4v1.Update{Entity: exactEntry(1)}, codes.InvalidArgument},
		{"unsupported entity -> UNIMPLEMENTED", nil, insert(&p4v1.Entity{Entity: &p4v1.Entity_RegisterEntry{RegisterEntry: &p4v1.RegisterEntry{}}}), codes.Unimplemented},
	}
}

// TestWriteBatchReportsEveryUpdate checks the §12.3 error format: UNKNOWN
// with one p4.Error per update, in order, OK for the ones that worked.
func TestWriteBatchReportsEveryUpdate(t *testing.T) {
	h := newHarness(t)
	h.primary(1)
	h.setPipeline(loadP4Info(t, "testdata/generic.p4info.txtpb"), 1)
	err := h.write(1,
		insert(exactEntry(1)),
		insert(exactEntry(1)),
		modify(exactEntry(9)),
		insert(exactEntry(2)),
	)
	if status.Code(err) != codes.Unknown {
		t.Fatalf("batch status %v, want UNKNOWN", status.Code(err))
	}
	got := updateCodes(err)
	want := []codes.Code{codes.OK, codes.AlreadyExists, codes.NotFound, codes.OK}
	if len(got) != len(want) {
		t.Fatalf("per-update codes %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("update %d: %v, want %v", i, got[i], want[i])
		}
	}
	// CONTINUE_ON_ERROR: the good updates were applied.
	if n := len(h.mustRead(tableEntity(&p4v1.TableEntry{TableId: tExact}))); n != 2 {
		t.Errorf("entries after batch: %d, want 2", n)
	}
}

func TestWriteRPCWideErrors(t *testing.T) {
	h := newHarness(t)
	h.primary(1)
	if got := status.Code(h.write(1, insert(exactEntry(1)))); got != codes.FailedPrecondition {
		t.Errorf("write before a pipeline: %v, want FAILED_PRECONDITION (§12)", got)
	}
	if _, err := h.read(tableEntity(&p4v1.TableEntry{})); status.Code(err) != codes.FailedPrecondition {
		t.Errorf("read before a pipeline: %v, want FAILED_PRECONDITION (§13)", status.Code(err))
	}
	h.setPipeline(loadP4Info(t, "testdata/generic.p4info.txtpb"), 1)
	// ROLLBACK_ON_ERROR and DATAPLANE_ATOMIC: TestConformanceAllOrNone.
	_, err := h.c.Write(h.ctx, &p4v1.WriteRequest{DeviceId: 1, ElectionId: eid(1), Atomicity: 7, Updates: []*p4v1.Update{insert(exactEntry(1))}})
	if status.Code(err) != codes.InvalidArgument || len(status.Convert(err).Details()) != 0 {
		t.Errorf("undefined atomicity 7: %v, want an RPC-wide INVALID_ARGUMENT (§12.3)", err)
	}
}

func TestTableSizeOverride(t *testing.T) {
	h := newHarness(t, WithTableSizeOverride("t_exact", 1))
	h.primary(1)
	h.setPipeline(loadP4Info(t, "testdata/generic.p4info.txtpb"), 1)
	h.mustWrite(1, insert(exactEntry(1)))
	if got := writeCode(h.write(1, insert(exactEntry(2)))); got != codes.ResourceExhausted {
		t.Errorf("second insert into a table of size 1: %v, want RESOURCE_EXHAUSTED", got)
	}
	// Deleting frees the slot.
	h.mustWrite(1, del(exactEntry(1)))
	h.mustWrite(1, insert(exactEntry(2)))
}

func BenchmarkWriteBatch(b *testing.B) {
	info := loadP4Info(b, "testdata/generic.p4info.txtpb")
	info.GetTables()[1].Size = 1 << 20 // t_tern
	sc, err := newSchema(info, nil)
	if err != nil {
		b.Fatal(err)
	}
	var us []*p4v1.Update
	for i := 0; i < 1000; i++ {
		us = append(us, insert(ternEntry(int32(i+1), []byte{byte(i >> 8), byte(i)}, []byte{0xff, 0xff})))
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		st := newState(sc)
		for _, u := range us {
			if err := st.apply(u); err != nil {
				b.Fatal(err)
			}
		}
	}
}

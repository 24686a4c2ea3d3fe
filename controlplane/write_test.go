package controlplane

import (
	"github.com/p4qos/p4qos/target/bmv2"

	"errors"
	"testing"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/p4qos/p4qos/compiler/contract"
	"github.com/p4qos/p4qos/tables"
)

func TestApplyBatchesAndPhases(t *testing.T) {
	f, addr := startFake(t)
	ctx := testCtx(t)
	s := dial(t, addr, ElectionID{Low: 1})
	if err := s.WaitPrimary(ctx); err != nil {
		t.Fatal(err)
	}
	var p1, p2 Phase
	for i := range 7 {
		p1 = append(p1, insert(tableEntry(1, byte(i), 1)))
	}
	for i := range 3 {
		p2 = append(p2, insert(tableEntry(2, byte(i), 1)))
	}
	var observed []int
	st, err := s.Apply(ctx, []Phase{p1, p2}, WithBatchSize(3), WithWriteObserver(func(n int, _ error) { observed = append(observed, n) }))
	if err != nil {
		t.Fatal(err)
	}
	// Phase 1: 7 updates in batches of 3 → 3+3+1; phase 2: 3 → one batch.
	// Phases never share a batch: 4 RPCs, not ceil(10/3) = 4 by luck — the
	// observed sizes prove the split.
	want := []int{3, 3, 1, 3}
	if len(observed) != len(want) {
		t.Fatalf("batch sizes %v, want %v", observed, want)
	}
	for i := range want {
		if observed[i] != want[i] {
			t.Fatalf("batch sizes %v, want %v", observed, want)
		}
	}
	if st.Updates != 10 || st.RPCs != 4 || st.Undone != 0 {
		t.Errorf("stats %+v, want 10 updates in 4 RPCs", st)
	}
	ents, writes, _ := f.snapshot()
	if len(ents) != 10 || writes != 4 {
		t.Errorf("switch has %d entities after %d writes, want 10 after 4", len(ents), writes)
	}
}

func TestWriteTypedPerUpdateErrors(t *testing.T) {
	f, addr := startFake(t)
	ctx := testCtx(t)
	s := dial(t, addr, ElectionID{Low: 1})
	if err := s.WaitPrimary(ctx); err != nil {
		t.Fatal(err)
	}
	f.reject = func(u *p4v1.Update) codes.Code {
		if key(u.GetEntity()) == 2 {
			return codes.ResourceExhausted
		}
		return codes.OK
	}
	updates := []*p4v1.Update{
		{Type: p4v1.Update_INSERT, Entity: tableEntry(1, 1, 1)},
		{Type: p4v1.Update_INSERT, Entity: tableEntry(1, 2, 1)},
		{Type: p4v1.Update_DELETE, Entity: tableEntry(1, 9, 1)}, // absent: NOT_FOUND
	}
	err := s.Write(ctx, updates)
	var we *WriteError
	if !errors.As(err, &we) {
		t.Fatalf("got %T %v, want *WriteError", err, err)
	}
	if len(we.Updates) != 2 || len(we.Applied) != 1 || we.Applied[0] != 0 {
		t.Fatalf("failed %d applied %v, want 2 failed and [0] applied", len(we.Updates), we.Applied)
	}
	if !errors.Is(err, ErrResourceExhausted) || !errors.Is(err, ErrNotFound) || errors.Is(err, ErrAlreadyExists) {
		t.Errorf("errors.Is sees the wrong codes in %v", err)
	}
	var ue *UpdateError
	if !errors.As(err, &ue) || ue.Index != 1 || ue.Code != codes.ResourceExhausted || ue.Space != "fake" || ue.SpaceCode != 108 {
		t.Errorf("first UpdateError = %+v", ue)
	}
	if !proto.Equal(ue.Update, updates[1]) {
		t.Error("UpdateError does not carry its update")
	}
}

func TestApplyUndoesPartialFailure(t *testing.T) {
	f, addr := startFake(t)
	ctx := testCtx(t)
	s := dial(t, addr, ElectionID{Low: 1})
	if err := s.WaitPrimary(ctx); err != nil {
		t.Fatal(err)
	}
	// Previous intent: entries 1 (param 1) and 2 (param 1) in table 1.
	if _, err := s.Apply(ctx, []Phase{{insert(tableEntry(1, 1, 1)), insert(tableEntry(1, 2, 1))}}); err != nil {
		t.Fatal(err)
	}
	before, _, _ := f.snapshot()

	// New intent: modify 1, delete 2, insert 3 (phase 1, batches of 2), then
	// insert 4 and 5 in table 2 (phase 2), where 5 is rejected as table full.
	f.reject = func(u *p4v1.Update) codes.Code {
		if u.GetType() == p4v1.Update_INSERT && u.GetEntity().GetTableEntry().GetTableId() == 2 && key(u.GetEntity()) == 5 {
			return codes.ResourceExhausted
		}
		return codes.OK
	}
	phases := []Phase{
		{
			{Update: &p4v1.Update{Type: p4v1.Update_MODIFY, Entity: tableEntry(1, 1, 9)}, Old: tableEntry(1, 1, 1)},
			{Update: &p4v1.Update{Type: p4v1.Update_DELETE, Entity: tableEntry(1, 2, 1)}, Old: tableEntry(1, 2, 1)},
			insert(tableEntry(1, 3, 1)),
		},
		{insert(tableEntry(2, 4, 1)), insert(tableEntry(2, 5, 1))},
	}
	st, err := s.Apply(ctx, phases, WithBatchSize(2))
	var ae *ApplyError
	if !errors.As(err, &ae) || ae.Phase != 1 || ae.UndoErr != nil {
		t.Fatalf("got %v, want an ApplyError in phase 1 with a clean undo", err)
	}
	if !errors.Is(err, ErrResourceExhausted) {
		t.Errorf("the cause is not visible through errors.Is: %v", err)
	}
	// Applied then undone: MODIFY 1, DELETE 2, INSERT 3, INSERT 4 = 4.
	if st.Undone != 4 || st.Updates != 0 {
		t.Errorf("stats %+v, want 4 undone and 0 kept", st)
	}
	after, _, _ := f.snapshot()
	if len(after) != len(before) {
		t.Fatalf("switch has %d entities after undo, want %d", len(after), len(before))
	}
	for k, e := range before {
		if !proto.Equal(after[k], e) {
			t.Errorf("entity %d not restored: %v", key(e), after[k])
		}
	}
}

func TestInvert(t *testing.T) {
	e, old := tableEntry(1, 1, 2), tableEntry(1, 1, 1)
	tests := []struct {
		name   string
		in     Change
		want   p4v1.Update_Type
		entity *p4v1.Entity
		ok     bool
	}{
		{"insert", Change{Update: &p4v1.Update{Type: p4v1.Update_INSERT, Entity: e}}, p4v1.Update_DELETE, e, true},
		{"delete", Change{Update: &p4v1.Update{Type: p4v1.Update_DELETE, Entity: old}, Old: old}, p4v1.Update_INSERT, old, true},
		{"modify", Change{Update: &p4v1.Update{Type: p4v1.Update_MODIFY, Entity: e}, Old: old}, p4v1.Update_MODIFY, old, true},
		{"modify without old", Change{Update: &p4v1.Update{Type: p4v1.Update_MODIFY, Entity: e}}, 0, nil, false},
		{"delete without old", Change{Update: &p4v1.Update{Type: p4v1.Update_DELETE, Entity: e}}, 0, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := Invert(tt.in)
			if ok != tt.ok {
				t.Fatalf("ok = %v", ok)
			}
			if ok && (got.Update.GetType() != tt.want || !proto.Equal(got.Update.GetEntity(), tt.entity)) {
				t.Errorf("got %v", got.Update)
			}
		})
	}
}

// FuzzDecodeWriteError feeds arbitrary google.rpc.Status messages (what a
// switch sends back for a failed Write) to the decoder: it must never
// panic, and every update is either applied, failed, or covered by an
// RPC-level error.
func FuzzDecodeWriteError(f *testing.F) {
	ok, _ := anypb.New(&p4v1.Error{CanonicalCode: 0})
	bad, _ := anypb.New(&p4v1.Error{CanonicalCode: int32(codes.NotFound), Message: "x", Space: "s", Code: 3})
	for _, st := range []*spb.Status{
		{Code: int32(codes.Unknown), Details: []*anypb.Any{ok, bad}},
		{Code: int32(codes.Unknown), Details: []*anypb.Any{bad}},
		{Code: int32(codes.PermissionDenied)},
		{Code: int32(codes.Unknown), Details: []*anypb.Any{{TypeUrl: "type.googleapis.com/p4.v1.Error", Value: []byte{0xff}}, ok}},
	} {
		b, _ := proto.Marshal(st)
		f.Add(uint8(len(st.Details)), b)
	}
	f.Fuzz(func(t *testing.T, n uint8, raw []byte) {
		var st spb.Status
		if proto.Unmarshal(raw, &st) != nil || st.Code == 0 {
			return
		}
		updates := make([]*p4v1.Update, int(n%8))
		for i := range updates {
			updates[i] = &p4v1.Update{Type: p4v1.Update_INSERT, Entity: tableEntry(1, byte(i), 1)}
		}
		err := decodeWriteError(updates, status.ErrorProto(&st))
		var we *WriteError
		if !errors.As(err, &we) {
			t.Fatalf("got %T, want *WriteError", err)
		}
		_ = err.Error()
		if we.RPC == nil && len(we.Updates)+len(we.Applied) != len(updates) {
			t.Fatalf("%d failed + %d applied != %d updates", len(we.Updates), len(we.Applied), len(updates))
		}
		for _, ue := range we.Updates {
			if ue.Index < 0 || ue.Index >= len(updates) || ue.Update != updates[ue.Index] {
				t.Fatalf("update error with index %d out of place", ue.Index)
			}
		}
	})
}

// TestReconcileBMv2MeterQuirks runs reconcile against a fake with BMv2's
// meter behaviour (wildcard meter reads fail while a cell is unconfigured,
// rates come back one unit low, a reset leaves PI's marker): the reconcile
// must still converge and then write nothing.
func TestReconcileBMv2MeterQuirks(t *testing.T) {
	f, addr := startFake(t)
	f.bmv2Meters = true
	ctx := testCtx(t)
	s := dial(t, addr, ElectionID{Low: 1})
	if err := s.WaitPrimary(ctx); err != nil {
		t.Fatal(err)
	}
	schema := qosSchema(t)
	rec := NewReconciler(s)
	big, small := qosIntent(t, schema, 3, 125001), qosIntent(t, schema, 2, 125001)
	// The rounding allowance is the BMv2 driver's, as in the controller.
	drv := must(bmv2.New(schema, []byte("{}")))
	big.Pipeline, small.Pipeline = must(NewPipeline(schema.P4Info(), drv)), must(NewPipeline(schema.P4Info(), drv))
	for i, step := range []struct {
		in          *Intent
		wantUpdates int
	}{
		{big, 3 + 3 + 3}, // 3 classifier entries, 3 meters, phb + member + route
		{big, 0},         // rates read back as 125000/250001: within rounding
		{small, 1 + 1},   // delete class 3's entry, reset its meter
		{small, 0},       // the reset cell reads back as PI's marker: unconfigured
	} {
		st, err := rec.Reconcile(ctx, step.in)
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if st.Write.Updates != step.wantUpdates || st.Drift != 0 {
			t.Errorf("step %d: %+v, want %d updates and no drift", i, st, step.wantUpdates)
		}
	}
}

// A switch that answers reads with nonsense gets an error back, not a
// panic: empty entities are skipped; entities the schema cannot identify
// (unknown ids) make the reconcile fail as terminal, since retrying the
// same read cannot help.
func TestReconcileSurvivesGarbageReads(t *testing.T) {
	schema := qosSchema(t)
	tests := []struct {
		name    string
		garbage []*p4v1.Entity
		wantErr bool
	}{
		{"empty entity", []*p4v1.Entity{{}}, false},
		{"nil entity", []*p4v1.Entity{nil}, false},
		{"unknown table", []*p4v1.Entity{tables.EntityOf(&p4v1.TableEntry{TableId: 12345})}, true},
		{"unknown meter", []*p4v1.Entity{tables.EntityOf(&p4v1.MeterEntry{MeterId: 999, Index: &p4v1.Index{Index: -1}, Config: &p4v1.MeterConfig{Cir: -5}})}, true},
		{"unknown profile, nil member", []*p4v1.Entity{tables.EntityOf(&p4v1.ActionProfileGroup{ActionProfileId: 1, Members: []*p4v1.ActionProfileGroup_Member{nil}})}, true},
		{"table id 0", []*p4v1.Entity{tables.EntityOf(&p4v1.TableEntry{})}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, addr := startFake(t)
			f.garbage = tt.garbage
			ctx := testCtx(t)
			s := dial(t, addr, ElectionID{Low: 1})
			if err := s.WaitPrimary(ctx); err != nil {
				t.Fatal(err)
			}
			_, err := NewReconciler(s).Reconcile(ctx, qosIntent(t, schema, 1, 125000))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error: %v", err, tt.wantErr)
			}
			if err != nil && IsRetryable(err) {
				t.Errorf("err %v is retryable, want terminal", err)
			}
		})
	}
}

// A table entry that carries its direct meter's config (the reservation
// table's) gets the same rounding allowance as meter cells: BMv2 reads a
// rate back one unit low (target/bmv2), which must not be drift, while a
// rate that really changed still is.
func TestNormalizeTableEntryMeterConfig(t *testing.T) {
	schema := qosSchema(t)
	drv := must(bmv2.New(schema, []byte("{}")))
	entry := func(cir int64) *p4v1.Entity {
		te := must(schema.TableEntry(contract.Reservation, []tables.Match{tables.Ternary(contract.KeyIPVersion, 4, 0xf)},
			tables.Action(contract.Reserve, tables.Param(contract.ParamClassID, 1), tables.Param(contract.ParamDSCP, 46), tables.Param(contract.ParamExcessDrop, 0)),
			tables.Priority(1), tables.WithMeterConfig(&tables.MeterConfig{CIR: cir, CBurst: 10000, PIR: cir, PBurst: 10000})))
		return tables.EntityOf(te)
	}
	intent := []*p4v1.Entity{entry(250001)}
	for _, tc := range []struct {
		read    int64
		updates int
	}{{250001, 0}, {250000, 0}, {240000, 1}} {
		got := normalizeMeters(schema, []*p4v1.Entity{entry(tc.read)}, intent, drv.SameMeter)
		if n := must(tables.Diff(schema, got, intent)).Len(); n != tc.updates {
			t.Errorf("read back CIR %d for 250001: %d updates, want %d", tc.read, n, tc.updates)
		}
	}
}

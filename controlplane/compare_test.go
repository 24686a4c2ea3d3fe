package controlplane

import (
	"errors"
	"testing"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"

	"github.com/p4qos/p4qos/compiler/contract"
	"github.com/p4qos/p4qos/tables"
)

// Compare sees what Reconcile would write, from a read-only session, and
// writes nothing itself.
func TestSimCompareReadOnly(t *testing.T) {
	_, addr := startSim(t)
	schema := qosSchema(t)
	ctx := testCtx(t)
	s := primarySession(t, addr)
	in := qosIntent(t, schema, 3, 125000)
	if _, err := NewReconciler(s).Reconcile(ctx, in); err != nil {
		t.Fatal(err)
	}
	ro, err := Dial(SwitchConfig{Name: "sim", Address: addr, DeviceID: 1}, WithReadOnly())
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	cur, plan, err := ro.Compare(ctx, in)
	if err != nil || plan.Len() != 0 || len(cur) != len(in.Entities) {
		t.Fatalf("in sync: read %d, plan %d updates, %v; want %d read and an empty plan", len(cur), plan.Len(), err, len(in.Entities))
	}
	meter := must(schema.MeterEntry(contract.ClassMeter, 2, &tables.MeterConfig{CIR: 1, CBurst: 1, PIR: 2, PBurst: 2}))
	if err := s.Write(ctx, []*p4v1.Update{{Type: p4v1.Update_MODIFY, Entity: tables.EntityOf(meter)}}); err != nil {
		t.Fatal(err)
	}
	_, plan, err = ro.Compare(ctx, in)
	if ins, mod, del := plan.Counts(); err != nil || ins != 0 || mod != 1 || del != 0 {
		t.Fatalf("tampered meter: plan %d/%d/%d, %v; want one modify", ins, mod, del, err)
	}
	if err := ro.Write(ctx, plan.Updates()); !errors.Is(err, ErrNotPrimary) {
		t.Errorf("read-only session wrote: %v", err)
	}
	if st := s.State(); !st.Primary {
		t.Errorf("the primary lost primacy: %+v", st)
	}
	if _, _, err := ro.Compare(ctx, nil); err == nil {
		t.Error("nil intent: no error")
	}
}

package controlplane

import (
	"context"
	"fmt"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"

	"github.com/p4qos/p4qos/tables"
)

// Compare is the read-and-diff half of Reconcile, writing nothing: it reads
// the switch's state as Reconcile does (wildcard reads, meter configs
// normalised by the target's rounding, const entries and unconfigured
// meter cells left out) and diffs it against the intent with tables.Diff.
// The plan is what Reconcile would write now. It needs no arbitration, so
// it works on a read-only session (WithReadOnly) beside a running
// controller; the pipeline is not checked (RunningCookie does that).
func (s *Session) Compare(ctx context.Context, in *Intent) (current []*p4v1.Entity, plan tables.Plan, err error) {
	if in == nil || in.Schema == nil {
		return nil, tables.Plan{}, fmt.Errorf("compare %s: no intent", s.sw.Name)
	}
	if current, err = s.readState(ctx, in, nil); err != nil {
		return nil, tables.Plan{}, fmt.Errorf("compare %s: %w", s.sw.Name, err)
	}
	if plan, err = tables.Diff(in.Schema, current, in.Entities); err != nil {
		return nil, tables.Plan{}, fmt.Errorf("compare %s: %w", s.sw.Name, err)
	}
	return current, plan, nil
}

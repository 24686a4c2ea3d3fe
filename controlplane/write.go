package controlplane

import (
	"context"
	"errors"
	"fmt"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// DefaultBatchSize is the number of updates per WriteRequest unless
// configured otherwise.
const DefaultBatchSize = 500

// Change is one update plus the entity it replaces on the switch (for MODIFY
// and DELETE), which is what undoing it needs.
type Change struct {
	Update *p4v1.Update
	// Old is the switch's entity before the update; nil for INSERT.
	Old *p4v1.Entity
}

// Phase is a set of changes with no dependencies among them. Phases are
// applied in order, each in its own Write RPCs, because P4Runtime gives no
// ordering among the updates of one WriteRequest (spec §12.1).
type Phase []Change

// WriteStats counts what Apply did.
type WriteStats struct {
	// Updates applied and kept (undone ones are not counted).
	Updates int
	// RPCs is the number of Write RPCs sent, including undo.
	RPCs int
	// Undone counts the updates rolled back after a partial failure.
	Undone int
}

// ApplyError is a change that failed part-way. The part that succeeded has
// been undone unless UndoErr says otherwise.
type ApplyError struct {
	// Phase is the index of the phase that failed.
	Phase int
	// Err is the failure (usually a *WriteError with per-update errors).
	Err error
	// UndoErr is the failure of the undo, if any: then the switch is in
	// neither intent and the next reconcile repairs it.
	UndoErr error
}

func (e *ApplyError) Error() string {
	if e.UndoErr != nil {
		return fmt.Sprintf("phase %d: %v; undo failed: %v", e.Phase, e.Err, e.UndoErr)
	}
	return fmt.Sprintf("phase %d: %v (the applied part was undone)", e.Phase, e.Err)
}

func (e *ApplyError) Unwrap() []error {
	if e.UndoErr != nil {
		return []error{e.Err, e.UndoErr}
	}
	return []error{e.Err}
}

type applyConfig struct {
	batchSize int
	noUndo    bool
	observe   func(rpcUpdates int, err error)
	describe  func(*p4v1.Entity) string
}

// ApplyOption configures Apply.
type ApplyOption func(*applyConfig)

// WithBatchSize sets the maximum updates per WriteRequest (default 500).
func WithBatchSize(n int) ApplyOption { return func(c *applyConfig) { c.batchSize = n } }

// WithoutUndo leaves a partially applied change in place (for callers that
// converge by reconciling anyway, such as meter refreshes).
func WithoutUndo() ApplyOption { return func(c *applyConfig) { c.noUndo = true } }

// WithWriteObserver is called after every Write RPC (metrics).
func WithWriteObserver(f func(updates int, err error)) ApplyOption {
	return func(c *applyConfig) { c.observe = f }
}

// WithDescriber names entities in log lines (tables.Schema.Describe), so a
// rejected update is logged by table and match rather than by numeric ids.
func WithDescriber(f func(*p4v1.Entity) string) ApplyOption {
	return func(c *applyConfig) { c.describe = f }
}

// Write sends updates as one WriteRequest and decodes a failure into a
// *WriteError holding one *UpdateError per failed update.
func (s *Session) Write(ctx context.Context, updates []*p4v1.Update) error {
	if len(updates) == 0 {
		return nil
	}
	w := s.newWriter(ctx)
	defer w.close()
	return w.write(updates)
}

// decodeWriteError turns a Write RPC error into a *WriteError. Spec §12.3:
// when a batch fails the server answers with a status whose details hold one
// p4.Error per update, in request order, OK for the ones applied. Without
// usable details the whole RPC is the error and nothing is known applied.
func decodeWriteError(updates []*p4v1.Update, err error) error {
	if err == nil {
		return nil
	}
	st, ok := status.FromError(err)
	if !ok {
		return &WriteError{RPC: wrapRPC("write", err)}
	}
	details := st.Proto().GetDetails()
	if len(details) != len(updates) {
		return &WriteError{RPC: wrapRPC("write", err)}
	}
	we := &WriteError{}
	for i, d := range details {
		var pe p4v1.Error
		if d == nil || d.UnmarshalTo(&pe) != nil {
			// An unreadable detail: the update's fate is unknown; reporting
			// it as failed keeps the undo conservative.
			we.Updates = append(we.Updates, &UpdateError{Index: i, Update: updates[i], Code: codes.Unknown,
				Message: "switch returned an undecodable error detail"})
			continue
		}
		code := codes.Code(pe.GetCanonicalCode())
		if code == codes.OK {
			we.Applied = append(we.Applied, i)
			continue
		}
		we.Updates = append(we.Updates, &UpdateError{
			Index: i, Update: updates[i], Code: code, Message: pe.GetMessage(),
			Space: pe.GetSpace(), SpaceCode: pe.GetCode(), Details: pe.GetDetails(),
		})
	}
	if len(we.Updates) == 0 {
		// All details OK yet the RPC failed: trust the RPC.
		return &WriteError{RPC: wrapRPC("write", err), Applied: we.Applied}
	}
	return we
}

// Apply writes phases in order, each in batches of the configured size. If
// any batch fails, every update that did apply (in this phase and earlier
// ones) is undone in reverse phase order, so the switch is back at the state
// before the call, and an *ApplyError is returned. BMv2 offers only
// CONTINUE_ON_ERROR atomicity, hence the controller-side undo.
func (s *Session) Apply(ctx context.Context, phases []Phase, opts ...ApplyOption) (WriteStats, error) {
	cfg := applyConfig{batchSize: DefaultBatchSize}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.batchSize <= 0 {
		cfg.batchSize = DefaultBatchSize
	}
	var stats WriteStats
	// done holds what was applied, per phase, for undo: whole phases
	// (shared with the caller, never modified) and, for the phase that
	// failed, the batches before the failed one plus what the switch
	// reported applied of it, copied only then.
	var done []Phase
	var w *writer
	defer func() {
		if w != nil {
			w.close()
		}
	}()
	for pi, phase := range phases {
		for start := 0; start < len(phase); start += cfg.batchSize {
			if w == nil {
				w = s.newWriter(ctx)
			}
			batch := phase[start:min(start+cfg.batchSize, len(phase))]
			err := w.writeChanges(batch)
			stats.RPCs++
			if cfg.observe != nil {
				cfg.observe(len(batch), err)
			}
			if err == nil {
				stats.Updates += len(batch)
				continue
			}
			applied := phase[:start:start] // full capacity: append copies
			var we *WriteError
			if errors.As(err, &we) {
				for _, i := range we.Applied {
					applied = append(applied, batch[i])
					stats.Updates++
				}
			}
			for _, ue := range failedUpdates(err) {
				desc := compactText(ue.Update.GetEntity())
				if cfg.describe != nil {
					desc = cfg.describe(ue.Update.GetEntity())
				}
				s.log.Warn("switch rejected update", "phase", pi, "type", updateTypeName(ue.Update),
					"entity", desc, "code", ue.Code.String(), "switch_error", ue.Message)
			}
			ae := &ApplyError{Phase: pi, Err: err}
			if cfg.noUndo {
				return stats, ae
			}
			done = append(done, applied)
			undone, rpcs, uerr := s.undo(ctx, done, cfg)
			stats.RPCs += rpcs
			stats.Undone += undone
			stats.Updates -= undone
			ae.UndoErr = uerr
			return stats, ae
		}
		done = append(done, phase)
	}
	return stats, nil
}

func failedUpdates(err error) []*UpdateError {
	var we *WriteError
	if errors.As(err, &we) {
		return we.Updates
	}
	return nil
}

// Invert returns the change that undoes c: INSERT → DELETE of the entity,
// DELETE → INSERT of the old entity, MODIFY → MODIFY back to the old one.
// ok is false when c lacks the old entity it would need.
func Invert(c Change) (Change, bool) {
	u := c.Update
	switch u.GetType() {
	case p4v1.Update_INSERT:
		return Change{Update: &p4v1.Update{Type: p4v1.Update_DELETE, Entity: u.GetEntity()}, Old: u.GetEntity()}, true
	case p4v1.Update_DELETE:
		if c.Old == nil {
			return Change{}, false
		}
		return Change{Update: &p4v1.Update{Type: p4v1.Update_INSERT, Entity: c.Old}}, true
	case p4v1.Update_MODIFY:
		if c.Old == nil {
			return Change{}, false
		}
		return Change{Update: &p4v1.Update{Type: p4v1.Update_MODIFY, Entity: c.Old}, Old: u.GetEntity()}, true
	}
	return Change{}, false
}

// undo applies the inverses of done, last phase first (the reverse of the
// dependency order is the right order for removals). It does not itself undo.
func (s *Session) undo(ctx context.Context, done []Phase, cfg applyConfig) (undone, rpcs int, err error) {
	var inverse []Phase
	for i := len(done) - 1; i >= 0; i-- {
		var p Phase
		for _, c := range done[i] {
			inv, ok := Invert(c)
			if !ok {
				return 0, 0, fmt.Errorf("cannot undo %s %s: the old entity is unknown", updateTypeName(c.Update), entityKind(c.Update.GetEntity()))
			}
			p = append(p, inv)
		}
		if len(p) > 0 {
			inverse = append(inverse, p)
		}
	}
	cfg.noUndo = true
	st, err := s.Apply(ctx, inverse, func(c *applyConfig) { *c = cfg })
	if err != nil {
		s.log.Error("undo of a partially applied change failed; the next reconcile will repair it", "err", err)
	} else if st.Updates > 0 {
		s.log.Warn("partially applied change undone", "updates", st.Updates)
	}
	return st.Updates, st.RPCs, err
}

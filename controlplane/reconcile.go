package controlplane

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/p4qos/p4qos/controlplane/p4wire"
	"github.com/p4qos/p4qos/tables"
)

// Intent is what one switch should run and hold.
type Intent struct {
	// Schema is the pipeline's P4Info view.
	Schema *tables.Schema
	// Pipeline is pushed when the switch does not already run it; nil
	// leaves the switch's pipeline alone.
	Pipeline *Pipeline
	// Entities is the complete forwarding state: table entries (including
	// default entries), action profile members and groups, meter configs.
	// Anything else of those kinds found on the switch is removed.
	Entities []*p4v1.Entity
	// Side is the switch's configuration outside P4Runtime (queue rates
	// and depths), applied after the entities on every reconcile; nil when
	// there is none.
	Side SideConfig
}

// SideConfig is switch state that P4Runtime cannot carry (a target's queue
// interface). Reconcile applies it while the session is primary, after the
// entities, so that a backup never touches it either.
type SideConfig interface {
	// Apply makes the switch hold the configuration; written counts the
	// parameters set, drift those found changed behind the controller's back.
	Apply(ctx context.Context) (written, drift int, err error)
}

// ReconcileStats reports one reconciliation.
type ReconcileStats struct {
	// Pushed is true when the pipeline was (re)pushed.
	Pushed bool
	// Read is the number of entities read back.
	Read int
	// Unchanged is true when the switch's state read back byte for byte
	// as at the last reconcile of the same intent on the same stream that
	// found nothing to change: it was not decoded or diffed again, and
	// nothing was written (Read is that reconcile's count).
	Unchanged bool
	// Inserts, Modifies and Deletes are the planned updates.
	Inserts, Modifies, Deletes int
	// Drift is the number of updates needed although the switch was
	// converged with this same intent after the last run on the same stream:
	// state changed behind the controller's back.
	Drift int
	// Write reports the writes.
	Write WriteStats
	// SideWritten and SideDrift report Intent.Side's application.
	SideWritten, SideDrift int
}

// Reconciler keeps one switch converged with an intent. It is not safe for
// concurrent use: one goroutine owns a switch.
type Reconciler struct {
	sess *Session
	opts []ApplyOption

	// cells are the meter cells this reconciler has configured, read one by
	// one when the target cannot read a meter by wildcard (BMv2).
	cells map[meterCell]bool

	// Convergence bookkeeping for drift detection.
	converged  bool
	lastIntent *Intent
	lastStream uint64
	// clean is the digest of the read responses of the last reconcile
	// that found nothing to change, while cleanOK; cleanRead the number of
	// entities they held. Why: at 2,000 switches, decoding and diffing
	// what a converged switch reads back was over half of the steady
	// state's reconcile CPU, and a digest of the same bytes costs a
	// fraction of it.
	clean     [sha256.Size]byte
	cleanOK   bool
	cleanRead int
}

// NewReconciler returns a reconciler for the session; opts apply to its writes.
func NewReconciler(s *Session, opts ...ApplyOption) *Reconciler {
	return &Reconciler{sess: s, opts: opts, cells: map[meterCell]bool{}}
}

// Invalidate forgets convergence, e.g. after writes made by another path.
func (r *Reconciler) Invalidate() { r.converged = false }

// Reconcile makes the switch run in.Pipeline and hold exactly in.Entities:
// it pushes the pipeline if the cookie differs, reads the switch's state
// with wildcard reads, diffs it against the intent (tables.Diff) and writes
// only the difference. A second call with the same intent writes nothing.
// If a write fails part-way the applied part is undone (see Apply).
func (r *Reconciler) Reconcile(ctx context.Context, in *Intent) (ReconcileStats, error) {
	var st ReconcileStats
	if in == nil || in.Schema == nil {
		return st, Terminal(errors.New("reconcile: no intent"))
	}
	state := r.sess.State()
	if !state.Primary {
		return st, fmt.Errorf("reconcile %s: %w", r.sess.sw.Name, ErrNoSession)
	}
	wasConverged := r.converged && r.lastIntent == in && r.lastStream == state.Stream
	r.converged = false
	if in.Pipeline != nil {
		pushed, err := r.sess.EnsurePipeline(ctx, in.Pipeline)
		if err != nil {
			return st, fmt.Errorf("reconcile %s: %w", r.sess.sw.Name, err)
		}
		st.Pushed = pushed
		if pushed {
			wasConverged = false
		}
	}
	if st.Pushed {
		clear(r.cells) // a new pipeline starts with every cell unconfigured
	}
	for _, e := range in.Entities {
		if me := e.GetMeterEntry(); me != nil && me.GetIndex() != nil {
			r.cells[meterCell{me.GetMeterId(), me.GetIndex().GetIndex()}] = true
		}
	}
	raw, err := r.sess.readStateRaw(ctx, in, r.cells)
	if err != nil {
		return st, fmt.Errorf("reconcile %s: %w", r.sess.sw.Name, err)
	}
	digest := digestOf(raw)
	if wasConverged && r.cleanOK && digest == r.clean {
		// The same intent, stream and bytes as a reconcile that found
		// the switch in sync: it still is.
		st.Read, st.Unchanged = r.cleanRead, true
	} else if st, err = r.apply(ctx, in, raw, wasConverged, st); err != nil {
		return st, err
	} else {
		// Only a read that needed no write is known to be the state the
		// intent wants: after writes, the next read decides.
		r.clean, r.cleanOK, r.cleanRead = digest, st.Inserts+st.Modifies+st.Deletes == 0, st.Read
	}
	if in.Side != nil {
		st.SideWritten, st.SideDrift, err = in.Side.Apply(ctx)
		if err != nil {
			return st, fmt.Errorf("reconcile %s: %w", r.sess.sw.Name, err)
		}
	}
	r.converged, r.lastIntent, r.lastStream = true, in, state.Stream
	return st, nil
}

// digestOf is the SHA-256 of raw's responses, each preceded by its length.
func digestOf(raw []p4wire.Raw) [sha256.Size]byte {
	h := sha256.New()
	var n [8]byte
	for _, r := range raw {
		binary.BigEndian.PutUint64(n[:], uint64(len(r.Bytes)))
		h.Write(n[:])
		h.Write(r.Bytes)
	}
	var d [sha256.Size]byte
	h.Sum(d[:0])
	return d
}

// apply decodes the state read (raw), diffs it against in and writes the
// difference; wasConverged says whether a difference is drift.
func (r *Reconciler) apply(ctx context.Context, in *Intent, raw []p4wire.Raw, wasConverged bool, st ReconcileStats) (ReconcileStats, error) {
	current, err := decodeState(in, raw)
	if err != nil {
		return st, fmt.Errorf("reconcile %s: %w", r.sess.sw.Name, err)
	}
	st.Read = len(current)
	plan, err := tables.Diff(in.Schema, current, in.Entities)
	if err != nil {
		// A malformed intent or switch state the diff cannot key: terminal,
		// retrying the same inputs cannot help.
		return st, Terminal(fmt.Errorf("reconcile %s: %w", r.sess.sw.Name, err))
	}
	st.Inserts, st.Modifies, st.Deletes = plan.Counts()
	if wasConverged {
		st.Drift = plan.Len()
		if st.Drift > 0 {
			for _, u := range plan.Updates() {
				r.sess.log.Warn("drift repaired", "update", u.GetType().String(), "entity", in.Schema.Describe(u.GetEntity()))
			}
		}
	}
	phases, err := withOld(in.Schema, current, plan)
	if err != nil {
		return st, Terminal(fmt.Errorf("reconcile %s: %w", r.sess.sw.Name, err))
	}
	opts := append([]ApplyOption{WithDescriber(in.Schema.Describe)}, r.opts...)
	st.Write, err = r.sess.Apply(ctx, phases, opts...)
	if err != nil {
		return st, fmt.Errorf("reconcile %s: %w", r.sess.sw.Name, err)
	}
	return st, nil
}

// withOld pairs each planned update with the entity it replaces, for undo.
func withOld(s *tables.Schema, current []*p4v1.Entity, plan tables.Plan) ([]Phase, error) {
	if plan.Len() == 0 {
		// The usual reconcile of a converged switch: no need to key what
		// was read a second time (at 2,000 switches this was 3% of the
		// daemon's steady CPU).
		return nil, nil
	}
	cur := make(map[string]*p4v1.Entity, len(current))
	for _, e := range current {
		k, err := s.Key(e)
		if err != nil {
			return nil, err
		}
		cur[k] = e
	}
	phases := make([]Phase, 0, len(plan.Phases))
	for _, ph := range plan.Phases {
		p := make(Phase, len(ph))
		for i, u := range ph {
			k, err := s.Key(u.GetEntity())
			if err != nil {
				return nil, err
			}
			old := cur[k]
			if old == nil && u.GetType() != p4v1.Update_INSERT {
				// A MODIFY of something never read: a meter cell or default
				// entry in its initial state. Undo resets it.
				old = resetOf(u.GetEntity())
			}
			p[i] = Change{Update: u, Old: old}
		}
		phases = append(phases, p)
	}
	return phases, nil
}

// resetOf is the entity that puts e's object back to its initial state.
func resetOf(e *p4v1.Entity) *p4v1.Entity {
	switch x := e.GetEntity().(type) {
	case *p4v1.Entity_MeterEntry:
		return tables.EntityOf(&p4v1.MeterEntry{MeterId: x.MeterEntry.GetMeterId(), Index: x.MeterEntry.GetIndex()})
	case *p4v1.Entity_DirectMeterEntry:
		return tables.EntityOf(&p4v1.DirectMeterEntry{TableEntry: x.DirectMeterEntry.GetTableEntry()})
	case *p4v1.Entity_TableEntry:
		if x.TableEntry.GetIsDefaultAction() {
			return tables.EntityOf(&p4v1.TableEntry{TableId: x.TableEntry.GetTableId(), IsDefaultAction: true})
		}
	}
	return nil
}

// ReadState reads, with wildcard reads (spec §13.2), every entity of the
// kinds the controller manages in the schema's pipeline: all table entries
// of non-const tables, the default entries of tables the intent sets a
// default for, all action profile members and groups, all meter cells, and
// direct meter cells of tables the intent configures them for. Counters are
// statistics and are not read. Meter cells without a config (the initial
// state) are dropped, so they compare equal to "absent".
//
// Meters are read separately, one Read per meter, so that a target that
// fails a wildcard meter read (PI's DeviceMgr::meter_read_one_index answers
// UNKNOWN when the target cannot report a cell) does not fail the whole
// read: the cells the controller manages are then read one by one, an
// unreadable cell counting as unconfigured. (BMv2 1.15.5 with PI f96af95
// reads unconfigured cells fine, without a config.) Read-back meter configs
// are normalised against the intent with normalizeMeters, using the
// rounding of the intent's pipeline target.
func (s *Session) ReadState(ctx context.Context, in *Intent) ([]*p4v1.Entity, error) {
	return s.readState(ctx, in, nil)
}

// readState is ReadState with extra meter cells to read one by one when a
// wildcard meter read fails (cells written for an earlier intent).
func (s *Session) readState(ctx context.Context, in *Intent, probe map[meterCell]bool) ([]*p4v1.Entity, error) {
	raw, err := s.readStateRaw(ctx, in, probe)
	if err != nil {
		return nil, err
	}
	return decodeState(in, raw)
}

// readStateRaw makes readState's Read RPCs and returns their responses
// undecoded, in order. Which RPCs it makes depends only on the intent,
// probe and the errors the switch answers, never on what it reads, so the
// same switch state reads back as the same sequence of bytes.
func (s *Session) readStateRaw(ctx context.Context, in *Intent, probe map[meterCell]bool) ([]p4wire.Raw, error) {
	schema, intent := in.Schema, in.Entities
	info := schema.P4Info()
	defaults := map[uint32]bool{}
	directMeters := map[uint32]bool{}
	// meterConfigs are tables whose intent entries carry their direct
	// meter's config: a table read returns it only when the request sets
	// meter_config (P4Runtime §9.1.7), and without it every such entry
	// would read as drift.
	meterConfigs := map[uint32]bool{}
	meterCells := map[uint32][]*p4v1.Index{}
	for _, e := range intent {
		if te := e.GetTableEntry(); te != nil && te.GetIsDefaultAction() {
			defaults[te.GetTableId()] = true
		}
		if te := e.GetTableEntry(); te != nil && te.GetMeterConfig() != nil {
			meterConfigs[te.GetTableId()] = true
		}
		if dm := e.GetDirectMeterEntry(); dm != nil {
			directMeters[dm.GetTableEntry().GetTableId()] = true
		}
		if me := e.GetMeterEntry(); me != nil && me.GetIndex() != nil {
			c := meterCell{me.GetMeterId(), me.GetIndex().GetIndex()}
			if !probe[c] {
				meterCells[c.meter] = append(meterCells[c.meter], me.GetIndex())
			}
		}
	}
	for c := range probe {
		meterCells[c.meter] = append(meterCells[c.meter], &p4v1.Index{Index: c.index})
	}
	var reqs []*p4v1.Entity
	for _, t := range info.GetTables() {
		id := t.GetPreamble().GetId()
		if t.GetIsConstTable() {
			continue // part of the program, not ours to change
		}
		if meterConfigs[id] {
			reqs = append(reqs, tables.EntityOf(&p4v1.TableEntry{TableId: id, MeterConfig: &p4v1.MeterConfig{}}))
		} else {
			reqs = append(reqs, tables.EntityOf(&p4v1.TableEntry{TableId: id}))
		}
		if defaults[id] {
			reqs = append(reqs, tables.EntityOf(&p4v1.TableEntry{TableId: id, IsDefaultAction: true}))
		}
		if directMeters[id] {
			reqs = append(reqs, tables.EntityOf(&p4v1.DirectMeterEntry{TableEntry: &p4v1.TableEntry{TableId: id}}))
		}
	}
	for _, p := range info.GetActionProfiles() {
		id := p.GetPreamble().GetId()
		reqs = append(reqs,
			tables.EntityOf(&p4v1.ActionProfileMember{ActionProfileId: id}),
			tables.EntityOf(&p4v1.ActionProfileGroup{ActionProfileId: id}))
	}
	var got []p4wire.Raw
	if len(reqs) > 0 {
		var err error
		if got, err = s.readRaw(ctx, reqs...); err != nil {
			return nil, err
		}
	}
	for _, m := range info.GetMeters() {
		id := m.GetPreamble().GetId()
		cells, err := s.readRaw(ctx, tables.EntityOf(&p4v1.MeterEntry{MeterId: id}))
		if err != nil {
			if !cellUnreadable(err) {
				return nil, err
			}
			cells = cells[:0]
			for _, idx := range meterCells[id] {
				one, err := s.readRaw(ctx, tables.EntityOf(&p4v1.MeterEntry{MeterId: id, Index: idx}))
				if err != nil {
					if cellUnreadable(err) {
						continue // never configured
					}
					return nil, err
				}
				cells = append(cells, one...)
			}
		}
		got = append(got, cells...)
	}
	return got, nil
}

// decodeState decodes readStateRaw's responses and drops what a reconcile
// must not touch or count: const entries, unconfigured meters; read-back
// meter configs are normalised against the intent (normalizeMeters).
func decodeState(in *Intent, raw []p4wire.Raw) ([]*p4v1.Entity, error) {
	schema, intent := in.Schema, in.Entities
	constTable := map[uint32]bool{}
	for _, t := range schema.P4Info().GetTables() {
		if t.GetIsConstTable() {
			constTable[t.GetPreamble().GetId()] = true
		}
	}
	got, err := decodeRead(raw)
	if err != nil {
		return nil, err
	}
	same := func(read, written *p4v1.MeterConfig) bool { return proto.Equal(read, written) }
	if in.Pipeline != nil && in.Pipeline.Target != nil {
		same = in.Pipeline.Target.SameMeter
	}
	got = normalizeMeters(schema, got, intent, same)
	out := got[:0]
	for _, e := range got {
		switch x := e.GetEntity().(type) {
		case *p4v1.Entity_TableEntry:
			if x.TableEntry.GetIsConst() || constTable[x.TableEntry.GetTableId()] {
				continue // part of the program, not ours to change
			}
		case *p4v1.Entity_MeterEntry:
			if unconfigured(x.MeterEntry.GetConfig()) {
				continue
			}
		case *p4v1.Entity_DirectMeterEntry:
			if unconfigured(x.DirectMeterEntry.GetConfig()) {
				continue
			}
		case nil:
			continue
		}
		out = append(out, e)
	}
	return out, nil
}

// meterCell names one cell of an indirect meter.
type meterCell struct {
	meter uint32
	index int64
}

// cellUnreadable reports a read error that means "this meter cell (or
// one of them) has no config" rather than a failure of the switch or the
// session.
func cellUnreadable(err error) bool {
	switch status.Code(err) {
	case codes.Unknown, codes.NotFound:
		return true
	}
	return false
}

// unconfigured reports a meter config that means "not configured": absent,
// all zero as some targets report an unset cell, or PI's "default spec"
// marker (rates and bursts of all ones, DeviceMgr::meter_spec_default)
// should a target echo it back: bursts of 2^32-1.
func unconfigured(c *p4v1.MeterConfig) bool {
	return c == nil || proto.Equal(c, &p4v1.MeterConfig{}) ||
		(c.GetCburst() == math.MaxUint32 && c.GetPburst() == math.MaxUint32)
}

// normalizeMeters replaces a read-back meter config by the intent's when
// the target says they are the same up to its rounding (BMv2 reads rates
// back one unit low at times: target/bmv2). Without this, such a meter
// would be rewritten on every reconcile and counted as drift.
func normalizeMeters(s *tables.Schema, got, intent []*p4v1.Entity, same func(read, written *p4v1.MeterConfig) bool) []*p4v1.Entity {
	want := map[string]*p4v1.MeterConfig{}
	for _, e := range intent {
		c := meterConfig(e)
		if c == nil {
			continue
		}
		if k, err := s.Key(e); err == nil {
			want[k] = c
		}
	}
	if len(want) == 0 {
		return got
	}
	for i, e := range got {
		c := meterConfig(e)
		if c == nil {
			continue
		}
		k, err := s.Key(e)
		if err != nil {
			continue
		}
		w, ok := want[k]
		if !ok || proto.Equal(c, w) || !same(c, w) {
			continue
		}
		n := proto.Clone(e).(*p4v1.Entity)
		w = proto.Clone(w).(*p4v1.MeterConfig)
		switch {
		case n.GetMeterEntry() != nil:
			n.GetMeterEntry().Config = w
		case n.GetDirectMeterEntry() != nil:
			n.GetDirectMeterEntry().Config = w
		default:
			n.GetTableEntry().MeterConfig = w
		}
		got[i] = n
	}
	return got
}

// meterConfig is the meter config an entity carries: a meter cell's, a
// direct meter's, or a table entry's (its direct meter's, written with
// the entry, as the reservation table's are).
func meterConfig(e *p4v1.Entity) *p4v1.MeterConfig {
	switch {
	case e.GetMeterEntry() != nil:
		return e.GetMeterEntry().GetConfig()
	case e.GetDirectMeterEntry() != nil:
		return e.GetDirectMeterEntry().GetConfig()
	}
	return e.GetTableEntry().GetMeterConfig()
}

// advance records that the switch, if it was converged with the previous
// intent, is now converged with in (the caller wrote the difference itself).
func (r *Reconciler) advance(in *Intent) {
	if r.converged {
		r.lastIntent = in
	}
}

// SideEqualer is a SideConfig that can tell whether another holds the same
// configuration; SameIntent treats side configs without it as different.
type SideEqualer interface {
	SideConfig
	SameSide(SideConfig) bool
}

// SameIntent reports whether a and b ask the same of a switch: the same
// schema and pipeline, the same side configuration, and entities whose
// diff is empty (tables.Diff: what a reconcile of a switch converged with
// a would write to make it hold b). It errs towards "different": anything
// it cannot compare is a change.
func SameIntent(a, b *Intent) bool {
	switch {
	case a == b:
		return true
	case a == nil || b == nil || a.Schema != b.Schema || len(a.Entities) != len(b.Entities):
		return false
	case (a.Pipeline == nil) != (b.Pipeline == nil):
		return false
	case a.Pipeline != b.Pipeline && a.Pipeline.Cookie != b.Pipeline.Cookie:
		return false
	}
	switch sa := a.Side.(type) {
	case nil:
		if b.Side != nil {
			return false
		}
	case SideEqualer:
		if b.Side == nil || !sa.SameSide(b.Side) {
			return false
		}
	default:
		return false
	}
	plan, err := tables.Diff(a.Schema, a.Entities, b.Entities)
	return err == nil && plan.Len() == 0
}

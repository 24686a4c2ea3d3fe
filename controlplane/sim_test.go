package controlplane

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/grpc/codes"

	"github.com/p4qos/p4qos/allocator"
	"github.com/p4qos/p4qos/compiler/contract"
	"github.com/p4qos/p4qos/tables"
	"github.com/p4qos/p4qos/target/sim"
)

const qosP4Info = "../p4src/build/qos.p4info.txtpb"

func qosSchema(t testing.TB) *tables.Schema {
	t.Helper()
	s, err := tables.Load(qosP4Info)
	if err != nil {
		t.Fatalf("load %s: %v", qosP4Info, err)
	}
	return s
}

func startSim(t testing.TB, opts ...sim.Option) (*sim.Switch, string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	sw, addr, err := sim.Start(ctx, "127.0.0.1:0", opts...)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); sw.Close() })
	return sw, addr
}

// must returns v or panics: only for building test fixtures, where an
// error is a bug in the test itself.
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// qosIntent builds a small but complete intent for the qos pipeline:
// nClasses classifier entries (class i matches UDP dst port 5000+i), a meter
// per class, the EF/AF phb entries, one ECMP member and a route.
func qosIntent(t testing.TB, s *tables.Schema, nClasses int, cirBytes int64) *Intent {
	t.Helper()
	var ents []*p4v1.Entity
	for i := 1; i <= nClasses; i++ {
		te := must(s.TableEntry(contract.Classifier,
			[]tables.Match{tables.Ternary(contract.KeyIPProto, 17, 0xff), tables.Range(contract.KeyL4DstPort, 5000+i, 5000+i)},
			tables.Action(contract.SetClass, tables.Param(contract.ParamClassID, i), tables.Param(contract.ParamDSCP, 46)), tables.Priority(int32(10+i))))
		ents = append(ents, tables.EntityOf(te))
		me := must(s.MeterEntry(contract.ClassMeter, int64(i), &tables.MeterConfig{CIR: cirBytes, CBurst: 15000, PIR: 2 * cirBytes, PBurst: 30000}))
		ents = append(ents, tables.EntityOf(me))
	}
	phb := must(s.TableEntry(contract.PHB, []tables.Match{tables.Exact(contract.KeyDSCP, 46)}, tables.Action(contract.SetQueue, tables.Param(contract.ParamQueue, 7))))
	mem := must(s.ActionProfileMember(contract.ECMPSelector, 1, tables.Action(contract.SetNextHop,
		tables.Param(contract.ParamPort, 2), tables.Param(contract.ParamSMAC, "02:00:00:00:00:01"), tables.Param(contract.ParamDMAC, "00:00:0a:00:02:03"))))
	route := must(s.TableEntry(contract.IPv4LPM, []tables.Match{tables.LPM(contract.KeyIPv4Dst, "10.0.2.0/24")}, tables.Member(1)))
	ents = append(ents, tables.EntityOf(phb), tables.EntityOf(mem), tables.EntityOf(route))
	return &Intent{Schema: s, Pipeline: must(NewPipeline(s.P4Info(), SimTarget())), Entities: ents}
}

func primarySession(t testing.TB, addr string, opts ...SessionOption) *Session {
	t.Helper()
	opts = append([]SessionOption{WithBackoff(10*time.Millisecond, 200*time.Millisecond)}, opts...)
	s, err := Dial(SwitchConfig{Name: "sim", Address: addr, DeviceID: 1}, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.WaitPrimary(ctx); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSimReconcileIdempotentAndDrift(t *testing.T) {
	_, addr := startSim(t)
	schema := qosSchema(t)
	ctx := testCtx(t)
	s := primarySession(t, addr)
	rec := NewReconciler(s, WithBatchSize(3))
	in := qosIntent(t, schema, 4, 125000)

	st, err := rec.Reconcile(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	// 4 classifier + 4 meters + phb + member + route = 11 updates; the
	// meters are MODIFY (cells always exist), the rest INSERT.
	if !st.Pushed || st.Inserts != 7 || st.Modifies != 4 || st.Write.Updates != 11 {
		t.Fatalf("first run %+v, want a push, 7 inserts and 4 modifies", st)
	}
	st, err = rec.Reconcile(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if st.Pushed || st.Write.Updates != 0 || st.Write.RPCs != 0 || st.Drift != 0 {
		t.Fatalf("second run %+v, want nothing written", st)
	}
	if st.Read != 11 {
		t.Errorf("second run read %d entities back, want 11", st.Read)
	}

	// Another client (its own role, so it is primary too) deletes a route
	// and changes a meter behind the controller's back.
	intruder := primarySession(t, addr, WithRole("intruder", nil), WithElectionID(ElectionID{Low: 99}))
	route := in.Entities[len(in.Entities)-1]
	meter := must(schema.MeterEntry(contract.ClassMeter, 2, &tables.MeterConfig{CIR: 1, CBurst: 1, PIR: 2, PBurst: 2}))
	if err := intruder.Write(ctx, []*p4v1.Update{
		{Type: p4v1.Update_DELETE, Entity: route},
		{Type: p4v1.Update_MODIFY, Entity: tables.EntityOf(meter)},
	}); err != nil {
		t.Fatal(err)
	}
	st, err = rec.Reconcile(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if st.Drift != 2 || st.Inserts != 1 || st.Modifies != 1 || st.Write.Updates != 2 {
		t.Fatalf("drift run %+v, want 2 drifted entities repaired (1 insert, 1 modify)", st)
	}
	st, err = rec.Reconcile(ctx, in)
	if err != nil || st.Write.Updates != 0 {
		t.Fatalf("after repair: %+v %v, want in sync", st, err)
	}
}

func TestSimRestartReprogrammed(t *testing.T) {
	sw, addr := startSim(t)
	schema := qosSchema(t)
	ctx := testCtx(t)
	s := primarySession(t, addr)
	rec := NewReconciler(s)
	in := qosIntent(t, schema, 2, 125000)
	if _, err := rec.Reconcile(ctx, in); err != nil {
		t.Fatal(err)
	}
	stream := s.State().Stream
	sw.Restart()
	if err := s.WaitFor(ctx, func(st State) bool { return st.Primary && st.Stream > stream }); err != nil {
		t.Fatal(err)
	}
	st, err := rec.Reconcile(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if !st.Pushed || st.Write.Updates != len(in.Entities) {
		t.Fatalf("after restart %+v, want the pipeline and all %d entities re-written", st, len(in.Entities))
	}
	if st.Drift != 0 {
		t.Errorf("a restart is not drift: %+v", st)
	}
}

func TestSimUndoOnTableFull(t *testing.T) {
	// The classifier holds 2 entries: the third insert fails with
	// RESOURCE_EXHAUSTED and everything the change did is undone.
	_, addr := startSim(t, sim.WithTableSizeOverride(contract.Classifier, 2))
	schema := qosSchema(t)
	ctx := testCtx(t)
	s := primarySession(t, addr)
	rec := NewReconciler(s)
	small := qosIntent(t, schema, 1, 125000)
	if _, err := rec.Reconcile(ctx, small); err != nil {
		t.Fatal(err)
	}
	before := must(s.ReadState(ctx, small))

	big := qosIntent(t, schema, 3, 250000) // changes meter 1 too
	st, err := rec.Reconcile(ctx, big)
	if !errors.Is(err, ErrResourceExhausted) {
		t.Fatalf("got %v, want RESOURCE_EXHAUSTED", err)
	}
	var ae *ApplyError
	if !errors.As(err, &ae) || ae.UndoErr != nil {
		t.Fatalf("got %v, want an ApplyError with a clean undo", err)
	}
	if st.Write.Undone == 0 {
		t.Errorf("nothing undone: %+v", st)
	}
	after := must(s.ReadState(ctx, small))
	plan := must(tables.Diff(schema, after, before))
	if plan.Len() != 0 {
		t.Fatalf("switch not back at the previous intent: %d differences, e.g. %v", plan.Len(), plan.Updates()[0])
	}
	// The error carries the rejected update, the switch's code and its
	// message (observed through the API, not the log).
	var ue *UpdateError
	if !errors.As(err, &ue) {
		t.Fatalf("no UpdateError in %v", err)
	}
	desc := schema.Describe(ue.Update.GetEntity())
	if !strings.Contains(desc, "QosIngress.classifier") || !strings.Contains(desc, "5003") ||
		ue.Code != codes.ResourceExhausted || !strings.Contains(ue.Message, "is full") {
		t.Errorf("update error: %s, %v, %q", desc, ue.Code, ue.Message)
	}
	if IsRetryable(&TerminalError{Err: err}) {
		t.Error("a terminal error must not be retryable")
	}
}

func TestSimBackupCannotWrite(t *testing.T) {
	_, addr := startSim(t)
	ctx := testCtx(t)
	schema := qosSchema(t)
	hi := primarySession(t, addr, WithElectionID(ElectionID{Low: 10}))
	if _, err := hi.EnsurePipeline(ctx, must(NewPipeline(schema.P4Info(), SimTarget()))); err != nil {
		t.Fatal(err)
	}
	lo, err := Dial(SwitchConfig{Name: "sim", Address: addr, DeviceID: 1}, WithElectionID(ElectionID{Low: 5}))
	if err != nil {
		t.Fatal(err)
	}
	defer lo.Close()
	if err := lo.WaitFor(ctx, func(s State) bool { return s.Connected }); err != nil {
		t.Fatal(err)
	}
	if lo.State().Primary {
		t.Fatal("lower election id is primary")
	}
	in := qosIntent(t, schema, 1, 125000)
	err = lo.Write(ctx, []*p4v1.Update{{Type: p4v1.Update_INSERT, Entity: in.Entities[0]}})
	if !errors.Is(err, ErrNotPrimary) {
		t.Fatalf("backup write: %v, want ErrNotPrimary", err)
	}
	if _, err := NewReconciler(lo).Reconcile(ctx, in); !errors.Is(err, ErrNoSession) {
		t.Fatalf("backup reconcile: %v, want ErrNoSession", err)
	}
}

func TestSimDaemonManySwitchesOneDown(t *testing.T) {
	schema := qosSchema(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, a1 := startSim(t)
	_, a2 := startSim(t)
	// A port nobody listens on: the unreachable switch.
	down := "127.0.0.1:1"
	switches := []SwitchConfig{{Name: "s1", Address: a1, DeviceID: 1}, {Name: "s2", Address: a2, DeviceID: 1}, {Name: "down", Address: down, DeviceID: 1}}
	type ev struct {
		sw  string
		st  ReconcileStats
		err error
	}
	events := make(chan ev, 64)
	d, err := NewDaemon(switches,
		WithSessionOptions(WithBackoff(10*time.Millisecond, 50*time.Millisecond)),
		WithReconcileInterval(time.Hour),
		WithMetrics(NewMetrics()),
		WithReconcileHook(func(sw string, st ReconcileStats, err error) { events <- ev{sw, st, err} }))
	if err != nil {
		t.Fatal(err)
	}
	in := qosIntent(t, schema, 2, 125000)
	d.SetIntent(map[string]*Intent{"s1": in, "s2": in, "down": in})
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	got := map[string]ReconcileStats{}
	for len(got) < 2 {
		select {
		case e := <-events:
			if e.err != nil {
				t.Fatalf("%s: %v", e.sw, e.err)
			}
			got[e.sw] = e.st
		case <-ctx.Done():
			t.Fatalf("only %v reconciled", got)
		}
	}
	if _, ok := got["down"]; ok {
		t.Error("the unreachable switch reported a reconcile")
	}
	for _, sw := range []string{"s1", "s2"} {
		if got[sw].Write.Updates != len(in.Entities) {
			t.Errorf("%s: %+v", sw, got[sw])
		}
	}
	// A new intent reaches both live switches.
	in2 := qosIntent(t, schema, 3, 125000)
	d.SetIntent(map[string]*Intent{"s1": in2, "s2": in2, "down": in2})
	seen := map[string]bool{}
	for len(seen) < 2 {
		select {
		case e := <-events:
			if e.err != nil {
				t.Fatalf("%s: %v", e.sw, e.err)
			}
			// Class 3: one classifier entry and one meter.
			if e.st.Write.Updates != 2 {
				t.Errorf("%s: %+v, want 2 updates", e.sw, e.st)
			}
			seen[e.sw] = true
		case <-ctx.Done():
			t.Fatal("new intent not applied")
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// fixedModel allocates each flow group min(demand, cap) and enforces it on
// the class_meter cell of the same index (CIR in bytes/s = bits/s / 8).
type fixedModel struct {
	schema *tables.Schema
	sw     string
	caps   map[string]float64
	index  map[string]int64
}

func (m *fixedModel) Sources() []DemandSource {
	var out []DemandSource
	for fg, i := range m.index {
		out = append(out, DemandSource{FlowGroup: fg, Switch: m.sw, Counter: contract.ClassCounter, Index: i})
	}
	return out
}

func (m *fixedModel) Enforce(_ context.Context, demand map[string]float64) (Enforcement, error) {
	enf := Enforcement{Entities: map[string][]*p4v1.Entity{}, Allocation: map[string]float64{}}
	for fg, d := range demand {
		a := min(d, m.caps[fg])
		enf.Allocation[fg] = a
		me, err := m.schema.MeterEntry(contract.ClassMeter, m.index[fg], &tables.MeterConfig{CIR: int64(a / 8), CBurst: 15000, PIR: int64(a / 8), PBurst: 15000})
		if err != nil {
			return enf, err
		}
		enf.Entities[m.sw] = append(enf.Entities[m.sw], tables.EntityOf(me))
	}
	return enf, nil
}

// newTestEstimator is the allocator's estimator without headroom or floor,
// so the demand equals the measured peak rate.
func newTestEstimator() Estimator {
	return allocator.NewDemandEstimator(allocator.WithMultiplier(1), allocator.WithFloor(0))
}

func TestSimClosedLoopReactsWithinTwoIntervals(t *testing.T) {
	sw, addr := startSim(t)
	schema := qosSchema(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	model := &fixedModel{schema: schema, sw: "s1", caps: map[string]float64{"fg1": 8e6}, index: map[string]int64{"fg1": 1}}
	est := newTestEstimator()
	loop := NewLoop(model, WithEstimator(est), WithHysteresis(0.05))
	reconciled := make(chan error, 16)
	d, err := NewDaemon([]SwitchConfig{{Name: "s1", Address: addr, DeviceID: 1}},
		WithReconcileInterval(time.Hour), WithClosedLoop(loop, 0),
		WithReconcileHook(func(_ string, _ ReconcileStats, err error) { reconciled <- err }))
	if err != nil {
		t.Fatal(err)
	}
	// Start with a 1 Mbit/s meter on class 1 (CIR 125000 B/s).
	d.SetIntent(map[string]*Intent{"s1": qosIntent(t, schema, 1, 125000)})
	go func() { _ = d.Run(ctx) }()
	select {
	case err := <-reconciled:
		if err != nil {
			t.Fatal(err)
		}
	case <-ctx.Done():
		t.Fatal("the daemon did not reconcile the switch")
	}
	// 2 Mbit/s of UDP to port 5001 (class 1), routed to 10.0.2.0/24.
	if err := sw.SetFlows([]sim.Flow{{Name: "f", SrcIP: netip.MustParseAddr("10.0.1.1"), DstIP: netip.MustParseAddr("10.0.2.3"),
		Proto: 17, SrcPort: 1000, DstPort: 5001, IngressPort: 1, RateBps: 2e6, PacketSize: 1000}}); err != nil {
		t.Fatal(err)
	}
	base := time.Unix(0, 0)
	var writes []int
	for i := range 3 {
		sw.Advance(time.Second)
		res, err := d.LoopTick(ctx, base.Add(time.Duration(i)*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		writes = append(writes, res.Written["s1"])
	}
	// Tick 0 takes the baseline; tick 1 measures the class's delivered rate
	// and raises the meter (demand above the installed 1 Mbit/s); tick 2 sees
	// a rate within the hysteresis of what is installed and writes nothing.
	if writes[0] != 0 || writes[1] != 1 {
		t.Fatalf("meter writes per tick %v, want [0 1 ...]", writes)
	}
	got := d.Installed("s1", must(schema.Key(tables.EntityOf(must(schema.MeterEntry(contract.ClassMeter, 1, nil))))))
	if cir := got.GetMeterEntry().GetConfig().GetCir(); cir <= 125000 {
		t.Errorf("meter CIR %d B/s after the loop, want above the initial 125000", cir)
	}
	cancel()
}

// The daemon re-programs a restarted switch by itself: the stream breaks,
// the session re-arbitrates, and the new stream triggers a full reconcile
// that pushes the pipeline and every entity again.
func TestSimDaemonReprogramsRestartedSwitch(t *testing.T) {
	sw, addr := startSim(t)
	schema := qosSchema(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	events := make(chan ReconcileStats, 16)
	errs := make(chan error, 16)
	d, err := NewDaemon([]SwitchConfig{{Name: "s1", Address: addr, DeviceID: 1}},
		WithSessionOptions(WithBackoff(10*time.Millisecond, 50*time.Millisecond)),
		WithReconcileInterval(time.Hour),
		WithReconcileHook(func(_ string, st ReconcileStats, err error) {
			if err != nil {
				errs <- err
				return
			}
			events <- st
		}))
	if err != nil {
		t.Fatal(err)
	}
	in := qosIntent(t, schema, 2, 125000)
	d.SetIntent(map[string]*Intent{"s1": in})
	go func() { _ = d.Run(ctx) }()
	next := func() ReconcileStats {
		t.Helper()
		for {
			select {
			case st := <-events:
				return st
			case err := <-errs:
				t.Logf("reconcile error (retried): %v", err)
			case <-ctx.Done():
				t.Fatal("no reconcile")
			}
		}
	}
	if st := next(); !st.Pushed || st.Write.Updates != len(in.Entities) {
		t.Fatalf("first reconcile %+v", st)
	}
	sw.Restart()
	if st := next(); !st.Pushed || st.Write.Updates != len(in.Entities) {
		t.Fatalf("after restart %+v, want the pipeline and all %d entities again", st, len(in.Entities))
	}
}

// The daemon's periodic reconcile finds and repairs drift and counts it in
// p4qos_reconcile_drift_total.
func TestSimDaemonRepairsDrift(t *testing.T) {
	_, addr := startSim(t)
	schema := qosSchema(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	metrics := NewMetrics()
	events := make(chan ReconcileStats, 64)
	d, err := NewDaemon([]SwitchConfig{{Name: "s1", Address: addr, DeviceID: 1}},
		WithReconcileInterval(20*time.Millisecond), WithMetrics(metrics),
		WithReconcileHook(func(_ string, st ReconcileStats, err error) {
			if err == nil {
				events <- st
			}
		}))
	if err != nil {
		t.Fatal(err)
	}
	in := qosIntent(t, schema, 2, 125000)
	d.SetIntent(map[string]*Intent{"s1": in})
	go func() { _ = d.Run(ctx) }()
	wait := func(cond func(ReconcileStats) bool) ReconcileStats {
		t.Helper()
		for {
			select {
			case st := <-events:
				if cond(st) {
					return st
				}
			case <-ctx.Done():
				t.Fatal("timed out")
			}
		}
	}
	wait(func(st ReconcileStats) bool { return st.Write.Updates > 0 })
	wait(func(st ReconcileStats) bool { return st.Write.Updates == 0 }) // converged
	intruder := primarySession(t, addr, WithRole("intruder", nil), WithElectionID(ElectionID{Low: 3}))
	if err := intruder.Write(ctx, []*p4v1.Update{{Type: p4v1.Update_DELETE, Entity: in.Entities[0]}}); err != nil {
		t.Fatal(err)
	}
	st := wait(func(st ReconcileStats) bool { return st.Drift > 0 })
	if st.Drift != 1 || st.Write.Updates != 1 {
		t.Errorf("drift reconcile %+v, want 1 drifted entity re-inserted", st)
	}
	mfs, err := metrics.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	var drift float64
	for _, mf := range mfs {
		if mf.GetName() == "p4qos_reconcile_drift_total" {
			for _, m := range mf.GetMetric() {
				drift += m.GetCounter().GetValue()
			}
		}
	}
	if drift != 1 {
		t.Errorf("p4qos_reconcile_drift_total = %v, want 1", drift)
	}
}

type sideFunc func(context.Context) (int, int, error)

func (f sideFunc) Apply(ctx context.Context) (int, int, error) { return f(ctx) }

// TestSameIntent: what counts as a change of a switch's intent for
// UpdateIntent.
func TestSameIntent(t *testing.T) {
	schema := qosSchema(t)
	a := qosIntent(t, schema, 2, 125000)
	same := qosIntent(t, schema, 2, 125000) // equal entities, new messages
	otherRate := qosIntent(t, schema, 2, 250000)
	moreClasses := qosIntent(t, schema, 3, 125000)
	withCookie := func(in *Intent, cookie uint64) *Intent {
		c := *in
		c.Pipeline = &Pipeline{Cookie: cookie}
		return &c
	}
	withSide := func(in *Intent) *Intent {
		c := *in
		c.Side = sideFunc(func(context.Context) (int, int, error) { return 0, 0, nil })
		return &c
	}
	for _, tc := range []struct {
		name string
		a, b *Intent
		want bool
	}{
		{"itself", a, a, true},
		{"equal entities", a, same, true},
		{"a meter rate changed", a, otherRate, false},
		{"one more class", a, moreClasses, false},
		{"nil", a, nil, false},
		{"same pipeline cookie", withCookie(a, 1), withCookie(same, 1), true},
		{"other pipeline cookie", withCookie(a, 1), withCookie(same, 2), false},
		{"pipeline only on one side", withCookie(a, 1), same, false},
		{"a side config that cannot compare itself", withSide(a), withSide(same), false},
	} {
		if got := SameIntent(tc.a, tc.b); got != tc.want {
			t.Errorf("%s: SameIntent = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestReconcileUnchangedSkipsDecode: a reconcile whose read comes back byte
// for byte as the last one that found the switch in sync does not decode
// or diff it (Unchanged); any change on the switch (an entry deleted, a
// meter's rate changed, the same number of entities), a new intent or a
// new stream makes it decode and diff again, and drift is still found.
func TestReconcileUnchangedSkipsDecode(t *testing.T) {
	sw, addr := startSim(t)
	schema := qosSchema(t)
	ctx := testCtx(t)
	s := primarySession(t, addr)
	rec := NewReconciler(s)
	in := qosIntent(t, schema, 2, 125000)
	intruder := primarySession(t, addr, WithRole("intruder", nil), WithElectionID(ElectionID{Low: 3}))
	otherRate := qosIntent(t, schema, 2, 250000)
	var meter *p4v1.Entity // class 1's meter cell at the other rate
	for _, e := range otherRate.Entities {
		if e.GetMeterEntry() != nil {
			meter = e
			break
		}
	}
	n := len(in.Entities)
	steps := []struct {
		name      string
		before    func()
		intent    *Intent
		unchanged bool
		drift     int
		writes    int
	}{
		{"first: programs the switch", nil, in, false, 0, n},
		{"second: decodes, finds it in sync", nil, in, false, 0, 0},
		{"third: same bytes", nil, in, true, 0, 0},
		{"fourth: same bytes again", nil, in, true, 0, 0},
		{"an entry deleted behind our back", func() {
			if err := intruder.Write(ctx, []*p4v1.Update{{Type: p4v1.Update_DELETE, Entity: in.Entities[0]}}); err != nil {
				t.Fatal(err)
			}
		}, in, false, 1, 1},
		{"after the repair: decodes again", nil, in, false, 0, 0},
		{"then the same bytes", nil, in, true, 0, 0},
		{"a meter rate changed (same entity count)", func() {
			if err := intruder.Write(ctx, []*p4v1.Update{{Type: p4v1.Update_MODIFY, Entity: meter}}); err != nil {
				t.Fatal(err)
			}
		}, in, false, 1, 1},
		{"in sync after the repair", nil, in, false, 0, 0},
		{"a new stream (restart)", func() {
			stream := s.State().Stream
			sw.Restart()
			if err := s.WaitFor(ctx, func(st State) bool { return st.Primary && st.Stream > stream }); err != nil {
				t.Fatal(err)
			}
		}, in, false, 0, n},
		{"in sync on the new stream", nil, in, false, 0, 0},
		{"same bytes on the new stream", nil, in, true, 0, 0},
		{"a new intent with equal entities", nil, qosIntent(t, schema, 2, 125000), false, 0, 0},
	}
	for i, step := range steps {
		if step.before != nil {
			step.before()
		}
		st, err := rec.Reconcile(ctx, step.intent)
		if err != nil {
			t.Fatalf("%d %s: %v", i, step.name, err)
		}
		if st.Unchanged != step.unchanged || st.Drift != step.drift || st.Write.Updates != step.writes {
			t.Errorf("%d %s: unchanged %v, drift %d, writes %d; want %v, %d, %d", i, step.name, st.Unchanged, st.Drift, st.Write.Updates, step.unchanged, step.drift, step.writes)
		}
		if st.Unchanged && st.Read != n {
			t.Errorf("%d %s: read %d, want the %d of the in-sync read", i, step.name, st.Read, n)
		}
	}
}

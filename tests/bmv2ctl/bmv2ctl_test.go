package bmv2ctl

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"

	"github.com/p4qos/p4qos/admission"
	"github.com/p4qos/p4qos/compiler"
	"github.com/p4qos/p4qos/compiler/contract"
	"github.com/p4qos/p4qos/controlplane"
	"github.com/p4qos/p4qos/internal/writebench"
	"github.com/p4qos/p4qos/tables"
	"github.com/p4qos/p4qos/target/bmv2"
	"github.com/p4qos/p4qos/tests/internal/bmv2env"
	"github.com/p4qos/p4qos/topo"
)

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// pipeline loads the compiled qos pipeline or skips.
func pipeline(t testing.TB) (*tables.Schema, *controlplane.Pipeline) {
	t.Helper()
	bmv2env.RequireQosPipeline(t)
	js, err := os.ReadFile(bmv2env.QosJSON)
	if err != nil {
		t.Fatal(err)
	}
	return bmv2Pipeline(t, js)(tables.Load(bmv2env.QosP4Info))
}

// bmv2Pipeline pairs BMv2 JSON with a schema as its loader returns it:
// bmv2Pipeline(t, js)(tables.Load(path)).
func bmv2Pipeline(t testing.TB, js []byte) func(*tables.Schema, error) (*tables.Schema, *controlplane.Pipeline) {
	return func(schema *tables.Schema, err error) (*tables.Schema, *controlplane.Pipeline) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		drv, err := bmv2.New(schema, js)
		if err != nil {
			t.Fatal(err)
		}
		p, err := controlplane.NewPipeline(schema.P4Info(), drv)
		if err != nil {
			t.Fatal(err)
		}
		return schema, p
	}
}

// startBMv2 runs simple_switch_grpc on the host's loopback (no data-plane
// ports, so no root), or skips when it is not built.
func startBMv2(t testing.TB) *bmv2env.Switch {
	t.Helper()
	return bmv2env.Start(t, bmv2env.WithCPUPort(255))
}

func dial(t testing.TB, addr string, id uint64) *controlplane.Session {
	t.Helper()
	s, err := controlplane.Dial(controlplane.SwitchConfig{Name: "bmv2", Address: addr, DeviceID: 1},
		controlplane.WithElectionID(controlplane.ElectionID{Low: id}),
		controlplane.WithBackoff(50*time.Millisecond, 500*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func waitPrimary(t testing.TB, s *controlplane.Session) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.WaitPrimary(ctx); err != nil {
		t.Fatal(err)
	}
}

// demoIntent compiles the demo policy for leaf1 of the demo fabric.
func demoIntent(t testing.TB, schema *tables.Schema, p *controlplane.Pipeline) *controlplane.Intent {
	t.Helper()
	return &controlplane.Intent{Schema: schema, Pipeline: p, Entities: demoCompiled(t, schema).Switches["leaf1"]}
}

// demoCompiled compiles the demo policy for the demo fabric.
func demoCompiled(t testing.TB, schema *tables.Schema, opts ...compiler.Option) *compiler.Result {
	t.Helper()
	tp, err := topo.Load(bmv2env.RepoPath("topo/examples/fabric.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	pol, err := compiler.LoadPolicy(bmv2env.RepoPath("topo/examples/fabric-policy.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := compiler.Compile(context.Background(), pol, tp, schema, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// primaryOnBMv2 starts BMv2 and a primary session to it (election id 1),
// with the qos pipeline loaded but not pushed.
func primaryOnBMv2(t *testing.T) (*tables.Schema, *controlplane.Pipeline, *bmv2env.Switch, *controlplane.Session) {
	t.Helper()
	schema, p := pipeline(t)
	sw := startBMv2(t)
	s := dial(t, sw.Addr(), 1)
	waitPrimary(t, s)
	return schema, p, sw, s
}

func TestBMv2InstallReadBackRestart(t *testing.T) {
	schema, p, sw, s := primaryOnBMv2(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	in := demoIntent(t, schema, p)
	rec := controlplane.NewReconciler(s, controlplane.WithBatchSize(100))

	st, err := rec.Reconcile(ctx, in)
	if err != nil {
		t.Fatalf("install: %v\nbmv2 log:\n%s", err, sw.Log())
	}
	if !st.Pushed || st.Write.Updates == 0 {
		t.Fatalf("install %+v: want a push and writes", st)
	}
	// Read back and compare with the intent.
	got, err := s.ReadState(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := tables.Diff(schema, got, in.Entities)
	if err != nil {
		t.Fatal(err)
	}
	if plan.Len() != 0 {
		t.Fatalf("read-back differs from the intent in %d updates, first %v", plan.Len(), plan.Updates()[0])
	}
	st, err = rec.Reconcile(ctx, in)
	if err != nil || st.Write.Updates != 0 || st.Pushed {
		t.Fatalf("second reconcile %+v %v: want nothing written", st, err)
	}

	// Kill and restart BMv2 on the same address: the session reconnects
	// and the reconcile re-programs it from scratch.
	stream := s.State().Stream
	sw.Stop()
	sw.Restart(t)
	if err := s.WaitFor(ctx, func(st controlplane.State) bool { return st.Primary && st.Stream > stream }); err != nil {
		t.Fatalf("no reconnection: %v\nbmv2 log:\n%s", err, sw.Log())
	}
	st, err = rec.Reconcile(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if !st.Pushed || st.Write.Updates == 0 {
		t.Fatalf("restart not re-programmed: %+v", st)
	}
	if st, err = rec.Reconcile(ctx, in); err != nil || st.Write.Updates != 0 {
		t.Fatalf("reconcile after re-programming %+v %v: want nothing written", st, err)
	}
}

// TestBMv2BackupCannotWrite needs only the BMv2 binary: PI checks
// primacy before anything else (pi_server.cpp Write), so a backup's write is
// PERMISSION_DENIED even before a pipeline exists, while the primary's gets
// past that check (FAILED_PRECONDITION without a pipeline, OK with one).
func TestBMv2BackupCannotWrite(t *testing.T) {
	sw := startBMv2(t)
	hi := dial(t, sw.Addr(), 10)
	waitPrimary(t, hi)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	lo := dial(t, sw.Addr(), 5)
	if err := lo.WaitFor(ctx, func(st controlplane.State) bool { return st.Connected }); err != nil {
		t.Fatal(err)
	}
	if st := lo.State(); st.Primary || st.PrimaryElectionID != (controlplane.ElectionID{Low: 10}) {
		t.Fatalf("backup state %+v: want backup seeing primary id 10", st)
	}
	update := &p4v1.Update{Type: p4v1.Update_INSERT, Entity: tables.EntityOf(&p4v1.TableEntry{TableId: 1})}
	var pipelineReady bool
	if fileExists(bmv2env.QosJSON) {
		schema, p := pipeline(t)
		if _, err := hi.EnsurePipeline(ctx, p); err != nil {
			t.Fatal(err)
		}
		te, err := schema.TableEntry(contract.PHB, []tables.Match{tables.Exact(contract.KeyDSCP, 46)}, tables.Action(contract.SetQueue, tables.Param(contract.ParamQueue, 7)))
		if err != nil {
			t.Fatal(err)
		}
		update.Entity, pipelineReady = tables.EntityOf(te), true
	}
	err := lo.Write(ctx, []*p4v1.Update{update})
	if !errors.Is(err, controlplane.ErrNotPrimary) {
		t.Fatalf("backup write: %v, want ErrNotPrimary", err)
	}
	err = hi.Write(ctx, []*p4v1.Update{update})
	switch {
	case pipelineReady && err != nil:
		t.Fatalf("primary write: %v", err)
	case !pipelineReady && (err == nil || errors.Is(err, controlplane.ErrNotPrimary)):
		t.Fatalf("primary write without pipeline: %v, want a FAILED_PRECONDITION past the primacy check", err)
	}
	// The primary leaves: PI promotes the remaining (backup) connection.
	_ = hi.Close()
	waitPrimary(t, lo)
}

// BenchmarkBMv2Write measures entries/s written into BMv2 by batch size,
// p4qos's session side by side with a minimal raw loop of p4.v1.Write RPCs
// on the same connection with the same batches, with and without a
// deadline per RPC (internal/writebench, shared with
// controlplane's BenchmarkWritePathVsRaw against the sim). Each way, in
// rotating order within an iteration, inserts 1000 entries into the
// 16-bit ternary table of BMv2's own ternary.p4 test program and deletes
// them again. Metrics: entries/s of the session and of the raw loop, and
// session/raw (issue #18 item 3's goal: ≥ 0.9 at every batch size).
func BenchmarkBMv2Write(b *testing.B) {
	dir := bmv2TestData(b)
	js, err := os.ReadFile(filepath.Join(dir, "ternary.json"))
	if err != nil {
		b.Fatal(err)
	}
	txt, err := os.ReadFile(filepath.Join(dir, "ternary.proto.txt"))
	if err != nil {
		b.Fatal(err)
	}
	schema, p := bmv2Pipeline(b, js)(tables.Parse(txt, tables.FormatText))
	var ents []*p4v1.Entity
	for i := range 1000 {
		te, err := schema.TableEntry("ter", []tables.Match{tables.Ternary("h.hdr.f1", i+1, 0xffff)}, tables.Action("send_1"), tables.Priority(1))
		if err != nil {
			b.Fatal(err)
		}
		ents = append(ents, tables.EntityOf(te))
	}
	rawIns, rawDel := writebench.Updates(ents)
	ins, del := make(controlplane.Phase, len(ents)), make(controlplane.Phase, len(ents))
	for i, e := range ents {
		ins[i] = controlplane.Change{Update: rawIns[i]}
		del[i] = controlplane.Change{Update: rawDel[i], Old: e}
	}
	for _, batch := range []int{1, 100, 1000} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			sw := startBMv2(b)
			s := dial(b, sw.Addr(), 1)
			waitPrimary(b, s)
			ctx := context.Background()
			if _, err := s.EnsurePipeline(ctx, p); err != nil {
				b.Fatal(err)
			}
			session := func(ctx context.Context) error {
				for _, ph := range []controlplane.Phase{ins, del} {
					if _, err := s.Apply(ctx, []controlplane.Phase{ph}, controlplane.WithBatchSize(batch)); err != nil {
						return fmt.Errorf("%w\nbmv2 log:\n%s", err, sw.Log())
					}
				}
				return nil
			}
			eid := s.ElectionID()
			raw := writebench.Raw{Client: s.Client(), DeviceID: 1, Election: &p4v1.Uint128{High: eid.High, Low: eid.Low},
				Batch: batch, Deadline: 30 * time.Second} // the session's default RPC timeout, as a context deadline
			writebench.SessionVsRaw(ctx, b, session, raw, rawIns, rawDel)
		})
	}
}

// TestBMv2ReservationReadBack: reservation entries carry their direct
// meter's config (TSpec r, b, p, M). The reconcile reads it back with the
// table (P4Runtime §9.1.7: only when the read asks for meter_config), so
// on BMv2 the entries read back equal to the intent, up to BMv2's
// one-unit rate rounding, and a second reconcile writes nothing. Rates
// 2,000,008 bit/s (250,001 B/s) and 8,000,000 with a 9Mbps peak.
func TestBMv2ReservationReadBack(t *testing.T) {
	schema, p, sw, s := primaryOnBMv2(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	rs := []admission.Reservation{
		{ID: "g-1", Request: admission.Request{Src: "h1", Dst: "h3", Protocol: "udp", DstPort: 5004, Service: admission.Guaranteed,
			TSpec: admission.TSpec{Rate: 2_000_008, Burst: 10_000, MaxPacket: 1500}}},
		{ID: "cl-1", Request: admission.Request{Src: "h2", Dst: "h4", Service: admission.ControlledLoad,
			TSpec: admission.TSpec{Rate: 8e6, Peak: 9e6, Burst: 30_000, MaxPacket: 1500}}},
	}
	in := &controlplane.Intent{Schema: schema, Pipeline: p, Entities: demoCompiled(t, schema, compiler.WithReservations(rs)).Switches["leaf1"]}
	rec := controlplane.NewReconciler(s, controlplane.WithBatchSize(100))
	if _, err := rec.Reconcile(ctx, in); err != nil {
		t.Fatalf("install: %v\nbmv2 log:\n%s", err, sw.Log())
	}
	got, err := s.ReadState(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range got {
		if e.GetTableEntry().GetMeterConfig() != nil {
			n++
		}
	}
	if n != 4 {
		t.Errorf("%d entries read back with a meter config, want 4 (2 reservations × IPv4 and IPv6)", n)
	}
	if plan, err := tables.Diff(schema, got, in.Entities); err != nil || plan.Len() != 0 {
		t.Fatalf("read-back differs from the intent: %d updates, %v", plan.Len(), err)
	}
	if st, err := rec.Reconcile(ctx, in); err != nil || st.Write.Updates != 0 {
		t.Fatalf("second reconcile %+v %v: want nothing written", st, err)
	}
}

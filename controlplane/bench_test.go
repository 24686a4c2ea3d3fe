package controlplane

import (
	"context"
	"fmt"
	"net/netip"
	"testing"
	"time"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/protobuf/proto"

	"github.com/p4qos/p4qos/compiler/contract"
	"github.com/p4qos/p4qos/tables"
	"github.com/p4qos/p4qos/target/sim"
)

// classifierEntries returns n distinct classifier entries (one IPv4
// destination each).
func classifierEntries(b testing.TB, s *tables.Schema, n int) []*p4v1.Entity {
	out := make([]*p4v1.Entity, n)
	base := netip.MustParseAddr("10.0.0.0").As4()
	for i := range n {
		a := base
		a[1], a[2], a[3] = byte(i>>16), byte(i>>8), byte(i)
		te := must(s.TableEntry(contract.Classifier,
			[]tables.Match{tables.Ternary(contract.KeyIPv4Dst, netip.AddrFrom4(a).String(), "255.255.255.255")},
			tables.Action(contract.SetClass, tables.Param(contract.ParamClassID, 1+i%200), tables.Param(contract.ParamDSCP, 10)), tables.Priority(1)))
		out[i] = tables.EntityOf(te)
	}
	return out
}

// BenchmarkSimWrite measures entries/s written into the sim for several
// batch sizes: each iteration inserts 1000 classifier entries and deletes
// them again (2000 updates).
func BenchmarkSimWrite(b *testing.B) {
	schema := qosSchema(b)
	ents := classifierEntries(b, schema, 1000)
	for _, batch := range []int{1, 100, 1000} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			_, addr := startSim(b, sim.WithTableSizeOverride(contract.Classifier, 1<<20))
			s := primarySession(b, addr)
			ctx := context.Background()
			if _, err := s.EnsurePipeline(ctx, must(NewPipeline(schema.P4Info(), SimTarget()))); err != nil {
				b.Fatal(err)
			}
			ins, del := make(Phase, len(ents)), make(Phase, len(ents))
			for i, e := range ents {
				ins[i] = Change{Update: &p4v1.Update{Type: p4v1.Update_INSERT, Entity: e}}
				del[i] = Change{Update: &p4v1.Update{Type: p4v1.Update_DELETE, Entity: e}, Old: e}
			}
			b.ResetTimer()
			for range b.N {
				if _, err := s.Apply(ctx, []Phase{ins}, WithBatchSize(batch)); err != nil {
					b.Fatal(err)
				}
				if _, err := s.Apply(ctx, []Phase{del}, WithBatchSize(batch)); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(2*len(ents)*b.N)/b.Elapsed().Seconds(), "entries/s")
		})
	}
}

// BenchmarkSimReconcile10kDrift1pct measures a reconcile of 10,000 entries
// of which 1% (100) were deleted behind the controller's back.
func BenchmarkSimReconcile10kDrift1pct(b *testing.B) { benchReconcileDrift(b, 10_000) }

// BenchmarkSimReconcile100kDrift1pct: the same over 100,000 entries
// (issue #18 item 3), with the bytes a pass reads back.
func BenchmarkSimReconcile100kDrift1pct(b *testing.B) { benchReconcileDrift(b, 100_000) }

// benchReconcileDrift: a reconcile pass (read + diff + repair) over n
// classifier entries of which 1% were deleted by another controller;
// reports the entities' wire size read per pass.
func benchReconcileDrift(b *testing.B, n int) {
	schema := qosSchema(b)
	_, addr := startSim(b, sim.WithTableSizeOverride(contract.Classifier, 1<<20))
	s := primarySession(b, addr)
	intruder := primarySession(b, addr, WithRole("intruder", nil), WithElectionID(ElectionID{Low: 9}))
	ctx := context.Background()
	in := &Intent{Schema: schema, Pipeline: must(NewPipeline(schema.P4Info(), SimTarget())), Entities: classifierEntries(b, schema, n)}
	rec := NewReconciler(s, WithBatchSize(1000))
	if _, err := rec.Reconcile(ctx, in); err != nil {
		b.Fatal(err)
	}
	held, err := s.ReadState(ctx, in)
	if err != nil {
		b.Fatal(err)
	}
	readBytes := 0
	for _, e := range held {
		readBytes += proto.Size(e)
	}
	var drift []*p4v1.Update
	for i := 0; i < len(in.Entities); i += 100 {
		drift = append(drift, &p4v1.Update{Type: p4v1.Update_DELETE, Entity: in.Entities[i]})
	}
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		if err := intruder.Write(ctx, drift); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		st, err := rec.Reconcile(ctx, in)
		if err != nil {
			b.Fatal(err)
		}
		if st.Drift != len(drift) {
			b.Fatalf("drift %d, want %d", st.Drift, len(drift))
		}
	}
	b.ReportMetric(float64(readBytes)/1e6, "MB-read/pass")
}

// BenchmarkSimReconcile10kInSync measures the steady state's usual
// reconcile: a switch holding its 10,000 entries, nothing changed since the
// last pass (read, compare, no write).
func BenchmarkSimReconcile10kInSync(b *testing.B) {
	schema := qosSchema(b)
	_, addr := startSim(b, sim.WithTableSizeOverride(contract.Classifier, 1<<20))
	s := primarySession(b, addr)
	ctx := context.Background()
	in := &Intent{Schema: schema, Pipeline: must(NewPipeline(schema.P4Info(), SimTarget())), Entities: classifierEntries(b, schema, 10_000)}
	rec := NewReconciler(s, WithBatchSize(1000))
	for range 2 { // program, then one pass that finds it in sync
		if _, err := rec.Reconcile(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		st, err := rec.Reconcile(ctx, in)
		if err != nil {
			b.Fatal(err)
		}
		if st.Drift != 0 || st.Write.Updates != 0 {
			b.Fatalf("in-sync pass %+v", st)
		}
	}
}

// flipModel enforces a class-1 meter whose rate alternates between two
// values far apart, so that every tick writes one meter.
type flipModel struct {
	schema *tables.Schema
	n      int
}

func (m *flipModel) Sources() []DemandSource {
	return []DemandSource{{FlowGroup: "fg", Switch: "s1", Counter: contract.ClassCounter, Index: 1}}
}

func (m *flipModel) Enforce(context.Context, map[string]float64) (Enforcement, error) {
	m.n++
	cir := int64(125000 * (1 + m.n%2))
	me, err := m.schema.MeterEntry(contract.ClassMeter, 1, &tables.MeterConfig{CIR: cir, CBurst: 15000, PIR: cir, PBurst: 15000})
	if err != nil {
		return Enforcement{}, err
	}
	return Enforcement{Entities: map[string][]*p4v1.Entity{"s1": {tables.EntityOf(me)}}}, nil
}

// BenchmarkSimLoopLatency measures one closed-loop iteration against the
// sim: counters read → demand → allocation → one meter written.
func BenchmarkSimLoopLatency(b *testing.B) {
	schema := qosSchema(b)
	sw, addr := startSim(b)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	loop := NewLoop(&flipModel{schema: schema}, WithEstimator(newTestEstimator()))
	reconciled := make(chan error, 4)
	d, err := NewDaemon([]SwitchConfig{{Name: "s1", Address: addr, DeviceID: 1}}, WithReconcileInterval(time.Hour),
		WithClosedLoop(loop, 0), WithReconcileHook(func(_ string, _ ReconcileStats, err error) {
			select {
			case reconciled <- err:
			default:
			}
		}))
	if err != nil {
		b.Fatal(err)
	}
	d.SetIntent(map[string]*Intent{"s1": qosIntent(b, schema, 1, 125000)})
	go func() { _ = d.Run(ctx) }()
	if err := <-reconciled; err != nil {
		b.Fatal(err)
	}
	if err := sw.SetFlows([]sim.Flow{{SrcIP: netip.MustParseAddr("10.0.1.1"), DstIP: netip.MustParseAddr("10.0.2.3"),
		Proto: 17, DstPort: 5001, RateBps: 1e6}}); err != nil {
		b.Fatal(err)
	}
	now := time.Unix(0, 0)
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		sw.Advance(100 * time.Millisecond)
		now = now.Add(100 * time.Millisecond)
		b.StartTimer()
		res, err := d.LoopTick(ctx, now)
		if err != nil {
			b.Fatal(err)
		}
		if i > 0 && res.Written["s1"] != 1 {
			b.Fatalf("tick %d wrote %v", i, res.Written)
		}
	}
}

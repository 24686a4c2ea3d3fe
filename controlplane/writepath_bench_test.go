package controlplane

import (
	"context"
	"fmt"
	"testing"
	"time"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"

	"github.com/p4qos/p4qos/compiler/contract"
	"github.com/p4qos/p4qos/target/sim"
)

// BenchmarkWritePathVsRaw writes N classifier entries into a fresh sim,
// in batches, two ways in the same iteration: through p4qos's session
// (Session.Apply: batching, typed errors, partial-failure bookkeeping) and
// through a minimal raw loop of p4.v1.Write RPCs on the same connection
// with the same batches. Each way inserts all N then deletes them, so both
// see the same table sizes. Metrics: entries/s of each and session/raw
// (issue #18 item 3's goal: ≥ 0.9 at every batch size).
func BenchmarkWritePathVsRaw(b *testing.B) {
	schema := qosSchema(b)
	for _, n := range []int{10_000, 100_000} {
		ents := classifierEntries(b, schema, n)
		for _, batch := range []int{1, 100, 1000} {
			if n == 100_000 && batch == 1 {
				continue // 200k unary RPCs per way: minutes on this machine; 10k shows batch 1
			}
			b.Run(fmt.Sprintf("n=%d/batch=%d", n, batch), func(b *testing.B) {
				_, addr := startSim(b, sim.WithTableSizeOverride(contract.Classifier, 1<<20))
				s := primarySession(b, addr)
				ctx := context.Background()
				if _, err := s.EnsurePipeline(ctx, must(NewPipeline(schema.P4Info(), SimTarget()))); err != nil {
					b.Fatal(err)
				}
				ins, del := make(Phase, n), make(Phase, n)
				rawIns, rawDel := make([]*p4v1.Update, n), make([]*p4v1.Update, n)
				for i, e := range ents {
					rawIns[i] = &p4v1.Update{Type: p4v1.Update_INSERT, Entity: e}
					rawDel[i] = &p4v1.Update{Type: p4v1.Update_DELETE, Entity: e}
					ins[i] = Change{Update: rawIns[i]}
					del[i] = Change{Update: rawDel[i], Old: e}
				}
				eid := s.ElectionID()
				election := &p4v1.Uint128{High: eid.High, Low: eid.Low}
				// A minimal raw Write loop; with a deadline on each RPC as the
				// session sets one (gRPC then starts a goroutine per call to
				// watch the context), or with none.
				raw := func(ups []*p4v1.Update, deadline bool) {
					for i := 0; i < len(ups); i += batch {
						req := &p4v1.WriteRequest{DeviceId: 1, ElectionId: election, Updates: ups[i:min(i+batch, len(ups))], Atomicity: p4v1.WriteRequest_CONTINUE_ON_ERROR}
						cctx, cancel := ctx, context.CancelFunc(func() {})
						if deadline {
							cctx, cancel = context.WithTimeout(ctx, 30*time.Second) // the session's default
						}
						_, err := s.Client().Write(cctx, req)
						cancel()
						if err != nil {
							b.Fatal(err)
						}
					}
				}
				var tSession, tRaw, tRawDeadline time.Duration
				session := func() {
					for _, ph := range []Phase{ins, del} {
						if _, err := s.Apply(ctx, []Phase{ph}, WithBatchSize(batch)); err != nil {
							b.Fatal(err)
						}
					}
				}
				ways := []struct {
					run  func()
					took *time.Duration
				}{
					{session, &tSession},
					{func() { raw(rawIns, false); raw(rawDel, false) }, &tRaw},
					{func() { raw(rawIns, true); raw(rawDel, true) }, &tRawDeadline},
				}
				b.ResetTimer()
				for i := range b.N {
					// Rotate the order so that no way always runs first
					// (after a GC, into a table the previous way just emptied).
					for k := range ways {
						w := ways[(i+k)%len(ways)]
						start := time.Now()
						w.run()
						*w.took += time.Since(start)
					}
				}
				per := float64(2 * n * b.N)
				b.ReportMetric(per/tSession.Seconds(), "session-entries/s")
				b.ReportMetric(per/tRaw.Seconds(), "raw-entries/s")
				b.ReportMetric(tRaw.Seconds()/tSession.Seconds(), "session/raw")
				b.ReportMetric(tRawDeadline.Seconds()/tSession.Seconds(), "session/raw+deadline")
			})
		}
	}
}

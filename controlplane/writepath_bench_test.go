package controlplane

import (
	"context"
	"fmt"
	"testing"
	"time"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"

	"github.com/p4qos/p4qos/compiler/contract"
	"github.com/p4qos/p4qos/internal/writebench"
	"github.com/p4qos/p4qos/target/sim"
)

// BenchmarkWritePathVsRaw writes N classifier entries into a fresh sim,
// in batches, two ways in the same iteration: through p4qos's session
// (Session.Apply: batching, typed errors, partial-failure bookkeeping) and
// through a minimal raw loop of p4.v1.Write RPCs on the same connection
// with the same batches, with and without a context deadline per RPC
// (internal/writebench, shared with tests/bmv2ctl's BenchmarkBMv2Write);
// the session bounds each RPC by its timeout too, with one re-armed timer
// per Apply (writer.go).
// Each way inserts all N then deletes them, so all see the same table
// sizes. Metrics: entries/s of each and session/raw (issue #18 item 3's
// goal: ≥ 0.9 at every batch size).
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
				rawIns, rawDel := writebench.Updates(ents)
				ins, del := make(Phase, n), make(Phase, n)
				for i, e := range ents {
					ins[i] = Change{Update: rawIns[i]}
					del[i] = Change{Update: rawDel[i], Old: e}
				}
				session := func(ctx context.Context) error {
					for _, ph := range []Phase{ins, del} {
						if _, err := s.Apply(ctx, []Phase{ph}, WithBatchSize(batch)); err != nil {
							return err
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
}

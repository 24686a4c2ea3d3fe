package writebench

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
)

// Raw is a minimal Write loop: no per-update bookkeeping, no undo, no
// typed errors — only the RPCs a controller cannot avoid.
type Raw struct {
	Client   p4v1.P4RuntimeClient
	DeviceID uint64
	// Election is the primary's election id: the switch refuses writes
	// from anyone else, so the loop borrows the session's arbitration
	// (same connection) rather than opening a stream of its own.
	Election *p4v1.Uint128
	Batch    int
	// Deadline, when > 0, bounds each RPC with context.WithTimeout, as
	// the session did until it moved to one re-armed timer per Apply: a
	// timer and context per RPC on the client, and on the server too,
	// which gRPC tells the deadline in the grpc-timeout header; 0 sends
	// every RPC with the caller's context, the cheapest possible loop.
	Deadline time.Duration
}

// Write sends ups in consecutive WriteRequests of at most r.Batch updates.
func (r Raw) Write(ctx context.Context, ups []*p4v1.Update) error {
	if r.Batch < 1 {
		return fmt.Errorf("raw write: batch size %d, want ≥ 1", r.Batch)
	}
	for i := 0; i < len(ups); i += r.Batch {
		req := &p4v1.WriteRequest{DeviceId: r.DeviceID, ElectionId: r.Election,
			Updates: ups[i:min(i+r.Batch, len(ups))], Atomicity: p4v1.WriteRequest_CONTINUE_ON_ERROR}
		if err := r.write(ctx, req); err != nil {
			return fmt.Errorf("raw write of updates %d..%d: %w", i, i+len(req.Updates)-1, err)
		}
	}
	return nil
}

func (r Raw) write(ctx context.Context, req *p4v1.WriteRequest) error {
	if r.Deadline > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, r.Deadline)
		defer cancel()
	}
	_, err := r.Client.Write(ctx, req)
	return err
}

// Updates returns an INSERT and a DELETE update for each entity, in order.
func Updates(ents []*p4v1.Entity) (ins, del []*p4v1.Update) {
	ins, del = make([]*p4v1.Update, len(ents)), make([]*p4v1.Update, len(ents))
	for i, e := range ents {
		ins[i] = &p4v1.Update{Type: p4v1.Update_INSERT, Entity: e}
		del[i] = &p4v1.Update{Type: p4v1.Update_DELETE, Entity: e}
	}
	return ins, del
}

// Way is one way of writing: it must insert all the entries and delete
// them again, so that every way starts from the same (empty) table.
type Way func(ctx context.Context) error

// Cost is what one way took over all iterations of Rotate.
type Cost struct {
	// Total is the wall time over all iterations, Fastest the wall time
	// of its fastest iteration: the figure least disturbed by other work
	// on a loaded machine, since contention only ever adds time.
	Total, Fastest time.Duration
	// CPU is the CPU time the whole process used while the way ran (0
	// where not measured): with the sim in the same process it holds the
	// switch's work too. On an oversubscribed machine it moves much less
	// than the wall time, which counts the time spent waiting for a core.
	CPU time.Duration
	// Allocs is the number of heap objects the process allocated while the
	// way ran (runtime.MemStats.Mallocs).
	Allocs uint64
}

// Rotate runs every way once per iteration, b.N times, starting each
// iteration one way further along so that no way always runs first (after
// a GC, into a table the previous way just emptied), and returns what
// each way cost. The benchmark's timer is reset first: set-up before the
// call is not measured.
func Rotate(ctx context.Context, b *testing.B, ways ...Way) []Cost {
	b.Helper()
	costs := make([]Cost, len(ways))
	var ms runtime.MemStats
	b.ResetTimer()
	for i := range b.N {
		for k := range ways {
			w := (i + k) % len(ways)
			runtime.ReadMemStats(&ms)
			allocs, cpu, start := ms.Mallocs, processCPU(), time.Now()
			if err := ways[w](ctx); err != nil {
				b.Fatal(err)
			}
			d, cpuEnd := time.Since(start), processCPU()
			runtime.ReadMemStats(&ms)
			c := &costs[w]
			c.Total += d
			c.CPU += cpuEnd - cpu
			c.Allocs += ms.Mallocs - allocs
			if i == 0 || d < c.Fastest {
				c.Fastest = d
			}
		}
	}
	return costs
}

// SessionVsRaw measures a session's way of inserting and deleting ins
// (session) against raw.Write of ins then del, without a deadline and
// with raw.Deadline per RPC (the session's RPC timeout, which must be > 0), and
// reports entries/s of the session and of the raw loop, session/raw and
// session/raw+deadline over all iterations (issue #18's goal: ≥ 0.9 at
// every batch size), session/raw-fastest: the same ratio between each
// way's fastest iteration, session/raw-cpu: the raw loop's CPU time over
// the session's, and the heap allocations per entry of each (Cost).
func SessionVsRaw(ctx context.Context, b *testing.B, session Way, raw Raw, ins, del []*p4v1.Update) {
	b.Helper()
	if raw.Deadline <= 0 {
		b.Fatalf("raw loop deadline %v: give the session's RPC timeout", raw.Deadline)
	}
	bare := raw
	bare.Deadline = 0
	loop := func(r Raw) Way {
		return func(ctx context.Context) error {
			if err := r.Write(ctx, ins); err != nil {
				return err
			}
			return r.Write(ctx, del)
		}
	}
	c := Rotate(ctx, b, session, loop(bare), loop(raw))
	entries := float64((len(ins) + len(del)) * b.N)
	b.ReportMetric(entries/c[0].Total.Seconds(), "session-entries/s")
	b.ReportMetric(entries/c[1].Total.Seconds(), "raw-entries/s")
	b.ReportMetric(c[1].Total.Seconds()/c[0].Total.Seconds(), "session/raw")
	b.ReportMetric(c[2].Total.Seconds()/c[0].Total.Seconds(), "session/raw+deadline")
	b.ReportMetric(c[1].Fastest.Seconds()/c[0].Fastest.Seconds(), "session/raw-fastest")
	if c[0].CPU > 0 {
		b.ReportMetric(c[1].CPU.Seconds()/c[0].CPU.Seconds(), "session/raw-cpu")
	}
	b.ReportMetric(float64(c[0].Allocs)/entries, "session-allocs/entry")
	b.ReportMetric(float64(c[1].Allocs)/entries, "raw-allocs/entry")
}

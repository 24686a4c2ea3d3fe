package writebench

import (
	"context"
	"fmt"
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
	// Deadline, when > 0, bounds each RPC as the session does (gRPC then
	// starts a goroutine per call to watch its context); 0 sends every
	// RPC with the caller's context, the cheapest possible loop.
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

// Rotate runs every way once per iteration, b.N times, starting each
// iteration one way further along so that no way always runs first (after
// a GC, into a table the previous way just emptied), and returns the time
// each way took in total and in its fastest iteration. The fastest is the
// figure least disturbed by other work on a loaded machine: contention
// only ever adds time. The benchmark's timer is reset first: set-up before
// the call is not measured.
func Rotate(ctx context.Context, b *testing.B, ways ...Way) (total, fastest []time.Duration) {
	b.Helper()
	total, fastest = make([]time.Duration, len(ways)), make([]time.Duration, len(ways))
	b.ResetTimer()
	for i := range b.N {
		for k := range ways {
			w := (i + k) % len(ways)
			start := time.Now()
			if err := ways[w](ctx); err != nil {
				b.Fatal(err)
			}
			d := time.Since(start)
			total[w] += d
			if i == 0 || d < fastest[w] {
				fastest[w] = d
			}
		}
	}
	return total, fastest
}

// SessionVsRaw measures a session's way of inserting and deleting ins
// (session) against raw.Write of ins then del, without a deadline and
// with raw.Deadline (the session's RPC timeout, which must be > 0), and
// reports entries/s of the session and of the raw loop, session/raw and
// session/raw+deadline over all iterations (issue #18's goal: ≥ 0.9 at
// every batch size), and session/raw-fastest: the same ratio between
// each way's fastest iteration.
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
	took, fastest := Rotate(ctx, b, session, loop(bare), loop(raw))
	entries := float64((len(ins) + len(del)) * b.N)
	b.ReportMetric(entries/took[0].Seconds(), "session-entries/s")
	b.ReportMetric(entries/took[1].Seconds(), "raw-entries/s")
	b.ReportMetric(took[1].Seconds()/took[0].Seconds(), "session/raw")
	b.ReportMetric(took[2].Seconds()/took[0].Seconds(), "session/raw+deadline")
	b.ReportMetric(fastest[1].Seconds()/fastest[0].Seconds(), "session/raw-fastest")
}

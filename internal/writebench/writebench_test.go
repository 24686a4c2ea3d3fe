package writebench

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/grpc"
)

// fakeClient records each WriteRequest and whether its context had a
// deadline; it fails the RPC numbered failAt (1-based), if any.
type fakeClient struct {
	p4v1.P4RuntimeClient // only Write is called
	reqs                 []*p4v1.WriteRequest
	deadlines            []bool
	failAt               int
}

var errRefused = errors.New("refused")

func (f *fakeClient) Write(ctx context.Context, req *p4v1.WriteRequest, _ ...grpc.CallOption) (*p4v1.WriteResponse, error) {
	f.reqs = append(f.reqs, req)
	_, ok := ctx.Deadline()
	f.deadlines = append(f.deadlines, ok)
	if len(f.reqs) == f.failAt {
		return nil, errRefused
	}
	return &p4v1.WriteResponse{}, nil
}

func entities(n int) []*p4v1.Entity {
	ents := make([]*p4v1.Entity, n)
	for i := range ents {
		ents[i] = &p4v1.Entity{Entity: &p4v1.Entity_TableEntry{TableEntry: &p4v1.TableEntry{TableId: 7, Priority: int32(i + 1)}}}
	}
	return ents
}

func TestRawWrite(t *testing.T) {
	election := &p4v1.Uint128{High: 1, Low: 2}
	for _, tc := range []struct {
		name      string
		n, batch  int
		deadline  time.Duration
		failAt    int
		wantSizes []int
		wantErr   string
	}{
		{name: "batches of 100 and a remainder", n: 250, batch: 100, wantSizes: []int{100, 100, 50}},
		{name: "one batch larger than the input", n: 250, batch: 1000, wantSizes: []int{250}},
		{name: "unary", n: 3, batch: 1, deadline: time.Second, wantSizes: []int{1, 1, 1}},
		{name: "nothing to write", n: 0, batch: 10},
		{name: "second RPC refused", n: 250, batch: 100, failAt: 2, wantSizes: []int{100, 100}, wantErr: "raw write of updates 100..199: refused"},
		{name: "batch size zero", n: 5, batch: 0, wantErr: "batch size 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeClient{failAt: tc.failAt}
			ins, _ := Updates(entities(tc.n))
			err := Raw{Client: f, DeviceID: 9, Election: election, Batch: tc.batch, Deadline: tc.deadline}.Write(context.Background(), ins)
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
			if tc.failAt > 0 && !errors.Is(err, errRefused) {
				t.Errorf("error %v does not wrap the RPC's", err)
			}
			if len(f.reqs) != len(tc.wantSizes) {
				t.Fatalf("%d RPCs, want %d", len(f.reqs), len(tc.wantSizes))
			}
			next := 0
			for i, req := range f.reqs {
				if len(req.Updates) != tc.wantSizes[i] {
					t.Errorf("RPC %d: %d updates, want %d", i, len(req.Updates), tc.wantSizes[i])
				}
				if req.DeviceId != 9 || req.ElectionId != election || req.Atomicity != p4v1.WriteRequest_CONTINUE_ON_ERROR {
					t.Errorf("RPC %d: device %d election %v atomicity %v", i, req.DeviceId, req.ElectionId, req.Atomicity)
				}
				if f.deadlines[i] != (tc.deadline > 0) {
					t.Errorf("RPC %d: deadline set = %v, want %v", i, f.deadlines[i], tc.deadline > 0)
				}
				// The updates go out in order, each once.
				for _, u := range req.Updates {
					if u != ins[next] {
						t.Fatalf("RPC %d: update out of order at %d", i, next)
					}
					next++
				}
			}
		})
	}
}

func TestUpdates(t *testing.T) {
	ents := entities(3)
	ins, del := Updates(ents)
	for i, e := range ents {
		if ins[i].Type != p4v1.Update_INSERT || ins[i].Entity != e || del[i].Type != p4v1.Update_DELETE || del[i].Entity != e {
			t.Errorf("entity %d: insert %v, delete %v", i, ins[i], del[i])
		}
	}
}

// TestRotate: every way runs once per iteration, and iteration i starts
// with way i mod 3, so no way always runs first; each way's time, CPU time
// and allocations are its own.
func TestRotate(t *testing.T) {
	const objects, spin = 1000, 2 * time.Millisecond
	var order []int
	var n int
	var costs []Cost
	var sink []*[64]byte
	way := func(k int) Way {
		return func(context.Context) error {
			order = append(order, k)
			switch k {
			case 0: // allocates
				for range objects {
					sink = append(sink, new([64]byte))
				}
				sink = sink[:0]
			case 1: // burns CPU
				for c0 := processCPU(); processCPU()-c0 < spin; {
				}
			}
			// The sleep makes every iteration take measurable time.
			time.Sleep(time.Microsecond)
			return nil
		}
	}
	testing.Benchmark(func(b *testing.B) {
		order, n = nil, b.N
		costs = Rotate(context.Background(), b, way(0), way(1), way(2))
	})
	for k, c := range costs {
		// The fastest iteration is measured, and no slower than the mean.
		if c.Fastest <= 0 || c.Fastest > c.Total/time.Duration(n) {
			t.Errorf("way %d: fastest %v, total %v over %d iterations", k, c.Fastest, c.Total, n)
		}
	}
	if got := costs[0].Allocs; got < uint64(objects*n) {
		t.Errorf("way 0 allocated %d objects in %d iterations, want ≥ %d", got, n, objects*n)
	}
	if got := costs[1].CPU; processCPU() > 0 && got < spin*time.Duration(n) {
		t.Errorf("way 1 used %v of CPU in %d iterations, want ≥ %v", got, n, spin*time.Duration(n))
	}
	if len(order) != 3*n {
		t.Fatalf("%d calls for %d iterations of 3 ways", len(order), n)
	}
	for i := range n {
		for k := range 3 {
			if got, want := order[3*i+k], (i+k)%3; got != want {
				t.Fatalf("iteration %d, call %d: way %d, want %d", i, k, got, want)
			}
		}
	}
}

// TestSessionVsRawRunsEveryWay: the session's way and both raw loops each
// write every insert and delete once per iteration.
func TestSessionVsRawRunsEveryWay(t *testing.T) {
	ins, del := Updates(entities(10))
	var f *fakeClient
	var sessionRuns, n int
	testing.Benchmark(func(b *testing.B) {
		f, sessionRuns, n = &fakeClient{}, 0, b.N
		session := func(context.Context) error { sessionRuns++; return nil }
		SessionVsRaw(context.Background(), b, session, Raw{Client: f, Batch: 4, Deadline: time.Minute}, ins, del)
	})
	if sessionRuns != n {
		t.Errorf("session ran %d times in %d iterations", sessionRuns, n)
	}
	// Per iteration and loop: 3 RPCs for the 10 inserts, 3 for the deletes.
	if len(f.reqs) != 2*6*n {
		t.Fatalf("%d RPCs in %d iterations, want %d", len(f.reqs), n, 12*n)
	}
	withDeadline := 0
	for _, d := range f.deadlines {
		if d {
			withDeadline++
		}
	}
	if withDeadline != 6*n {
		t.Errorf("%d RPCs with a deadline, want %d (one loop of the two)", withDeadline, 6*n)
	}
}

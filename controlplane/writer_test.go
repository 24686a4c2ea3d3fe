package controlplane

import (
	"context"
	"errors"
	"testing"
	"time"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// TestApplyRPCTimeout: the session's RPC timeout bounds every Write RPC of
// an Apply (one watchdog timer re-armed per RPC, writer.go), not the Apply
// as a whole; a hung switch fails the Apply with DEADLINE_EXCEEDED (which
// is retryable) long before the caller's context ends, and what was
// applied before is undone with a fresh context.
func TestApplyRPCTimeout(t *testing.T) {
	tests := []struct {
		name        string
		timeout     time.Duration
		hang        func(call int) bool
		delay       time.Duration
		cancelAfter time.Duration // the caller cancels its context
		n           int           // inserts, one per RPC
		wantCode    codes.Code    // OK: Apply succeeds
		wantUndone  int
		wantLeft    int // entities on the switch afterwards
		wantCalls   int // Write RPCs the switch received, undo included
	}{
		{name: "hung at the first RPC", timeout: 200 * time.Millisecond, hang: func(c int) bool { return c == 1 },
			n: 5, wantCode: codes.DeadlineExceeded, wantCalls: 1},
		{name: "hung at the third RPC, the two before undone", timeout: 200 * time.Millisecond, hang: func(c int) bool { return c == 3 },
			n: 5, wantCode: codes.DeadlineExceeded, wantUndone: 2, wantCalls: 5},
		// 30 RPCs of ≥ 10 ms each take longer than one timeout of 200 ms:
		// a deadline for the whole Apply would fail this.
		{name: "slow switch that answers every RPC in time", timeout: 200 * time.Millisecond, delay: 10 * time.Millisecond,
			n: 30, wantCode: codes.OK, wantLeft: 30, wantCalls: 30},
		{name: "caller cancels during a hung RPC", timeout: 30 * time.Second, hang: func(c int) bool { return c == 1 },
			cancelAfter: 100 * time.Millisecond, n: 3, wantCode: codes.Canceled, wantCalls: 1},
		{name: "no timeout configured", timeout: 0, n: 3, wantCode: codes.OK, wantLeft: 3, wantCalls: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, addr := startFake(t)
			f.hang, f.delay = tt.hang, tt.delay
			s := dial(t, addr, ElectionID{Low: 1}, WithRPCTimeout(tt.timeout))
			ctx := testCtx(t)
			if err := s.WaitPrimary(ctx); err != nil {
				t.Fatal(err)
			}
			var phase Phase
			for i := range tt.n {
				phase = append(phase, insert(tableEntry(1, byte(i), 1)))
			}
			actx := ctx
			if tt.cancelAfter > 0 {
				var cancel context.CancelFunc
				actx, cancel = context.WithCancel(ctx)
				time.AfterFunc(tt.cancelAfter, cancel)
			}
			st, err := s.Apply(actx, []Phase{phase}, WithBatchSize(1))
			if ctx.Err() != nil {
				t.Fatalf("the test's own context ended first: the RPC timeout did not bound the call (err %v)", err)
			}
			if got := status.Code(err); got != tt.wantCode {
				t.Fatalf("Apply: code %v (%v), want %v", got, err, tt.wantCode)
			}
			if err != nil {
				var ae *ApplyError
				if !errors.As(err, &ae) || ae.UndoErr != nil {
					t.Fatalf("Apply: %v, want an *ApplyError with a successful undo", err)
				}
				if retry := IsRetryable(err); retry != (tt.wantCode == codes.DeadlineExceeded) {
					t.Errorf("IsRetryable(%v) = %v", err, retry)
				}
			}
			if st.Undone != tt.wantUndone {
				t.Errorf("undone %d, want %d", st.Undone, tt.wantUndone)
			}
			ents, _, _ := f.snapshot()
			f.mu.Lock()
			calls := f.calls
			f.mu.Unlock()
			if len(ents) != tt.wantLeft || calls != tt.wantCalls {
				t.Errorf("switch holds %d entities after %d Write calls, want %d after %d", len(ents), calls, tt.wantLeft, tt.wantCalls)
			}
		})
	}
}

// TestWriterAfterTimeout: once the watchdog fired, the writer's next RPC
// gets a fresh context (the spent one would fail it at once), and the
// public Write reports the hang as DEADLINE_EXCEEDED.
func TestWriterAfterTimeout(t *testing.T) {
	f, addr := startFake(t)
	f.hang = func(c int) bool { return c == 1 }
	s := dial(t, addr, ElectionID{Low: 1}, WithRPCTimeout(200*time.Millisecond))
	ctx := testCtx(t)
	if err := s.WaitPrimary(ctx); err != nil {
		t.Fatal(err)
	}
	w := s.newWriter(ctx)
	defer w.close()
	err := w.writeChanges([]Change{insert(tableEntry(1, 1, 1))})
	var we *WriteError
	if !errors.As(err, &we) || status.Code(err) != codes.DeadlineExceeded {
		t.Fatalf("hung write: %v, want a *WriteError with DEADLINE_EXCEEDED", err)
	}
	if err := w.writeChanges([]Change{insert(tableEntry(1, 2, 1))}); err != nil {
		t.Fatalf("write after the timeout: %v", err)
	}
	f.hang = func(c int) bool { return c == 3 }
	if err := s.Write(ctx, []*p4v1.Update{insert(tableEntry(1, 3, 1)).Update}); status.Code(err) != codes.DeadlineExceeded || ctx.Err() != nil {
		t.Fatalf("Session.Write to a hung switch: %v, want DEADLINE_EXCEEDED before the caller's context ends", err)
	}
	if ents, _, _ := f.snapshot(); len(ents) != 1 {
		t.Errorf("switch holds %d entities, want 1", len(ents))
	}
}

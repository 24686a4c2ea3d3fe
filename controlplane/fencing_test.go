package controlplane

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/grpc"

	"github.com/p4qos/p4qos/tables"
)

// pausable holds every StreamChannel message a session receives while
// paused, as a process stopped with SIGSTOP would: the session keeps
// believing what it last heard.
type pausable struct {
	mu   sync.Mutex
	gate chan struct{} // nil: open
}

func (p *pausable) pause() { p.mu.Lock(); p.gate = make(chan struct{}); p.mu.Unlock() }

func (p *pausable) resume() {
	p.mu.Lock()
	if p.gate != nil {
		close(p.gate)
		p.gate = nil
	}
	p.mu.Unlock()
}

func (p *pausable) wait() {
	p.mu.Lock()
	g := p.gate
	p.mu.Unlock()
	if g != nil {
		<-g
	}
}

type pausedStream struct {
	grpc.ClientStream
	p *pausable
}

func (s *pausedStream) RecvMsg(m any) error {
	err := s.ClientStream.RecvMsg(m)
	s.p.wait() // a message that arrives while paused is handed over on resume
	return err
}

func (p *pausable) option() SessionOption {
	return WithDialOptions(grpc.WithStreamInterceptor(func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string,
		streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
		cs, err := streamer(ctx, desc, cc, method, opts...)
		if err != nil {
			return nil, err
		}
		return &pausedStream{ClientStream: cs, p: p}, nil
	}))
}

// TestSimStaleMasterFenced: a master that has not yet heard that a newer
// master (higher election id) took over still sends its writes; the switch
// refuses them (PERMISSION_DENIED) and applies nothing, and the session
// stops counting itself primary (Fenced), whatever it writes.
func TestSimStaleMasterFenced(t *testing.T) {
	schema := qosSchema(t)
	in := qosIntent(t, schema, 1, 125000)
	for _, tc := range []struct {
		name  string
		write func(ctx context.Context, s *Session) error
	}{
		{"table write", func(ctx context.Context, s *Session) error {
			return s.Write(ctx, []*p4v1.Update{{Type: p4v1.Update_INSERT, Entity: in.Entities[0]}})
		}},
		{"pipeline push", func(ctx context.Context, s *Session) error { return s.PushPipeline(ctx, in.Pipeline) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, addr := startSim(t)
			ctx := testCtx(t)
			var p pausable
			old := primarySession(t, addr, WithElectionID(ElectionID{High: 1, Low: 10}), p.option())
			if _, err := old.EnsurePipeline(ctx, in.Pipeline); err != nil {
				t.Fatal(err)
			}
			p.pause()
			defer p.resume()
			newer := primarySession(t, addr, WithElectionID(ElectionID{High: 1, Low: 20}))
			if !old.State().Primary {
				t.Fatal("the paused session heard of the takeover: the test proves nothing")
			}
			err := tc.write(ctx, old)
			// Fenced counts only PERMISSION_DENIED answers from the switch:
			// the write was sent, not refused locally.
			if st := old.State(); !errors.Is(err, ErrNotPrimary) || st.Primary || st.Fenced != 1 {
				t.Fatalf("stale master's write: %v, primary=%v fenced=%d; want PERMISSION_DENIED from the switch, false, 1", err, st.Primary, st.Fenced)
			}
			got, err := newer.Read(ctx, tables.EntityOf(&p4v1.TableEntry{TableId: in.Entities[0].GetTableEntry().GetTableId()}))
			if err != nil || len(got) != 0 {
				t.Errorf("classifier entries on the switch: %d (%v), want 0: the stale write was applied", len(got), err)
			}
			p.resume()
			if err := old.WaitFor(ctx, func(s State) bool {
				return s.Connected && !s.Primary && s.PrimaryElectionID == (ElectionID{High: 1, Low: 20})
			}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestSimSetElectionID: a standby never writes even where the switch takes
// it as primary (a fresh switch), becomes primary with a higher id on its
// live stream (a new Term), and is deposed by a higher one.
func TestSimSetElectionID(t *testing.T) {
	_, addr := startSim(t)
	ctx := testCtx(t)
	in := qosIntent(t, qosSchema(t), 1, 125000)
	s, err := Dial(SwitchConfig{Name: "sim", Address: addr, DeviceID: 1}, WithElectionID(ElectionID{Low: 5}))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.SetElectionID(ElectionID{Low: 5}, true); err != nil && !errors.Is(err, context.Canceled) {
		t.Logf("arbitration before the stream: %v", err)
	}
	if err := s.WaitFor(ctx, func(st State) bool { return st.Connected }); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name    string
		id      ElectionID
		standby bool
		primary bool
	}{
		{"standby on a fresh switch", ElectionID{Low: 5}, true, false},
		{"master", ElectionID{High: 1, Low: 9}, false, true},
		{"back to standby", ElectionID{Low: 5}, true, false},
		{"master again", ElectionID{High: 1, Low: 11}, false, true},
	}
	var term uint64
	for _, st := range steps {
		if err := s.SetElectionID(st.id, st.standby); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if err := s.WaitFor(ctx, func(x State) bool { return x.Primary == st.primary && (!st.primary || x.PrimaryElectionID == st.id) }); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		err := s.PushPipeline(ctx, in.Pipeline)
		if st.primary && err != nil {
			t.Errorf("%s: pipeline push: %v", st.name, err)
		}
		if !st.primary && !errors.Is(err, ErrNotPrimary) {
			t.Errorf("%s: write: %v, want ErrNotPrimary before sending", st.name, err)
		}
		if st.primary {
			if got := s.State().Term; got <= term {
				t.Errorf("%s: term %d, want above %d", st.name, got, term)
			}
			term = s.State().Term
		}
	}
}

// TestSimDaemonAdoptsMeters: a controller that takes a switch over from
// another (cluster failover) keeps the meter rates the previous master's
// closed loop wrote, instead of resetting them to the policy's static
// rates, when it adopts meters (WithAdoptMeters); without adoption the
// reconcile resets them.
func TestSimDaemonAdoptsMeters(t *testing.T) {
	schema := qosSchema(t)
	static := qosIntent(t, schema, 2, 125000)  // the policy's rates
	written := qosIntent(t, schema, 2, 400000) // what the old master's loop wrote
	for _, tc := range []struct {
		name    string
		opts    []DaemonOption
		wantCIR int64
	}{
		{"adopt", []DaemonOption{WithAdoptMeters()}, 400000},
		{"no adoption", nil, 125000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, addr := startSim(t)
			ctx := testCtx(t)
			old := primarySession(t, addr, WithElectionID(ElectionID{High: 1, Low: 10}))
			if _, err := NewReconciler(old).Reconcile(ctx, written); err != nil {
				t.Fatal(err)
			}
			_ = old.Close() // the old master dies
			done := make(chan error, 4)
			d, err := NewDaemon([]SwitchConfig{{Name: "sim", Address: addr, DeviceID: 1}}, append(tc.opts,
				WithSessionOptions(WithElectionID(ElectionID{High: 1, Low: 20}), WithBackoff(10*time.Millisecond, 100*time.Millisecond)),
				WithReconcileHook(func(_ string, _ ReconcileStats, err error) { done <- err }))...)
			if err != nil {
				t.Fatal(err)
			}
			d.SetIntent(map[string]*Intent{"sim": static})
			rctx, cancel := context.WithCancel(ctx)
			ran := make(chan struct{})
			go func() { defer close(ran); _ = d.Run(rctx) }()
			defer func() { cancel(); <-ran }()
			select {
			case err := <-done:
				if err != nil {
					t.Fatal(err)
				}
			case <-ctx.Done():
				t.Fatal("no reconcile")
			}
			obs := primarySession(t, addr, WithRole("observer", nil), WithElectionID(ElectionID{Low: 3}))
			for _, e := range static.Entities {
				me := e.GetMeterEntry()
				if me == nil {
					continue
				}
				got, err := obs.Read(ctx, tables.EntityOf(&p4v1.MeterEntry{MeterId: me.GetMeterId(), Index: me.GetIndex()}))
				if err != nil || len(got) != 1 {
					t.Fatalf("read meter %d: %v (%d entities)", me.GetIndex().GetIndex(), err, len(got))
				}
				if cir := got[0].GetMeterEntry().GetConfig().GetCir(); cir != tc.wantCIR {
					t.Errorf("meter %d: CIR %d on the switch, want %d", me.GetIndex().GetIndex(), cir, tc.wantCIR)
				}
			}
		})
	}
}

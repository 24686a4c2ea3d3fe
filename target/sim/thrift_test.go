package sim

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/p4qos/p4qos/internal/thrift"
	"github.com/p4qos/p4qos/target"
)

func serveThrift(t *testing.T, s *Switch) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.ServeThrift(ctx, lis) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	return lis.Addr().String()
}

// The controller's queue configurator against the sim's thrift server:
// settings arrive, a second application writes nothing, a change behind
// the controller's back is drift and is undone, a dropped setting goes
// back to the default.
func TestThriftQueuesOnSim(t *testing.T) {
	s := New()
	addr := serveThrift(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	q := &target.ThriftQueues{Addr: addr, ReadBack: true}
	want := []target.QueueSetting{{Port: 2, Queue: 7, Rate: 6e6, Depth: 30}, {Port: 3, Queue: 0, Rate: 12e6}}
	st, err := q.Apply(ctx, want)
	if err != nil {
		t.Fatal(err)
	}
	if st.Written != 4 || st.Drift != 0 {
		t.Errorf("first apply %+v, want 4 parameters written and no drift", st)
	}
	// 6 Mbit/s = 500 packets/s of 1500 B; the default depth is BMv2's 64.
	if got := s.queueOf(2, 7); got.RatePPS != 500 || got.DepthPkts != 30 {
		t.Errorf("port 2 queue 7: %+v", got)
	}
	if got := s.queueOf(3, 0); got.RatePPS != 1000 || got.DepthPkts != target.DefaultQueueDepth {
		t.Errorf("port 3 queue 0: %+v", got)
	}
	if st, err := q.Apply(ctx, want); err != nil || st.Written != 0 || st.Drift != 0 {
		t.Errorf("second apply %+v %v, want nothing written", st, err)
	}
	// Behind the controller's back, as `simple_switch_CLI set_queue_rate 50 2 7` would.
	c, err := thrift.Dial(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if rc, err := c.CallInt(ctx, target.ThriftService, target.MethodSetQueueRate, thrift.I32(1, 2), thrift.I32(2, 7), thrift.I64(3, 50)); err != nil || rc != 0 {
		t.Fatalf("set rate: %d %v", rc, err)
	}
	if st, err := q.Apply(ctx, want); err != nil || st.Written != 1 || st.Drift != 1 {
		t.Errorf("apply after drift %+v %v, want 1 written, 1 drift", st, err)
	}
	if got := s.queueOf(2, 7); got.RatePPS != 500 {
		t.Errorf("rate not restored: %+v", got)
	}
	// Port 3 queue 0 leaves the policy: back to not limited, default depth.
	if _, err := q.Apply(ctx, want[:1]); err != nil {
		t.Fatal(err)
	}
	if got := s.queueOf(3, 0); got.RatePPS != 0 || got.DepthPkts != target.DefaultQueueDepth {
		t.Errorf("dropped setting: %+v", got)
	}
	// Invalid queues and unknown methods are exceptions, not crashes.
	if _, err := c.CallInt(ctx, target.ThriftService, target.MethodSetQueueRate, thrift.I32(1, 2), thrift.I32(2, 8), thrift.I64(3, 1)); err == nil {
		t.Error("queue 8 accepted")
	}
	if _, err := c.CallInt(ctx, target.ThriftService, "mirroring_session_add", thrift.I32(1, 1)); err == nil {
		t.Error("unknown method answered")
	}
}

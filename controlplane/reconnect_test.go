package controlplane

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/p4qos/p4qos/target/sim"
)

// Finding 8 of the reliability issue: after a switch was down long enough
// for the reconnect backoff to reach its cap, it was re-programmed only
// when the backoff ran out (9.5–11.6 s after it returned). The session now
// probes the switch's port while it waits and reconnects as soon as it
// answers. The backoff here is 60 s, so a reconnection within the test's
// 20 s can only come from the probe.
func TestReliability_ReconnectsWhenThePortAnswers(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	first := sim.New(sim.WithDeviceID(1))
	served := make(chan error, 1)
	sctx, stopFirst := context.WithCancel(ctx)
	go func() { served <- first.Serve(sctx, lis) }()

	s, err := Dial(SwitchConfig{Name: "s1", Address: addr, DeviceID: 1}, WithBackoff(60*time.Second, 60*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.WaitPrimary(ctx); err != nil {
		t.Fatal(err)
	}
	stream := s.State().Stream

	stopFirst() // the switch goes down
	<-served
	if err := s.WaitFor(ctx, func(st State) bool { return !st.Connected }); err != nil {
		t.Fatal(err)
	}
	// Down for a while: the session is now waiting out a 30–90 s backoff.
	time.Sleep(time.Second)

	lis2, err := net.Listen("tcp", addr) // it comes back on the same address
	if err != nil {
		t.Skipf("cannot listen on %s again: %v", addr, err)
	}
	second := sim.New(sim.WithDeviceID(1))
	go func() { _ = second.Serve(ctx, lis2) }()
	back := time.Now()
	if err := s.WaitFor(ctx, func(st State) bool { return st.Primary && st.Stream > stream }); err != nil {
		t.Fatalf("not reconnected within the test's timeout (backoff 60 s): %v", err)
	}
	t.Logf("primary again %v after the switch's port answered", time.Since(back).Round(time.Millisecond))
}

package allocator

import (
	"math"
	"testing"
	"time"
)

func TestDemandEstimatorWindowMaxMultiplierFloor(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	e := NewDemandEstimator(WithWindow(10*time.Second), WithMultiplier(1.5), WithFloor(1e6))
	if d, ok := e.Demand("fg", at(0)); ok || d != 1e6 {
		t.Errorf("unknown key: %v %v, want floor 1e6 and false", d, ok)
	}
	e.Observe("fg", Sample{at(0), 0})
	e.Observe("fg", Sample{at(1), 1_000_000}) // 1e6 B in 1 s = 8 Mbps
	e.Observe("fg", Sample{at(2), 1_500_000}) // 0.5e6 B in 1 s = 4 Mbps
	steps := []struct {
		now  float64
		want float64
	}{
		{2, 8e6 * 1.5},  // peak 8 Mbps × 1.5
		{11, 8e6 * 1.5}, // the t=1 rate is 10 s old: still in the window
		{11.5, 4e6 * 1.5},
	}
	for _, s := range steps {
		if d, ok := e.Demand("fg", at(s.now)); !ok || math.Abs(d-s.want) > 1e-6 {
			t.Errorf("Demand at %vs = %v (%v), want %v", s.now, d, ok, s.want)
		}
	}
	// Idle for 10 s: the new rate is 0, the 4 Mbps at t=2 ages out at t>12.
	e.Observe("fg", Sample{at(12), 1_500_000})
	if d, _ := e.Demand("fg", at(12)); math.Abs(d-6e6) > 1e-6 {
		t.Errorf("Demand at 12s = %v, want 6e6", d)
	}
	if d, ok := e.Demand("fg", at(13)); !ok || d != 1e6 {
		t.Errorf("Demand at 13s = %v (%v), want the floor 1e6", d, ok)
	}
	// Out-of-order and same-time readings are ignored.
	e.Observe("fg", Sample{at(5), 0})
	e.Observe("fg", Sample{at(12), 99})
	e.Observe("fg", Sample{at(13), 1_500_000 + 125_000}) // 1 Mbps
	if d, _ := e.Demand("fg", at(13)); math.Abs(d-1.5e6) > 1e-6 {
		t.Errorf("after ignored readings: %v, want 1.5e6", d)
	}
	e.Forget("fg")
	if _, ok := e.Demand("fg", at(13)); ok {
		t.Error("Forget kept history")
	}
}

func TestDemandEstimatorCounterWrapAndReset(t *testing.T) {
	t0 := time.Unix(1000, 0)
	tests := []struct {
		name       string
		opts       []DemandOption
		prev, next uint64
		wantBps    float64
	}{
		// 32-bit counter 1000 B short of wrapping, then at 500: 1500 B.
		{"wrap32", []DemandOption{WithCounterWidth(32)}, 1<<32 - 1000, 500, 1500 * 8},
		// 64-bit counter going down: a reset, 400 B since.
		{"reset64", nil, 10_000, 400, 400 * 8},
		// 32-bit wrap implying ~34 Gbps on a 10 Gbps port: a reset.
		{"implausible wrap", []DemandOption{WithCounterWidth(32), WithMaxRate(10e9)}, 1000, 500, 500 * 8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := NewDemandEstimator(append(tt.opts, WithMultiplier(1), WithFloor(0))...)
			e.Observe("k", Sample{t0, tt.prev})
			e.Observe("k", Sample{t0.Add(time.Second), tt.next})
			if d, _ := e.Demand("k", t0.Add(time.Second)); math.Abs(d-tt.wantBps) > 1e-9 {
				t.Errorf("demand %v, want %v", d, tt.wantBps)
			}
		})
	}
}

// TestDemandEstimatorConcurrent is for the race detector: the control loop
// observes counters while the allocator reads demands.
func TestDemandEstimatorConcurrent(t *testing.T) {
	e := NewDemandEstimator()
	t0 := time.Unix(0, 0)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 1000; i++ {
			e.Observe("a", Sample{t0.Add(time.Duration(i) * time.Millisecond), uint64(i) * 1000})
		}
	}()
	for i := 0; i < 1000; i++ {
		e.Demand("a", t0.Add(time.Duration(i)*time.Millisecond))
	}
	<-done
	// 1000 B per ms = 8 Mbps, × 1.1 by default.
	if d, ok := e.Demand("a", t0.Add(time.Second)); !ok || math.Abs(d-8.8e6) > 1 {
		t.Errorf("demand %v (%v), want 8.8e6", d, ok)
	}
}

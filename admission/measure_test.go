package admission

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// TestWindowMaxEstimator drives the estimator with per-round rate samples
// (Mbps) and admissions and checks its estimate after each step. Window
// 10s: a sample stays while the latest sample is less than 10s after it;
// an admitted rate stays added until a sample 10s after the last sample
// before the admission (or after the first sample, when there was none).
func TestWindowMaxEstimator(t *testing.T) {
	type step struct {
		at    int     // seconds after t0; -1: an admission, not a sample
		mbps  float64 // sample rate, or the admitted rate
		want  float64 // estimate after the step, Mbps
		known bool    // the hop has a measurement after the step
	}
	cases := []struct {
		name  string
		steps []step
	}{
		{"never sampled", []step{{-1, 5, 0, false}}},
		// 85@0 leaves when the sample at 12 comes (12−0 ≥ 10); 80@5 stays.
		{"maximum of the window", []step{{0, 85, 85, true}, {5, 80, 85, true}, {12, 40, 80, true}, {16, 10, 40, true}}},
		// Admitted before any sample: +5 from the first sample (0) until
		// the sample at 10 (10−0 ≥ 10); that sample also drops 30@0.
		{"admitted before the first sample", []step{{-1, 5, 0, false}, {0, 30, 35, true}, {5, 32, 37, true}, {10, 36, 36, true}}},
		// Admitted after the sample at 1: +10 until the sample at 11.
		// Window at 11: 26@2 and 30@11 (20@0 and 25@1 are 10s old).
		{"admitted between samples", []step{{0, 20, 20, true}, {1, 25, 25, true}, {-1, 10, 35, true}, {2, 26, 36, true}, {11, 30, 30, true}}},
		// Two admissions add up.
		{"two admissions", []step{{0, 20, 20, true}, {-1, 10, 30, true}, {-1, 4, 34, true}, {3, 22, 36, true}}},
	}
	t0 := time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)
	const hop = "s1:2->h2"
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := &WindowMax{Window: 10 * time.Second}
			for i, s := range c.steps {
				if s.at < 0 {
					w.Admitted([]string{hop}, ControlledLoad, s.mbps*1e6)
				} else {
					w.Observe(hop, ControlledLoad, t0.Add(time.Duration(s.at)*time.Second), s.mbps*1e6)
				}
				got, ok := w.QueueLoad(hop, ControlledLoad)
				if ok != s.known || got != s.want*1e6 {
					t.Fatalf("step %d %+v: estimate %g (known %v), want %gMbps (known %v)", i, s, got, ok, s.want, s.known)
				}
			}
			if _, ok := w.QueueLoad(hop, Guaranteed); ok {
				t.Error("the guaranteed queue got the controlled-load samples")
			}
		})
	}
}

// feed is a fake measurement feed: hop → measured Mbps.
type feed map[string]float64

func (f feed) QueueLoad(hop string, svc Service) (float64, bool) {
	v, ok := f[hop]
	return v * 1e6, ok && svc == ControlledLoad
}

// TestControlledLoadByMeasurement: one switch, h1, h2, h3 on 100Mbps
// access links; the hop checked for h1→h2 is s1:2->h2. Limit = target 0.9
// × (100Mbps − EF reserved on the hop). Each case states its numbers.
func TestControlledLoadByMeasurement(t *testing.T) {
	tp := testTopo(t, []string{"s1"}, []string{"h1@s1:1", "h2@s1:2", "h3@s1:3"}, nil)
	const hop = "s1:2->h2"
	clReq := func(src string, mbps float64) Request {
		return Request{Src: src, Dst: "h2", TSpec: TSpec{Rate: mbps * 1e6, Burst: 3000, MaxPacket: 1500}, Service: ControlledLoad}
	}
	cases := []struct {
		name     string
		meas     Measurements // nil: none (offline)
		existing []Request    // admitted first, without measurements
		rate     float64      // the request h1→h2, Mbps
		admit    bool
		need     string // the rejection's need, or the admitted hop's source
	}{
		// Reserved: 20 (h3→h2) + 60 = 80 ≤ 90.
		{"reserved load, fits", nil, []Request{clReq("h3", 20)}, 60, true, "reserved"},
		// Reserved: 20 + 75 = 95 > 90.
		{"reserved load, over", nil, []Request{clReq("h3", 20)}, 75, false, "95Mbps (reserved 20Mbps + new 75Mbps)"},
		// The reservation is idle: measured 10 + 75 = 85 ≤ 90 although
		// the reserved rule would refuse it.
		{"measured below reserved", feed{hop: 10}, []Request{clReq("h3", 20)}, 75, true, "measured"},
		// Unreserved AF4 traffic: measured 75 + 20 = 95 > 90 although
		// nothing is reserved (the reserved rule: 0 + 20 ≤ 90).
		{"measured above reserved", feed{hop: 75}, nil, 20, false, "95Mbps (measured 75Mbps + new 20Mbps)"},
		// 75 + 15 = 90 ≤ 90: the limit itself is allowed.
		{"measured at the limit", feed{hop: 75}, nil, 15, true, "measured"},
		// 40Mbps guaranteed h3→h2 (EF share 50 of 100): limit 0.9 × 60 =
		// 54; measured 30 + 25 = 55 > 54.
		{"EF reserved lowers the limit", feed{hop: 30}, []Request{greq("h3", "h2", 40e6, 3000, 0)}, 25, false, "55Mbps (measured 30Mbps + new 25Mbps)"},
		// An unmeasured hop falls back to reserved: 20 + 75 > 90.
		{"unmeasured hop", feed{"s1:3->h3": 80}, []Request{clReq("h3", 20)}, 75, false, "95Mbps (reserved 20Mbps + new 75Mbps)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l := NewLedger(tp, testParams, nil)
			for _, r := range c.existing {
				if _, err := l.Admit(r); err != nil {
					t.Fatalf("existing %+v: %v", r, err)
				}
			}
			l.SetMeasurements(c.meas)
			before := l.List()
			a, err := l.Admit(clReq("h1", c.rate))
			if c.admit {
				if err != nil {
					t.Fatalf("rejected: %v", err)
				}
				if len(a.CL) != 1 || a.CL[0].Hop != hop || a.CL[0].Source != c.need {
					t.Fatalf("terms %+v, want %s from %s", a.CL, hop, c.need)
				}
				return
			}
			var rj *Rejection
			if !errors.As(err, &rj) || rj.Resource != "controlled-load utilisation" || rj.Hop != hop || rj.Need != c.need {
				t.Fatalf("got %v, want a rejection at %s needing %s", err, hop, c.need)
			}
			if len(l.List()) != len(before) {
				t.Error("a rejection changed the ledger")
			}
			if c.meas == nil && !strings.Contains(rj.Detail, "no load measurements") {
				t.Errorf("offline rejection does not say it had no measurements: %q", rj.Detail)
			}
		})
	}
}

// TestAdmittedBeforeMeasured: with the window estimator, a flow admitted
// but not yet sending still counts. Measured 50, admitted 30 (not in the
// samples): 50 + 30 + 15 = 95 > 90 refuses a request that the bare
// measurement (50 + 15 = 65) would admit.
func TestAdmittedBeforeMeasured(t *testing.T) {
	tp := testTopo(t, []string{"s1"}, []string{"h1@s1:1", "h2@s1:2", "h3@s1:3"}, nil)
	w := &WindowMax{Window: 10 * time.Second}
	t0 := time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)
	w.Observe("s1:2->h2", ControlledLoad, t0, 50e6)
	l := NewLedger(tp, testParams, w)
	req := Request{Src: "h1", Dst: "h2", TSpec: TSpec{Rate: 15e6, Burst: 3000, MaxPacket: 1500}, Service: ControlledLoad}
	if _, err := l.Check(req); err != nil {
		t.Fatalf("before the admission: %v", err)
	}
	w.Admitted([]string{"s1:2->h2"}, ControlledLoad, 30e6)
	var rj *Rejection
	if _, err := l.Check(req); !errors.As(err, &rj) || rj.Need != "95Mbps (measured 80Mbps + new 15Mbps)" {
		t.Fatalf("after the admission: %v", err)
	}
	// A whole window of samples later the flow is measured, or not there.
	w.Observe("s1:2->h2", ControlledLoad, t0.Add(10*time.Second), 52e6)
	if _, err := l.Check(req); err != nil {
		t.Fatalf("a window later (52 + 15 ≤ 90): %v", err)
	}
}

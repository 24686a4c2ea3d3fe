package controller

import (
	"os"
	"testing"
	"time"
)

// TestClosedLoopAlphaFair: a policy whose allocation section asks for
// α-fairness is compiled, enforced and run in the closed loop on the sim
// fabric with the α-fair allocator, and a reload switches the objective
// live, back to max-min.
func TestClosedLoopAlphaFair(t *testing.T) {
	ctx := testCtx(t)
	_, entries := fabricSims(t)
	cfg, _ := testConfig(t, entries)
	base := must(os.ReadFile(cfg.Policy))
	alpha := append(append([]byte{}, base...), "\nallocation: {objective: alpha-fair, alpha: 1}\n"...)
	writeFile(t, "", cfg.Policy, string(alpha))
	c, _, _, _ := running(t, ctx, cfg, WithManualLoop())
	a := c.Compiled().Allocation
	if a == nil || a.AlphaFair == nil || a.AlphaFair.Alpha != 1 || a.AlphaFair.RelGap > 1e-6 {
		t.Fatalf("compiled allocation %+v, want α-fair with α = 1", a)
	}
	// The first round only reads the counters; later ones allocate.
	allocated := 0
	for i := range 3 {
		res, err := c.Tick(ctx, time.Unix(int64(i), 0))
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Allocation) > 0 {
			allocated++
		}
		for fg, r := range res.Allocation {
			if !(r > 0) {
				t.Errorf("round %d: %s allocated %v", i, fg, r)
			}
		}
	}
	if allocated < 2 {
		t.Fatalf("%d of 3 rounds allocated", allocated)
	}
	// The loop's own last allocation (what the status API shows).
	c.status.mu.Lock()
	last := c.status.result
	c.status.mu.Unlock()
	if last == nil || last.AlphaFair == nil || last.AlphaFair.Alpha != 1 || last.AlphaFair.RelGap > 1e-6 {
		t.Fatalf("the loop's allocation %+v, want α-fair", last)
	}
	if err := c.ApplyPolicy(ctx, base); err != nil {
		t.Fatal(err)
	}
	if a := c.Compiled().Allocation; a == nil || a.AlphaFair != nil {
		t.Fatalf("after the reload to max-min: %+v", a)
	}
	if _, err := c.Tick(ctx, time.Unix(3, 0)); err != nil {
		t.Fatal(err)
	}
}

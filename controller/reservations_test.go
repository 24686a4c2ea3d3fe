package controller

import (
	"context"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/p4qos/p4qos/admission"
	"github.com/p4qos/p4qos/compiler/contract"
	"github.com/p4qos/p4qos/controller/statusapi"
	"github.com/p4qos/p4qos/tables"
)

// TestReservationsThroughAPI runs dynamic admission control end to end on
// sim switches (the example fabric: h1 on leaf1, h3 on leaf2, 40Mbps
// uplinks, EF share 0.5 = 20Mbps per link): admit over the API (persisted,
// installed at leaf1 only), reject one that would exceed the EF share
// (nothing changes), survive a controller restart, report the reservation
// broken when a topology change cuts the uplinks to 10Mbps (share 5Mbps
// < 8Mbps) and restored when they return, release it (entries deleted).
func TestReservationsThroughAPI(t *testing.T) {
	sims, entries := fabricSims(t)
	cfg, _ := testConfig(t, entries)
	ctx := testCtx(t)
	c, ev, next, stop := running(t, ctx, cfg)
	srv := httptest.NewServer(c.api.Handler())
	defer srv.Close()
	schema := must(tables.Load(cfg.P4Info))
	leaf1 := observer(t, entries[0].Address, 1)
	leaf2 := observer(t, entries[1].Address, 2)
	_ = sims

	req := statusapi.ReservationRequest{Src: "h1", Dst: "h3", Protocol: "udp", DstPort: 5004, Rate: "8Mbps", Burst: "10KB",
		MaxDelay: "50ms", OutOfProfile: "drop"}
	a := must(statusapi.RequestReservation(ctx, srv.URL, req))
	if a.Outcome != statusapi.Admitted || a.BoundSeconds <= 0 || !strings.Contains(a.Text, "end-to-end delay bound") {
		t.Fatalf("request: %+v", a)
	}
	id := a.ID
	state := string(must(os.ReadFile(statePath(cfg.Policy))))
	if !strings.Contains(state, "src: h1") || !strings.Contains(state, "rate: 8000000bps") || !strings.Contains(state, "out_of_profile: drop") {
		t.Errorf("state file:\n%s", state)
	}
	ev.waitConverged(t, ctx, next)
	if n := eventually(ctx, 2, func() int { return countEntries(ctx, leaf1, schema, contract.Reservation) }); n != 2 {
		t.Errorf("leaf1 holds %d reservation entries, want 2 (IPv4 and IPv6)", n)
	}
	if n := eventually(ctx, 0, func() int { return countEntries(ctx, leaf2, schema, contract.Reservation) }); n != 0 {
		t.Errorf("leaf2 holds %d reservation entries, want 0 (the ingress edge only)", n)
	}

	// 8 + 15 Mbps > 20Mbps on leaf1's uplinks: rejected, nothing changes.
	before := len(c.Compiled().Intents["leaf1"].Entities)
	big := req
	big.Rate, big.DstPort = "15Mbps", 5006
	if a := must(statusapi.RequestReservation(ctx, srv.URL, big)); a.Outcome != statusapi.Rejected || !strings.Contains(a.Text, "EF share") {
		t.Errorf("over the EF share: %+v", a)
	}
	if got := len(c.Compiled().Intents["leaf1"].Entities); got != before || string(must(os.ReadFile(statePath(cfg.Policy)))) != state {
		t.Errorf("a rejection changed the intent (%d → %d entities) or the state file", before, got)
	}
	bad := req
	bad.Rate = "8 parsecs"
	if a := must(statusapi.RequestReservation(ctx, srv.URL, bad)); a.Outcome != statusapi.Invalid || !strings.Contains(a.Text, "reservations[0].rate") {
		t.Errorf("bad rate: %+v", a)
	}

	// A restarted controller re-installs it from the state file.
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	c, ev, next, _ = running(t, ctx, cfg)
	srv.Config.Handler = c.api.Handler()
	rs := c.Compiled().Reservations
	if len(rs) != 1 || rs[0].ID != id || rs[0].Static || rs[0].Broken != "" || rs[0].Excess != admission.ExcessDrop {
		t.Fatalf("after restart: %+v", rs)
	}
	if n := eventually(ctx, 2, func() int { return countEntries(ctx, leaf1, schema, contract.Reservation) }); n != 2 {
		t.Errorf("after restart leaf1 holds %d reservation entries, want 2", n)
	}

	// Topology change: leaf1's uplinks at 10Mbps leave an EF share of 5Mbps.
	full := string(must(os.ReadFile(cfg.Topology)))
	slow := strings.Replace(strings.Replace(full, "{a: leaf1:3, b: spine1:1, capacity: 40Mbps", "{a: leaf1:3, b: spine1:1, capacity: 10Mbps", 1),
		"{a: leaf1:4, b: spine2:1, capacity: 40Mbps", "{a: leaf1:4, b: spine2:1, capacity: 10Mbps", 1)
	if slow == full {
		t.Fatal("test fixture: fabric.yaml's leaf1 uplinks changed")
	}
	if err := c.ApplyTopology(ctx, []byte(slow)); err != nil {
		t.Fatal(err)
	}
	br, next := ev.wait(t, ctx, next, "reservation broken", func(e Event) bool { return e.Kind == ReservationBroken })
	if br.What != id || br.Err == nil || !strings.Contains(br.Err.Error(), "EF share") {
		t.Errorf("broken event %+v", br)
	}
	if l := must(statusapi.ListReservations(ctx, srv.URL)); len(l.Reservations) != 1 || l.Reservations[0].Broken == "" || !strings.Contains(l.Text, "BROKEN "+id) {
		t.Errorf("list while broken: %+v", l)
	}
	if err := c.ApplyTopology(ctx, []byte(full)); err != nil {
		t.Fatal(err)
	}
	_, next = ev.wait(t, ctx, next, "reservation restored", func(e Event) bool { return e.Kind == ReservationRestored && e.What == id })

	// Release: the entries leave the switch, the state file empties.
	ev.waitConverged(t, ctx, next)
	next = len(ev.kinds())
	if a := must(statusapi.ReleaseReservation(ctx, srv.URL, id)); a.Outcome != statusapi.Released {
		t.Fatalf("release: %+v", a)
	}
	ev.waitConverged(t, ctx, next)
	if n := eventually(ctx, 0, func() int { return countEntries(ctx, leaf1, schema, contract.Reservation) }); n != 0 {
		t.Errorf("after release leaf1 holds %d reservation entries", n)
	}
	if got, err := admission.ParseReservations("state", must(os.ReadFile(statePath(cfg.Policy)))); err != nil || len(got) != 0 {
		t.Errorf("state after release: %v %v", got, err)
	}
	if a := must(statusapi.ReleaseReservation(ctx, srv.URL, id)); a.Outcome != statusapi.NotFound {
		t.Errorf("second release: %+v", a)
	}
}

// TestStaticReservations: the policy's reservations: section is admitted
// with the policy (one that does not fit rejects the policy, keeping the
// running intent) and cannot be released over the API.
func TestStaticReservations(t *testing.T) {
	_, entries := fabricSims(t)
	cfg, _ := testConfig(t, entries)
	ctx := testCtx(t)
	c, _, _, _ := running(t, ctx, cfg)
	policy := must(os.ReadFile(cfg.Policy))
	ok := append(append([]byte(nil), policy...), "\nreservations:\n  - {name: cam, src: h2, dst: h4, rate: 4Mbps, burst: 8KB}\n"...)
	if err := c.ApplyPolicy(ctx, ok); err != nil {
		t.Fatal(err)
	}
	rs := c.Compiled().Reservations
	if len(rs) != 1 || !rs[0].Static || rs[0].Name != "cam" || rs[0].Bound <= 0 {
		t.Fatalf("static: %+v", rs)
	}
	if a := c.releaseReservation(ctx, rs[0].ID); a.Outcome != statusapi.Invalid || !strings.Contains(a.Text, "static") {
		t.Errorf("release of a static reservation: %+v", a)
	}
	tooBig := append(append([]byte(nil), policy...), "\nreservations:\n  - {name: cam, src: h2, dst: h4, rate: 30Mbps, burst: 8KB}\n"...)
	err := c.ApplyPolicy(ctx, tooBig)
	if err == nil || !strings.Contains(err.Error(), "static reservation(s) not admitted") {
		t.Errorf("unadmittable static reservation: %v", err)
	}
	if rs := c.Compiled().Reservations; len(rs) != 1 || rs[0].TSpec.Rate != 4e6 {
		t.Errorf("the running intent changed: %+v", rs)
	}
}

// eventually polls f until it returns want or ctx ends, and returns its
// last value: a converged event may come from a reconcile that began
// before the intent changed, so the switch is polled instead.
func eventually(ctx context.Context, want int, f func() int) int {
	for {
		n := f()
		if n == want || ctx.Err() != nil {
			return n
		}
		select {
		case <-ctx.Done():
		case <-time.After(10 * time.Millisecond):
		}
	}
}

package controller

import (
	"context"
	"math"
	"net/http/httptest"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/p4qos/p4qos/admission"
	"github.com/p4qos/p4qos/compiler/contract"
	"github.com/p4qos/p4qos/controller/statusapi"
	"github.com/p4qos/p4qos/tables"
	"github.com/p4qos/p4qos/target/sim"
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

// apiFixture is a controller on the demo fabric's sims with an HTTP
// server for its status API.
type apiFixture struct {
	c       *Controller
	ctx     context.Context
	cfg     Config
	dir     string
	sims    map[string]*sim.Switch
	entries []SwitchEntry
	ev      *events
	next    int
	stop    func() error
	url     string
}

// newAPIFixture starts it; set (may be nil) changes the config first.
func newAPIFixture(t *testing.T, set func(cfg *Config, dir string), opts ...Option) *apiFixture {
	t.Helper()
	f := &apiFixture{ctx: testCtx(t)}
	f.sims, f.entries = fabricSims(t)
	f.cfg, f.dir = testConfig(t, f.entries)
	if set != nil {
		set(&f.cfg, f.dir)
	}
	f.c, f.ev, f.next, f.stop = running(t, f.ctx, f.cfg, opts...)
	srv := httptest.NewServer(f.c.api.Handler())
	t.Cleanup(srv.Close)
	f.url = srv.URL
	return f
}

// TestControlledLoadMeasuredOnSims: controlled-load admission by measured
// load, end to end on sim switches. 30Mbps of tenant a's AF41 traffic
// (class a-interactive: TCP h1→h3 port 5001) enters leaf1 and leaves on
// one of its two 40Mbps uplinks (ECMP hashes the one flow to one). The
// closed loop reads the queue counters each round; AF41 maps to queue 5.
// Limit on an uplink: target 0.9 × (40Mbps − 0 EF reserved) = 36Mbps.
//
//   - 10Mbps h1→h3: the reserved-load rule admits it (0 + 10 ≤ 36), the
//     measured one refuses it on the loaded uplink (30 + 10 = 40 > 36);
//   - 5Mbps: 30 + 5 = 35 ≤ 36, admitted;
//   - 5Mbps again: the first 5Mbps is not in the counters yet but counts
//     (window estimator): 30 + 5 + 5 = 40 > 36, refused.
func TestControlledLoadMeasuredOnSims(t *testing.T) {
	f := newAPIFixture(t, nil, WithManualLoop())
	c, ctx, cfg, entries := f.c, f.ctx, f.cfg, f.entries
	hot, _ := loadUplink(t, f)

	req := statusapi.ReservationRequest{Src: "h1", Dst: "h3", Protocol: "udp", DstPort: 6000, Rate: "10Mbps", Burst: "10KB", Service: "controlled-load"}
	// What the reserved-load rule (no measurements) says of the same request.
	offline := admission.NewLedger(c.Fabric().Topology(), c.Compiled().Policy.AdmissionParams(), nil)
	if _, err := offline.Check(must(requestOf(req))); err != nil {
		t.Fatalf("the reserved-load rule refuses 10Mbps, the test proves nothing: %v", err)
	}
	a := must(statusapi.RequestReservation(ctx, f.url, req))
	if a.Outcome != statusapi.Rejected || !strings.Contains(a.Text, "hop:      "+hot) || !strings.Contains(a.Text, "controlled-load utilisation") ||
		!strings.Contains(a.Text, "(measured 30") || !strings.Contains(a.Text, "limit:    36Mbps") {
		t.Fatalf("10Mbps over a 30Mbps measured load: %+v\n%s", a, a.Text)
	}
	t.Logf("10Mbps:\n%s", a.Text)
	if _, err := os.Stat(statePath(cfg.Policy)); !os.IsNotExist(err) {
		t.Errorf("a rejection wrote the state file: %v", err)
	}

	req.Rate = "5Mbps"
	a = must(statusapi.RequestReservation(ctx, f.url, req))
	if a.Outcome != statusapi.Admitted || !strings.Contains(a.Text, "measured") {
		t.Fatalf("5Mbps (30 + 5 ≤ 36): %+v\n%s", a, a.Text)
	}
	t.Logf("5Mbps:\n%s", a.Text)
	schema, obs := must(tables.Load(cfg.P4Info)), observer(t, entries[0].Address, 1)
	if n := eventually(ctx, 2, func() int { return countEntries(ctx, obs, schema, contract.Reservation) }); n != 2 {
		t.Errorf("leaf1 holds %d reservation entries, want 2", n)
	}
	req.DstPort = 6001
	a = must(statusapi.RequestReservation(ctx, f.url, req))
	if a.Outcome != statusapi.Rejected || !strings.Contains(a.Text, "need:     40Mbps (measured 35Mbps + new 5Mbps)") {
		t.Fatalf("second 5Mbps (30 measured + 5 admitted, unmeasured + 5 > 36): %+v\n%s", a, a.Text)
	}
}

// TestReservationTableFull: leaf1's reservation table is cut to 2 entries
// in the P4Info (the compiler reads table sizes from it). h1→h3 takes 2
// (IPv4 and IPv6: both hosts have both); h2→h4 from the same leaf needs 2
// more: refused naming leaf1 and the table, nothing installed or
// persisted. h3→h1 enters at leaf2, whose table is empty: admitted.
func TestReservationTableFull(t *testing.T) {
	f := newAPIFixture(t, func(cfg *Config, dir string) {
		info := string(must(os.ReadFile(cfg.P4Info)))
		small := strings.Replace(info, "direct_resource_ids: 360567946\n  size: 1024", "direct_resource_ids: 360567946\n  size: 2", 1)
		if small == info {
			t.Fatal("test fixture: the reservation table's size in qos.p4info.txtpb moved")
		}
		cfg.P4Info = writeFile(t, dir, "small.p4info.txtpb", small)
	})
	c, ctx, cfg, entries := f.c, f.ctx, f.cfg, f.entries
	schema, leaf1 := must(tables.Load(cfg.P4Info)), observer(t, entries[0].Address, 1)

	req := statusapi.ReservationRequest{Src: "h1", Dst: "h3", Rate: "2Mbps", Burst: "10KB"}
	if a := must(statusapi.RequestReservation(ctx, f.url, req)); a.Outcome != statusapi.Admitted {
		t.Fatalf("h1→h3: %+v", a)
	}
	if n := eventually(ctx, 2, func() int { return countEntries(ctx, leaf1, schema, contract.Reservation) }); n != 2 {
		t.Fatalf("leaf1 holds %d reservation entries, want 2", n)
	}
	state := string(must(os.ReadFile(statePath(cfg.Policy))))
	before := len(c.Compiled().Intents["leaf1"].Entities)

	req.Src, req.Dst = "h2", "h4"
	a := must(statusapi.RequestReservation(ctx, f.url, req))
	for _, want := range []string{"REJECTED g-h2-h4-", "hop:      leaf1 (ingress edge switch)", "resource: reservation table", "need:     4 entries", "limit:    2 entries", "nothing was installed"} {
		if a.Outcome != statusapi.Rejected || !strings.Contains(a.Text, want) {
			t.Errorf("h2→h4 into a full table: %s, want %q in\n%s", a.Outcome, want, a.Text)
		}
	}
	if got := len(c.Compiled().Intents["leaf1"].Entities); got != before || string(must(os.ReadFile(statePath(cfg.Policy)))) != state || len(c.Compiled().Reservations) != 1 {
		t.Errorf("the refusal changed the intent (%d → %d entities), the state file or the reservations", before, got)
	}
	if n := countEntries(ctx, leaf1, schema, contract.Reservation); n != 2 {
		t.Errorf("leaf1 holds %d reservation entries after the refusal, want 2", n)
	}
	req.Src, req.Dst = "h3", "h1"
	if a := must(statusapi.RequestReservation(ctx, f.url, req)); a.Outcome != statusapi.Admitted {
		t.Errorf("h3→h1 (leaf2's table): %+v", a)
	}
}

// TestReservationEntriesAreNotDrift: a reservation entry carries its
// direct meter's config, which a table read returns only when asked for
// (P4Runtime §9.1.7). Read without it, every reconcile saw the two
// entries as changed and rewrote them, and a new master's switches never
// matched its intent. A restarted controller (the state file gives it the
// reservation) finds leaf1 exactly as its intent: nothing to write.
func TestReservationEntriesAreNotDrift(t *testing.T) {
	f := newAPIFixture(t, nil)
	c, ctx, cfg, ev, next, stop := f.c, f.ctx, f.cfg, f.ev, f.next, f.stop
	if a := c.requestReservation(ctx, statusapi.ReservationRequest{Src: "h1", Dst: "h3", Rate: "2Mbps", Burst: "10KB"}); a.Outcome != statusapi.Admitted {
		t.Fatalf("request: %+v", a)
	}
	ev.waitConverged(t, ctx, next)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	again, err := New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	st, err := again.Once(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if l := st["leaf1"]; l.Read == 0 || l.Inserts+l.Modifies+l.Deletes != 0 {
		t.Errorf("reconciling leaf1 after a restart: %+v; want nothing to write", l)
	}
}

// TestAdmitCommandToken: with api-token set, the daemon refuses writes
// without it even on loopback; p4qos admit sends $P4QOS_API_TOKEN (or
// --api-token), and reads need none.
func TestAdmitCommandToken(t *testing.T) {
	f := newAPIFixture(t, func(cfg *Config, _ string) { cfg.APIToken = "s3cret" })
	c, ctx := f.c, f.ctx
	admit := func(args ...string) (string, error) {
		fs := pflag.NewFlagSet("admit", pflag.ContinueOnError)
		BindAdmitFlags(fs)
		if err := fs.Parse(append([]string{"--api", f.url}, args...)); err != nil {
			t.Fatal(err)
		}
		var out strings.Builder
		err := AdmitCommand(ctx, fs, fs.Args(), strings.NewReader(""), &out)
		return out.String(), err
	}
	req := []string{"request", "--src", "h1", "--dst", "h3", "--rate", "2Mbps", "--burst", "10KB"}
	t.Setenv(EnvPrefix+"API_TOKEN", "")
	if _, err := admit(req...); err == nil || !strings.Contains(err.Error(), "HTTP 401") {
		t.Fatalf("without a token: %v", err)
	}
	if _, err := admit(append([]string{"--api-token", "wrong"}, req...)...); err == nil || !strings.Contains(err.Error(), "HTTP 401") {
		t.Fatalf("with a wrong token: %v", err)
	}
	if len(c.Compiled().Reservations) != 0 {
		t.Fatal("a refused write changed the reservations")
	}
	t.Setenv(EnvPrefix+"API_TOKEN", "s3cret")
	if out, err := admit(req...); err != nil || !strings.Contains(out, "ADMITTED") {
		t.Fatalf("with $%sAPI_TOKEN: %v\n%s", EnvPrefix, err, out)
	}
	t.Setenv(EnvPrefix+"API_TOKEN", "")
	if out, err := admit("list"); err != nil || !strings.Contains(out, "g-h1-h3-") {
		t.Fatalf("list without a token: %v\n%s", err, out)
	}
}

// loadUplink sends 30Mbps of class a-interactive (queue 5, controlled
// load) from h1 to h3 through leaf1 and runs 4 rounds of the manual loop,
// so that the estimator has measured it: hot is the uplink ECMP hashed
// the flow to (30Mbps), cold the other (0).
func loadUplink(t *testing.T, f *apiFixture) (hot, cold string) {
	t.Helper()
	c, ctx := f.c, f.ctx
	leaf1 := f.sims["leaf1"]
	if err := leaf1.SetFlows([]sim.Flow{{Name: "a-web", SrcIP: netip.MustParseAddr("10.0.1.1"), DstIP: netip.MustParseAddr("10.0.2.3"),
		Proto: 6, SrcPort: 40000, DstPort: 5001, IngressPort: 1, RateBps: 30e6, PacketSize: 1000}}); err != nil {
		t.Fatal(err)
	}
	base := time.Unix(1000, 0)
	for i := range 4 { // the first read is the counters' baseline
		leaf1.Advance(time.Second)
		if _, err := c.Tick(ctx, base.Add(time.Duration(i)*time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	up := []string{"leaf1:3->spine1:1", "leaf1:4->spine2:1"}
	var loads [2]float64
	for i, h := range up {
		v, ok := c.clLoad.QueueLoad(h, admission.ControlledLoad)
		if !ok {
			t.Fatalf("%s: no measurement after 4 rounds", h)
		}
		loads[i] = v
	}
	hot, cold = up[0], up[1]
	if loads[1] > loads[0] {
		hot, cold = up[1], up[0]
	}
	t.Logf("measured controlled-load queue load: %s %.4gbps, %s %.4gbps", up[0], loads[0], up[1], loads[1])
	if hi, lo := max(loads[0], loads[1]), min(loads[0], loads[1]); hi < 29.7e6 || hi > 30.3e6 || lo != 0 {
		t.Fatalf("uplink loads %v, want 30Mbps on one and 0 on the other (the sim delivered what was sent?)", loads)
	}
	return hot, cold
}

// TestStoredControlledLoadIsCounted: in cluster mode a reservation reaches
// an instance as a stored intent revision, whoever admitted it. The
// estimator of the instance applying it must count the new flow until its
// counters have measured it, as the admitting instance does, so that a
// primary elected right after the admission does not admit against a load
// without it. The revision is applied as the intent-store watch applies
// it; applying the next revision with the same set counts nothing twice.
func TestStoredControlledLoadIsCounted(t *testing.T) {
	f := newAPIFixture(t, nil, WithManualLoop())
	c, ctx := f.c, f.ctx
	hot, cold := loadUplink(t, f)
	r := must(requestOf(statusapi.ReservationRequest{Src: "h1", Dst: "h3", Protocol: "udp", DstPort: 6000, Rate: "5Mbps", Burst: "10KB", Service: "controlled-load"}))
	want := map[string]float64{hot: 35e6, cold: 5e6} // both uplinks are ECMP paths of h1→h3
	for rev := int64(2); rev <= 3; rev++ {
		dynamic := []admission.Request{r}
		if err := c.applyUpdate(ctx, update{dynamic: &dynamic, rev: rev}); err != nil {
			t.Fatalf("revision %d: %v", rev, err)
		}
		for h, w := range want {
			got, _ := c.clLoad.QueueLoad(h, admission.ControlledLoad)
			if math.Abs(got-w) > 0.3e6 {
				t.Errorf("after revision %d: %s load %.4gbps, want %.4gbps (measured + the stored 5Mbps, once)", rev, h, got, w)
			}
		}
	}
}

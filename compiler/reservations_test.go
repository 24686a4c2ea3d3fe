package compiler

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/protobuf/proto"

	"github.com/p4qos/p4qos/admission"
	"github.com/p4qos/p4qos/compiler/contract"
	"github.com/p4qos/p4qos/tables"
)

func reservationEntries(s *tables.Schema, es []*p4v1.Entity) []*p4v1.TableEntry {
	var out []*p4v1.TableEntry
	for _, e := range es {
		if te := e.GetTableEntry(); te != nil && strings.HasSuffix(s.Name(te.TableId), "."+contract.Reservation) {
			out = append(out, te)
		}
	}
	return out
}

// TestReservations compiles admitted reservations into the example fabric
// (h1, h2 on leaf1; h3, h4 on leaf2; voice is the policy's EF class, id 2).
func TestReservations(t *testing.T) {
	s := loadSchema(t)
	tp := loadTopo(t, "fabric.yaml")
	p, err := LoadPolicy(filepath.Join(examplesPath, "fabric-policy.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	// g: 2 Mbit/s = 250,000 B/s, b 10 KB, no peak: both buckets (250000, 10000).
	g := admission.Reservation{ID: "g1", Request: admission.Request{Src: "h1", Dst: "h3", Protocol: "udp", DstPort: 5004,
		TSpec: admission.TSpec{Rate: 2e6, Burst: 10000, MaxPacket: 1500}, Service: admission.Guaranteed, Excess: admission.ExcessDrop}}
	// cl: 4 Mbit/s, peak 8 Mbit/s = 1e6 B/s with M = 1500 B; AF41, which
	// the policy's first class marking AF41 (a-interactive, id 3) counts.
	// Remarked, any port: priority 1.
	cl := admission.Reservation{ID: "cl1", Request: admission.Request{Src: "h4", Dst: "h1",
		TSpec: admission.TSpec{Rate: 4e6, Burst: 20000, Peak: 8e6, MaxPacket: 1500}, Service: admission.ControlledLoad}}
	res, err := Compile(context.Background(), p, tp, s, WithReservations([]admission.Reservation{g, cl}))
	if err != nil {
		t.Fatal(err)
	}
	for sw, want := range map[string]int{"leaf1": 2, "leaf2": 2, "spine1": 0, "spine2": 0} {
		if got := len(reservationEntries(s, res.Switches[sw])); got != want {
			t.Errorf("%s: %d reservation entries, want %d (IPv4 and IPv6 at the source's leaf only)", sw, got, want)
		}
	}
	v4 := func(a string) []byte {
		b := make([]byte, 16)
		copy(b[12:], []byte{10, 0, a[0] - '0', a[1] - '0'})
		return b
	}
	mask16 := []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	for _, tc := range []struct {
		sw      string
		matches []tables.Match
		action  tables.ActionCall
		prio    int32
		meter   tables.MeterConfig
	}{
		{"leaf1", []tables.Match{tables.Ternary(contract.KeyIPVersion, 4, 0xf), tables.Ternary(contract.KeySrc, v4("11"), mask16), tables.Ternary(contract.KeyDst, v4("23"), mask16),
			tables.Ternary(contract.KeyIPProto, 17, 0xff), tables.Ternary(contract.KeyL4DstPort, 5004, 0xffff)},
			tables.Action(contract.Reserve, tables.Param(contract.ParamClassID, 2), tables.Param(contract.ParamDSCP, 46), tables.Param(contract.ParamExcessDrop, 1)),
			4, tables.MeterConfig{CIR: 250000, CBurst: 10000, PIR: 250000, PBurst: 10000}},
		{"leaf2", []tables.Match{tables.Ternary(contract.KeyIPVersion, 4, 0xf), tables.Ternary(contract.KeySrc, v4("24"), mask16), tables.Ternary(contract.KeyDst, v4("11"), mask16)},
			tables.Action(contract.Reserve, tables.Param(contract.ParamClassID, 3), tables.Param(contract.ParamDSCP, 34), tables.Param(contract.ParamExcessDrop, 0)),
			1, tables.MeterConfig{CIR: 500000, CBurst: 20000, PIR: 1000000, PBurst: 1500}},
	} {
		want, err := s.TableEntry(contract.Reservation, tc.matches, tc.action, tables.Priority(tc.prio), tables.WithMeterConfig(&tc.meter))
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, got := range reservationEntries(s, res.Switches[tc.sw]) {
			if proto.Equal(got, want) {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: no entry %v among %v", tc.sw, want, reservationEntries(s, res.Switches[tc.sw]))
		}
	}

	// A released reservation is no longer in the intent: compiling without
	// it leaves no entry (the controller's diff deletes the installed one).
	res, err = Compile(context.Background(), p, tp, s, WithReservations([]admission.Reservation{cl}))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(reservationEntries(s, res.Switches["leaf1"])); n != 0 {
		t.Errorf("leaf1 after g1's release: %d reservation entries, want 0", n)
	}

	// Errors: an unknown host; more entries than the table holds (513
	// reservations × 2 families = 1026 > 1024 at leaf1).
	bad := g
	bad.Src = "nohost"
	if _, err := Compile(context.Background(), p, tp, s, WithReservations([]admission.Reservation{bad})); err == nil || !strings.Contains(err.Error(), "nohost") {
		t.Errorf("unknown host: %v", err)
	}
	many := make([]admission.Reservation, 513)
	for i := range many {
		many[i] = g
		many[i].DstPort = 1000 + i
	}
	_, err = Compile(context.Background(), p, tp, s, WithReservations(many))
	if err == nil || !strings.Contains(err.Error(), "1026 reservation entries") {
		t.Errorf("overfull table: %v", err)
	}
	// Typed, for the daemon's answer; still the positioned list.
	var full *TableFullError
	var list Errors
	if !errors.As(err, &full) || full.Switch != "leaf1" || full.Table != contract.Reservation || full.Need != 1026 || full.Size != 1024 || !errors.As(err, &list) {
		t.Errorf("overfull table: %#v", err)
	}
}

// TestPolicyAdmission: the admission: section sets the ledger's parameters
// (unset ones keep their defaults) and reservations: gives the static
// requests; bad values are positioned errors.
func TestPolicyAdmission(t *testing.T) {
	p, err := ParsePolicy("p.yaml", []byte(`classes: []
admission: {ef_share: 0.3, switch_latency: {bmv2: 10ms}, cl_target: 0.8, cl_window: 5s}
reservations:
  - {name: v, src: h1, dst: h3, rate: 2Mbps, burst: 10KB, out_of_profile: drop}
`))
	if err != nil {
		t.Fatal(err)
	}
	ap := p.AdmissionParams()
	if ap.EFShare != 0.3 || ap.SwitchLatency["bmv2"] != 10*time.Millisecond || ap.SwitchLatency["tofino"] != admission.DefaultSwitchLatency["tofino"] ||
		ap.CLTarget != 0.8 || ap.CLWindow != 5*time.Second {
		t.Errorf("params %+v", ap)
	}
	if rs := p.Requests(); len(rs) != 1 || rs[0].Name != "v" || rs[0].TSpec.Rate != 2e6 || rs[0].Excess != admission.ExcessDrop || rs[0].Service != admission.Guaranteed {
		t.Errorf("requests %+v", rs)
	}
	if d := admission.DefaultParams(); d.SwitchLatency["bmv2"] != time.Millisecond {
		t.Errorf("the policy changed the package defaults: %v", d.SwitchLatency)
	}
	for _, tc := range []struct{ src, want string }{
		{"classes: []\nadmission: {ef_share: 1.5}\n", "p.yaml:2:23: admission.ef_share: ef_share 1.5"},
		{"classes: []\nadmission: {switch_latency: {p4: 1ms}}\n", `admission.switch_latency.p4: unknown target "p4"`},
		{"classes: []\nadmission: {cl_target: 1.2}\n", "p.yaml:2:24: admission.cl_target: cl_target 1.2"},
		{"classes: []\nadmission: {cl_window: -1s}\n", "p.yaml:2:24: admission.cl_window: expected a duration ≥ 0"},
		{"classes: []\nreservations:\n  - {src: h1, dst: h3, rate: 2Mbps, burst: 10KB, out_of_profile: police}\n", `p.yaml:3:66: reservations[0].out_of_profile: out_of_profile "police"`},
	} {
		if _, err := ParsePolicy("p.yaml", []byte(tc.src)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want %q", tc.src, err, tc.want)
		}
	}
}

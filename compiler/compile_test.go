package compiler

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	p4configv1 "github.com/p4lang/p4runtime/go/p4/config/v1"
	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/protobuf/proto"

	"github.com/p4qos/p4qos/compiler/contract"
	"github.com/p4qos/p4qos/internal/yamlerr"
	"github.com/p4qos/p4qos/tables"
	"github.com/p4qos/p4qos/topo"
)

const (
	p4infoPath   = "../p4src/build/qos.p4info.txtpb"
	examplesPath = "../topo/examples"
)

func loadSchema(t testing.TB) *tables.Schema {
	t.Helper()
	if _, err := os.Stat(p4infoPath); err != nil {
		t.Skipf("skipping: %s is not there (built by make p4): %v", p4infoPath, err)
	}
	s, err := tables.Load(p4infoPath)
	if err != nil {
		t.Fatalf("load p4info: %v", err)
	}
	return s
}

func loadTopo(t testing.TB, name string) *topo.Topology {
	t.Helper()
	tp, err := topo.Load(filepath.Join(examplesPath, name))
	if err != nil {
		t.Fatal(err)
	}
	return tp
}

func compileString(t *testing.T, topoName, src string) (*Result, error) {
	t.Helper()
	s := loadSchema(t)
	p, err := ParsePolicy("p.yaml", []byte(src))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return Compile(context.Background(), p, loadTopo(t, topoName), s)
}

// counts tallies a switch's entities by kind and table.
func counts(s *tables.Schema, es []*p4v1.Entity) map[string]int {
	m := map[string]int{}
	for _, e := range es {
		switch x := e.Entity.(type) {
		case *p4v1.Entity_ActionProfileMember:
			m["member"]++
		case *p4v1.Entity_ActionProfileGroup:
			m["group"]++
		case *p4v1.Entity_MeterEntry:
			m["meter"]++
		case *p4v1.Entity_TableEntry:
			name := s.Name(x.TableEntry.TableId)
			name = name[strings.LastIndexByte(name, '.')+1:]
			if x.TableEntry.IsDefaultAction {
				name += "/default"
			}
			m[name]++
		}
	}
	return m
}

func TestCompileFabricPolicy(t *testing.T) {
	s := loadSchema(t)
	tp := loadTopo(t, "fabric.yaml")
	p, err := LoadPolicy(filepath.Join(examplesPath, "fabric-policy.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := Compile(context.Background(), p, tp, s)
	if err != nil {
		t.Fatal(err)
	}
	// Derived by hand in docs/policy.md ("What it compiles to").
	// color_action: voice (EF) red→drop = 1; a-interactive, a-backup and
	// b-bulk (AF, red: drop) yellow→AFx2 and red→drop = 2 each: 7.
	leaf := map[string]int{"member": 4, "group": 1, contract.Classifier: 14, contract.ColorAction: 7, contract.PHB: 64,
		contract.IPv4LPM: 4, contract.IPv6LPM: 4, contract.ECNThreshold: 32, "meter": 4, contract.Classifier + "/default": 1}
	spine := map[string]int{"member": 2, contract.PHB: 64, contract.IPv4LPM: 4, contract.IPv6LPM: 4, contract.ECNThreshold: 16, contract.Classifier + "/default": 1}
	for sw, want := range map[string]map[string]int{"leaf1": leaf, "leaf2": leaf, "spine1": spine, "spine2": spine} {
		got := counts(s, res.Switches[sw])
		for k, n := range want {
			if got[k] != n {
				t.Errorf("%s: %d %s, want %d", sw, got[k], k, n)
			}
		}
		if len(got) != len(want) {
			t.Errorf("%s: kinds %v, want %v", sw, got, want)
		}
		for _, e := range res.Switches[sw] {
			if err := s.ValidateEntity(e); err != nil {
				t.Errorf("%s: invalid entity %s: %v", sw, s.Describe(e), err)
			}
		}
	}
	// Allocation, by hand: effective functions a-web 2f (tenant a's 3f
	// split 1:0.5), a-backup 1f, b-sync min(f, 30M). Each is split 1/2 over
	// the two leaf1 uplinks of 40Mbps, so each uplink carries
	// (2f + f + f)/2 = 2f and saturates at f = 20: 40, 20, 20 Mbps.
	want := map[string]float64{"a-web": 40e6, "a-backup": 20e6, "b-sync": 20e6}
	for _, fg := range res.Allocation.FlowGroups {
		if math.Abs(fg.Rate-want[fg.Name]) > 1 {
			t.Errorf("%s: %g, want %g", fg.Name, fg.Rate, want[fg.Name])
		}
	}
	// Meters: voice 2Mbps = 250000 B/s, cbs 3KB = 3000 B, pbs defaults to
	// max(250000 B/s × 10ms = 2500, cbs) = 3000. a-interactive follows a-web,
	// 40Mbps = 5e6 B/s, bursts 10ms = 50000 B. a-backup follows a-backup,
	// 20Mbps = 2.5e6 B/s, bursts 25000 B. b-bulk follows tenant b's
	// 20Mbps = 2.5e6 B/s, cbs 25000 B, pbs given as 64KB = 64000 B.
	wantMeter := map[string]tables.MeterConfig{
		"voice":         {CIR: 250000, CBurst: 3000, PIR: 250000, PBurst: 3000},
		"a-interactive": {CIR: 5000000, CBurst: 50000, PIR: 5000000, PBurst: 50000},
		"a-backup":      {CIR: 2500000, CBurst: 25000, PIR: 2500000, PBurst: 25000},
		"b-bulk":        {CIR: 2500000, CBurst: 25000, PIR: 2500000, PBurst: 64000},
	}
	for _, c := range res.Classes {
		w, metered := wantMeter[c.Name]
		if metered != (c.Meter != nil) || metered && *c.Meter != w {
			t.Errorf("class %s meter %+v, want %+v", c.Name, c.Meter, w)
		}
	}
	if res.Classes[1].Name != "voice" || res.Classes[1].ID != 2 || res.Classes[1].Queue != 7 {
		t.Errorf("voice class %+v", res.Classes[1])
	}
}

// TestEntityOrder checks the dependency order of each switch's list.
func TestEntityOrder(t *testing.T) {
	s := loadSchema(t)
	p, _ := LoadPolicy(filepath.Join(examplesPath, "fabric-policy.yaml"))
	res, err := Compile(context.Background(), p, loadTopo(t, "fabric.yaml"), s)
	if err != nil {
		t.Fatal(err)
	}
	rank := func(e *p4v1.Entity) int {
		switch x := e.Entity.(type) {
		case *p4v1.Entity_ActionProfileMember:
			return 0
		case *p4v1.Entity_ActionProfileGroup:
			return 1
		case *p4v1.Entity_TableEntry:
			if x.TableEntry.IsDefaultAction {
				return 4
			}
			return 2
		case *p4v1.Entity_MeterEntry:
			return 3
		}
		return 9
	}
	for sw, es := range res.Switches {
		for i := 1; i < len(es); i++ {
			if rank(es[i]) < rank(es[i-1]) {
				t.Errorf("%s: %s after %s", sw, s.Describe(es[i]), s.Describe(es[i-1]))
			}
		}
	}
}

func TestCompileErrors(t *testing.T) {
	src := `classes:
  - name: web
    match: {dst: 10.0.2.0/24, protocol: tcp}
    phb: AF11
  - name: web-h3
    match: {dst: 10.0.2.3, protocol: tcp, dst_port: 80}
    phb: AF21
  - name: hidden
    precedence: 50
    match: {dst: 10.0.2.3, protocol: tcp, dst_port: 80-90}
    phb: AF31
  - name: v6only
    match: {src: h1, dst: "2001:db8:9::/48", dscp: 1}
    phb: DF
    precedence: 7
  - name: port
    match: {ingress_port: 9}
    switches: [leaf1, leaf9]
    phb: DF
    precedence: 8
tenants:
  - name: t
    flow_groups: [{name: f, src: h1, dst: h7}]
queues:
  ports: [{switch: spine1, port: 3, ecn_threshold: 1000000}]
`
	_, err := compileString(t, "fabric.yaml", src)
	var list yamlerr.List
	if !errors.As(err, &list) {
		t.Fatalf("want yamlerr.List, got %T %v", err, err)
	}
	at := func(line int, token string) string { return posOf(t, src, line, token) }
	want := []string{
		at(5, "name: web-h3") + `classes[1].precedence: class "web-h3" overlaps class "web" (classes[0]) at equal precedence 100`,
		at(10, "{dst") + `classes[2].match: class "hidden" can never hit: its match is covered by higher-precedence classes such as "web" (precedence 100 > 50)`,
		at(17, "9}") + `classes[4].match[0].ingress_port: port 9 is not cabled`,
		at(18, "leaf9") + `classes[4].switches[1]: unknown switch "leaf9"`,
		at(23, "h7") + `tenants[0].flow_groups[0].dst: unknown host "h7"`,
		at(25, "3,") + `queues.ports[0].port: port 3 is not cabled on switch "spine1"`,
		at(25, "1000000") + `queues.ports[0].ecn_threshold: expected a threshold 0..524287 packets`,
	}
	if len(list) != len(want) {
		t.Fatalf("got %d errors:\n%v", len(list), list)
	}
	for i, w := range want {
		if !strings.HasPrefix(list[i].Error(), w) {
			t.Errorf("error %d:\n got %s\nwant %s…", i, list[i], w)
		}
	}
}

// TestNoCommonVersion: the triangle's hosts are IPv4-only, so a host
// source with an IPv6 destination leaves no classifier entry.
func TestNoCommonVersion(t *testing.T) {
	_, err := compileString(t, "triangle.yaml", "classes:\n  - {name: x, phb: DF, match: {src: h1, dst: \"2001:db8::/32\"}}\n")
	src := "classes:\n  - {name: x, phb: DF, match: {src: h1, dst: \"2001:db8::/32\"}}\n"
	if err == nil || !strings.Contains(err.Error(), posOf(t, src, 2, "{src")+"classes[0].match[0]: the match can never hit: its src and dst have no IP version in common") {
		t.Errorf("got %v", err)
	}
}

func TestCompileRejectsWrongP4Info(t *testing.T) {
	s := loadSchema(t)
	info := s.P4Info()
	// A schema without the phb table is not the qos pipeline.
	cut := proto.Clone(info).(*p4configv1.P4Info)
	for i, tb := range cut.Tables {
		if strings.HasSuffix(tb.Preamble.Name, "."+contract.PHB) {
			cut.Tables = append(cut.Tables[:i], cut.Tables[i+1:]...)
			break
		}
	}
	bad, err := tables.New(cut)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := ParsePolicy("p.yaml", []byte("classes: [{name: a, phb: EF}]\n"))
	_, err = Compile(context.Background(), p, loadTopo(t, "single.yaml"), bad)
	if !errors.Is(err, ErrSchema) || !strings.Contains(err.Error(), "table phb") {
		t.Errorf("got %v", err)
	}
}

// TestWCMP works the fabric's WCMP weights out by hand.
func TestWCMP(t *testing.T) {
	src := `classes: [{name: be, phb: DF}]
tenants:
  - name: a
    weight: 3
    flow_groups:
      - {name: a-web, src: h1, dst: h3}
      - {name: a-backup, src: h1, dst: h4, weight: 0.5}
  - name: b
    demand: 30Mbps
    flow_groups:
      - {name: b-sync, src: h2, dst: h4, demand: 5Mbps}
routing: {mode: wcmp}
`
	res, err := compileString(t, "fabric.yaml", src)
	if err != nil {
		t.Fatal(err)
	}
	// Preferred mode over the equal-cost paths, spine1 first. Effective
	// functions: a-web 2f, a-backup f, b-sync min(f, 5M). Path 1 (leaf1:3,
	// 40Mbps) grows at 4/f until b-sync is satisfied at f=5 (20Mbps), then
	// at 3/f: saturated at f = 5 + 20/3 = 11.667 with a-web 23.333,
	// a-backup 11.667, b-sync 5. Then path 2 (leaf1:4) takes a-web and
	// a-backup at 3/f: 40Mbps more at f = 11.667 + 13.333: a-web +26.667,
	// a-backup +13.333.
	//
	// Weights (allocator.QuantizeWeights: the total ≤ 64 with the smallest
	// deviation from the rate shares):
	// leaf1 → h3 (a-web): 23.333 : 26.667 = 7/15 : 8/15, exact at 7 : 8.
	// leaf1 → h4 (a-backup + b-sync): 11.667 + 5 = 16.667 : 13.333 =
	// 5/9 : 4/9, exact at 5 : 4.
	s := loadSchema(t)
	weights := map[string][]int32{}
	groupOf := map[uint32][]int32{}
	for _, e := range res.Switches["leaf1"] {
		if g := e.GetActionProfileGroup(); g != nil {
			for _, m := range g.Members {
				groupOf[g.GroupId] = append(groupOf[g.GroupId], m.Weight)
			}
		}
	}
	for _, e := range res.Switches["leaf1"] {
		te := e.GetTableEntry()
		if te == nil || !strings.HasSuffix(s.Name(te.TableId), "."+contract.IPv4LPM) {
			continue
		}
		if g := te.Action.GetActionProfileGroupId(); g != 0 {
			dst := te.Match[0].GetLpm().Value
			weights[string(rune(dst[3]))] = groupOf[g]
		}
	}
	if w := weights["\x03"]; len(w) != 2 || w[0] != 7 || w[1] != 8 {
		t.Errorf("leaf1→h3 weights %v, want [7 8]", w)
	}
	if w := weights["\x04"]; len(w) != 2 || w[0] != 5 || w[1] != 4 {
		t.Errorf("leaf1→h4 weights %v, want [5 4]", w)
	}
}

func TestWCMPWeights(t *testing.T) {
	hops := []topo.Edge{{FromPort: 1}, {FromPort: 2}, {FromPort: 3}}
	tests := []struct {
		rates map[uint32]float64
		limit int
		ports []uint32
		ws    []int
	}{
		// 1:1:1 is exact with total 3.
		{map[uint32]float64{1: 1, 2: 1, 3: 1}, 64, []uint32{1, 2, 3}, []int{1, 1, 1}},
		// Port 2 carries nothing: left out; 3:1 is exact at 3 + 1.
		{map[uint32]float64{1: 3e6, 3: 1e6}, 64, []uint32{1, 3}, []int{3, 1}},
		// 1:2 with a total ≤ 2 cannot be exact: total 1 gives 0:1 (max
		// error 1/3), total 2 gives 1:1 (max error 1/6), the best.
		{map[uint32]float64{1: 1, 2: 2}, 2, []uint32{1, 2}, []int{1, 1}},
		// Nothing allocated: plain ECMP.
		{nil, 64, []uint32{1, 2, 3}, nil},
	}
	for _, tc := range tests {
		out, ws := wcmpWeights(hops, tc.rates, tc.limit)
		var ports []uint32
		for _, e := range out {
			ports = append(ports, e.FromPort)
		}
		if !equal(ports, tc.ports) || !equal(ws, tc.ws) {
			t.Errorf("%v: ports %v weights %v, want %v %v", tc.rates, ports, ws, tc.ports, tc.ws)
		}
	}
}

func equal[T comparable](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestClassLimit(t *testing.T) {
	var b strings.Builder
	b.WriteString("classes:\n")
	for i := 0; i < 256; i++ {
		b.WriteString("  - {name: c" + itoa(i) + ", phb: DF, precedence: " + itoa(i+1) + ", match: {dscp: " + itoa(i%64) + "}}\n")
	}
	_, err := compileString(t, "single.yaml", b.String())
	// 256 classes need ids 1..256, but class_id is bit<8> and class_meter
	// has 256 cells (0..255).
	if err == nil || !strings.Contains(err.Error(), "256 classes, but the pipeline's class ids go up to 255") {
		t.Errorf("got %v", err)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

// posOf is "p.yaml:LINE:COL: " for the first occurrence of token on the
// 1-based line of src.
func posOf(t *testing.T, src string, line int, token string) string {
	t.Helper()
	l := strings.Split(src, "\n")[line-1]
	col := strings.Index(l, token)
	if col < 0 {
		t.Fatalf("token %q not on line %d", token, line)
	}
	return "p.yaml:" + strconv.Itoa(line) + ":" + strconv.Itoa(col+1) + ": "
}

// TestCompileConcurrent: Compile only reads the policy and topology, so the
// controller may recompile while another compilation runs (go test -race).
func TestCompileConcurrent(t *testing.T) {
	s := loadSchema(t)
	tp := loadTopo(t, "fabric.yaml")
	p, err := LoadPolicy(filepath.Join(examplesPath, "fabric-policy.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 4)
	for i := 0; i < 4; i++ {
		go func(i int) {
			_, err := Compile(context.Background(), p, tp, s, WithDemands(map[string]float64{"a-web": float64(i+1) * 1e6}))
			errs <- err
		}(i)
	}
	for i := 0; i < 4; i++ {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

func TestMeterConfigFor(t *testing.T) {
	b := func(v Bytes) *Bytes { return &v }
	tests := []struct {
		name     string
		cir, pir float64
		cbs, pbs *Bytes
		want     tables.MeterConfig
	}{
		// 1Mbps = 125000 B/s; 10 ms of it is 1250 B, below the 3000 B
		// minimum; PIR = CIR, PBS = max(1250, CBS) = 3000.
		{"small", 1e6, 0, nil, nil, tables.MeterConfig{CIR: 125000, CBurst: 3000, PIR: 125000, PBurst: 3000}},
		// 80/100Mbps = 1e7/1.25e7 B/s; 10 ms: 100000 and 125000 B.
		{"two rates", 80e6, 100e6, nil, nil, tables.MeterConfig{CIR: 10000000, CBurst: 100000, PIR: 12500000, PBurst: 125000}},
		// PIR below CIR is raised to it; a given CBS larger than the
		// default PBS pulls the default PBS up.
		{"raised", 8e6, 1e6, b(50000), nil, tables.MeterConfig{CIR: 1000000, CBurst: 50000, PIR: 1000000, PBurst: 50000}},
		// Rates round down: 8000001 bit/s is 1000000.125 B/s → 1000000;
		// bursts round up: 10 ms is 10000.00125 B → 10001.
		{"rounding", 8000001, 0, nil, b(7000), tables.MeterConfig{CIR: 1000000, CBurst: 10001, PIR: 1000000, PBurst: 7000}},
	}
	for _, tc := range tests {
		if got := MeterConfigFor(tc.cir, tc.pir, tc.cbs, tc.pbs); *got != tc.want {
			t.Errorf("%s: %+v, want %+v", tc.name, *got, tc.want)
		}
	}
}

// TestWatchPorts: with WithWatchPorts every group member watches the port
// its member's set_next_hop sends to; without it none watches anything.
func TestWatchPorts(t *testing.T) {
	s := loadSchema(t)
	p, _ := LoadPolicy(filepath.Join(examplesPath, "fabric-policy.yaml"))
	for _, watch := range []bool{false, true} {
		var opts []Option
		if watch {
			opts = append(opts, WithWatchPorts())
		}
		res, err := Compile(context.Background(), p, loadTopo(t, "fabric.yaml"), s, opts...)
		if err != nil {
			t.Fatal(err)
		}
		groups := 0
		for sw, es := range res.Switches {
			port := map[uint32][]byte{}
			for _, e := range es {
				if m := e.GetActionProfileMember(); m != nil {
					for _, prm := range m.GetAction().GetParams() {
						if prm.GetParamId() == 1 { // set_next_hop(port, smac, dmac)
							port[m.GetMemberId()] = prm.GetValue()
						}
					}
				}
			}
			for _, e := range es {
				for _, gm := range e.GetActionProfileGroup().GetMembers() {
					groups++
					got := gm.GetWatchPort()
					if watch && (len(got) == 0 || string(got) != string(port[gm.GetMemberId()])) {
						t.Errorf("%s: member %d watches %x, its next hop is port %x", sw, gm.GetMemberId(), got, port[gm.GetMemberId()])
					}
					if !watch && gm.GetWatchKind() != nil {
						t.Errorf("%s: member %d watches %v without WithWatchPorts", sw, gm.GetMemberId(), gm.GetWatchKind())
					}
				}
			}
		}
		if groups == 0 {
			t.Fatal("the fabric compiled without ECMP groups: the test checks nothing")
		}
	}
}

package topo

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/p4qos/p4qos/internal/yamlerr"
)

func loadExample(t *testing.T, name string) *Topology {
	t.Helper()
	topo, err := Load(filepath.Join("examples", name))
	if err != nil {
		t.Fatalf("load %s: %v", name, err)
	}
	return topo
}

func TestExamplesLoad(t *testing.T) {
	tests := []struct {
		file                   string
		switches, hosts, links int
		target                 Target
	}{
		{"fabric.yaml", 4, 4, 4, TargetSim},
		{"single.yaml", 1, 3, 0, TargetBMv2},
		{"triangle.yaml", 3, 3, 3, TargetBMv2},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			topo := loadExample(t, tc.file)
			if len(topo.Switches) != tc.switches || len(topo.Hosts) != tc.hosts || len(topo.Links) != tc.links {
				t.Fatalf("got %d switches, %d hosts, %d links", len(topo.Switches), len(topo.Hosts), len(topo.Links))
			}
			for _, s := range topo.Switches {
				if s.Target != tc.target {
					t.Errorf("%s: target %s, want %s", s.Name, s.Target, tc.target)
				}
			}
		})
	}
}

func TestFabricDetails(t *testing.T) {
	topo := loadExample(t, "fabric.yaml")
	leaf1, ok := topo.Switch("leaf1")
	if !ok {
		t.Fatal("no leaf1")
	}
	if leaf1.Address != "127.0.0.1:50051" {
		t.Errorf("leaf1 address %s", leaf1.Address)
	}
	// device id 1 → 02:00:00 + 00:00:01.
	if got := leaf1.RouterMAC().String(); got != "02:00:00:00:00:01" {
		t.Errorf("leaf1 router MAC %s", got)
	}
	h3, _ := topo.Host("h3")
	if h3.IPv4.String() != "10.0.2.3/24" || h3.Gateway.String() != "10.0.2.254" || h3.Link.Capacity != 100e6 {
		t.Errorf("h3 = %+v", h3)
	}
	if got := topo.Ports("leaf1"); len(got) != 4 || got[0] != 1 || got[3] != 4 {
		t.Errorf("leaf1 ports %v, want [1 2 3 4]", got)
	}
	// Host link capacity defaults to 1Gbps where not given (triangle).
	tri := loadExample(t, "triangle.yaml")
	h1, _ := tri.Host("h1")
	if h1.Link.Capacity != DefaultHostLinkCapacity {
		t.Errorf("default host capacity %v", h1.Link.Capacity)
	}
}

func TestDeviceIDDerivedMAC(t *testing.T) {
	s := &Switch{DeviceID: 0x123456789}
	// Only the low 24 bits are used: 0x456789.
	if got := s.RouterMAC().String(); got != "02:00:00:45:67:89" {
		t.Errorf("got %s", got)
	}
	s.MAC = MAC{0, 1, 2, 3, 4, 5}
	if got := s.RouterMAC().String(); got != "00:01:02:03:04:05" {
		t.Errorf("explicit MAC ignored: %s", got)
	}
}

// TestErrors checks that every problem in a file is reported, each at its
// own line and column with its YAML path.
func TestErrors(t *testing.T) {
	const src = `name: bad
switches:
  - {name: s1, device_id: 1, address: 127.0.0.1:50051, target: sim}
  - {name: s1, device_id: 1, address: "nope", target: p4}
  - name: s3
    device_id: 3
    address: 127.0.0.1:50053
    target: bmv2
    colour: red
hosts:
  - {name: h1, ipv4: 10.0.1.1/24, mac: 00:00:0a:00:01:01, switch: s1, port: 1, gateway: 10.0.9.1}
  - {name: h2, ipv4: 10.0.1.300/24, mac: 00:00:0a:00:01:02, switch: s9, port: 1}
  - {name: h3, ipv4: 10.0.1.3/24, mac: 01:00:0a:00:01:03, switch: s3, port: 600}
links:
  - {a: s1:1, b: s3:1, capacity: 10Gbps}
  - {a: s1:2, b: s1:3, capacity: 10Gbps}
  - {a: s1:4, b: s3:4, capacity: fast, loss: 101}
  - {a: s1, b: h1:1, capacity: 1Gbps}
`
	_, err := Parse("bad.yaml", []byte(src))
	var list yamlerr.List
	if !errors.As(err, &list) {
		t.Fatalf("want yamlerr.List, got %T %v", err, err)
	}
	// Decode errors come first; this file has only decode-level problems
	// on these lines, so semantic checks are not reached.
	// at(line, token) is where token starts on the 1-based line: computed
	// from the source, so the expected positions are not copied from the
	// output.
	at := func(src string, line int, token string) string {
		l := strings.Split(src, "\n")[line-1]
		col := strings.Index(l, token)
		if col < 0 {
			t.Fatalf("token %q not on line %d", token, line)
		}
		return "bad.yaml:" + itoa(line) + ":" + itoa(col+1) + ": "
	}
	// Decode errors (wrong types, unknown keys) and semantic errors are
	// reported together, in file order.
	want := []string{
		at(src, 4, "s1") + "switches[1].name: duplicate node name \"s1\"",
		at(src, 4, "1, addr") + "switches[1].device_id: device_id 1 is already used by switch \"s1\"",
		at(src, 4, "\"nope") + "switches[1].address: expected host:port",
		at(src, 4, "p4") + "switches[1].target: expected bmv2, tofino or sim, got \"p4\"",
		at(src, 9, "colour") + "switches[2].colour: unknown key \"colour\"",
		at(src, 11, "10.0.9.1") + "hosts[0].gateway: gateway 10.0.9.1 is outside the host's subnet 10.0.1.0/24",
		at(src, 12, "10.0.1.300") + "hosts[1].ipv4: expected an address with prefix length",
		at(src, 12, "s9") + "hosts[1].switch: unknown switch \"s9\"",
		at(src, 13, "01:00") + "hosts[2].mac: expected a unicast MAC",
		at(src, 13, "600") + "hosts[2].port: expected a port 0..511, got 600",
		at(src, 15, "s1:1") + "links[0].a: port s1:1 is already used by hosts[0]",
		at(src, 16, "{") + "links[1]: link connects switch \"s1\" to itself",
		// Only the decode error for capacity: "missing capacity" would be
		// a follow-on error.
		at(src, 17, "fast") + "links[2].capacity: expected a rate such as 10Gbps",
		at(src, 17, "101") + "links[2].loss: expected a loss percentage 0..100, got 101",
		at(src, 18, "s1,") + "links[3].a: expected switch:port such as leaf1:3, got \"s1\"",
		at(src, 18, "h1:1") + "links[3].b: \"h1\" is a host",
	}
	checkErrors(t, list, want)
}

func itoa(i int) string { return strconv.Itoa(i) }

func checkErrors(t *testing.T, got yamlerr.List, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("got %d errors, want %d:\n%v", len(got), len(want), got)
	}
	for i := 0; i < len(got) && i < len(want); i++ {
		if !strings.HasPrefix(got[i].Error(), want[i]) {
			t.Errorf("error %d:\n got %s\nwant %s…", i, got[i], want[i])
		}
	}
}

func TestDisconnected(t *testing.T) {
	const src = `switches:
  - {name: s1, device_id: 1, address: 127.0.0.1:1, target: sim}
  - {name: s2, device_id: 2, address: 127.0.0.1:2, target: sim}
hosts:
  - {name: h1, ipv4: 10.0.0.1/24, mac: 00:00:00:00:00:01, switch: s1, port: 1}
  - {name: h2, ipv4: 10.0.0.2/24, mac: 00:00:00:00:00:02, switch: s2, port: 1}
`
	_, err := Parse("d.yaml", []byte(src))
	if err == nil || !strings.Contains(err.Error(), "d.yaml:6:5: hosts[1]: host \"h2\" cannot reach host \"h1\"") {
		t.Fatalf("got %v", err)
	}
}

func TestEmptyAndGarbage(t *testing.T) {
	for _, src := range []string{"", "- 1\n- 2\n", "switches: [", "a: b\n---\nc: d\n", "switches: *x\n"} {
		if _, err := Parse("x.yaml", []byte(src)); err == nil {
			t.Errorf("%q: no error", src)
		}
	}
}

func TestMissingRequired(t *testing.T) {
	const src = `switches:
  - {device_id: 1}
hosts:
  - {name: h1, switch: s1}
links:
  - {capacity: 1Gbps}
`
	_, err := Parse("m.yaml", []byte(src))
	var list yamlerr.List
	if !errors.As(err, &list) {
		t.Fatalf("got %v", err)
	}
	// A flow mapping's position is its "{", column 5 after "  - ".
	want := []string{
		"m.yaml:2:5: switches[0]: missing name",
		"m.yaml:2:5: switches[0]: missing target",
		"m.yaml:2:5: switches[0]: missing address",
		"m.yaml:4:5: hosts[0]: missing ipv4 or ipv6",
		"m.yaml:4:5: hosts[0]: missing mac",
		"m.yaml:4:24: hosts[0].switch: unknown switch", // s1 has no name, so it does not exist
		"m.yaml:6:5: links[0]: missing a",
		"m.yaml:6:5: links[0]: missing b",
	}
	var got []string
	for _, e := range list {
		got = append(got, e.Error())
	}
	for _, w := range want {
		found := false
		for _, g := range got {
			if strings.HasPrefix(g, w) {
				found = true
			}
		}
		if !found {
			t.Errorf("missing %q in:\n%s", w, strings.Join(got, "\n"))
		}
	}
}

// TestDocExample keeps the example at the top of docs/topology.md valid.
func TestDocExample(t *testing.T) {
	doc, err := os.ReadFile("../docs/topology.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(doc)
	i := strings.Index(s, "```yaml\n")
	j := strings.Index(s[i+8:], "```")
	if i < 0 || j < 0 {
		t.Fatal("no yaml block in docs/topology.md")
	}
	tp, err := Parse("docs/topology.md", []byte(s[i+8:i+8+j]))
	if err != nil {
		t.Fatal(err)
	}
	sp, _ := tp.Switch("spine1")
	if sp.RouterMAC().String() != "02:aa:00:00:00:03" || len(tp.Links) != 1 {
		t.Errorf("unexpected: %+v", sp)
	}
}

package mininet

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/p4qos/p4qos/topo"
)

func TestBuildSpecFabric(t *testing.T) {
	tp, err := topo.Load("../examples/fabric.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s, err := BuildSpec(tp, "/x/simple_switch_grpc", "/run/p4qos/lab-fabric")
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Switches) != 4 || len(s.Hosts) != 4 || len(s.Links) != 4 {
		t.Fatalf("spec has %d switches, %d hosts, %d links; want 4, 4, 4", len(s.Switches), len(s.Hosts), len(s.Links))
	}
	ports := map[int]bool{}
	for _, sw := range s.Switches {
		if ports[sw.ThriftPort] {
			t.Errorf("thrift port %d used twice", sw.ThriftPort)
		}
		ports[sw.ThriftPort] = true
	}
	h1 := s.Hosts[0]
	leaf1, _ := tp.Switch("leaf1")
	if h1.GatewayMAC != leaf1.RouterMAC().String() {
		t.Errorf("h1 gateway MAC %s, want leaf1's router MAC %s", h1.GatewayMAC, leaf1.RouterMAC())
	}
	// 100Mbps access links and 40Mbps fabric links are shaped in Mbit/s.
	if h1.BwMbps != 100 || s.Links[0].BwMbps != 40 || s.Links[0].Delay != "1ms" {
		t.Errorf("shaping: host %v Mbps, link %v Mbps %q; want 100, 40, 1ms", h1.BwMbps, s.Links[0].BwMbps, s.Links[0].Delay)
	}
}

func TestBuildSpecRejectsNonLoopback(t *testing.T) {
	tp, err := topo.Parse("t.yaml", []byte(`name: t
switches:
  - {name: s1, device_id: 1, address: "10.0.0.1:50051", target: bmv2}
hosts:
  - {name: h1, ipv4: 10.0.1.1/24, mac: "00:00:00:00:00:01", switch: s1, port: 1}
links: []
`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := BuildSpec(tp, "bmv2", "/tmp/x"); err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Fatalf("BuildSpec = %v; want an error asking for a loopback address", err)
	}
}

func TestBuildSpecSameSubnetNeighbors(t *testing.T) {
	tp, err := topo.Load("../examples/fabric.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s, err := BuildSpec(tp, "bmv2", "/tmp/x")
	if err != nil {
		t.Fatal(err)
	}
	// h1 (10.0.1.1/24, 2001:db8:1::1/64) shares both subnets with h2 only.
	var got []string
	for _, n := range s.Hosts[0].Neighbors {
		got = append(got, n.IP+"="+n.MAC)
	}
	want := "10.0.1.2=00:00:0a:00:01:02 2001:db8:1::2=00:00:0a:00:01:02"
	if strings.Join(got, " ") != want {
		t.Errorf("h1 neighbours = %v, want %s", got, want)
	}
}

func TestBuildSpecNoLinksIsEmptyList(t *testing.T) {
	tp, err := topo.Load("../examples/single.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s, err := BuildSpec(tp, "bmv2", "/tmp/x")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(s)
	// lab.py iterates the lists: null would crash it.
	if !strings.Contains(string(b), `"links":[]`) {
		t.Errorf("a topology without links gives %s; want \"links\":[]", b)
	}
}

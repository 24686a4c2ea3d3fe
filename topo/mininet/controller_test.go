package mininet

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/p4qos/p4qos/topo"
)

func TestStripNetem(t *testing.T) {
	s := &Spec{
		Hosts: []HostSpec{{Name: "h1", BwMbps: 100, Delay: "2ms"}, {Name: "h2", BwMbps: 100}},
		Links: []LinkSpec{{A: "s1", B: "s2", BwMbps: 40, Delay: "1ms", Loss: 1}},
	}
	if n := stripNetem(s); n != 2 {
		t.Errorf("stripNetem = %d links, want 2 (h1's and s1-s2)", n)
	}
	if s.Hosts[0].Delay != "" || s.Links[0].Delay != "" || s.Links[0].Loss != 0 {
		t.Errorf("delay/loss left: %+v %+v", s.Hosts, s.Links)
	}
	if s.Hosts[0].BwMbps != 100 || s.Links[0].BwMbps != 40 {
		t.Errorf("capacities changed: %+v %+v", s.Hosts, s.Links)
	}
}

func TestBuildSpecRejectsPortClash(t *testing.T) {
	for _, addr := range []string{"127.0.0.1:9090", "127.0.0.1:9464"} {
		tp, err := topo.Parse("t.yaml", []byte(`name: t
switches:
  - {name: s1, device_id: 1, address: "`+addr+`", target: bmv2}
hosts:
  - {name: h1, ipv4: 10.0.1.1/24, mac: "00:00:00:00:00:01", switch: s1, port: 1}
links: []
`))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := BuildSpec(tp, "bmv2", "/tmp/x"); err == nil || !strings.Contains(err.Error(), "taken") {
			t.Errorf("%s: BuildSpec = %v; want a port clash error", addr, err)
		}
	}
}

func TestControllerConfigRoundTrip(t *testing.T) {
	tp, err := topo.Load("../examples/fabric.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	l := New(tp, WithStateRoot(dir), WithBMv2("/x/simple_switch_grpc"),
		WithController(Controller{Binary: "/x/p4qos", Policy: "../examples/fabric-policy.yaml", P4Info: "p.txtpb", BMv2JSON: "q.json"}))
	if err := os.MkdirAll(l.StateDir(), 0o700); err != nil {
		t.Fatal(err)
	}
	cfgPath, err := l.writeControllerConfig()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(cfgPath)
	if !strings.Contains(string(b), "topology: "+filepath.Join(l.StateDir(), "topology.yaml")) {
		t.Errorf("config does not use the lab's topology copy:\n%s", b)
	}
	// The fabric's switches are `target: sim` in the topology; in the lab
	// they are BMv2 and the controller must treat them so.
	lt, err := topo.Load(filepath.Join(l.StateDir(), "topology.yaml"))
	if err != nil {
		t.Fatalf("the lab's topology copy does not load: %v", err)
	}
	if len(lt.Switches) != 4 {
		t.Fatalf("copy has %d switches", len(lt.Switches))
	}
	for i, sw := range lt.Switches {
		if sw.Target != topo.TargetBMv2 || sw.DeviceID != tp.Switches[i].DeviceID || sw.Address != tp.Switches[i].Address {
			t.Errorf("switch %s in the copy: target %s, device %d, address %s", sw.Name, sw.Target, sw.DeviceID, sw.Address)
		}
	}
	rc, err := l.Running()
	if err != nil {
		t.Fatal(err)
	}
	if !filepath.IsAbs(rc.Policy) || !strings.HasSuffix(rc.Policy, "topo/examples/fabric-policy.yaml") || !filepath.IsAbs(rc.P4Info) {
		t.Errorf("paths not absolute: policy %q p4info %q", rc.Policy, rc.P4Info)
	}
	if len(rc.Switches) != 4 || rc.Switches[2].Name != "spine1" || rc.Switches[2].Address != "127.0.0.1:50053" || rc.Switches[2].DeviceID != 3 {
		t.Errorf("switches = %+v", rc.Switches)
	}
	sel, err := SelectSwitches(rc.Switches, []string{"leaf2"})
	if err != nil || len(sel) != 1 || sel[0].DeviceID != 2 {
		t.Errorf("SelectSwitches(leaf2) = %+v, %v", sel, err)
	}
	if _, err := SelectSwitches(rc.Switches, []string{"nope"}); err == nil {
		t.Error("SelectSwitches accepted an unknown switch")
	}
}

func TestControllerMissingFiles(t *testing.T) {
	c := Controller{Binary: "/nonexistent/p4qos", P4Info: "", BMv2JSON: "/nonexistent/qos.json"}
	got := strings.Join(c.missing(), "\n")
	for _, want := range []string{"p4qos binary /nonexistent/p4qos is missing", "needs a P4Info", "BMv2 JSON /nonexistent/qos.json is missing: compile"} {
		if !strings.Contains(got, want) {
			t.Errorf("missing() lacks %q:\n%s", want, got)
		}
	}
	// No policy is fine: the lab writes DefaultPolicy.
	if strings.Contains(got, "policy") {
		t.Errorf("an absent policy was reported missing:\n%s", got)
	}
}

func TestRunningWithoutController(t *testing.T) {
	tp, err := topo.Load("../examples/single.yaml")
	if err != nil {
		t.Fatal(err)
	}
	l := New(tp, WithStateRoot(t.TempDir()))
	if _, err := l.Running(); err == nil || !strings.Contains(err.Error(), "runs no controller") {
		t.Errorf("Running() = %v; want a 'runs no controller' error", err)
	}
}

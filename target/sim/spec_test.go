package sim

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFleetSpecInstances(t *testing.T) {
	const fabric = "../../topo/examples/fabric.yaml"
	flows := filepath.Join(t.TempDir(), "flows.yaml")
	if err := os.WriteFile(flows, []byte("flows:\n  - {name: a, switch: leaf2, src: 10.0.0.1, dst: 10.0.0.2, rate: 5Mbps}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Run("single", func(t *testing.T) {
		in, err := FleetSpec{Listen: "127.0.0.1:0", DeviceID: 7, ThriftListen: "127.0.0.1:9090", PortRates: []string{"2=10Mbps"}, Flows: flows}.Instances()
		if err != nil || len(in) != 1 {
			t.Fatalf("got %v, %v", in, err)
		}
		s := in[0]
		if s.Name != "sim" || s.DeviceID != 7 || s.ThriftAddr != "127.0.0.1:9090" || s.PortRates[2] != 10e6 || len(s.Flows) != 1 {
			t.Errorf("instance %+v", s)
		}
	})
	t.Run("topology", func(t *testing.T) {
		in, err := FleetSpec{Topology: fabric, ThriftListen: "127.0.0.1:9100", PortRates: []string{"1=5Mbps"}, Flows: flows}.Instances()
		if err != nil || len(in) != 4 {
			t.Fatalf("got %d instances, %v", len(in), err)
		}
		if in[1].Name != "leaf2" || in[1].DeviceID != 2 || in[1].Addr != "127.0.0.1:50052" || in[1].ThriftAddr != "127.0.0.1:9101" {
			t.Errorf("leaf2: %+v", in[1])
		}
		if in[0].PortRates[3] != 40e6 || in[0].PortRates[1] != 5e6 || len(in[1].Flows) != 1 || len(in[0].Flows) != 0 {
			t.Errorf("rates/flows: %v %v %d %d", in[0].PortRates, in[1].PortRates, len(in[0].Flows), len(in[1].Flows))
		}
		// The fabric's four leaf-spine links are cabled, each once, on its A end.
		want := []Cable{{Port: 3, Peer: "spine1", PeerPort: 1}, {Port: 4, Peer: "spine2", PeerPort: 1}}
		if fmt.Sprint(in[0].Cables) != fmt.Sprint(want) || len(in[1].Cables) != 2 || len(in[2].Cables) != 0 {
			t.Errorf("cables: leaf1 %v (want %v), leaf2 %v, spine1 %v", in[0].Cables, want, in[1].Cables, in[2].Cables)
		}
		in, err = FleetSpec{Topology: fabric, NoPortRates: true}.Instances()
		if err != nil || len(in[0].PortRates) != 0 {
			t.Errorf("--no-port-rates: %v %v", in[0].PortRates, err)
		}
	})
	for _, tc := range []struct {
		name string
		spec FleetSpec
		want string
	}{
		{"listen with topology", FleetSpec{Topology: fabric, ListenSet: true}, "come from the topology"},
		{"missing topology", FleetSpec{Topology: "nope.yaml"}, "nope.yaml"},
		{"thrift", FleetSpec{ThriftListen: "127.0.0.1:70000"}, "--thrift-listen"},
		{"thrift no port", FleetSpec{ThriftListen: "localhost"}, "want HOST:PORT"},
		{"port rate", FleetSpec{PortRates: []string{"2"}}, "want PORT=RATE"},
		{"port 512", FleetSpec{PortRates: []string{"512=1Mbps"}}, "port 0..511"},
		{"rate unit", FleetSpec{PortRates: []string{"2=10mbps"}}, "--port-rate \"2=10mbps\""},
		{"flows", FleetSpec{Flows: "missing.yaml"}, "missing.yaml"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.spec.Instances()
			var se *SpecError
			if !errors.As(err, &se) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want a *SpecError containing %q", err, tc.want)
			}
		})
	}
}

// -t - and --flows - read standard input (one of them), with host names
// resolved through whichever topology there is.
func TestFleetSpecStdin(t *testing.T) {
	const fabric = "../../topo/examples/fabric.yaml"
	data, err := os.ReadFile(fabric)
	if err != nil {
		t.Fatal(err)
	}
	flows := filepath.Join(t.TempDir(), "flows.yaml")
	if err := os.WriteFile(flows, []byte("flows:\n  - {name: a, src: h1, dst: h3, rate: 5Mbps}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	in, err := FleetSpec{Topology: "-", Flows: flows, Stdin: strings.NewReader(string(data))}.Instances()
	if err != nil || len(in) != 4 || in[0].Name != "leaf1" || len(in[0].Flows) != 1 || in[0].Flows[0].IngressPort != 1 {
		t.Fatalf("topology on stdin: %d instances, %v", len(in), err)
	}
	in, err = FleetSpec{Topology: fabric, Flows: "-", Stdin: strings.NewReader("flows:\n  - {name: b, src: h2, dst: h4, rate: 1Mbps}\n")}.Instances()
	if err != nil || len(in[0].Flows) != 1 || in[0].Flows[0].Name != "b" {
		t.Fatalf("flows on stdin: %v", err)
	}
	if _, err := (FleetSpec{Topology: "-", Flows: "-", Stdin: strings.NewReader("")}).Instances(); err == nil || !strings.Contains(err.Error(), "cannot both be -") {
		t.Errorf("both on stdin: %v", err)
	}
}

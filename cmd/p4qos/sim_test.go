package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/p4qos/p4qos/compiler/contract"
	"github.com/p4qos/p4qos/tables"
)

// startSimCmd runs `p4qos sim args...` in-process until the test ends and
// returns the "listening on" addresses it printed, by switch name.
func startSimCmd(t *testing.T, want int, args ...string) map[string]string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	root := newRootCmd(strings.NewReader(""), pw, io.Discard)
	root.SetArgs(append([]string{"sim"}, args...))
	done := make(chan error, 1)
	go func() {
		done <- root.ExecuteContext(ctx)
		pw.Close()
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("sim exited with %v after cancel, want nil", err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("sim did not stop after cancel")
		}
	})
	line := regexp.MustCompile(`^sim (\S+): device \d+ listening on (\S+)$`)
	addrs := map[string]string{}
	sc := bufio.NewScanner(pr)
	for len(addrs) < want && sc.Scan() {
		if m := line.FindStringSubmatch(sc.Text()); m != nil {
			addrs[m[1]] = m[2]
		}
	}
	if len(addrs) < want {
		t.Fatalf("got listening lines for %v, want %d", addrs, want)
	}
	go io.Copy(io.Discard, pr) //nolint:errcheck // drain later output
	return addrs
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func capabilities(t *testing.T, addr string, device uint64) string {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, err := p4v1.NewP4RuntimeClient(conn).Capabilities(ctx, &p4v1.CapabilitiesRequest{DeviceId: device})
	if err != nil {
		t.Fatalf("Capabilities(device %d) at %s: %v", device, addr, err)
	}
	return r.GetP4RuntimeApiVersion()
}

func TestSimCommandServes(t *testing.T) {
	addrs := startSimCmd(t, 1, "--listen", "127.0.0.1:0", "--device-id", "4")
	if v := capabilities(t, addrs["sim"], 4); v != "1.5.0" {
		t.Errorf("Capabilities version %q, want 1.5.0", v)
	}
}

func TestSimCommandTopology(t *testing.T) {
	dir := t.TempDir()
	// A topology names fixed ports; take free ones (released just before
	// the sim binds them, a window other tests on this host could race).
	topoFile := writeFile(t, dir, "topo.yaml", fmt.Sprintf(`name: two
switches:
  - {name: s1, device_id: 1, address: "%s", target: sim}
  - {name: s2, device_id: 2, address: "%s", target: sim}
  - {name: s3, device_id: 3, address: "127.0.0.1:1", target: bmv2}
hosts:
  - {name: h1, ipv4: 10.0.1.1/24, mac: "08:00:00:00:01:11", switch: s1, port: 1}
  - {name: h2, ipv4: 10.0.2.2/24, mac: "08:00:00:00:02:22", switch: s2, port: 1}
links:
  - {a: s1:2, b: s2:2, capacity: 10Mbps}
  - {a: s2:3, b: s3:2, capacity: 10Mbps}
`, freeAddr(t), freeAddr(t)))
	flows := writeFile(t, dir, "flows.yaml", `flows:
  - {name: f1, switch: s1, src: 10.0.1.1, dst: 10.0.2.2, proto: udp, dport: 5001, rate: 1Mbps, packet_size: 1000B}
`)
	addrs := startSimCmd(t, 2, "-t", topoFile, "--flows", flows, "--tick", "10ms", "--port-rate", "1=100Mbps")
	if _, ok := addrs["s3"]; ok {
		t.Errorf("a sim was started for the bmv2 switch s3")
	}
	for name, dev := range map[string]uint64{"s1": 1, "s2": 2} {
		if v := capabilities(t, addrs[name], dev); v != "1.5.0" {
			t.Errorf("%s: version %q", name, v)
		}
	}
	flowReachesCounters(t, addrs["s1"], 1)
}

// flowReachesCounters programs the qos pipeline and a route for the flow of
// the flows file on the sim at addr, then waits (bounded) until the --tick
// loop has pushed its packets into class_counter[0].
func flowReachesCounters(t *testing.T, addr string, device uint64) {
	t.Helper()
	schema, err := tables.Load(repoFile(t, "p4src/build/qos.p4info.txtpb"))
	if err != nil {
		t.Fatal(err)
	}
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	c := p4v1.NewP4RuntimeClient(conn)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	stream, err := c.StreamChannel(ctx)
	if err != nil {
		t.Fatal(err)
	}
	eid := &p4v1.Uint128{Low: 1}
	if err := stream.Send(&p4v1.StreamMessageRequest{Update: &p4v1.StreamMessageRequest_Arbitration{
		Arbitration: &p4v1.MasterArbitrationUpdate{DeviceId: device, ElectionId: eid}}}); err != nil {
		t.Fatal(err)
	}
	if m, err := stream.Recv(); err != nil || m.GetArbitration().GetStatus().GetCode() != 0 {
		t.Fatalf("arbitration: %v %v", m, err)
	}
	if _, err := c.SetForwardingPipelineConfig(ctx, &p4v1.SetForwardingPipelineConfigRequest{DeviceId: device, ElectionId: eid,
		Action: p4v1.SetForwardingPipelineConfigRequest_VERIFY_AND_COMMIT, Config: &p4v1.ForwardingPipelineConfig{P4Info: schema.P4Info()}}); err != nil {
		t.Fatal(err)
	}
	mem, err := schema.ActionProfileMember(contract.ECMPSelector, 1, tables.Action(contract.SetNextHop,
		tables.Param(contract.ParamPort, 2), tables.Param(contract.ParamSMAC, "02:00:00:00:00:01"), tables.Param(contract.ParamDMAC, "02:00:00:00:00:02")))
	if err != nil {
		t.Fatal(err)
	}
	route, err := schema.TableEntry(contract.IPv4LPM, []tables.Match{tables.LPM(contract.KeyIPv4Dst, "10.0.2.0/24")}, tables.Member(1))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range []*p4v1.Entity{tables.EntityOf(mem), tables.EntityOf(route)} {
		if _, err := c.Write(ctx, &p4v1.WriteRequest{DeviceId: device, ElectionId: eid,
			Updates: []*p4v1.Update{{Type: p4v1.Update_INSERT, Entity: e}}}); err != nil {
			t.Fatal(err)
		}
	}
	ce, err := schema.CounterEntry(contract.ClassCounter, 0)
	if err != nil {
		t.Fatal(err)
	}
	for ctx.Err() == nil {
		rs, err := c.Read(ctx, &p4v1.ReadRequest{DeviceId: device, Entities: []*p4v1.Entity{tables.EntityOf(ce)}})
		if err != nil {
			t.Fatal(err)
		}
		r, err := rs.Recv()
		if err != nil {
			t.Fatal(err)
		}
		if r.GetEntities()[0].GetCounterEntry().GetData().GetPacketCount() > 0 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("class_counter[0] never moved: the flows file did not reach the sim")
}

func TestSimCommandInvalidInput(t *testing.T) {
	dir := t.TempDir()
	badFlows := writeFile(t, dir, "bad.yaml", "flows:\n  - {src: 10.0.0.1, dst: 10.0.0.2, rate: fast}\n")
	unknownKey := writeFile(t, dir, "unknown.yaml", "flows:\n  - {src: 10.0.0.1, dst: 10.0.0.2, rate: 1Mbps, colour: red}\n")
	noSim := writeFile(t, dir, "nosim.yaml", `name: one
switches:
  - {name: s1, device_id: 1, address: "127.0.0.1:50051", target: bmv2}
hosts:
  - {name: h1, ipv4: 10.0.1.1/24, mac: "08:00:00:00:01:11", switch: s1, port: 1}
`)
	tests := [][]string{
		{"sim", "--table-size", "classifier"},
		{"sim", "--table-size", "classifier=-1"},
		{"sim", "--tick", "0s"},
		{"sim", "-t", dir + "/missing.yaml"},
		{"sim", "-t", noSim},
		{"sim", "-t", noSim, "--listen", "127.0.0.1:0"},
		{"sim", "--flows", badFlows},
		{"sim", "--flows", unknownKey},
		{"sim", "--no-such-flag"},
		{"sim", "--port-rate", "2"},
		{"sim", "--port-rate", "600=1Mbps"},
		{"sim", "--port-rate", "2=fast"},
	}
	for _, args := range tests {
		var stderr strings.Builder
		if code := run(args, strings.NewReader(""), io.Discard, &stderr); code != 2 {
			t.Errorf("%v: exit %d, want 2 (stderr: %s)", args, code, stderr.String())
		}
	}
}

package inspect

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"github.com/spf13/pflag"
	"google.golang.org/grpc"

	"github.com/p4qos/p4qos/compiler/contract"
	"github.com/p4qos/p4qos/controller"
	"github.com/p4qos/p4qos/controller/cluster"
	"github.com/p4qos/p4qos/controller/statusapi"
	"github.com/p4qos/p4qos/controlplane"
	"github.com/p4qos/p4qos/internal/etcdtest"
	"github.com/p4qos/p4qos/tables"
	"github.com/p4qos/p4qos/target/sim"
	"net/http/httptest"
	"reflect"
)

// calls counts the P4Runtime RPCs a sim served, by method.
type calls struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *calls) add(method string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n[method[strings.LastIndexByte(method, '/')+1:]]++
}

func (c *calls) snapshot() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]int{}
	for k, v := range c.n {
		out[k] = v
	}
	return out
}

// fabric is the demo fabric on in-process sims, programmed by the
// controller from a daemon config file, as `p4qos run -c --once` does.
type fabric struct {
	config string
	sims   map[string]*sim.Switch
	addrs  map[string]string
	thrift map[string]string
	calls  *calls
}

var fabricSwitches = []string{"leaf1", "leaf2", "spine1", "spine2"}

func repoFile(t testing.TB, rel string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("..", rel))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func startFabric(t *testing.T, flows map[string][]sim.Flow) *fabric {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	f := &fabric{sims: map[string]*sim.Switch{}, addrs: map[string]string{}, thrift: map[string]string{}, calls: &calls{n: map[string]int{}}}
	count := sim.WithServerOptions(
		grpc.ChainUnaryInterceptor(func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
			f.calls.add(info.FullMethod)
			return h(ctx, req)
		}),
		grpc.ChainStreamInterceptor(func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
			f.calls.add(info.FullMethod)
			return h(srv, ss)
		}))
	var cfg strings.Builder
	fmt.Fprintf(&cfg, "topology: %s\npolicy: %s\np4info: %s\nmetrics-addr: \"off\"\nloop-interval: 0s\nswitches:\n",
		repoFile(t, "topo/examples/fabric.yaml"), repoFile(t, "topo/examples/fabric-policy.yaml"), repoFile(t, "p4src/build/qos.p4info.txtpb"))
	for i, name := range fabricSwitches {
		sw, addr, err := sim.Start(ctx, "127.0.0.1:0", sim.WithDeviceID(uint64(i+1)), count,
			sim.WithPortRate(3, 40e6), sim.WithPortRate(4, 40e6)) // the fabric's uplinks
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(sw.Close)
		lis := listen(t)
		go sw.ServeThrift(ctx, lis) //nolint:errcheck // ends with ctx
		if err := sw.SetFlows(flows[name]); err != nil {
			t.Fatal(err)
		}
		f.sims[name], f.addrs[name], f.thrift[name] = sw, addr, lis.Addr().String()
		fmt.Fprintf(&cfg, "  - {name: %s, address: %q, device-id: %d, thrift-address: %q}\n", name, addr, i+1, lis.Addr().String())
	}
	f.config = filepath.Join(t.TempDir(), "p4qos.yaml")
	if err := os.WriteFile(f.config, []byte(cfg.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := controller.Load(controller.Sources{File: f.config})
	if err != nil {
		t.Fatal(err)
	}
	ctl, err := controller.New(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	octx, ocancel := context.WithTimeout(ctx, 20*time.Second)
	defer ocancel()
	if _, err := ctl.Once(octx); err != nil {
		t.Fatal(err)
	}
	return f
}

// primary is a second controller, primary of the switch (election id 10,
// above the programming controller's 1, which has gone).
func (f *fabric) primary(t *testing.T, name string) *controlplane.Session {
	t.Helper()
	s, err := controlplane.Dial(controlplane.SwitchConfig{Name: name, Address: f.addrs[name], DeviceID: uint64(slices.Index(fabricSwitches, name) + 1)},
		controlplane.WithElectionID(controlplane.ElectionID{Low: 10}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.WaitPrimary(ctx); err != nil {
		t.Fatal(err)
	}
	return s
}

// run runs an inspect command as the CLI does and returns its output and
// exit status.
func run(t *testing.T, c Command, args ...string) (string, int, error) {
	t.Helper()
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	c.Bind(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatalf("flags %v: %v", args, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out bytes.Buffer
	err := c.Run(ctx, IO{Flags: fs, Args: fs.Args(), Stdout: &out})
	return out.String(), exitStatus(err), err
}

func exitStatus(err error) int {
	var coded interface{ ExitCode() int }
	switch {
	case err == nil:
		return 0
	case errors.As(err, &coded):
		return coded.ExitCode()
	}
	return 1
}

func TestShowDecodesByName(t *testing.T) {
	f := startFabric(t, nil)
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"entries", "--table", "classifier"}, []string{"# leaf1 (", "15 entries", "dscp=CS6", "ipv4_src=10.0.1.1 ipv4_dst=10.0.2.3 ip_proto=tcp l4_dst_port=5001",
			"ip_proto=udp l4_dst_port=16384..32767", "set_class(class_id=3, dscp=AF41)", "(match all)", "(default)"}},
		{[]string{"entries", "--table", "color_action"}, []string{"class_id=3 color=yellow", "remark_dscp(dscp=AF42)", "class_id=2 color=red", "drop()"}},
		{[]string{"entries", "--table", "ipv4_lpm"}, []string{"ipv4_dst=10.0.1.1/32", "member 1", "group 1"}},
		{[]string{"meters"}, []string{"4 configured meter cells", "class 3", "40Mbps", "50KB", "2Mbps"}},
		{[]string{"groups"}, []string{"set_next_hop(port=1, smac=02:00:00:00:00:01", "[3×1 4×1] max_size=64"}},
		{[]string{"counters"}, []string{"0 counter cells that counted"}},
		{[]string{"pipeline"}, []string{"pipeline cookie 0x", "the same P4Info", "QosIngress.classifier", "1024"}},
	} {
		t.Run(tc.args[0], func(t *testing.T) {
			out, code, err := run(t, Show, append(tc.args, "-c", f.config, "-s", "leaf1")...)
			if code != 0 {
				t.Fatalf("exit %d: %v", code, err)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
	t.Run("json by address", func(t *testing.T) {
		args := []string{"entries", "--switch", f.addrs["leaf2"], "--device-id", "2", "--table", "QosIngress.classifier", "-o", "json"}
		out, code, err := run(t, Show, args...)
		if code != 0 {
			t.Fatalf("exit %d: %v", code, err)
		}
		var got ShowOutput
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatal(err)
		}
		if len(got.Switches) != 1 || got.Switches[0].DeviceID != 2 || len(got.Switches[0].Entities) != 15 {
			t.Fatalf("json: %+v", got)
		}
		found := false
		for _, e := range got.Switches[0].Entities {
			if e.Action != nil && len(e.Action.Params) == 2 && e.Action.Params[1].Value == "EF" && e.Action.Params[1].Raw == "0x2e" {
				found = e.Object == "QosIngress.classifier" && e.Priority == 300 && e.Match[0].Value == "udp"
			}
		}
		if !found {
			t.Errorf("no voice entry decoded (set_class dscp EF = 0x2e, ip_proto udp):\n%s", out)
		}
		again, _, _ := run(t, Show, args...)
		if again != out {
			t.Error("json output is not stable across runs")
		}
	})
}

// show, diff and top beside a running primary: no Write, no pipeline
// push, no StreamChannel from them, and the primary stays primary.
func TestInspectNeverWrites(t *testing.T) {
	f := startFabric(t, nil)
	primary := f.primary(t, "leaf1")
	before, state := f.calls.snapshot(), primary.State()
	for _, args := range [][]string{
		{"entries"}, {"counters"}, {"meters"}, {"groups"}, {"pipeline"},
	} {
		if _, code, err := run(t, Show, append(args, "-c", f.config)...); code != 0 {
			t.Fatalf("show %v: %v", args, err)
		}
	}
	if _, code, err := run(t, Diff, "-c", f.config); code != 0 {
		t.Fatalf("diff: exit %d %v", code, err)
	}
	if _, code, err := run(t, Top, "-c", f.config, "--once", "--interval", "20ms"); code != 0 {
		t.Fatalf("top: exit %d %v", code, err)
	}
	after := f.calls.snapshot()
	for _, m := range []string{"Write", "SetForwardingPipelineConfig", "StreamChannel"} {
		if after[m] != before[m] {
			t.Errorf("%s calls went from %d to %d", m, before[m], after[m])
		}
	}
	if after["Read"] <= before["Read"] {
		t.Error("no Read was counted: the interceptor does not see the calls")
	}
	if now := primary.State(); !now.Primary || now.Stream != state.Stream || now.PrimaryElectionID != state.PrimaryElectionID {
		t.Errorf("primary state changed: %+v -> %+v", state, now)
	}
}

func TestDiffNamesTamperedEntities(t *testing.T) {
	f := startFabric(t, nil)
	if out, code, err := run(t, Diff, "-c", f.config); code != 0 || !strings.Contains(out, "in sync (135 entities, pipeline same)") {
		t.Fatalf("fresh fabric: exit %d %v\n%s", code, err, out)
	}
	// Behind the controller's back: class 3's meter changed, the voice
	// classifier entry deleted and an extra route inserted on leaf1.
	schema, err := tables.Load(repoFile(t, "p4src/build/qos.p4info.txtpb"))
	if err != nil {
		t.Fatal(err)
	}
	s := f.primary(t, "leaf1")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	meter, _ := schema.MeterEntry(contract.ClassMeter, 3, &tables.MeterConfig{CIR: 1000, CBurst: 3000, PIR: 1000, PBurst: 3000})
	voice, _ := schema.TableEntry(contract.Classifier, []tables.Match{tables.Ternary(contract.KeyIPProto, 17, 0xff), tables.Range(contract.KeyL4DstPort, 16384, 32767)},
		tables.Action(contract.SetClass, tables.Param(contract.ParamClassID, 2), tables.Param(contract.ParamDSCP, 46)), tables.Priority(300))
	route, _ := schema.TableEntry(contract.IPv4LPM, []tables.Match{tables.LPM(contract.KeyIPv4Dst, "192.0.2.0/24")}, tables.Member(1))
	group, _ := schema.ActionProfileGroup(contract.ECMPSelector, 1, []tables.GroupMember{{ID: 3, Weight: 3}, {ID: 4, Weight: 1}}, contract.MaxECMPGroupLen)
	if err := s.Write(ctx, []*p4v1.Update{{Type: p4v1.Update_MODIFY, Entity: tables.EntityOf(meter)}, {Type: p4v1.Update_MODIFY, Entity: tables.EntityOf(group)},
		{Type: p4v1.Update_DELETE, Entity: tables.EntityOf(voice)}, {Type: p4v1.Update_INSERT, Entity: tables.EntityOf(route)}}); err != nil {
		t.Fatal(err)
	}
	out, code, err := run(t, Diff, "-c", f.config)
	if code != DiffDiffers || err == nil || !strings.Contains(err.Error(), "leaf1 differs") {
		t.Fatalf("exit %d (%v), want %d naming leaf1\n%s", code, err, DiffDiffers, out)
	}
	for _, w := range []string{
		"# leaf1 (", "DIFFERS: pipeline same, 1 missing, 1 extra, 2 differing (of 135 intended)",
		"missing    table_entry classifier ip_proto=udp l4_dst_port=16384..32767 prio=300 -> set_class(class_id=2, dscp=EF)",
		"extra      table_entry ipv4_lpm ipv4_dst=192.0.2.0/24 -> member 1",
		"differing  meter class_meter [class 3]", "switch: cir=8Kbps", "intent: cir=40Mbps",
		"differing  action_profile_group ecmp_selector group 1\n", "switch: group 1 members[3×3 4×1]", "intent: group 1 members[3×1 4×1]",
		"# leaf2 (", "in sync",
	} {
		if !strings.Contains(out, w) {
			t.Errorf("diff output lacks %q:\n%s", w, out)
		}
	}
	out, code, _ = run(t, Diff, "-c", f.config, "-s", "leaf1", "-o", "json")
	var got DiffOutput
	if err := json.Unmarshal([]byte(out), &got); err != nil || code != DiffDiffers {
		t.Fatalf("json: exit %d, %v\n%s", code, err, out)
	}
	sw := got.Switches[0]
	if got.InSync || sw.InSync || len(sw.Missing) != 1 || len(sw.Extra) != 1 || len(sw.Differing) != 2 ||
		sw.Differing[1].Switch.Meter.CIR != 1000 || sw.Differing[1].Intent.Meter.CIR != 5_000_000 || sw.Extra[0].Match[0].Value != "192.0.2.0/24" {
		t.Errorf("json diff: %+v", got)
	}
}

// TestDiffWithDynamicReservations: a daemon's reservations admitted
// through its API are intent (its state file next to the policy): diff
// compiles them too, so a switch holding them is in sync (135 + 2
// entries on leaf1: IPv4 and IPv6), not 2 extra.
func TestDiffWithDynamicReservations(t *testing.T) {
	_, config, _ := fabricWithReservation(t)
	out, code, err := run(t, Diff, "-c", config, "-s", "leaf1")
	if code != 0 || !strings.Contains(out, "in sync (137 entities, pipeline same)") {
		t.Fatalf("exit %d %v\n%s", code, err, out)
	}
}

// reservationState is a state file with one reservation h1→h3 (2 entries
// on leaf1: IPv4 and IPv6).
const reservationState = "reservations:\n  - {src: h1, dst: h3, rate: 2Mbps, burst: 10KB}\n"

// fabricWithReservation starts the sim fabric and has a daemon install the
// example policy plus reservationState, kept as the state file of a copy
// of the policy; config names that copy. base is the fabric's own config
// (the policy without a state file).
func fabricWithReservation(t *testing.T) (f *fabric, config, base string) {
	t.Helper()
	f = startFabric(t, nil)
	dir := t.TempDir()
	policy, config := filepath.Join(dir, "policy.yaml"), filepath.Join(dir, "p4qos.yaml")
	pol, err := os.ReadFile(repoFile(t, "topo/examples/fabric-policy.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	conf, err := os.ReadFile(f.config)
	if err != nil {
		t.Fatal(err)
	}
	for path, data := range map[string]string{
		policy: string(pol),
		filepath.Join(dir, "policy.reservations.yaml"): reservationState,
		config: strings.Replace(string(conf), repoFile(t, "topo/examples/fabric-policy.yaml"), policy, 1),
	} {
		if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cfg, err := controller.Load(controller.Sources{File: config})
	if err != nil {
		t.Fatal(err)
	}
	ctl, err := controller.New(ctx, cfg) // installs the reservation
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ctl.Once(ctx); err != nil {
		t.Fatal(err)
	}
	return f, config, f.config
}

// TestDiffClusterReadsTheIntentStore: in cluster mode the running intent
// is the store's revision, reservations included, not the local files.
// leaf1 holds a reservation that only the store records (the cluster
// config's policy has no state file): with revision 1 holding it, leaf1 is
// in sync; revision 2 drops it, and the same two entries are extra.
// Needs etcd (Debian's etcd-server); skips without it.
func TestDiffClusterReadsTheIntentStore(t *testing.T) {
	if _, err := etcdtest.Binary(); err != nil {
		t.Skipf("etcd: %v", err)
	}
	_, _, base := fabricWithReservation(t)
	etcd := etcdtest.Start(t, 1)
	conf, err := os.ReadFile(base)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := controller.Load(controller.Sources{File: base})
	if err != nil {
		t.Fatal(err)
	}
	config := filepath.Join(t.TempDir(), "cluster.yaml")
	if err := os.WriteFile(config, append(conf, fmt.Sprintf("cluster: %s\n", etcd.URL())...), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cli, err := controller.ConnectCluster(&controller.Config{Cluster: etcd.URL()})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	store := cluster.NewStore(cli)
	content := cluster.Content{Reservations: []byte(reservationState)}
	if content.Policy, err = os.ReadFile(cfg.Policy); err != nil {
		t.Fatal(err)
	}
	if content.Topology, err = os.ReadFile(cfg.Topology); err != nil {
		t.Fatal(err)
	}
	if _, err := store.PutContent(ctx, content, 0, "test"); err != nil {
		t.Fatal(err)
	}
	out, code, err := run(t, Diff, "-c", config, "-s", "leaf1")
	if code != 0 || !strings.HasPrefix(out, "compared with the intent store revision 1\n") || !strings.Contains(out, "in sync (137 entities, pipeline same)") {
		t.Fatalf("revision 1 (with the reservation): exit %d %v\n%s", code, err, out)
	}
	content.Reservations = nil
	if _, err := store.PutContent(ctx, content, 1, "test"); err != nil {
		t.Fatal(err)
	}
	out, code, _ = run(t, Diff, "-c", config, "-s", "leaf1", "-o", "json")
	var got DiffOutput
	if err := json.Unmarshal([]byte(out), &got); err != nil || code != DiffDiffers || got.Intent != "intent store revision 2" ||
		len(got.Switches) != 1 || len(got.Switches[0].Extra) != 2 || len(got.Switches[0].Missing) != 0 {
		t.Fatalf("revision 2 (without it): exit %d, %v\n%s", code, err, out)
	}
}

func listen(t *testing.T) net.Listener {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return lis
}

// closedAddr is a loopback address where nothing listens.
func closedAddr(t *testing.T) string {
	lis := listen(t)
	defer lis.Close()
	return lis.Addr().String()
}

// silentAddr accepts connections and never answers (a switch that hangs).
func silentAddr(t *testing.T) string {
	lis := listen(t)
	t.Cleanup(func() { lis.Close() })
	go func() {
		for {
			c, err := lis.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() })
		}
	}()
	return lis.Addr().String()
}

func TestBadInput(t *testing.T) {
	f := startFabric(t, nil)
	closed, silent := closedAddr(t), silentAddr(t)
	topo, policy := repoFile(t, "topo/examples/fabric.yaml"), repoFile(t, "topo/examples/fabric-policy.yaml")
	for _, tc := range []struct {
		name string
		cmd  Command
		args []string
		code int
		want string
	}{
		{"unreachable", Show, []string{"entries", "--switch", closed}, 1, "unreachable"},
		{"hangs", Show, []string{"meters", "--switch", silent, "--timeout", "300ms"}, 1, "did not answer within --timeout 300ms"},
		{"wrong device id", Show, []string{"groups", "--switch", f.addrs["leaf1"], "--device-id", "9"}, 1, "wrong --device-id?"},
		{"no pipeline", Show, []string{"entries", "--switch", startBare(t)}, 1, "runs no pipeline"},
		{"not an address", Show, []string{"entries", "--switch", "leaf1"}, 2, "needs -t or -c"},
		{"no switch", Show, []string{"entries"}, 2, "no switch"},
		{"unknown name", Show, []string{"entries", "-c", f.config, "-s", "leaf9"}, 2, "no switch \"leaf9\""},
		{"what", Show, []string{"tables", "--switch", f.addrs["leaf1"]}, 2, "expected one of entries"},
		{"table", Show, []string{"entries", "--switch", f.addrs["leaf1"], "--table", "nope"}, 2, "--table"},
		{"table with meters", Show, []string{"meters", "--switch", f.addrs["leaf1"], "--table", "phb"}, 2, "goes with show entries"},
		{"output", Show, []string{"entries", "--switch", f.addrs["leaf1"], "-o", "yaml"}, 2, "--output"},
		{"timeout", Show, []string{"entries", "--switch", f.addrs["leaf1"], "--timeout", "0s"}, 2, "--timeout"},
		{"p4info", Show, []string{"entries", "--switch", f.addrs["leaf1"], "--p4info", "/nonexistent.txtpb"}, 2, "--p4info"},
		{"both -t and -c", Show, []string{"entries", "-t", topo, "-c", f.config}, 2, "not both"},
		{"bad config", Show, []string{"entries", "-c", policy}, 2, "-c"},
		{"diff without intent", Diff, []string{"--switch", f.addrs["leaf1"]}, 2, "give -c"},
		{"diff bad policy", Diff, []string{"-t", topo, "-p", topo}, 2, ""},
		{"diff unreachable", Diff, []string{"-c", f.config, "-s", "leaf1", "--device-id", "7"}, DiffUnreachable, "could not compare leaf1"},
		{"top interval", Top, []string{"--switch", f.addrs["leaf1"], "--interval", "1ms"}, 2, "--interval"},
		{"top unreachable", Top, []string{"--switch", closed, "--once", "--interval", "10ms"}, 1, "unreachable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			_, code, err := run(t, tc.cmd, tc.args...)
			if code != tc.code || err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("exit %d, %v; want %d with %q", code, err, tc.code, tc.want)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
}

// startBare is a sim without a pipeline.
func startBare(t *testing.T) string {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	sw, addr, err := sim.Start(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sw.Close)
	return addr
}

// top against a fabric carrying traffic: a-web offers 60 Mbit/s to class
// a-interactive's 40 Mbit/s meter, so a third is marked red and dropped;
// the queue interface reports the queues' tail drops.
func TestTopOnceJSON(t *testing.T) {
	flow := func(name, src, dst string, dport uint16, port uint32, bps float64) sim.Flow {
		return sim.Flow{Name: name, SrcIP: mustAddr(src), DstIP: mustAddr(dst), Proto: 6, SrcPort: 40000, DstPort: dport, IngressPort: port, RateBps: bps, PacketSize: 1500}
	}
	f := startFabric(t, map[string][]sim.Flow{"leaf1": {flow("a-web", "10.0.1.1", "10.0.2.3", 5001, 1, 60e6), flow("b-sync", "10.0.1.2", "10.0.2.4", 873, 2, 12e6)}})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { // the sim's clock follows the wall clock, however late the ticks
		tk := time.NewTicker(5 * time.Millisecond)
		defer tk.Stop()
		last := time.Now()
		for {
			select {
			case <-ctx.Done():
				return
			case now := <-tk.C:
				f.sims["leaf1"].Advance(now.Sub(last))
				last = now
			}
		}
	}()
	out, code, err := run(t, Top, "-c", f.config, "-s", "leaf1", "--once", "--interval", "300ms", "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d: %v", code, err)
	}
	var got TopOutput
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Switches) != 1 || got.IntervalSeconds < 0.25 {
		t.Fatalf("frame %+v", got)
	}
	var web *ClassTop
	for i, c := range got.Switches[0].Classes {
		if c.Name == "a-interactive" {
			web = &got.Switches[0].Classes[i]
		}
	}
	if web == nil || web.ID != 3 || web.Meter != "40Mbps/40Mbps" || web.Bps <= 0 { // about 40 Mbit/s, but wall-clock timing on a busy machine varies
		t.Fatalf("class a-interactive: %+v", web)
	}
	if web.Green == nil || web.Red == nil || *web.Red < 0.1 || *web.Red > 0.5 || web.DroppedPPS == nil || *web.DroppedPPS <= 0 {
		t.Errorf("colors of a-interactive: green %v red %v dropped %v, want about a third red, dropped", web.Green, web.Red, web.DroppedPPS)
	}
	drops := false
	for _, q := range got.Switches[0].Queues {
		if q.TailDrops == nil || q.DepthLimit == nil {
			t.Errorf("queue %d/%d: the sim's queue interface reports no drops/depth: %+v", q.Port, q.Queue, q)
			continue
		}
		drops = drops || *q.TailDrops > 0
	}
	if !drops {
		t.Errorf("no queue tail-dropped although port 3 (40 Mbit/s) is offered 72 Mbit/s: %+v", got.Switches[0].Queues)
	}
	if text, code, _ := run(t, Top, "-c", f.config, "-s", "leaf1", "--once", "--interval", "50ms"); code != 0 ||
		!strings.Contains(text, "a-interactive") || !strings.Contains(text, "TAIL DROPS") || strings.Contains(text, "\x1b[") {
		t.Errorf("table frame (not a terminal: no escape codes):\n%s", text)
	}
}

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }

// Rates and color shares from two reads, deterministic (TestTopOnceJSON
// measures them on the wall clock).
func TestTopArithmetic(t *testing.T) {
	for _, tc := range []struct {
		name      string
		prev, cur Counter
		dt        float64
		want      Traffic
	}{
		{"rate", Counter{Packets: 100, Bytes: 150_000}, Counter{Packets: 600, Bytes: 900_000}, 0.5, Traffic{Bps: 12e6, PPS: 1000, Packets: 600, Bytes: 900_000}},
		{"first read", Counter{}, Counter{Packets: 5, Bytes: 500}, 0, Traffic{Packets: 5, Bytes: 500}},
		{"counter went back (restart)", Counter{Packets: 9, Bytes: 900}, Counter{Packets: 1, Bytes: 100}, 1, Traffic{Packets: 1, Bytes: 100}},
	} {
		if got := traffic(tc.prev, tc.cur, tc.dt); got != tc.want {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
	}
	m := func(g, y, r int64) *Meter {
		return &Meter{Set: true, Green: &Counter{Packets: g}, Yellow: &Counter{Packets: y}, Red: &Counter{Packets: r}}
	}
	var ct ClassTop
	colorShares(&ct, m(100, 0, 0), m(700, 200, 200), [3]bool{false, false, true}, 2)
	if ct.Green == nil || *ct.Green != 0.6 || *ct.Yellow != 0.2 || *ct.Red != 0.2 || *ct.DroppedPPS != 100 {
		t.Errorf("shares %v %v %v dropped %v, want 0.6 0.2 0.2 and 100/s", ct.Green, ct.Yellow, ct.Red, ct.DroppedPPS)
	}
	ct = ClassTop{}
	colorShares(&ct, nil, &Meter{Set: true}, [3]bool{}, 1)
	if ct.Green != nil || ct.DroppedPPS != nil {
		t.Error("a target without per-color counts gave shares")
	}
}

// A live top prints a frame per interval until interrupted, and an
// interruption is its normal end (exit 0).
func TestTopLiveUntilInterrupted(t *testing.T) {
	f := startFabric(t, nil)
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	Top.Bind(fs)
	if err := fs.Parse([]string{"-c", f.config, "-s", "spine2", "--interval", "30ms"}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 400*time.Millisecond)
	defer cancel()
	var out bytes.Buffer
	if err := Top.Run(ctx, IO{Flags: fs, Stdout: &out}); err != nil {
		t.Fatalf("interrupted top: %v", err)
	}
	if n := strings.Count(out.String(), "p4qos top "); n < 2 {
		t.Errorf("%d frames in 400ms at a 30ms interval:\n%s", n, out.String())
	}
}

// -t resolves switch names from a topology (its addresses and device ids),
// and diff compiles -p for it, as `p4qos compile -t -p` does.
func TestTopologyResolution(t *testing.T) {
	f := startFabric(t, nil)
	data, err := os.ReadFile(repoFile(t, "topo/examples/fabric.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	for i, name := range fabricSwitches {
		text = strings.Replace(text, fmt.Sprintf("address: 127.0.0.1:%d", 50051+i), "address: "+f.addrs[name], 1)
	}
	topo := filepath.Join(t.TempDir(), "topo.yaml")
	if err := os.WriteFile(topo, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, code, err := run(t, Show, "groups", "-t", topo, "-s", "spine2"); code != 0 || !strings.Contains(out, "# spine2 ("+f.addrs["spine2"]+", device 4)") {
		t.Errorf("show -t: exit %d %v\n%s", code, err, out)
	}
	out, code, err := run(t, Diff, "-t", topo, "-p", repoFile(t, "topo/examples/fabric-policy.yaml"))
	if code != 0 || strings.Count(out, "in sync") != 4 {
		t.Errorf("diff -t -p: exit %d %v\n%s", code, err, out)
	}
}

// TestTopFlowGroupsFromStatusAPI: with --api, top's frame carries the
// daemon's flow groups as /api/v1/allocation serves them; with the API
// gone, the frame says why and the switch rows are still there.
func TestTopFlowGroupsFromStatusAPI(t *testing.T) {
	f := startFabric(t, nil)
	served := statusapi.Allocation{FlowGroups: []statusapi.FlowGroup{
		{Name: "a-web", Tenant: "a", Usage: 31e6, Demand: 58.2e6, Allocation: 40e6, Enforced: 39.5e6, Bottleneck: "spine1:2->leaf2:3"},
		{Name: "b-sync", Tenant: "b", Usage: 4e6, Demand: 4.93e6, Allocation: 4.93e6, Enforced: 4.93e6, Bottleneck: "demand"},
	}}
	// The daemon's own API server, over a fixed status document.
	srv := statusapi.New(fixedStatus{Allocation: served})
	defer srv.Close()
	api := httptest.NewServer(srv.Handler())
	out, code, err := run(t, Top, "-c", f.config, "-s", "leaf1", "--once", "--interval", "20ms", "-o", "json", "--api", api.URL)
	if code != 0 {
		t.Fatalf("exit %d: %v", code, err)
	}
	var got TopOutput
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	want := []FlowGroupTop{
		{Name: "a-web", Tenant: "a", UsageBps: 31e6, DemandBps: 58.2e6, AllocatedBps: 40e6, EnforcedBps: 39.5e6, Bottleneck: "spine1:2->leaf2:3"},
		{Name: "b-sync", Tenant: "b", UsageBps: 4e6, DemandBps: 4.93e6, AllocatedBps: 4.93e6, EnforcedBps: 4.93e6, Bottleneck: "demand"},
	}
	if !reflect.DeepEqual(got.FlowGroups, want) || got.FlowGroupsError != "" {
		t.Fatalf("flow groups %+v (error %q), want %+v", got.FlowGroups, got.FlowGroupsError, want)
	}
	if text, code, _ := run(t, Top, "-c", f.config, "-s", "leaf1", "--once", "--interval", "20ms", "--api", api.URL); code != 0 ||
		!strings.Contains(text, "FLOW GROUP") || !strings.Contains(text, "spine1:2->leaf2:3") {
		t.Errorf("table frame lacks the flow groups:\n%s", text)
	}
	api.Close()
	out, code, _ = run(t, Top, "-c", f.config, "-s", "leaf1", "--once", "--interval", "20ms", "-o", "json", "--api", api.URL)
	got = TopOutput{}
	if code != 0 || json.Unmarshal([]byte(out), &got) != nil || got.FlowGroupsError == "" || len(got.Switches) != 1 || got.Switches[0].Error != "" {
		t.Fatalf("with the API down: exit %d, frame %+v", code, got)
	}
}

// fixedStatus is a statusapi.Source that always says the same.
type fixedStatus statusapi.Status

func (f fixedStatus) Status() statusapi.Status { return statusapi.Status(f) }

package cluster

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/p4qos/p4qos/controller"
	ccluster "github.com/p4qos/p4qos/controller/cluster"
	"github.com/p4qos/p4qos/controlplane"
	"github.com/p4qos/p4qos/internal/etcdtest"
	"github.com/p4qos/p4qos/tables"
	"github.com/p4qos/p4qos/target/sim"
)

// leaseTTL is the instances' cluster-lease in the tests.
const leaseTTL = 2 * time.Second

var switchNames = []string{"leaf1", "leaf2", "leaf3", "leaf4", "spine1", "spine2", "spine3", "spine4"}

func repoFile(t testing.TB, rel string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("..", "..", rel))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// buildCLI builds p4qos once per test binary run.
var builtCLI string

func buildCLI(t testing.TB) string {
	t.Helper()
	if builtCLI != "" {
		return builtCLI
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	dir, err := os.MkdirTemp("", "p4qos-cluster-bin-")
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "p4qos")
	cmd := exec.Command(goTool, "build", "-o", bin, "./cmd/p4qos")
	cmd.Dir = repoFile(t, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	builtCLI = bin
	return bin
}

// bed is one test's cluster: etcd, eight sims, the config files, the
// controllers.
type bed struct {
	t        testing.TB
	bin      string
	etcd     *etcdtest.Cluster
	cli      *clientv3.Client
	sims     map[string]*sim.Switch
	addrs    map[string]string
	dir      string
	topology string
	policy   string
	procs    []*proc
	obs      map[string]*controlplane.Session
	lease    time.Duration
}

// proc is one `p4qos run --cluster` process.
type proc struct {
	id      string
	cmd     *exec.Cmd
	metrics string
	exited  chan struct{}
}

func newBed(t testing.TB, instances int) *bed { return newBedLease(t, instances, leaseTTL) }

// newBedLease is newBed with the instances' cluster-lease.
func newBedLease(t testing.TB, instances int, lease time.Duration) *bed {
	t.Helper()
	b := &bed{t: t, bin: buildCLI(t), etcd: etcdtest.Start(t, 1), sims: map[string]*sim.Switch{}, addrs: map[string]string{},
		dir: t.TempDir(), obs: map[string]*controlplane.Session{}, lease: lease}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	for i, name := range switchNames {
		sw, addr, err := sim.Start(ctx, "127.0.0.1:0", sim.WithDeviceID(uint64(i+1)))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(sw.Close)
		b.sims[name], b.addrs[name] = sw, addr
		s, err := controlplane.Dial(controlplane.SwitchConfig{Name: "observer", Address: addr, DeviceID: uint64(i + 1)},
			controlplane.WithRole("observer", nil), controlplane.WithElectionID(controlplane.ElectionID{Low: 7}))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		b.obs[name] = s
	}
	b.topology = b.write("topology.yaml", b.topologyYAML())
	pol, err := os.ReadFile(repoFile(t, "topo/examples/fabric-policy.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	b.policy = b.write("policy.yaml", string(pol))
	b.cli, err = controller.ConnectCluster(&controller.Config{Cluster: b.etcd.URL()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.cli.Close() })
	for i := 0; i < instances; i++ {
		b.start(fmt.Sprintf("c%d", i))
	}
	return b
}

func (b *bed) write(name, content string) string {
	p := filepath.Join(b.dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		b.t.Fatal(err)
	}
	return p
}

// topologyYAML is the demo fabric with two more leaves and two more spines.
func (b *bed) topologyYAML() string {
	var sb strings.Builder
	sb.WriteString("name: fabric8\nswitches:\n")
	for i, n := range switchNames {
		fmt.Fprintf(&sb, "  - {name: %s, device_id: %d, address: %q, target: sim, cpu_port: 255}\n", n, i+1, b.addrs[n])
	}
	sb.WriteString("hosts:\n")
	for i := 1; i <= 4; i++ {
		leaf, port := (i+1)/2, 2-i%2 // h1, h2 on leaf1; h3, h4 on leaf2
		fmt.Fprintf(&sb, "  - {name: h%d, ipv4: 10.0.%d.%d/24, ipv6: \"2001:db8:%d::%d/64\", mac: \"00:00:0a:00:%02x:%02x\", switch: leaf%d, port: %d, "+
			"gateway: 10.0.%d.254, gateway_v6: \"2001:db8:%d::fe\", link: {capacity: 100Mbps}}\n", i, leaf, i, leaf, i, leaf, i, leaf, port, leaf, leaf)
	}
	// leaf1 and leaf2 reach every spine; leaf3 hangs off spine1 and 2,
	// leaf4 off spine3 and 4.
	sb.WriteString("links:\n")
	for sp := 1; sp <= 4; sp++ {
		for l := 1; l <= 2; l++ {
			fmt.Fprintf(&sb, "  - {a: leaf%d:%d, b: spine%d:%d, capacity: 40Mbps}\n", l, 2+sp, sp, l)
		}
		fmt.Fprintf(&sb, "  - {a: leaf%d:%d, b: spine%d:3, capacity: 40Mbps}\n", 3+(sp-1)/2, 1+(sp-1)%2, sp)
	}
	return sb.String()
}

// start runs one controller instance.
func (b *bed) start(id string) *proc {
	b.t.Helper()
	p := &proc{id: id, metrics: etcdtest.FreeAddr(b.t), exited: make(chan struct{})}
	cfg := b.write(id+".yaml", fmt.Sprintf(`topology: %s
policy: %s
p4info: %s
cluster: %s
cluster-id: %s
cluster-lease: %s
metrics-addr: %s
loop-interval: 0s
reconcile-interval: 500ms
policy-poll: 0s
`, b.topology, b.policy, repoFile(b.t, "p4src/build/qos.p4info.txtpb"), b.etcd.URL(), id, b.lease, p.metrics))
	logf, err := os.Create(filepath.Join(b.dir, id+".log"))
	if err != nil {
		b.t.Fatal(err)
	}
	p.cmd = exec.Command(b.bin, "run", "-c", cfg, "--log-level", "debug")
	p.cmd.Stdout, p.cmd.Stderr = logf, logf
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := p.cmd.Start(); err != nil {
		b.t.Fatal(err)
	}
	go func() { _ = p.cmd.Wait(); close(p.exited) }()
	b.t.Cleanup(func() {
		_ = syscall.Kill(p.cmd.Process.Pid, syscall.SIGCONT)
		_ = syscall.Kill(p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.exited
		if b.t.Failed() {
			data, _ := os.ReadFile(logf.Name())
			if len(data) > 6000 {
				data = data[len(data)-6000:]
			}
			b.t.Logf("%s log (tail):\n%s", id, data)
		}
	})
	b.procs = append(b.procs, p)
	return p
}

func (p *proc) signal(t testing.TB, sig syscall.Signal) {
	t.Helper()
	if err := syscall.Kill(p.cmd.Process.Pid, sig); err != nil {
		t.Fatalf("kill -%d %s: %v", sig, p.id, err)
	}
}

// owners reads the mastership keys: switch → owner.
type owner struct {
	id  string
	rev int64
}

func (b *bed) owners(ctx context.Context) (map[string]owner, error) {
	resp, err := b.cli.Get(ctx, ccluster.Prefix+"masters/", clientv3.WithPrefix())
	if err != nil {
		return nil, err
	}
	out := map[string]owner{}
	for _, kv := range resp.Kvs {
		out[strings.TrimPrefix(string(kv.Key), ccluster.Prefix+"masters/")] = owner{string(kv.Value), kv.CreateRevision}
	}
	return out, nil
}

// mastered says "" when every switch has a master among live, and the
// switch's primary for the default role is that master's fencing id.
func (b *bed) mastered(ctx context.Context, live map[string]bool) (map[string]owner, string) {
	own, err := b.owners(ctx)
	if err != nil {
		return nil, err.Error()
	}
	for _, sw := range switchNames {
		o, ok := own[sw]
		if !ok || !live[o.id] {
			return own, fmt.Sprintf("%s: master %q (live %v)", sw, o.id, live)
		}
		want := ccluster.MasterID(o.rev)
		var got string
		for _, r := range b.sims[sw].Roles() {
			if r.Name == "" && r.Primary {
				got = controlplane.ElectionID{High: r.HighestElectionID.GetHigh(), Low: r.HighestElectionID.GetLow()}.String()
			}
		}
		if got != want.String() {
			return own, fmt.Sprintf("%s: primary on the switch %q, master's id %s", sw, got, want)
		}
	}
	return own, ""
}

// diff reads every switch back and diffs it against the intent of the
// store's current revision: "" when every switch holds exactly it.
func (b *bed) diff(ctx context.Context) string {
	in, rev, err := controller.GetIntent(ctx, b.cli)
	if err != nil || rev == 0 {
		return fmt.Sprintf("intent store: revision %d, %v", rev, err)
	}
	cfg := controller.Default()
	cfg.Topology, cfg.Policy = b.write("want-topology.yaml", string(in.Topology)), b.write("want-policy.yaml", string(in.Policy))
	cfg.P4Info, cfg.MetricsAddr = repoFile(b.t, "p4src/build/qos.p4info.txtpb"), "off"
	c, err := controller.New(ctx, cfg)
	if err != nil {
		return err.Error()
	}
	for _, sw := range switchNames {
		want := c.Compiled().Intents[sw]
		got, err := b.obs[sw].ReadState(ctx, want)
		if err != nil {
			return fmt.Sprintf("%s: read: %v", sw, err)
		}
		plan, err := tables.Diff(want.Schema, got, want.Entities)
		if err != nil {
			return fmt.Sprintf("%s: diff: %v", sw, err)
		}
		if plan.Len() > 0 {
			ins, mod, del := plan.Counts()
			return fmt.Sprintf("%s (intent revision %d): %d missing, %d different, %d extra entities", sw, rev, ins, mod, del)
		}
	}
	return ""
}

// waitFor polls cond until it returns "" (bounded: 60s).
func waitFor(t testing.TB, what string, cond func() string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	last := ""
	for time.Now().Before(deadline) {
		if last = cond(); last == "" {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s: not within 60s: %s", what, last)
}

// metric reads one sample of a controller's /metrics: the first whose
// line has every label given (`switch="leaf1"`), -1 if absent.
func (p *proc) metric(name string, labels ...string) float64 {
	resp, err := http.Get("http://" + p.metrics + "/metrics")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name) || !containsAll(line, labels) {
			continue
		}
		f := strings.Fields(line)
		v, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err == nil {
			return v
		}
	}
	return -1
}

func containsAll(s string, subs []string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

// staleWrite sends one Write with the given election id, as a master that
// lost its mastership without noticing would.
func (b *bed) staleWrite(ctx context.Context, sw string, id controlplane.ElectionID) error {
	c := b.obs[sw].Client()
	dev := b.sims[sw].DeviceID()
	_, err := c.Write(ctx, &p4v1.WriteRequest{DeviceId: dev, ElectionId: &p4v1.Uint128{High: id.High, Low: id.Low},
		Updates: []*p4v1.Update{{Type: p4v1.Update_DELETE, Entity: tables.EntityOf(&p4v1.TableEntry{TableId: 1})}}})
	return err
}

// intentPut runs `p4qos intent put` with the bed's topology and policy.
func (b *bed) intentPut(t testing.TB, policy string) {
	t.Helper()
	pol := b.write("new-policy.yaml", policy)
	out, err := exec.Command(b.bin, "intent", "put", "--cluster", b.etcd.URL(), "-p", pol, "-t", b.topology,
		"--p4info", repoFile(t, "p4src/build/qos.p4info.txtpb")).CombinedOutput()
	if err != nil {
		t.Fatalf("intent put: %v\n%s", err, out)
	}
}

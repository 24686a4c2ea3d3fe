package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"gopkg.in/yaml.v3"

	"github.com/p4qos/p4qos/compiler"
	"github.com/p4qos/p4qos/controlplane"
	"github.com/p4qos/p4qos/target/sim"
	"github.com/p4qos/p4qos/tables"
)

// repoFile is a path from the repository root, as seen from this package.
func repoFile(t *testing.T, rel string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("..", "..", rel))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); err != nil {
		t.Skipf("%s not available: %v", rel, err)
	}
	return p
}

// fabricSims starts one sim per switch of the demo fabric on loopback
// ports of its own and returns the config's switches section.
func fabricSims(t *testing.T) (map[string]*sim.Switch, string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	sims := map[string]*sim.Switch{}
	var b strings.Builder
	b.WriteString("switches:\n")
	for i, name := range []string{"leaf1", "leaf2", "spine1", "spine2"} {
		sw, addr, err := sim.Start(ctx, "127.0.0.1:0", sim.WithDeviceID(uint64(i+1)))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(sw.Close)
		sims[name] = sw
		fmt.Fprintf(&b, "  - {name: %s, address: %q, device-id: %d}\n", name, addr, i+1)
	}
	return sims, b.String()
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// baseConfig is a daemon config for the demo fabric, with every file
// given by absolute path.
func baseConfig(t *testing.T, policy, switches string) string {
	return fmt.Sprintf("topology: %s\npolicy: %s\np4info: %s\nmetrics-addr: \"off\"\nreconcile-interval: 1h\n%s",
		repoFile(t, "topo/examples/fabric.yaml"), policy, repoFile(t, "p4src/build/qos.p4info.txtpb"), switches)
}

func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

func TestRunOnceInstallsAndIsIdempotent(t *testing.T) {
	_, switches := fabricSims(t)
	dir := t.TempDir()
	cfg := writeFile(t, dir, "p4qos.yaml", baseConfig(t, repoFile(t, "topo/examples/fabric-policy.yaml"), switches))

	code, out, errs := runCLI(t, "run", "-c", cfg, "--once", "--timeout", "10s")
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	for _, sw := range []string{"leaf1", "leaf2", "spine1", "spine2"} {
		if !strings.Contains(out, sw+": pushed_pipeline=true") {
			t.Errorf("%s was not programmed:\n%s", sw, out)
		}
	}
	code, out, errs = runCLI(t, "run", "-c", cfg, "--once", "--timeout", "10s")
	if code != 0 {
		t.Fatalf("second run: exit %d\n%s\n%s", code, out, errs)
	}
	if strings.Count(out, "pushed_pipeline=false") != 4 || strings.Count(out, " written=0 rpcs=0 ") != 4 {
		t.Errorf("second run wrote something:\n%s", out)
	}
}

func TestRunRejectsBadInputBeforeWriting(t *testing.T) {
	sims, switches := fabricSims(t)
	dir := t.TempDir()
	policy := repoFile(t, "topo/examples/fabric-policy.yaml")
	// A P4Info without the phb table the policy needs.
	info, err := os.ReadFile(repoFile(t, "p4src/build/qos.p4info.txtpb"))
	if err != nil {
		t.Fatal(err)
	}
	noPHB := strings.Replace(string(info), `name: "QosIngress.phb"`, `name: "QosIngress.not_phb"`, 1)
	noPHB = strings.Replace(noPHB, `alias: "phb"`, `alias: "not_phb"`, 1)
	if noPHB == string(info) {
		t.Fatal("test fixture: could not rename the phb table")
	}
	badInfo := writeFile(t, dir, "nophb.p4info.txtpb", noPHB)

	tests := []struct {
		name   string
		config string
		args   []string
		want   string
	}{
		{"unknown key", baseConfig(t, policy, switches) + "reconcile_interval: 5s\n", nil, `unknown key "reconcile_interval"`},
		{"unknown switch key", baseConfig(t, policy, switches) + "  - {name: leaf1, address: \"127.0.0.1:1\", deviceid: 1}\n", nil, `unknown switch key "deviceid"`},
		{"unreadable TLS CA", baseConfig(t, policy, switches), []string{"--tls-ca", filepath.Join(dir, "missing-ca.pem")}, "missing-ca.pem"},
		{"unreadable TLS key", baseConfig(t, policy, switches), []string{"--tls-cert", filepath.Join(dir, "c.pem"), "--tls-key", filepath.Join(dir, "k.pem")}, "c.pem"},
		{"p4info lacks a table", strings.Replace(baseConfig(t, policy, switches), "p4info: ", "p4info: "+badInfo+"\n#", 1), nil, "phb"},
		{"policy with errors", baseConfig(t, writeFile(t, dir, "bad.yaml", "version: 1\nclasses:\n  - name: x\n    phb: NOPE\n"), switches), nil, "bad.yaml:4"},
		{"bad duration", baseConfig(t, policy, switches), []string{"--reconcile-interval", "soon"}, "reconcile-interval"},
		{"tofino without its files", strings.Replace(baseConfig(t, policy, switches), "name: leaf1, ", "name: leaf1, target: tofino, ", 1), nil, "tofino-bin and tofino-context"},
		{"bmv2 without its JSON", strings.Replace(baseConfig(t, policy, switches), "name: leaf1, ", "name: leaf1, target: bmv2, ", 1), nil, "needs bmv2-json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := writeFile(t, dir, "p4qos.yaml", tt.config)
			code, out, errs := runCLI(t, append([]string{"run", "-c", cfg, "--once", "--timeout", "5s"}, tt.args...)...)
			if code != 2 || !strings.Contains(errs, tt.want) {
				t.Fatalf("exit %d, stderr %q; want exit 2 mentioning %q (stdout %q)", code, errs, tt.want, out)
			}
		})
	}
	// Nothing was written to any switch: none has a pipeline.
	for name, sw := range sims {
		s, err := controlplane.Dial(controlplane.SwitchConfig{Name: name, Address: addrOf(t, switches, name), DeviceID: sw.DeviceID()})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := s.WaitPrimary(ctx); err != nil {
			t.Fatal(err)
		}
		if _, ok, err := s.RunningCookie(ctx); err != nil || ok {
			t.Errorf("%s has a pipeline after rejected runs (err %v)", name, err)
		}
		cancel()
		_ = s.Close()
	}
}

func addrOf(t *testing.T, switches, name string) string {
	t.Helper()
	for _, line := range strings.Split(switches, "\n") {
		if strings.Contains(line, "name: "+name+",") {
			i := strings.Index(line, `address: "`)
			rest := line[i+len(`address: "`):]
			return rest[:strings.Index(rest, `"`)]
		}
	}
	t.Fatalf("no address for %s", name)
	return ""
}

// syncBuffer is a bytes.Buffer safe for the daemon's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestRunDaemonReloadsPolicyAndKeepsStateOnBadPolicy(t *testing.T) {
	_, switches := fabricSims(t)
	dir := t.TempDir()
	orig, err := os.ReadFile(repoFile(t, "topo/examples/fabric-policy.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	policy := writeFile(t, dir, "policy.yaml", string(orig))
	cfg := writeFile(t, dir, "p4qos.yaml", strings.Replace(baseConfig(t, policy, switches), `metrics-addr: "off"`, `metrics-addr: "127.0.0.1:0"`, 1)+"policy-poll: 20ms\nloop-interval: 0s\n")

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var stdout, stderr syncBuffer
	root := newRootCmd(strings.NewReader(""), &stdout, &stderr)
	root.SetArgs([]string{"run", "-c", cfg})
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx) }()

	leaf1 := addrOf(t, switches, "leaf1")
	schema, err := tables.Load(repoFile(t, "p4src/build/qos.p4info.txtpb"))
	if err != nil {
		t.Fatal(err)
	}
	reader, err := controlplane.Dial(controlplane.SwitchConfig{Name: "leaf1", Address: leaf1, DeviceID: 1},
		controlplane.WithRole("observer", nil), controlplane.WithElectionID(controlplane.ElectionID{Low: 7}))
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	classifier, err := schema.Table("classifier")
	if err != nil {
		t.Fatal(err)
	}
	countClassifier := func() int {
		ents, err := reader.Read(ctx, tables.EntityOf(&p4v1.TableEntry{TableId: classifier.GetPreamble().GetId()}))
		if err != nil {
			return -1
		}
		return len(ents)
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		for !cond() {
			select {
			case <-ctx.Done():
				t.Fatalf("timed out waiting for %s; stderr:\n%s", what, stderr.String())
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
	waitFor("the policy on leaf1", func() bool { return countClassifier() > 0 })
	initial := countClassifier()

	// A broken policy is rejected with the compiler's positioned error and
	// the switch keeps its entries.
	writeFile(t, dir, "policy.yaml", "version: 1\nclasses:\n  - name: x\n    phb: NOPE\n")
	waitFor("the rejection", func() bool { return strings.Contains(stderr.String(), "new policy rejected") })
	if !strings.Contains(stderr.String(), "policy.yaml:4") {
		t.Errorf("rejection does not carry the compiler's position:\n%s", stderr.String())
	}
	if n := countClassifier(); n != initial {
		t.Errorf("classifier entries %d after a rejected policy, want %d", n, initial)
	}
	// A valid change (one more class) is applied.
	writeFile(t, dir, "policy.yaml", withExtraClass(t, orig))
	waitFor("the reload", func() bool { return countClassifier() > initial })

	// The metrics show the reconciles and the rejected policy.
	logs := stderr.String()
	i := strings.Index(logs, "url=http://")
	if i < 0 {
		t.Fatalf("no metrics URL logged:\n%s", logs)
	}
	url := strings.Fields(logs[i+len("url="):])[0]
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`p4qos_policy_loads_total{result="rejected"} 1`, `p4qos_policy_loads_total{result="ok"} 1`,
		`p4qos_reconciles_total{result="ok",switch="leaf1"}`, `p4qos_switch_primary{switch="spine2"} 1`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %q; policy loads: %q", want, regexp.MustCompile(`p4qos_policy_loads_total[^\n]*`).FindAllString(string(body), -1))
		}
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("daemon returned %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("daemon did not stop on cancel")
	}
}

// The example daemon config in docs/examples must stay loadable: every key
// known, every path resolving from the file's directory.
func TestExampleConfigLoads(t *testing.T) {
	example := repoFile(t, "docs/examples/p4qos.yaml")
	cmd := newRunCmd(&env{})
	if err := cmd.ParseFlags([]string{"-c", example}); err != nil {
		t.Fatal(err)
	}
	cfg, err := loadRunConfig(cmd)
	if err != nil {
		t.Fatal(err)
	}
	fb, err := loadFabric(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(fb.switches) != 4 || cfg.MetricsAddr != "127.0.0.1:9464" || cfg.LoopInterval != time.Second {
		t.Errorf("loaded %d switches, metrics %q, loop %v", len(fb.switches), cfg.MetricsAddr, cfg.LoopInterval)
	}
	policy, err := os.ReadFile(cfg.Policy)
	if err != nil {
		t.Fatal(err)
	}
	intents, model, err := fb.intents(context.Background(), policy)
	if err != nil {
		t.Fatal(err)
	}
	if len(intents) != 4 || len(intents["leaf1"].Entities) == 0 {
		t.Errorf("compiled %d intents", len(intents))
	}
	// The demo policy meters a-interactive from the allocator (flow group
	// a-web, from h1 on leaf1), so the closed loop measures it there; every
	// source is on the switch of its flow group's source host.
	if model == nil {
		t.Fatal("no closed-loop model for the demo policy")
	}
	if src, ok := sourceOf(model, "a-web"); !ok || src.Switch != "leaf1" || src.Counter != "class_counter" {
		t.Errorf("a-web source %+v (found %v), want class_counter on leaf1", src, ok)
	}
	// b-bulk is metered at tenant b's allocation and b has one flow group,
	// b-sync (from h2 on leaf1): the class counter measures it.
	if src, ok := sourceOf(model, "b-sync"); !ok || src.Switch != "leaf1" {
		t.Errorf("b-sync source %+v (found %v), want leaf1 (tenant b's only flow group)", src, ok)
	}
	hostOf := flowGroupSources(t, cfg.Policy)
	for _, src := range model.sources {
		h, ok := fb.topology.Host(hostOf[src.FlowGroup])
		if !ok || h.Switch != src.Switch {
			t.Errorf("source %+v: flow group's source host %q is not on that switch", src, hostOf[src.FlowGroup])
		}
	}
}

// The closed loop of the compiled demo policy: traffic of flow group a-web
// (h1→h3, TCP 5001) on leaf1 is measured on its class counter, and within
// two ticks the a-interactive meter follows the measured demand. The clock
// is driven by hand: sim.Advance and Loop ticks with explicit times.
func TestRunClosedLoopFollowsDemand(t *testing.T) {
	sims, switches := fabricSims(t)
	dir := t.TempDir()
	cfgPath := writeFile(t, dir, "p4qos.yaml", baseConfig(t, repoFile(t, "topo/examples/fabric-policy.yaml"), switches))
	cmd := newRunCmd(&env{})
	if err := cmd.ParseFlags([]string{"-c", cfgPath}); err != nil {
		t.Fatal(err)
	}
	cfg, err := loadRunConfig(cmd)
	if err != nil {
		t.Fatal(err)
	}
	fb, err := loadFabric(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	policy, err := os.ReadFile(cfg.Policy)
	if err != nil {
		t.Fatal(err)
	}
	intents, model, err := fb.intents(ctx, policy)
	if err != nil || model == nil {
		t.Fatalf("compile: %v (model %v)", err, model)
	}
	loop := controlplane.NewLoop(model, controlplane.WithHysteresis(0.05))
	reconciled := make(chan error, 16)
	d, err := controlplane.NewDaemon(fb.switches, controlplane.WithReconcileInterval(time.Hour),
		controlplane.WithClosedLoop(loop, 0),
		controlplane.WithReconcileHook(func(_ string, _ controlplane.ReconcileStats, err error) { reconciled <- err }))
	if err != nil {
		t.Fatal(err)
	}
	d.SetIntent(intents)
	go func() { _ = d.Run(ctx) }()
	for range fb.switches {
		select {
		case err := <-reconciled:
			if err != nil {
				t.Fatal(err)
			}
		case <-ctx.Done():
			t.Fatal("the daemon did not reconcile every switch")
		}
	}
	src, ok := sourceOf(model, "a-web")
	if !ok {
		t.Fatalf("no source for a-web in %+v", model.sources)
	}
	meterKey := func() string {
		me, err := fb.schema.MeterEntry("class_meter", src.Index, nil)
		if err != nil {
			t.Fatal(err)
		}
		k, err := fb.schema.Key(tables.EntityOf(me))
		if err != nil {
			t.Fatal(err)
		}
		return k
	}()
	initialCIR := d.Installed("leaf1", meterKey).GetMeterEntry().GetConfig().GetCir()

	// 5 Mbit/s of h1→h3 TCP to port 5001 enters leaf1 on h1's port 1.
	leaf1 := sims["leaf1"]
	if err := leaf1.SetFlows([]sim.Flow{{Name: "a-web", SrcIP: netip.MustParseAddr("10.0.1.1"), DstIP: netip.MustParseAddr("10.0.2.3"),
		Proto: 6, SrcPort: 40000, DstPort: 5001, IngressPort: 1, RateBps: 5e6, PacketSize: 1250}}); err != nil {
		t.Fatal(err)
	}
	base := time.Unix(1000, 0)
	written := 0
	for i := range 3 {
		leaf1.Advance(time.Second)
		res, err := d.LoopTick(ctx, base.Add(time.Duration(i)*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		written += res.Written["leaf1"]
		if i == 1 && written == 0 {
			t.Fatalf("no meter written within two ticks; demand %v", res.Demand)
		}
	}
	cir := d.Installed("leaf1", meterKey).GetMeterEntry().GetConfig().GetCir()
	t.Logf("a-interactive CIR %d B/s -> %d B/s after %d writes", initialCIR, cir, written)
	// The estimator's demand is the measured 5 Mbit/s × 1.1 headroom =
	// 5.5 Mbit/s = 687,500 B/s; a-web is demand-limited in the demo (its
	// share of the 40 Mbit/s uplinks is larger), so the CIR follows it.
	if cir == initialCIR || cir < 625000 || cir > 700000 {
		t.Errorf("a-interactive CIR %d B/s (was %d), want ≈687500 (5.5 Mbit/s)", cir, initialCIR)
	}
}

// A tofino switch gets the PI/Stratum-bf packing of its files as device
// config; the other switches keep theirs.
func TestRunTofinoPipeline(t *testing.T) {
	dir := t.TempDir()
	bin := writeFile(t, dir, "tofino.bin", "BIN")
	ctxJSON := writeFile(t, dir, "context.json", "{}")
	_, switches := fabricSims(t)
	config := strings.Replace(baseConfig(t, repoFile(t, "topo/examples/fabric-policy.yaml"), switches), "name: spine1, ", "name: spine1, target: tofino, ", 1)
	config += fmt.Sprintf("tofino-bin: %s\ntofino-context: %s\ntofino-program: qos_tna\n", bin, ctxJSON)
	cmd := newRunCmd(&env{})
	if err := cmd.ParseFlags([]string{"-c", writeFile(t, dir, "p4qos.yaml", config)}); err != nil {
		t.Fatal(err)
	}
	cfg, err := loadRunConfig(cmd)
	if err != nil {
		t.Fatal(err)
	}
	fb, err := loadFabric(cfg)
	if err != nil {
		t.Fatal(err)
	}
	p := fb.pipelines[fb.targets["spine1"]]
	name, b, c, err := controlplane.UnpackTofino(p.DeviceConfig)
	if err != nil || name != "qos_tna" || string(b) != "BIN" || string(c) != "{}" {
		t.Fatalf("spine1 device config unpacks to %q %q %q %v", name, b, c, err)
	}
	if other := fb.pipelines[fb.targets["leaf1"]]; other == p || len(other.DeviceConfig) != 0 {
		t.Errorf("leaf1 (sim) shares the tofino pipeline or has a device config")
	}
}

func TestCheckConfigKeys(t *testing.T) {
	cmd := newRunCmd(&env{})
	tests := []struct {
		name, yaml, want string
	}{
		{"valid", "policy: p.yaml\nswitches:\n  - {name: s1, address: \"127.0.0.1:1\", device-id: 2, target: sim}\n", ""},
		{"empty file", "", ""},
		{"not a mapping", "- a\n- b\n", "c.yaml:1: expected a mapping"},
		{"switches not a list", "switches: {name: s1}\n", "c.yaml:1: switches must be a list"},
		{"switch not a mapping", "switches:\n  - s1\n", "c.yaml:2: a switch must be a mapping"},
		{"config key inside the file", "config: other.yaml\n", `c.yaml:1: unknown key "config"`},
		{"two typos, both reported", "polcy: x\nbatchsize: 3\n", "c.yaml:1: unknown key \"polcy\"\nc.yaml:2: unknown key \"batchsize\""},
		{"bad YAML", "a: [\n", "c.yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkConfigKeys("c.yaml", []byte(tt.yaml), cmd)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func sourceOf(m *compiledLoop, fg string) (controlplane.DemandSource, bool) {
	for _, s := range m.sources {
		if s.FlowGroup == fg {
			return s, true
		}
	}
	return controlplane.DemandSource{}, false
}

// flowGroupSources maps each flow group of a policy file to its source host.
func flowGroupSources(t *testing.T, path string) map[string]string {
	t.Helper()
	pol, err := compiler.LoadPolicy(path)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	var walk func([]*compiler.Tenant)
	walk = func(ts []*compiler.Tenant) {
		for _, tn := range ts {
			for _, fg := range tn.FlowGroups {
				out[fg.Name] = fg.Src
			}
			walk(tn.Children)
		}
	}
	walk(pol.Tenants)
	return out
}

// withExtraClass returns the policy with one more class appended to its
// classes (edited as YAML, so that it does not depend on the file's text).
func withExtraClass(t *testing.T, policy []byte) string {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal(policy, &doc); err != nil {
		t.Fatal(err)
	}
	var extra yaml.Node
	if err := yaml.Unmarshal([]byte("{name: extra-test-class, precedence: 150, match: {protocol: udp, dst_port: 9999}, phb: AF31}"), &extra); err != nil {
		t.Fatal(err)
	}
	root := doc.Content[0]
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == "classes" {
			root.Content[i+1].Content = append(root.Content[i+1].Content, extra.Content[0])
			out, err := yaml.Marshal(&doc)
			if err != nil {
				t.Fatal(err)
			}
			return string(out)
		}
	}
	t.Fatal("test fixture: the demo policy has no classes")
	return ""
}

// A switches entry overrides the topology's device id only when it gives
// one, and 0 is a device id like any other (BMv2's default).
func TestSwitchEntryDeviceID(t *testing.T) {
	zero := uint64(0)
	cfg := &runConfig{
		Topology: repoFile(t, "topo/examples/fabric.yaml"), Policy: repoFile(t, "topo/examples/fabric-policy.yaml"),
		P4Info: repoFile(t, "p4src/build/qos.p4info.txtpb"), ElectionID: 1, BatchSize: 10, ReconcileInterval: time.Second,
		Switches: []switchEntry{
			{Name: "leaf1", Address: "127.0.0.1:1", DeviceID: &zero},
			{Name: "spine1", Address: "127.0.0.1:2"},
		},
	}
	fb, err := loadFabric(cfg)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]uint64{"leaf1": 0, "leaf2": 2, "spine1": 3, "spine2": 4}
	for _, sw := range fb.switches {
		if sw.DeviceID != want[sw.Name] {
			t.Errorf("%s: device id %d, want %d", sw.Name, sw.DeviceID, want[sw.Name])
		}
	}
}

// nextHopPorts resolves leaf1's ipv4_lpm route to dst through the
// ecmp_selector member or group it points at, and returns the egress
// ports (set_next_hop's port parameter) it can hash onto, sorted.
func nextHopPorts(ctx context.Context, s *controlplane.Session, schema *tables.Schema, dst netip.Addr) ([]uint32, error) {
	lpm, err := schema.Table("ipv4_lpm")
	if err != nil {
		return nil, err
	}
	prof, err := schema.ActionProfile("ecmp_selector")
	if err != nil {
		return nil, err
	}
	ents, err := s.Read(ctx,
		tables.EntityOf(&p4v1.TableEntry{TableId: lpm.GetPreamble().GetId()}),
		tables.EntityOf(&p4v1.ActionProfileMember{ActionProfileId: prof.GetPreamble().GetId()}),
		tables.EntityOf(&p4v1.ActionProfileGroup{ActionProfileId: prof.GetPreamble().GetId()}))
	if err != nil {
		return nil, err
	}
	portOf := map[uint32]uint32{}
	groups := map[uint32][]uint32{}
	var route *p4v1.TableEntry
	want := dst.AsSlice()
	for _, e := range ents {
		switch x := e.GetEntity().(type) {
		case *p4v1.Entity_ActionProfileMember:
			for _, p := range x.ActionProfileMember.GetAction().GetParams() {
				if p.GetParamId() == 1 { // set_next_hop(port, smac, dmac)
					var port uint32
					for _, b := range p.GetValue() {
						port = port<<8 | uint32(b)
					}
					portOf[x.ActionProfileMember.GetMemberId()] = port
				}
			}
		case *p4v1.Entity_ActionProfileGroup:
			for _, m := range x.ActionProfileGroup.GetMembers() {
				groups[x.ActionProfileGroup.GetGroupId()] = append(groups[x.ActionProfileGroup.GetGroupId()], m.GetMemberId())
			}
		case *p4v1.Entity_TableEntry:
			for _, m := range x.TableEntry.GetMatch() {
				if bytes.Equal(m.GetLpm().GetValue(), want) {
					route = x.TableEntry
				}
			}
		}
	}
	if route == nil {
		return nil, fmt.Errorf("no ipv4_lpm route to %s", dst)
	}
	members := []uint32{route.GetAction().GetActionProfileMemberId()}
	if g := route.GetAction().GetActionProfileGroupId(); g != 0 {
		members = groups[g]
	}
	var ports []uint32
	for _, m := range members {
		ports = append(ports, portOf[m])
	}
	sort.Slice(ports, func(i, j int) bool { return ports[i] < ports[j] })
	return ports, nil
}

// A link failure written into the topology file moves the routes: the
// daemon polls the topology like the policy, recompiles, and leaf1's route
// to h3 (10.0.2.3) goes from the ECMP group over both uplinks (ports 3 and
// 4) to port 4 alone when leaf2:3-spine1:2 is removed — leaf1 -> spine1 can
// no longer reach leaf2, so leaf1 -> spine2 -> leaf2 is the only shortest
// path — and back when the link returns. A topology that changes the switch
// set is rejected and the routes stay.
func TestRunDaemonReloadsTopology(t *testing.T) {
	_, switches := fabricSims(t)
	dir := t.TempDir()
	full, err := os.ReadFile(repoFile(t, "topo/examples/fabric.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	failed := strings.Replace(string(full), "  - {a: leaf2:3, b: spine1:2, capacity: 40Mbps, delay: 1ms}\n", "", 1)
	if failed == string(full) {
		t.Fatal("test fixture: fabric.yaml has no leaf2:3-spine1:2 link line")
	}
	topoFile := writeFile(t, dir, "topology.yaml", string(full))
	cfgText := strings.Replace(baseConfig(t, repoFile(t, "topo/examples/fabric-policy.yaml"), switches),
		"topology: "+repoFile(t, "topo/examples/fabric.yaml"), "topology: "+topoFile, 1) + "policy-poll: 20ms\nloop-interval: 0s\n"
	cfg := writeFile(t, dir, "p4qos.yaml", cfgText)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var stdout, stderr syncBuffer
	root := newRootCmd(strings.NewReader(""), &stdout, &stderr)
	root.SetArgs([]string{"run", "-c", cfg})
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx) }()

	schema, err := tables.Load(repoFile(t, "p4src/build/qos.p4info.txtpb"))
	if err != nil {
		t.Fatal(err)
	}
	reader, err := controlplane.Dial(controlplane.SwitchConfig{Name: "leaf1", Address: addrOf(t, switches, "leaf1"), DeviceID: 1},
		controlplane.WithRole("observer", nil), controlplane.WithElectionID(controlplane.ElectionID{Low: 7}))
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	h3 := netip.MustParseAddr("10.0.2.3")
	ports := func() string {
		p, err := nextHopPorts(ctx, reader, schema, h3)
		if err != nil {
			return err.Error()
		}
		return fmt.Sprint(p)
	}
	waitPorts := func(want string) {
		t.Helper()
		for got := ports(); got != want; got = ports() {
			select {
			case <-ctx.Done():
				t.Fatalf("leaf1's next hops to h3 are %s, want %s; stderr:\n%s", got, want, stderr.String())
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
	waitPorts("[3 4]")

	writeFile(t, dir, "topology.yaml", failed)
	waitPorts("[4]")
	if !strings.Contains(stderr.String(), "topology reloaded") {
		t.Errorf("no reload logged:\n%s", stderr.String())
	}

	// A fifth switch cannot be managed without new sessions: rejected,
	// and the routes of the running topology stay.
	extra := strings.Replace(string(full), "  - {name: spine2,", "  - {name: spine3, device_id: 5, address: 127.0.0.1:1, target: sim}\n  - {name: spine2,", 1)
	writeFile(t, dir, "topology.yaml", extra)
	for !strings.Contains(stderr.String(), "new topology rejected") {
		select {
		case <-ctx.Done():
			t.Fatalf("a new switch was not rejected; stderr:\n%s", stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	if got := ports(); got != "[4]" {
		t.Errorf("after a rejected topology leaf1's next hops to h3 are %s, want [4]", got)
	}

	writeFile(t, dir, "topology.yaml", string(full))
	waitPorts("[3 4]")

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("daemon returned %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("daemon did not stop on cancel")
	}
}

package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/p4qos/p4qos/compiler"
	"github.com/p4qos/p4qos/compiler/contract"
	"github.com/p4qos/p4qos/controller"
	"github.com/p4qos/p4qos/controlplane"
	"github.com/p4qos/p4qos/target/sim"
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
		{"tofino-bin without tofino-context", strings.Replace(baseConfig(t, policy, switches), "name: leaf1, ", "name: leaf1, target: tofino, ", 1), []string{"--tofino-bin", filepath.Join(dir, "tofino.bin")}, "tofino-bin and tofino-context go together"},
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

// The example daemon config in docs/examples must stay loadable: every key
// known, every path resolving from the file's directory.
func TestExampleConfigLoads(t *testing.T) {
	example := repoFile(t, "docs/examples/p4qos.yaml")
	cfg, err := controller.Load(controller.Sources{File: example})
	if err != nil {
		t.Fatal(err)
	}
	c, err := controller.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Fabric().Switches()) != 4 || cfg.MetricsAddr != "127.0.0.1:9464" || cfg.LoopInterval != time.Second {
		t.Errorf("loaded %d switches, metrics %q, loop %v", len(c.Fabric().Switches()), cfg.MetricsAddr, cfg.LoopInterval)
	}
	comp := c.Compiled()
	if len(comp.Intents) != 4 || len(comp.Intents["leaf1"].Entities) == 0 {
		t.Errorf("compiled %d intents", len(comp.Intents))
	}
	// The demo policy meters a-interactive from the allocator (flow group
	// a-web, from h1 on leaf1), so the closed loop measures it there; every
	// source is on the switch of its flow group's source host.
	if len(comp.Sources) == 0 {
		t.Fatal("no closed-loop sources for the demo policy")
	}
	if src, ok := sourceOf(comp.Sources, "a-web"); !ok || src.Switch != "leaf1" || src.Counter != contract.ClassCounter {
		t.Errorf("a-web source %+v (found %v), want class_counter on leaf1", src, ok)
	}
	// b-bulk is metered at tenant b's allocation and b has one flow group,
	// b-sync (from h2 on leaf1): the class counter measures it.
	if src, ok := sourceOf(comp.Sources, "b-sync"); !ok || src.Switch != "leaf1" {
		t.Errorf("b-sync source %+v (found %v), want leaf1 (tenant b's only flow group)", src, ok)
	}
	hostOf := flowGroupSources(t, cfg.Policy)
	for _, src := range comp.Sources {
		h, ok := c.Fabric().Topology().Host(hostOf[src.FlowGroup])
		if !ok || h.Switch != src.Switch {
			t.Errorf("source %+v: flow group's source host %q is not on that switch", src, hostOf[src.FlowGroup])
		}
	}
}

func sourceOf(sources []controlplane.DemandSource, fg string) (controlplane.DemandSource, bool) {
	for _, s := range sources {
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

// Arbitration as users meet it (issue #10 item 6): a second `p4qos run`
// with the same election id as a live primary exits 2, naming the conflict
// and the flag to change.
func TestRunSameElectionIDExits2(t *testing.T) {
	sims, switches := fabricSims(t)
	dir := t.TempDir()
	cfg := writeFile(t, dir, "p4qos.yaml", baseConfig(t, repoFile(t, "topo/examples/fabric-policy.yaml"), switches)+"loop-interval: 0s\n")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	firstDone := make(chan error, 1)
	go func() {
		var out, errb bytes.Buffer
		root := newRootCmd(strings.NewReader(""), &out, &errb)
		root.SetArgs([]string{"run", "-c", cfg})
		firstDone <- root.ExecuteContext(ctx)
	}()
	// Wait until the first controller is leaf1's primary.
	for deadline := time.Now().Add(20 * time.Second); ; {
		primary := false
		for _, r := range sims["leaf1"].Roles() {
			primary = primary || (r.Name == "" && r.Primary)
		}
		if primary {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the first controller did not become primary")
		}
		time.Sleep(20 * time.Millisecond)
	}
	code, _, stderr := runCLI(t, "run", "-c", cfg)
	if code != 2 || !strings.Contains(stderr, "--election-id") || !strings.Contains(stderr, "already used") {
		t.Fatalf("second run: exit %d, stderr %q; want 2 naming the conflict and --election-id", code, stderr)
	}
	cancel()
	if err := <-firstDone; err != nil {
		t.Errorf("the first controller returned %v", err)
	}
}

package mininet

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/p4qos/p4qos/controller"
	"github.com/p4qos/p4qos/internal/bmv2json"
)

// Controller is how Up runs the p4qos controller against the lab: first
// `p4qos run --once` (so that Up returns only when every switch has the
// pipeline and the policy), then `p4qos run` as a daemon inside the lab's
// namespace, logging to controller.log in the state directory.
type Controller struct {
	// Binary is the p4qos executable (the CLI passes os.Executable()).
	Binary string
	// Policy, P4Info and BMv2JSON are the files the controller is given;
	// the topology is the lab's. Without a policy the lab writes
	// DefaultPolicy (everything best effort) into its state directory.
	Policy, P4Info, BMv2JSON string
	// Args are more `p4qos run` flags, e.g. "--loop-interval=2s".
	Args []string
	// OnceTimeout bounds the first reconcile (default 60s).
	OnceTimeout time.Duration
}

// DefaultPolicy is the policy of a lab started without one: one best-effort
// class, so that the switches route and count but do not differentiate.
const DefaultPolicy = `# Written by p4qos lab up: no --policy was given. See docs/policy.md.
version: 1
classes:
  - {name: best-effort, precedence: 1, phb: DF}
`

// MetricsAddr is where the lab's controller serves Prometheus metrics,
// inside the lab's namespace.
const MetricsAddr = "127.0.0.1:9464"

// missing lists the controller's files that do not exist, with a hint.
func (c *Controller) missing() []string {
	var out []string
	if c.Policy != "" {
		if _, err := os.Stat(c.Policy); err != nil {
			out = append(out, fmt.Sprintf("policy %s is missing", c.Policy))
		}
	}
	for _, f := range []struct{ what, path, hint string }{
		{"p4qos binary", c.Binary, "build it with `make build`"},
		{"P4Info", c.P4Info, "compile the P4 program with `make p4` (needs p4c)"},
		{"BMv2 JSON", c.BMv2JSON, "compile the P4 program with `make p4` (needs p4c)"},
	} {
		if f.path == "" {
			out = append(out, fmt.Sprintf("the controller needs a %s: %s", f.what, f.hint))
			continue
		}
		if _, err := os.Stat(f.path); err != nil {
			out = append(out, fmt.Sprintf("%s %s is missing: %s", f.what, f.path, f.hint))
		}
	}
	return out
}

// bmv2Topology writes a copy of the topology file whose switches all have
// target bmv2: every lab switch is BMv2 whatever the topology says (the
// demo fabric's are sim). A copy rather than a `switches:` override in the
// run config, because that override cannot express device id 0.
func (l *Lab) bmv2Topology() (string, error) {
	data, err := os.ReadFile(l.topo.File)
	if err != nil {
		return "", err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil || len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return "", fmt.Errorf("%s: not a topology mapping: %v", l.topo.File, err)
	}
	root := doc.Content[0]
	// Only the links failed with EditTopology are marked; the others are
	// cut in the data plane alone, for the controller to detect.
	down, err := l.linksDown()
	if err != nil {
		return "", err
	}
	var marked []string
	for n, edit := range down {
		if edit {
			marked = append(marked, n)
		}
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == "links" && root.Content[i+1].Kind == yaml.SequenceNode && len(marked) > 0 {
			// The YAML list is the one l.topo.Links was decoded from, in
			// the same order.
			items := root.Content[i+1].Content
			if len(items) != len(l.topo.Links) {
				return "", fmt.Errorf("%s: %d links in the file, %d in the topology: changed since the lab started?", l.topo.File, len(items), len(l.topo.Links))
			}
			// Marked down rather than removed: the ports stay cabled, so
			// a policy naming them (queue settings on uplinks) still
			// compiles, while no route uses the link.
			for j, it := range items {
				if down[l.topo.Links[j].Name()] && it.Kind == yaml.MappingNode {
					it.Content = append(it.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: "down"},
						&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: "true"})
				}
			}
			continue
		}
		if root.Content[i].Value != "switches" || root.Content[i+1].Kind != yaml.SequenceNode {
			continue
		}
		for _, sw := range root.Content[i+1].Content {
			if sw.Kind != yaml.MappingNode {
				continue
			}
			set := false
			for j := 0; j+1 < len(sw.Content); j += 2 {
				if sw.Content[j].Value == "target" {
					sw.Content[j+1].Value = "bmv2"
					set = true
				}
			}
			if !set {
				sw.Content = append(sw.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: "target"}, &yaml.Node{Kind: yaml.ScalarNode, Value: "bmv2"})
			}
		}
	}
	out, err := yaml.Marshal(&doc)
	if err != nil {
		return "", err
	}
	path := filepath.Join(l.stateDir, "topology.yaml")
	hdr := "# " + abs(l.topo.File) + " with every switch's target set to bmv2, written by p4qos lab up.\n"
	if len(marked) > 0 {
		sort.Strings(marked)
		hdr += "# Links down (p4qos lab link down --edit-topology): " + strings.Join(marked, ", ") + "\n"
	}
	return path, writeAtomic(path, append([]byte(hdr), out...))
}

func abs(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

// writeControllerConfig writes the daemon's config into the state dir: a
// controller.Config, the one schema `p4qos run` reads. Each switch entry
// names its BMv2 thrift port in the lab's namespace, where the controller
// applies the policy's queue settings.
func (l *Lab) writeControllerConfig() (string, error) {
	topoFile, err := l.bmv2Topology()
	if err != nil {
		return "", fmt.Errorf("lab topology: %w", err)
	}
	cfg := controller.Default()
	cfg.Topology, cfg.Policy, cfg.P4Info, cfg.BMv2JSON = topoFile, abs(l.ctl.Policy), abs(l.ctl.P4Info), abs(l.ctl.BMv2JSON)
	cfg.MetricsAddr, cfg.ReconcileInterval = MetricsAddr, 30*time.Second
	for i, sw := range l.topo.Switches {
		cfg.Switches = append(cfg.Switches, controller.SwitchEntry{Name: sw.Name,
			ThriftAddress: "127.0.0.1:" + strconv.Itoa(FirstThriftPort+i)})
	}
	b, err := yaml.Marshal(cfg)
	if err != nil {
		return "", err
	}
	path := filepath.Join(l.stateDir, "p4qos.yaml")
	hdr := "# Generated by `p4qos lab up` for lab " + l.topo.Name + "; see docs/controller.md.\n"
	return path, os.WriteFile(path, append([]byte(hdr), b...), 0o600)
}

// startController programs the switches once (pipeline, entities and
// queue settings: the controller owns them all), then leaves the daemon
// running.
func (l *Lab) startController(ctx context.Context, spec *Spec) error {
	if l.ctl.Policy == "" {
		l.ctl.Policy = filepath.Join(l.stateDir, "policy.yaml")
		if err := os.WriteFile(l.ctl.Policy, []byte(DefaultPolicy), 0o600); err != nil {
			return err
		}
	}
	if err := l.fixBMv2JSON(); err != nil {
		return err
	}
	cfg, err := l.writeControllerConfig()
	if err != nil {
		return fmt.Errorf("controller config: %w", err)
	}
	timeout := l.ctl.OnceTimeout
	if timeout <= 0 {
		timeout = 60 * time.Second
	}
	onceLog := filepath.Join(l.stateDir, "controller-once.log")
	l.say("programming the switches: p4qos run --once (log %s)", onceLog)
	args := append([]string{"netns", "exec", l.namespace, l.ctl.Binary, "run", "-c", cfg, "--once", "--timeout", timeout.String()}, l.ctl.Args...)
	once := exec.CommandContext(ctx, "ip", args...)
	once.Env = controllerEnv()
	out, err := once.CombinedOutput()
	_ = os.WriteFile(onceLog, out, 0o600)
	if err != nil {
		return fmt.Errorf("p4qos run --once: %v; last lines of %s:\n%s", err, onceLog, tail(onceLog, 20))
	}
	logPath := filepath.Join(l.stateDir, "controller.log")
	logf, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command("ip", append([]string{"netns", "exec", l.namespace, l.ctl.Binary, "run", "-c", cfg}, l.ctl.Args...)...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = controllerEnv()
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start controller: %w", err)
	}
	pid := cmd.Process.Pid
	_ = os.WriteFile(filepath.Join(l.stateDir, "controller.pid"), []byte(strconv.Itoa(pid)), 0o600)
	// Not waited for: the daemon outlives this command; Down kills it.
	_ = cmd.Process.Release()
	// A daemon that cannot start (bad config) exits at once: look once.
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(time.Second):
	}
	if !alive(pid) {
		return fmt.Errorf("controller exited at once; last lines of %s:\n%s", logPath, tail(logPath, 20))
	}
	l.say("controller running (pid %d, log %s, metrics http://%s/metrics inside the namespace)", pid, logPath, MetricsAddr)
	return nil
}

// fixBMv2JSON applies UnifySharedProfileActions; a changed JSON goes into
// the state directory and the controller is given that one.
func (l *Lab) fixBMv2JSON() error {
	in, err := os.ReadFile(l.ctl.BMv2JSON)
	if err != nil {
		return fmt.Errorf("BMv2 JSON: %w", err)
	}
	out, changed, err := bmv2json.UnifySharedProfileActions(in)
	if err != nil {
		return fmt.Errorf("%s: %w", l.ctl.BMv2JSON, err)
	}
	if !changed {
		return nil
	}
	fixed := filepath.Join(l.stateDir, "qos.json")
	if err := os.WriteFile(fixed, out, 0o600); err != nil {
		return err
	}
	l.say("%s: tables sharing an action profile use different copies of an action, which crashes BMv2; the switches get %s, with one copy each (see UnifySharedProfileActions)", l.ctl.BMv2JSON, fixed)
	l.ctl.BMv2JSON = fixed
	return nil
}

// controllerEnv is this process's environment without P4QOS_* variables:
// p4qos run lets them override its config file (P4QOS_BMV2_JSON given to
// lab up would replace the JSON the lab fixed), and the generated config
// must be what runs.
func controllerEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "P4QOS_") {
			env = append(env, kv)
		}
	}
	return env
}

// ControllerPid returns the lab controller's pid, or 0 when none runs.
func (l *Lab) ControllerPid() int {
	b, err := os.ReadFile(filepath.Join(l.stateDir, "controller.pid"))
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	if !alive(pid) {
		return 0
	}
	return pid
}

// ErrNoCLI is returned by SwitchCLI when simple_switch_CLI is not found.
var ErrNoCLI = errors.New("simple_switch_CLI not found next to simple_switch_grpc or on PATH")

// SwitchCLI runs simple_switch_CLI commands against one lab switch (its
// thrift server is a port of the lab's namespace) and returns the output.
func (l *Lab) SwitchCLI(ctx context.Context, switchName string, commands ...string) (string, error) {
	if l.cli == "" {
		return "", ErrNoCLI
	}
	port := 0
	for i, sw := range l.topo.Switches {
		if sw.Name == switchName {
			port = FirstThriftPort + i
		}
	}
	if port == 0 {
		return "", fmt.Errorf("lab %q has no switch %q", l.topo.Name, switchName)
	}
	// The CLI is a Python script that needs Debian's python3 (its thrift
	// modules), not whatever python3 comes first on PATH.
	cmd := exec.CommandContext(ctx, "ip", "netns", "exec", l.namespace, Python, l.cli, "--thrift-port", strconv.Itoa(port))
	cmd.Stdin = strings.NewReader(strings.Join(commands, "\n") + "\n")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("simple_switch_CLI on %s: %v: %s", switchName, err, strings.TrimSpace(string(out)))
	}
	// The CLI exits 0 after a failed command; its errors start with "Error".
	for _, line := range strings.Split(string(out), "\n") {
		if strings.Contains(line, "Error") || strings.Contains(line, "Invalid") {
			return string(out), fmt.Errorf("simple_switch_CLI on %s: %s", switchName, strings.TrimSpace(line))
		}
	}
	return string(out), nil
}

func findSwitchCLI(bmv2 string) string {
	if bmv2 != "" {
		p := filepath.Join(filepath.Dir(bmv2), "simple_switch_CLI")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("simple_switch_CLI"); err == nil {
		return p
	}
	return ""
}

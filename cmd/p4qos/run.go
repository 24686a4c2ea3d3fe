package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"gopkg.in/yaml.v3"

	"github.com/p4qos/p4qos/allocator"
	"github.com/p4qos/p4qos/compiler"
	"github.com/p4qos/p4qos/controlplane"
	"github.com/p4qos/p4qos/tables"
	"github.com/p4qos/p4qos/topo"
)

func init() { subcommands = append(subcommands, newRunCmd) }

// runConfig is the daemon configuration. Keys are the flag names, in the
// config file, as flags, and as P4QOS_* environment variables (dashes
// become underscores: P4QOS_METRICS_ADDR).
type runConfig struct {
	Topology          string        `mapstructure:"topology"`
	Policy            string        `mapstructure:"policy"`
	P4Info            string        `mapstructure:"p4info"`
	TofinoP4Info      string        `mapstructure:"tofino-p4info"`
	BMv2JSON          string        `mapstructure:"bmv2-json"`
	TofinoBin         string        `mapstructure:"tofino-bin"`
	TofinoContext     string        `mapstructure:"tofino-context"`
	TofinoProgram     string        `mapstructure:"tofino-program"`
	Switches          []switchEntry `mapstructure:"switches"`
	ElectionID        uint64        `mapstructure:"election-id"`
	ElectionIDHigh    uint64        `mapstructure:"election-id-high"`
	Role              string        `mapstructure:"role"`
	BatchSize         int           `mapstructure:"batch-size"`
	ReconcileInterval time.Duration `mapstructure:"reconcile-interval"`
	LoopInterval      time.Duration `mapstructure:"loop-interval"`
	Hysteresis        float64       `mapstructure:"hysteresis"`
	PolicyPoll        time.Duration `mapstructure:"policy-poll"`
	MetricsAddr       string        `mapstructure:"metrics-addr"`
	TLSCA             string        `mapstructure:"tls-ca"`
	TLSCert           string        `mapstructure:"tls-cert"`
	TLSKey            string        `mapstructure:"tls-key"`
	Once              bool          `mapstructure:"once"`
	Timeout           time.Duration `mapstructure:"timeout"`
	Keepalive         time.Duration `mapstructure:"keepalive"`
}

// switchEntry lists a switch explicitly (instead of, or in addition to,
// the topology's switches; an entry with a topology switch's name
// overrides its address and device id).
type switchEntry struct {
	Name    string `mapstructure:"name"`
	Address string `mapstructure:"address"`
	// DeviceID is a pointer so that an explicit 0 (a valid P4Runtime
	// device id) differs from "not given": the topology's id.
	DeviceID *uint64 `mapstructure:"device-id"`
	Target   string  `mapstructure:"target"`
}

var switchKeys = []string{"name", "address", "device-id", "target"}

func newRunCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "run -c p4qos.yaml",
		Short: "Run the controller daemon: keep the switches converged with the policy",
		Long: `run connects to every switch (P4Runtime, as primary for its election id), pushes
the pipeline when needed, installs the compiled policy, and keeps it there:
it repairs drift, re-programs restarted switches, reloads the policy and topology
files when they change (a bad one is rejected and the running state kept; a
topology without a failed link moves routes and ECMP groups), and runs the
closed bandwidth loop (counters -> demand -> allocation -> meters).

Settings come from the config file (-c), P4QOS_* environment variables and
flags, flags winning. See docs/controller.md.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runDaemon(cmd, e) },
	}
	f := cmd.Flags()
	f.StringP("config", "c", "", "config file (YAML)")
	f.String("topology", "", "topology file; its switches are managed (docs/topology.md)")
	f.String("policy", "", "policy file (docs/policy.md); watched and reloaded")
	f.String("p4info", "", "P4Info of the pipeline (text or binary)")
	f.String("tofino-p4info", "", "P4Info of the TNA pipeline for tofino switches (default: p4info)")
	f.String("bmv2-json", "", "BMv2 JSON, the device config for bmv2 switches")
	f.String("tofino-bin", "", "tofino.bin, for tofino switches")
	f.String("tofino-context", "", "context.json, for tofino switches")
	f.String("tofino-program", "qos", "P4 program name packed into the Tofino device config")
	f.Uint64("election-id", 1, "P4Runtime election id (low 64 bits)")
	f.Uint64("election-id-high", 0, "P4Runtime election id (high 64 bits)")
	f.String("role", "", "P4Runtime role name (empty: the default role)")
	f.Int("batch-size", controlplane.DefaultBatchSize, "updates per Write RPC")
	f.Duration("reconcile-interval", 30*time.Second, "how often every switch is read back and repaired")
	f.Duration("loop-interval", time.Second, "closed-loop interval (0 disables the loop)")
	f.Float64("hysteresis", 0.05, "relative meter-rate / WCMP-weight change below which nothing is written")
	f.Duration("policy-poll", time.Second, "how often the policy and topology files are checked for changes")
	f.String("metrics-addr", controlplane.DefaultMetricsAddr, `Prometheus metrics address ("off" disables)`)
	f.String("tls-ca", "", "CA bundle (PEM) to verify switches; enables TLS")
	f.String("tls-cert", "", "client certificate (PEM) for mutual TLS")
	f.String("tls-key", "", "client key (PEM) for mutual TLS")
	f.Duration("keepalive", 30*time.Second, "gRPC keepalive ping interval to the switches (0 disables)")
	f.Bool("once", false, "reconcile every switch once and exit")
	f.Duration("timeout", 30*time.Second, "with --once: how long to wait for the switches")
	return cmd
}

// loadRunConfig merges file, env and flags, rejecting unknown keys.
func loadRunConfig(cmd *cobra.Command) (*runConfig, error) {
	v := newViper(cmd)
	if path := v.GetString("config"); path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, invalidInput(fmt.Errorf("config: %w", err))
		}
		if err := checkConfigKeys(path, data, cmd); err != nil {
			return nil, invalidInput(err)
		}
		v.SetConfigType("yaml")
		if err := v.ReadConfig(bytes.NewReader(data)); err != nil {
			return nil, invalidInputf("config %s: %v", path, err)
		}
	}
	var cfg runConfig
	if err := v.Unmarshal(&cfg); err != nil {
		return nil, invalidInputf("config: %v", err)
	}
	if path := v.GetString("config"); path != "" {
		resolveRelative(cmd, &cfg, path)
	}
	return &cfg, nil
}

// checkConfigKeys rejects keys the daemon does not know, with their line,
// so a typo (reconcile_interval for reconcile-interval) is not silently
// ignored.
func checkConfigKeys(path string, data []byte, cmd *cobra.Command) error {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return fmt.Errorf("config %s: %w", path, err)
	}
	if len(doc.Content) == 0 {
		return nil
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return fmt.Errorf("config %s:%d: expected a mapping of settings", path, root.Line)
	}
	known := map[string]bool{"switches": true}
	cmd.Flags().VisitAll(func(f *pflag.Flag) { known[f.Name] = true })
	delete(known, "config")
	delete(known, "help")
	var errs []string
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, val := root.Content[i], root.Content[i+1]
		if !known[k.Value] {
			errs = append(errs, fmt.Sprintf("%s:%d: unknown key %q", path, k.Line, k.Value))
			continue
		}
		if k.Value != "switches" {
			continue
		}
		if val.Kind != yaml.SequenceNode {
			errs = append(errs, fmt.Sprintf("%s:%d: switches must be a list", path, val.Line))
			continue
		}
		for _, sw := range val.Content {
			if sw.Kind != yaml.MappingNode {
				errs = append(errs, fmt.Sprintf("%s:%d: a switch must be a mapping", path, sw.Line))
				continue
			}
			for j := 0; j+1 < len(sw.Content); j += 2 {
				if kk := sw.Content[j]; !contains(switchKeys, kk.Value) {
					errs = append(errs, fmt.Sprintf("%s:%d: unknown switch key %q (known: %s)", path, kk.Line, kk.Value, strings.Join(switchKeys, ", ")))
				}
			}
		}
	}
	if len(errs) > 0 {
		return errors.New(strings.Join(errs, "\n"))
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// resolveRelative makes file paths that come from the config file
// relative to the file's directory, so a config works from any working
// directory. Paths given as flags or P4QOS_* variables stay relative to the
// working directory, as a user typing them expects.
func resolveRelative(cmd *cobra.Command, cfg *runConfig, configPath string) {
	dir := dirOf(configPath)
	for key, p := range map[string]*string{"topology": &cfg.Topology, "policy": &cfg.Policy, "p4info": &cfg.P4Info, "tofino-p4info": &cfg.TofinoP4Info,
		"bmv2-json": &cfg.BMv2JSON, "tofino-bin": &cfg.TofinoBin, "tofino-context": &cfg.TofinoContext,
		"tls-ca": &cfg.TLSCA, "tls-cert": &cfg.TLSCert, "tls-key": &cfg.TLSKey} {
		env := "P4QOS_" + strings.ToUpper(strings.ReplaceAll(key, "-", "_"))
		if *p == "" || filepath.IsAbs(*p) || cmd.Flags().Changed(key) || os.Getenv(env) != "" {
			continue
		}
		*p = filepath.Join(dir, *p)
	}
}

func dirOf(p string) string { return filepath.Dir(p) }

// fabric is everything loaded from files before anything is written.
type fabric struct {
	cfg      *runConfig
	topology *topo.Topology
	// topologyData is the file content topology was parsed from: what
	// the topology watch compares with.
	topologyData []byte
	schema       *tables.Schema // the v1model (bmv2, sim) pipeline
	tofino       *tables.Schema // the TNA pipeline; schema when not given
	switches     []controlplane.SwitchConfig
	targets      map[string]topo.Target
	pipelines    map[topo.Target]*controlplane.Pipeline
}

func loadFabric(cfg *runConfig) (*fabric, error) {
	fb := &fabric{cfg: cfg, targets: map[string]topo.Target{}, pipelines: map[topo.Target]*controlplane.Pipeline{}}
	if cfg.Policy == "" {
		return nil, invalidInputf("no policy: set policy in the config file or --policy")
	}
	if cfg.P4Info == "" {
		return nil, invalidInputf("no P4Info: set p4info in the config file or --p4info")
	}
	if cfg.BatchSize <= 0 {
		return nil, invalidInputf("batch-size must be positive, got %d", cfg.BatchSize)
	}
	if cfg.Hysteresis < 0 || cfg.Hysteresis >= 1 {
		return nil, invalidInputf("hysteresis must be in [0, 1), got %g", cfg.Hysteresis)
	}
	if cfg.ReconcileInterval <= 0 {
		return nil, invalidInputf("reconcile-interval must be positive, got %v", cfg.ReconcileInterval)
	}
	for _, d := range []struct {
		key string
		v   time.Duration
	}{{"loop-interval", cfg.LoopInterval}, {"policy-poll", cfg.PolicyPoll}, {"timeout", cfg.Timeout}, {"keepalive", cfg.Keepalive}} {
		if d.v < 0 {
			return nil, invalidInputf("%s must not be negative, got %v", d.key, d.v)
		}
	}
	if cfg.ElectionID == 0 && cfg.ElectionIDHigh == 0 {
		return nil, invalidInputf("election id must be non-zero: set election-id (or election-id-high)")
	}
	schema, err := tables.Load(cfg.P4Info)
	if err != nil {
		return nil, invalidInputf("p4info: %v", err)
	}
	fb.schema, fb.tofino = schema, schema
	if cfg.TofinoP4Info != "" {
		if fb.tofino, err = tables.Load(cfg.TofinoP4Info); err != nil {
			return nil, invalidInputf("tofino-p4info: %v", err)
		}
	}
	// The compiler needs the topology (paths, ports, host addresses); a
	// switches list only overrides where each switch is reached.
	if cfg.Topology == "" {
		return nil, invalidInputf("no topology: set topology in the config file or --topology")
	}
	data, err := os.ReadFile(cfg.Topology)
	if err != nil {
		return nil, invalidInput(fmt.Errorf("read topology: %w", err))
	}
	t, err := topo.Parse(cfg.Topology, data)
	if err != nil {
		return nil, invalidInput(err)
	}
	fb.topology, fb.topologyData = t, data
	for _, sw := range t.Switches {
		fb.switches = append(fb.switches, controlplane.SwitchConfig{Name: sw.Name, Address: sw.Address, DeviceID: sw.DeviceID})
		fb.targets[sw.Name] = sw.Target
	}
	for _, se := range cfg.Switches {
		if se.Name == "" || se.Address == "" {
			return nil, invalidInputf("switches: every switch needs a name and an address")
		}
		target := topo.Target(se.Target)
		if target == "" {
			target = fb.targets[se.Name]
		}
		if target == "" {
			target = topo.TargetSim
		}
		replaced := false
		for i := range fb.switches {
			if fb.switches[i].Name == se.Name {
				id := fb.switches[i].DeviceID
				if se.DeviceID != nil {
					id = *se.DeviceID
				}
				fb.switches[i] = controlplane.SwitchConfig{Name: se.Name, Address: se.Address, DeviceID: id}
				replaced = true
			}
		}
		if !replaced {
			return nil, invalidInputf("switches: %q is not a switch of topology %s", se.Name, cfg.Topology)
		}
		fb.targets[se.Name] = target
	}
	if len(fb.switches) == 0 {
		return nil, invalidInputf("no switches: give a topology or a switches list")
	}
	for _, sw := range fb.switches {
		t := fb.targets[sw.Name]
		if fb.pipelines[t] != nil {
			continue
		}
		target, err := loadTarget(cfg, t)
		if err != nil {
			return nil, invalidInput(fmt.Errorf("switch %s: %w", sw.Name, err))
		}
		p, err := controlplane.NewPipeline(fb.schemaOf(sw.Name).P4Info(), target)
		if err != nil {
			return nil, invalidInput(fmt.Errorf("switch %s: %w", sw.Name, err))
		}
		fb.pipelines[t] = p
	}
	return fb, nil
}

func loadTarget(cfg *runConfig, t topo.Target) (controlplane.Target, error) {
	switch t {
	case topo.TargetSim, "":
		return controlplane.SimTarget{}, nil
	case topo.TargetBMv2:
		if cfg.BMv2JSON == "" {
			return nil, errors.New("target bmv2 needs bmv2-json")
		}
		b, err := os.ReadFile(cfg.BMv2JSON)
		if err != nil {
			return nil, fmt.Errorf("bmv2-json: %w", err)
		}
		return controlplane.BMv2Target{JSON: b}, nil
	case topo.TargetTofino:
		if cfg.TofinoBin == "" || cfg.TofinoContext == "" {
			return nil, errors.New("target tofino needs tofino-bin and tofino-context")
		}
		bin, err := os.ReadFile(cfg.TofinoBin)
		if err != nil {
			return nil, fmt.Errorf("tofino-bin: %w", err)
		}
		ctx, err := os.ReadFile(cfg.TofinoContext)
		if err != nil {
			return nil, fmt.Errorf("tofino-context: %w", err)
		}
		return controlplane.TofinoTarget{ProgramName: cfg.TofinoProgram, Binary: bin, Context: ctx}, nil
	}
	return nil, fmt.Errorf("unknown target %q (bmv2, tofino or sim)", t)
}

// intents compiles the policy file into per-switch intents.
func (fb *fabric) intents(ctx context.Context, policy []byte) (map[string]*controlplane.Intent, *compiledLoop, error) {
	ents, loop, err := compileFabric(ctx, fb, policy)
	if err != nil {
		return nil, nil, err
	}
	out := make(map[string]*controlplane.Intent, len(fb.switches))
	for _, sw := range fb.switches {
		out[sw.Name] = &controlplane.Intent{Schema: fb.schemaOf(sw.Name), Pipeline: fb.pipelines[fb.targets[sw.Name]], Entities: ents[sw.Name]}
	}
	return out, loop, nil
}

func runDaemon(cmd *cobra.Command, e *env) error {
	ctx := cmd.Context()
	log := e.logger(cmd)
	cfg, err := loadRunConfig(cmd)
	if err != nil {
		return err
	}
	fb, err := loadFabric(cfg)
	if err != nil {
		return err
	}
	var sessOpts []controlplane.SessionOption
	if cfg.TLSCA != "" || cfg.TLSCert != "" || cfg.TLSKey != "" {
		creds, err := controlplane.TLSFiles(cfg.TLSCA, cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			return invalidInput(err)
		}
		sessOpts = append(sessOpts, controlplane.WithTransportCredentials(creds))
	}
	sessOpts = append(sessOpts,
		controlplane.WithKeepalive(cfg.Keepalive, 10*time.Second),
		controlplane.WithElectionID(controlplane.ElectionID{High: cfg.ElectionIDHigh, Low: cfg.ElectionID}),
		controlplane.WithRole(cfg.Role, nil))
	policy, err := os.ReadFile(cfg.Policy)
	if err != nil {
		return invalidInput(fmt.Errorf("policy: %w", err))
	}
	intents, model, err := fb.intents(ctx, policy)
	if err != nil {
		return invalidInput(err)
	}

	metrics := controlplane.NewMetrics()
	opts := []controlplane.DaemonOption{
		controlplane.WithSessionOptions(sessOpts...),
		controlplane.WithApplyOptions(controlplane.WithBatchSize(cfg.BatchSize)),
		controlplane.WithReconcileInterval(cfg.ReconcileInterval),
		controlplane.WithMetrics(metrics),
		controlplane.WithDaemonLogger(log),
	}
	var loop *controlplane.Loop
	if cfg.LoopInterval > 0 && !cfg.Once {
		// The loop runs even when the policy meters nothing from the
		// allocator yet: a reload may add such a class.
		loop = controlplane.NewLoop(loopModel(model), controlplane.WithHysteresis(cfg.Hysteresis),
			controlplane.WithLoopLogger(log), controlplane.WithLoopMetrics(metrics),
			controlplane.WithEstimator(allocator.NewDemandEstimator()))
		opts = append(opts, controlplane.WithClosedLoop(loop, cfg.LoopInterval))
	}
	d, err := controlplane.NewDaemon(fb.switches, opts...)
	if err != nil {
		return invalidInput(err)
	}
	d.SetIntent(intents)

	if cfg.Once {
		octx, cancel := context.WithTimeout(ctx, cfg.Timeout)
		defer cancel()
		stats, err := d.Once(octx)
		printOnce(e.stdout, fb.switches, stats)
		if err != nil {
			return fmt.Errorf("reconcile: %w", err)
		}
		return nil
	}

	if cfg.MetricsAddr != "" && cfg.MetricsAddr != "off" {
		addr, _, err := controlplane.ServeMetrics(ctx, cfg.MetricsAddr, metrics)
		if err != nil {
			return invalidInput(err)
		}
		log.Info("metrics", "url", "http://"+addr+"/metrics")
	}
	go watchInputs(ctx, log, cfg, fb, d, metrics, policy, loop)
	log.Info("controller running", "switches", len(fb.switches), "policy", cfg.Policy, "topology", cfg.Topology)
	err = d.Run(ctx)
	log.Info("controller stopped")
	return err
}

// watchedFile is one polled input file. A new content is taken only once
// two polls in a row saw it, and an empty file never is: editors and
// scripts rewrite files in place, so a read can catch the file empty or
// half-written, and an empty policy would remove every entry.
type watchedFile struct {
	path    string
	sum     [sha256.Size]byte // the content in use
	pending [sha256.Size]byte // a new content seen once, not yet taken
}

func newWatchedFile(path string, current []byte) *watchedFile {
	return &watchedFile{path: path, sum: sha256.Sum256(current)}
}

// poll reads the file and returns its content and whether it is a new,
// settled content (which is then the one in use).
func (w *watchedFile) poll(log *slog.Logger, what string) ([]byte, bool) {
	data, err := os.ReadFile(w.path)
	if err != nil {
		log.Warn(what+" file unreadable; keeping the running "+what, "file", w.path, "err", err)
		return nil, false
	}
	s := sha256.Sum256(data)
	if s == w.sum {
		w.pending = [sha256.Size]byte{}
		return data, false
	}
	if s != w.pending || len(bytes.TrimSpace(data)) == 0 {
		w.pending = s
		return data, false
	}
	w.sum = s
	return data, true
}

// watchInputs polls the policy and topology files and applies a changed,
// valid pair. A policy the compiler rejects, or a topology that does not
// load, compile, or changes the set of managed switches, is logged with
// its errors and the running intent stays. A topology change (a link
// removed after a failure, or restored) recompiles the policy against the
// new topology: routes, ECMP groups and the allocation follow the remaining
// links.
func watchInputs(ctx context.Context, log *slog.Logger, cfg *runConfig, fb *fabric, d *controlplane.Daemon,
	m *controlplane.Metrics, current []byte, loop *controlplane.Loop) {
	if cfg.PolicyPoll <= 0 {
		return
	}
	policy := newWatchedFile(cfg.Policy, current)
	topology := newWatchedFile(cfg.Topology, fb.topologyData)
	t := time.NewTicker(cfg.PolicyPoll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		pdata, pnew := policy.poll(log, "policy")
		tdata, tnew := topology.poll(log, "topology")
		if !pnew && !tnew {
			continue
		}
		if pnew {
			current = pdata
		}
		next := fb
		if tnew {
			nfb, err := reloadFabric(fb, tdata)
			if err != nil {
				m.PolicyLoads.WithLabelValues("rejected").Inc()
				log.Error("new topology rejected; keeping the running topology", "file", cfg.Topology, "errors", err.Error())
				if !pnew {
					continue
				}
			} else {
				next = nfb
			}
		}
		intents, model, err := next.intents(ctx, current)
		if err != nil {
			m.PolicyLoads.WithLabelValues("rejected").Inc()
			what := "policy"
			if !pnew {
				what = "topology"
			}
			log.Error("new "+what+" rejected; keeping the running policy", "policy", cfg.Policy, "topology", cfg.Topology, "errors", err.Error())
			continue
		}
		fb = next
		// Counted and logged before the switches start converging on it, so
		// that whoever sees the new state also sees the reload recorded.
		m.PolicyLoads.WithLabelValues("ok").Inc()
		if pnew {
			log.Info("policy reloaded", "file", cfg.Policy)
		}
		if tnew {
			var down []string
			for _, lk := range fb.topology.Links {
				if lk.Down {
					down = append(down, lk.Name())
				}
			}
			log.Info("topology reloaded", "file", cfg.Topology, "links", len(fb.topology.Links), "down", down)
		}
		if loop != nil {
			loop.SetModel(loopModel(model))
		}
		d.SetIntent(intents)
	}
}

// reloadFabric is fb with the topology parsed from data. The sessions
// stay as they are, so the managed switches (name, address, device id,
// target) must not change; only links, hosts and ports may.
func reloadFabric(fb *fabric, data []byte) (*fabric, error) {
	t, err := topo.Parse(fb.cfg.Topology, data)
	if err != nil {
		return nil, err
	}
	nfb := *fb
	nfb.topology, nfb.topologyData = t, data
	var names []string
	for _, sw := range t.Switches {
		names = append(names, sw.Name)
		if _, ok := fb.targets[sw.Name]; !ok {
			return nil, fmt.Errorf("switch %s is new: a change of the switch set needs a restart", sw.Name)
		}
	}
	if len(names) != len(fb.switches) {
		return nil, fmt.Errorf("the topology has %d switches, the running controller %d: a change of the switch set needs a restart", len(names), len(fb.switches))
	}
	// An address or device id in the topology is what the sessions use
	// unless the config's switches list overrides it.
	overridden := map[string]bool{}
	for _, se := range fb.cfg.Switches {
		overridden[se.Name] = true
	}
	for _, sw := range t.Switches {
		if overridden[sw.Name] {
			continue
		}
		for _, cur := range fb.switches {
			if cur.Name == sw.Name && (cur.Address != sw.Address || cur.DeviceID != sw.DeviceID) {
				return nil, fmt.Errorf("switch %s: address or device id changed: needs a restart", sw.Name)
			}
		}
		if sw.Target != fb.targets[sw.Name] {
			return nil, fmt.Errorf("switch %s: target changed: needs a restart", sw.Name)
		}
	}
	return &nfb, nil
}

func printOnce(w io.Writer, switches []controlplane.SwitchConfig, stats map[string]controlplane.ReconcileStats) {
	names := make([]string, 0, len(switches))
	for _, sw := range switches {
		names = append(names, sw.Name)
	}
	sort.Strings(names)
	for _, n := range names {
		st, ok := stats[n]
		if !ok {
			fmt.Fprintf(w, "%s: FAILED (see the error below)\n", n)
			continue
		}
		fmt.Fprintf(w, "%s: pushed_pipeline=%v read=%d inserts=%d modifies=%d deletes=%d written=%d rpcs=%d undone=%d\n",
			n, st.Pushed, st.Read, st.Inserts, st.Modifies, st.Deletes, st.Write.Updates, st.Write.RPCs, st.Write.Undone)
	}
}

// compileFabric compiles the policy for the fabric. It returns every
// switch's entities and, when some class meter follows the allocator, the
// closed-loop model (nil otherwise).
func compileFabric(ctx context.Context, fb *fabric, data []byte) (map[string][]*p4v1.Entity, *compiledLoop, error) {
	pol, err := compiler.ParsePolicy(fb.cfg.Policy, data)
	if err != nil {
		return nil, nil, err
	}
	ents, _, err := fb.compile(ctx, pol)
	if err != nil {
		return nil, nil, err
	}
	m := &compiledLoop{fb: fb, policy: pol, sources: demandSources(pol, fb.topology)}
	if len(m.sources) == 0 {
		m = nil
	}
	return ents, m, nil
}

// demandSources says where the closed loop measures each flow group: the
// class counter, on the switch where the flow group enters the fabric (its
// source host's switch), of the class metered from the allocator for it.
// Counting on every switch the class is installed on would count transit
// traffic again. A class metered at a tenant's allocation measures the
// tenant's traffic, which is a flow group's only when the tenant has exactly
// one; a tenant with several flow groups needs a class per flow group to be
// measured, and its flow groups are then treated as having unbounded demand.
func demandSources(pol *compiler.Policy, t *topo.Topology) []controlplane.DemandSource {
	srcHost := map[string]string{}
	tenantFGs := map[string][]string{}
	var walk func(ts []*compiler.Tenant) []string
	walk = func(ts []*compiler.Tenant) []string {
		var all []string
		for _, tn := range ts {
			if tn == nil {
				continue
			}
			var mine []string
			for _, fg := range tn.FlowGroups {
				if fg != nil {
					srcHost[fg.Name] = fg.Src
					mine = append(mine, fg.Name)
				}
			}
			mine = append(mine, walk(tn.Children)...)
			tenantFGs[tn.Name] = mine
			all = append(all, mine...)
		}
		return all
	}
	walk(pol.Tenants)
	var out []controlplane.DemandSource
	seen := map[string]bool{}
	for _, cl := range pol.Classes {
		if cl == nil || cl.Meter == nil || cl.Meter.From != "allocator" {
			continue
		}
		fg := cl.Meter.FlowGroup
		if fg == "" {
			if fgs := tenantFGs[cl.Meter.Tenant]; len(fgs) == 1 {
				fg = fgs[0]
			}
		}
		h, ok := t.Host(srcHost[fg])
		if fg == "" || !ok || seen[fg] {
			continue
		}
		seen[fg] = true
		out = append(out, controlplane.DemandSource{FlowGroup: fg, Switch: h.Switch, Counter: "class_counter", Index: int64(cl.ID)})
	}
	return out
}

// schemaOf is the pipeline schema of a switch's target.
func (fb *fabric) schemaOf(sw string) *tables.Schema {
	if fb.targets[sw] == topo.TargetTofino {
		return fb.tofino
	}
	return fb.schema
}

// compile compiles pol against each distinct pipeline schema in use (the
// pipeline contract is by name, so v1model and TNA switches get the same
// policy with their own P4Info IDs) and keeps for each switch the entities
// of its own schema. The allocation does not depend on the schema.
func (fb *fabric) compile(ctx context.Context, pol *compiler.Policy, opts ...compiler.Option) (map[string][]*p4v1.Entity, *allocator.Result, error) {
	out := map[string][]*p4v1.Entity{}
	var alloc *allocator.Result
	done := map[*tables.Schema]*compiler.Result{}
	for _, sw := range fb.switches {
		schema := fb.schemaOf(sw.Name)
		res, ok := done[schema]
		if !ok {
			var err error
			if res, err = compiler.Compile(ctx, pol, fb.topology, schema, opts...); err != nil {
				return nil, nil, err
			}
			done[schema] = res
			alloc = res.Allocation
		}
		out[sw.Name] = res.Switches[sw.Name]
	}
	return out, alloc, nil
}

// loopModel turns a possibly nil *compiledLoop into a usable model.
func loopModel(m *compiledLoop) controlplane.Model {
	if m == nil {
		return noLoop{}
	}
	return m
}

// noLoop is the model of a policy without allocator-driven meters: it
// measures nothing, so the loop does nothing.
type noLoop struct{}

func (noLoop) Sources() []controlplane.DemandSource { return nil }
func (noLoop) Enforce(context.Context, map[string]float64) (controlplane.Enforcement, error) {
	return controlplane.Enforcement{}, nil
}

// compiledLoop is the closed-loop model of a compiled policy: demand is
// measured on class counters, and enforcement is a recompilation with the
// estimated demands, of which the meters and WCMP groups are kept.
type compiledLoop struct {
	fb      *fabric
	policy  *compiler.Policy
	sources []controlplane.DemandSource
}

func (m *compiledLoop) Sources() []controlplane.DemandSource { return m.sources }

func (m *compiledLoop) Enforce(ctx context.Context, demand map[string]float64) (controlplane.Enforcement, error) {
	switches, alloc, err := m.fb.compile(ctx, m.policy, compiler.WithDemands(demand))
	if err != nil {
		return controlplane.Enforcement{}, err
	}
	enf := controlplane.Enforcement{Entities: map[string][]*p4v1.Entity{}, Allocation: map[string]float64{}}
	for sw, ents := range switches {
		for _, e := range ents {
			switch e.GetEntity().(type) {
			case *p4v1.Entity_MeterEntry, *p4v1.Entity_ActionProfileGroup:
				enf.Entities[sw] = append(enf.Entities[sw], e)
			}
		}
	}
	if alloc != nil {
		for _, fg := range alloc.FlowGroups {
			enf.Allocation[fg.Name] = fg.Rate
		}
	}
	return enf, nil
}

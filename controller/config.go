package controller

import (
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"gopkg.in/yaml.v3"

	"github.com/p4qos/p4qos/controller/cluster"
	"github.com/p4qos/p4qos/controlplane"
	"github.com/p4qos/p4qos/internal/assets"
	"github.com/p4qos/p4qos/internal/inputfile"
	"github.com/p4qos/p4qos/internal/yamlerr"
	"github.com/p4qos/p4qos/target/tofino"
	"github.com/p4qos/p4qos/topo"
)

// Config is the daemon's configuration: the one schema that `p4qos run`,
// `p4qos demo` and the Mininet lab share. Keys are the same in the config
// file, as P4QOS_* environment variables (dashes become underscores:
// P4QOS_METRICS_ADDR) and as flags; flags win over the environment, which
// wins over the file. docs/controller.md lists them.
type Config struct {
	Topology      string `yaml:"topology,omitempty"`
	Policy        string `yaml:"policy,omitempty"`
	P4Info        string `yaml:"p4info,omitempty"`
	TofinoP4Info  string `yaml:"tofino-p4info,omitempty"`
	BMv2JSON      string `yaml:"bmv2-json,omitempty"`
	TofinoBin     string `yaml:"tofino-bin,omitempty"`
	TofinoContext string `yaml:"tofino-context,omitempty"`
	TofinoProgram string `yaml:"tofino-program,omitempty"`
	TofinoBfrt    string `yaml:"tofino-bfrt,omitempty"`
	// TofinoChip picks the committed bf-p4c outputs (p4src/build/CHIP/)
	// that tofino switches get when tofino-bin and tofino-context are not
	// given: "tofino" or "tofino2".
	TofinoChip string `yaml:"tofino-chip,omitempty"`
	// TofinoDeviceConfig is how tofino switches' device config is packed:
	// "pi" (PI / stratum_bf), "pi-bfrt" (PI plus the pipeline name and
	// bf-rt.json, open-p4studio's bf_switchd) or "stratum-bfrt"
	// (BfPipelineConfig).
	TofinoDeviceConfig string `yaml:"tofino-device-config,omitempty"`

	Switches []SwitchEntry `yaml:"switches,omitempty"`

	ElectionID     uint64 `yaml:"election-id,omitempty"`
	ElectionIDHigh uint64 `yaml:"election-id-high,omitempty"`
	Role           string `yaml:"role,omitempty"`

	BatchSize         int           `yaml:"batch-size,omitempty"`
	ReconcileInterval time.Duration `yaml:"reconcile-interval,omitempty"`
	LoopInterval      time.Duration `yaml:"loop-interval,omitempty"`
	Hysteresis        float64       `yaml:"hysteresis,omitempty"`
	PolicyPoll        time.Duration `yaml:"policy-poll,omitempty"`
	// ProbeInterval is the link-liveness probe interval (0: no probes);
	// ProbeMisses rounds without an answer take a link down, ProbeRecover
	// answered rounds bring it back (docs/controller.md, "Link liveness").
	ProbeInterval time.Duration `yaml:"probe-interval,omitempty"`
	ProbeMisses   int           `yaml:"probe-misses,omitempty"`
	ProbeRecover  int           `yaml:"probe-recover,omitempty"`
	MetricsAddr   string        `yaml:"metrics-addr,omitempty"`
	TLSCA         string        `yaml:"tls-ca,omitempty"`
	TLSCert       string        `yaml:"tls-cert,omitempty"`
	TLSKey        string        `yaml:"tls-key,omitempty"`
	Keepalive     time.Duration `yaml:"keepalive,omitempty"`
	Once          bool          `yaml:"once,omitempty"`
	Timeout       time.Duration `yaml:"timeout,omitempty"`
	LogLevel      string        `yaml:"log-level,omitempty"`

	// Cluster is etcd://host:port[,...] (etcds:// for TLS): cluster mode,
	// docs/controller.md "Cluster". Empty: the single-process mode.
	Cluster        string        `yaml:"cluster,omitempty"`
	ClusterID      string        `yaml:"cluster-id,omitempty"`
	ClusterLease   time.Duration `yaml:"cluster-lease,omitempty"`
	ClusterTLSCA   string        `yaml:"cluster-tls-ca,omitempty"`
	ClusterTLSCert string        `yaml:"cluster-tls-cert,omitempty"`
	ClusterTLSKey  string        `yaml:"cluster-tls-key,omitempty"`

	// APIToken is the bearer token the status API's write endpoints
	// (reservations) require; empty: writes only on a loopback listener.
	APIToken string `yaml:"api-token,omitempty"`
}

// SwitchEntry lists a switch of the topology with where to reach it: an
// entry overrides the topology's address, device id and target, and adds
// the address of the target's queue interface.
type SwitchEntry struct {
	Name    string `yaml:"name"`
	Address string `yaml:"address,omitempty"`
	// DeviceID is a pointer so that an explicit 0 (a valid P4Runtime
	// device id) differs from "not given": the topology's id.
	DeviceID *uint64 `yaml:"device-id,omitempty"`
	Target   string  `yaml:"target,omitempty"`
	// ThriftAddress is the target's queue interface (BMv2's thrift server;
	// `p4qos sim --thrift-listen`); BMv2 defaults to port 9090 of the
	// switch's host, the sim has none unless given.
	ThriftAddress string `yaml:"thrift-address,omitempty"`
	// DeviceConfigFormat overrides tofino-device-config for this switch.
	DeviceConfigFormat string `yaml:"device-config-format,omitempty"`
}

// Default returns the configuration before any file, variable or flag.
func Default() Config {
	return Config{
		TofinoProgram:      "qos",
		TofinoChip:         "tofino",
		TofinoDeviceConfig: "pi",
		ElectionID:         1,
		BatchSize:          controlplane.DefaultBatchSize,
		ReconcileInterval:  30 * time.Second,
		LoopInterval:       time.Second,
		Hysteresis:         0.05,
		PolicyPoll:         time.Second,
		ProbeInterval:      DefaultProbeInterval,
		ProbeMisses:        DefaultProbeMisses,
		ProbeRecover:       DefaultProbeRecover,
		MetricsAddr:        controlplane.DefaultMetricsAddr,
		Keepalive:          30 * time.Second,
		Timeout:            30 * time.Second,
		LogLevel:           "info",
		ClusterLease:       cluster.DefaultLeaseTTL,
	}
}

// Minimums below which an interval is refused: smaller values spin the CPU
// (a 1 ns loop interval burns a core) without making anything faster.
const (
	MinReconcileInterval = 100 * time.Millisecond
	MinLoopInterval      = 10 * time.Millisecond
	MinPolicyPoll        = 10 * time.Millisecond
	MinKeepalive         = time.Second
	MaxBatchSize         = 1 << 20
)

// kind is how a setting's value is parsed.
type kind int

const (
	kindString kind = iota
	kindPath        // a file; relative paths in a config file resolve against its directory
	kindUint64
	kindInt
	kindFloat
	kindDuration
	kindBool
)

func (k kind) String() string {
	return [...]string{"string", "path", "uint64", "int", "float", "duration", "bool"}[k]
}

// setting is one key of the schema.
type setting struct {
	key   string
	kind  kind
	usage string
	ptr   func(*Config) any
}

// settings is the schema, in the order flags and docs list it.
var settings = []setting{
	{"topology", kindPath, "topology file; its switches are managed (docs/topology.md)", func(c *Config) any { return &c.Topology }},
	{"policy", kindPath, "policy file (docs/policy.md); watched and reloaded", func(c *Config) any { return &c.Policy }},
	{"p4info", kindPath, "P4Info of the pipeline (text or binary)", func(c *Config) any { return &c.P4Info }},
	{"tofino-p4info", kindPath, "P4Info of the TNA pipeline for tofino switches (default: the committed one of tofino-chip, or p4info with tofino-bin)", func(c *Config) any { return &c.TofinoP4Info }},
	{"bmv2-json", kindPath, "BMv2 JSON, the device config for bmv2 switches", func(c *Config) any { return &c.BMv2JSON }},
	{"tofino-chip", kindString, "tofino or tofino2: whose committed bf-p4c outputs tofino switches get without tofino-bin/tofino-context", func(c *Config) any { return &c.TofinoChip }},
	{"tofino-bin", kindPath, "tofino.bin, for tofino switches (default: the committed one of tofino-chip)", func(c *Config) any { return &c.TofinoBin }},
	{"tofino-context", kindPath, "context.json, for tofino switches (given with tofino-bin)", func(c *Config) any { return &c.TofinoContext }},
	{"tofino-program", kindString, "P4 program name packed into the Tofino device config", func(c *Config) any { return &c.TofinoProgram }},
	{"tofino-bfrt", kindPath, "bf-rt.json, for tofino switches packed for stratum-bfrt or pi-bfrt", func(c *Config) any { return &c.TofinoBfrt }},
	{"tofino-device-config", kindString, "Tofino device-config packing: pi (PI, stratum_bf), pi-bfrt (open-p4studio's bf_switchd) or stratum-bfrt (Stratum's BfPipelineConfig)", func(c *Config) any { return &c.TofinoDeviceConfig }},
	{"election-id", kindUint64, "P4Runtime election id (low 64 bits)", func(c *Config) any { return &c.ElectionID }},
	{"election-id-high", kindUint64, "P4Runtime election id (high 64 bits)", func(c *Config) any { return &c.ElectionIDHigh }},
	{"role", kindString, "P4Runtime role name (empty: the default role)", func(c *Config) any { return &c.Role }},
	{"batch-size", kindInt, "updates per Write RPC", func(c *Config) any { return &c.BatchSize }},
	{"reconcile-interval", kindDuration, "how often every switch is read back and repaired", func(c *Config) any { return &c.ReconcileInterval }},
	{"loop-interval", kindDuration, "closed-loop interval (0 disables the loop)", func(c *Config) any { return &c.LoopInterval }},
	{"hysteresis", kindFloat, "relative meter-rate / WCMP-weight change below which nothing is written", func(c *Config) any { return &c.Hysteresis }},
	{"policy-poll", kindDuration, "how often the policy and topology files are checked for changes (0: never)", func(c *Config) any { return &c.PolicyPoll }},
	{"probe-interval", kindDuration, "link-liveness probe interval on every fabric link (0: no probes)", func(c *Config) any { return &c.ProbeInterval }},
	{"probe-misses", kindInt, "unanswered probe rounds in a row that take a link down", func(c *Config) any { return &c.ProbeMisses }},
	{"probe-recover", kindInt, "answered probe rounds in a row that bring a down link back", func(c *Config) any { return &c.ProbeRecover }},
	{"metrics-addr", kindString, `address of /metrics, the status API and the dashboard ("off" disables)`, func(c *Config) any { return &c.MetricsAddr }},
	{"api-token", kindString, "bearer token the status API's write endpoints (POST/DELETE reservations) require; empty: writes are refused unless they arrive on a loopback address (prefer P4QOS_API_TOKEN or the config file: flags show in ps)", func(c *Config) any { return &c.APIToken }},
	{"tls-ca", kindPath, "CA bundle (PEM) to verify switches; enables TLS", func(c *Config) any { return &c.TLSCA }},
	{"tls-cert", kindPath, "client certificate (PEM) for mutual TLS", func(c *Config) any { return &c.TLSCert }},
	{"tls-key", kindPath, "client key (PEM) for mutual TLS", func(c *Config) any { return &c.TLSKey }},
	{"keepalive", kindDuration, "gRPC keepalive ping interval to the switches (0 disables)", func(c *Config) any { return &c.Keepalive }},
	{"once", kindBool, "reconcile every switch once and exit", func(c *Config) any { return &c.Once }},
	{"timeout", kindDuration, "with --once: how long to wait for the switches", func(c *Config) any { return &c.Timeout }},
	{"log-level", kindString, "log level: debug, info, warn or error", func(c *Config) any { return &c.LogLevel }},
	{"cluster", kindString, "cluster mode: etcd://host:port[,host:port...] (etcds:// for TLS); empty: single process", func(c *Config) any { return &c.Cluster }},
	{"cluster-id", kindString, "this instance's name in the cluster (default: host name and process id)", func(c *Config) any { return &c.ClusterID }},
	{"cluster-lease", kindDuration, "etcd lease TTL: how long a dead or cut-off master keeps its switches", func(c *Config) any { return &c.ClusterLease }},
	{"cluster-tls-ca", kindPath, "CA bundle (PEM) to verify etcd; enables TLS", func(c *Config) any { return &c.ClusterTLSCA }},
	{"cluster-tls-cert", kindPath, "client certificate (PEM) for etcd", func(c *Config) any { return &c.ClusterTLSCert }},
	{"cluster-tls-key", kindPath, "client key (PEM) for etcd", func(c *Config) any { return &c.ClusterTLSKey }},
}

var switchKeys = []string{"name", "address", "device-id", "target", "thrift-address", "device-config-format"}

func lookup(key string) (setting, bool) {
	for _, s := range settings {
		if s.key == key {
			return s, true
		}
	}
	return setting{}, false
}

// EnvPrefix starts the environment variables of the daemon's settings.
const EnvPrefix = "P4QOS_"

// otherEnv are P4QOS_* variables that belong to other commands or to the
// tests, not to the daemon: they are not "unknown settings".
var otherEnv = []string{"P4QOS_OUTPUT", "P4QOS_E2E", "P4QOS_TNA_", "P4QOS_HOSTILE"}

// Sources says where a Config comes from.
type Sources struct {
	// File is the config file ("" for none; "-" reads Stdin, and its
	// relative paths are then relative to the working directory).
	File  string
	Stdin io.Reader
	// Env is the environment, as os.Environ returns it.
	Env []string
	// Flags are the command's flags (those BindFlags added); only the ones
	// set on the command line count.
	Flags *pflag.FlagSet
}

// Load reads the configuration from its sources onto Default() and
// validates it. Every problem is reported, each with its position (file
// line:column, variable or flag name); the error is a *ConfigError.
func Load(src Sources) (Config, error) { return load(src, Default()) }

func load(src Sources, cfg Config) (Config, error) {
	var errs configErrors
	if src.File != "" {
		data, err := inputfile.ReadArg(src.File, src.Stdin, inputfile.Config)
		if err != nil {
			return cfg, &ConfigError{Problems: []string{err.Error()}}
		}
		name, dir := src.File, filepath.Dir(src.File)
		if src.File == inputfile.Stdin {
			name, dir = "<stdin>", "."
		}
		errs.add(decodeFile(&cfg, name, data)...)
		resolvePaths(&cfg, dir)
	}
	errs.add(applyEnv(&cfg, src.Env)...)
	if src.Flags != nil {
		errs.add(applyFlags(&cfg, src.Flags)...)
	}
	resolveEmbedded(&cfg)
	if len(errs.list) == 0 {
		errs.add(cfg.Validate()...)
	}
	return cfg, errs.err()
}

// ConfigError lists every problem of a configuration.
type ConfigError struct{ Problems []string }

func (e *ConfigError) Error() string { return strings.Join(e.Problems, "\n") }

// configErrors collects problems, keeping at most yamlerr.MaxErrors of
// them: a hostile file of a million bad keys gets a short answer.
type configErrors struct {
	list  []string
	extra int
}

func (e *configErrors) add(p ...string) {
	room := max(yamlerr.MaxErrors-len(e.list), 0)
	if len(p) > room {
		e.extra += len(p) - room
		p = p[:room]
	}
	e.list = append(e.list, p...)
}

func (e *configErrors) err() error {
	if len(e.list) == 0 {
		return nil
	}
	problems := e.list
	if e.extra > 0 {
		problems = append(problems, fmt.Sprintf("… and %d more problems", e.extra))
	}
	return &ConfigError{Problems: problems}
}

// resolvePaths makes the file's relative paths relative to its directory,
// so a config works from any working directory. (Paths from variables and
// flags are applied after this and stay relative to the working directory,
// as a user typing them expects.)
func resolvePaths(cfg *Config, dir string) {
	for _, s := range settings {
		if s.kind != kindPath {
			continue
		}
		p := s.ptr(cfg).(*string)
		if *p == "" || filepath.IsAbs(*p) {
			continue
		}
		joined := filepath.Join(dir, *p)
		if _, err := os.Stat(joined); err != nil && assets.Embedded(*p) {
			joined = *p // a repository path the binary carries: Load resolves it
		}
		*p = joined
	}
}

// resolveEmbedded replaces repository paths that are not on disk by the
// binary's own copies (internal/assets), so that a config naming
// p4src/build/qos.p4info.txtpb works from any directory.
func resolveEmbedded(cfg *Config) {
	for _, s := range settings {
		if p, ok := s.ptr(cfg).(*string); ok && s.kind == kindPath {
			if r, err := assets.Path(*p); err == nil {
				*p = r
			}
		}
	}
}

// decodeFile applies a YAML config file's settings onto cfg.
func decodeFile(cfg *Config, path string, data []byte) []string {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return []string{fmt.Sprintf("%s: %v", path, err)}
	}
	if len(doc.Content) == 0 {
		return nil // an empty file sets nothing
	}
	root := doc.Content[0]
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return nil // only comments
	}
	if root.Kind != yaml.MappingNode {
		return []string{fmt.Sprintf("%s:%d:%d: expected a mapping of settings", path, root.Line, root.Column)}
	}
	var errs []string
	seen := map[string]bool{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		if len(errs) > yamlerr.MaxErrors {
			errs = append(errs, fmt.Sprintf("%s: stopped after %d problems", path, yamlerr.MaxErrors))
			break
		}
		k, v := root.Content[i], root.Content[i+1]
		pos := fmt.Sprintf("%s:%d:%d", path, k.Line, k.Column)
		if seen[k.Value] {
			errs = append(errs, fmt.Sprintf("%s: %s is set twice", pos, yamlerr.Quote(k.Value)))
			continue
		}
		seen[k.Value] = true
		if k.Value == "switches" {
			sw, perr := decodeSwitches(path, v)
			errs = append(errs, perr...)
			cfg.Switches = sw
			continue
		}
		s, ok := lookup(k.Value)
		if !ok {
			errs = append(errs, fmt.Sprintf("%s: unknown key %s%s", pos, yamlerr.Quote(k.Value), yamlerr.Suggest(k.Value, allKeys())))
			continue
		}
		vpos := fmt.Sprintf("%s:%d:%d: %s", path, v.Line, v.Column, s.key)
		if err := setNode(s, cfg, v); err != nil {
			errs = append(errs, fmt.Sprintf("%s: %v", vpos, err))
		}
	}
	return errs
}

func decodeSwitches(path string, v *yaml.Node) ([]SwitchEntry, []string) {
	if v.Kind != yaml.SequenceNode {
		return nil, []string{fmt.Sprintf("%s:%d:%d: switches must be a list", path, v.Line, v.Column)}
	}
	var out []SwitchEntry
	var errs []string
	for _, item := range v.Content {
		if len(errs) > yamlerr.MaxErrors {
			break
		}
		if item.Kind != yaml.MappingNode {
			errs = append(errs, fmt.Sprintf("%s:%d:%d: a switch must be a mapping", path, item.Line, item.Column))
			continue
		}
		var e SwitchEntry
		for j := 0; j+1 < len(item.Content); j += 2 {
			k, val := item.Content[j], item.Content[j+1]
			pos := fmt.Sprintf("%s:%d:%d: switches: %s", path, val.Line, val.Column, k.Value)
			var err error
			switch k.Value {
			case "name":
				err = scalarString(val, &e.Name)
			case "address":
				err = scalarString(val, &e.Address)
			case "target":
				err = scalarString(val, &e.Target)
			case "thrift-address":
				err = scalarString(val, &e.ThriftAddress)
			case "device-config-format":
				err = scalarString(val, &e.DeviceConfigFormat)
			case "device-id":
				var id uint64
				if err = scalarUint(val, &id); err == nil {
					e.DeviceID = &id
				}
			default:
				err = fmt.Errorf("unknown switch key %s%s (known: %s)", yamlerr.Quote(k.Value), yamlerr.Suggest(k.Value, switchKeys), strings.Join(switchKeys, ", "))
				pos = fmt.Sprintf("%s:%d:%d", path, k.Line, k.Column)
			}
			if err != nil {
				errs = append(errs, fmt.Sprintf("%s: %v", pos, err))
			}
		}
		out = append(out, e)
	}
	return out, errs
}

// setNode decodes a YAML scalar strictly by the setting's kind: an integer
// setting takes a YAML integer in range (not 1.9, true or .nan), a float a
// finite number, a duration a string with a unit.
func setNode(s setting, cfg *Config, v *yaml.Node) error {
	if v.Kind != yaml.ScalarNode {
		return fmt.Errorf("expected a single %s value", s.kind)
	}
	if v.Tag == "!!null" {
		return errors.New("has no value")
	}
	switch p := s.ptr(cfg).(type) {
	case *string:
		return scalarString(v, p)
	case *uint64:
		return scalarUint(v, p)
	case *int:
		if v.Tag != "!!int" {
			return fmt.Errorf("expected an integer, got %s", yamlerr.Quote(v.Value))
		}
		return parseInto(s, v.Value, cfg)
	case *float64:
		if v.Tag != "!!int" && v.Tag != "!!float" {
			return fmt.Errorf("expected a number, got %s", yamlerr.Quote(v.Value))
		}
		return parseInto(s, v.Value, cfg)
	case *bool:
		if v.Tag != "!!bool" {
			return fmt.Errorf("expected true or false, got %s", yamlerr.Quote(v.Value))
		}
		return parseInto(s, v.Value, cfg)
	case *time.Duration:
		if v.Tag != "!!str" {
			return fmt.Errorf("expected a duration with a unit (e.g. 30s, 500ms), got %s", yamlerr.Quote(v.Value))
		}
		return parseInto(s, v.Value, cfg)
	}
	return fmt.Errorf("internal: no decoder for %s", s.key)
}

func scalarString(v *yaml.Node, p *string) error {
	if v.Kind != yaml.ScalarNode || v.Tag != "!!str" {
		return fmt.Errorf("expected a string, got %s", yamlerr.Quote(v.Value))
	}
	*p = v.Value
	return nil
}

func scalarUint(v *yaml.Node, p *uint64) error {
	if v.Kind != yaml.ScalarNode || v.Tag != "!!int" {
		return fmt.Errorf("expected a non-negative integer, got %s", yamlerr.Quote(v.Value))
	}
	n, err := parseUint(v.Value)
	if err != nil {
		return err
	}
	*p = n
	return nil
}

func parseUint(s string) (uint64, error) {
	if strings.HasPrefix(strings.TrimSpace(s), "-") {
		return 0, fmt.Errorf("must not be negative, got %s", yamlerr.Quote(s))
	}
	n, err := strconv.ParseUint(strings.ReplaceAll(s, "_", ""), 0, 64)
	if err != nil {
		return 0, fmt.Errorf("expected an integer from 0 to %d, got %s", uint64(math.MaxUint64), yamlerr.Quote(s))
	}
	return n, nil
}

// parseInto parses a textual value (from YAML, a variable or a flag) into
// the setting's field.
func parseInto(s setting, text string, cfg *Config) error {
	switch p := s.ptr(cfg).(type) {
	case *string:
		*p = text
	case *uint64:
		n, err := parseUint(text)
		if err != nil {
			return err
		}
		*p = n
	case *int:
		n, err := strconv.ParseInt(strings.ReplaceAll(text, "_", ""), 0, 64)
		if err != nil || n < math.MinInt32 || n > math.MaxInt32 {
			return fmt.Errorf("expected an integer, got %s", yamlerr.Quote(text))
		}
		*p = int(n)
	case *float64:
		f, err := strconv.ParseFloat(text, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return fmt.Errorf("expected a finite number, got %s", yamlerr.Quote(text))
		}
		*p = f
	case *bool:
		b, err := strconv.ParseBool(text)
		if err != nil {
			return fmt.Errorf("expected true or false, got %s", yamlerr.Quote(text))
		}
		*p = b
	case *time.Duration:
		d, err := time.ParseDuration(text)
		if err != nil {
			return fmt.Errorf("expected a duration with a unit (e.g. 30s, 500ms), got %s", yamlerr.Quote(text))
		}
		*p = d
	}
	return nil
}

// applyEnv applies P4QOS_* variables. Unknown ones are errors, except the
// variables of other commands and of the tests (otherEnv).
func applyEnv(cfg *Config, env []string) []string {
	var errs []string
	for _, kv := range env {
		name, val, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(name, EnvPrefix) || isOtherEnv(name) {
			continue
		}
		key := strings.ToLower(strings.ReplaceAll(strings.TrimPrefix(name, EnvPrefix), "_", "-"))
		s, ok := lookup(key)
		if !ok {
			errs = append(errs, fmt.Sprintf("environment variable %s: unknown setting%s", name, yamlerr.Suggest(key, allKeys())))
			continue
		}
		if err := parseInto(s, val, cfg); err != nil {
			errs = append(errs, fmt.Sprintf("environment variable %s: %v", name, err))
		}
	}
	return errs
}

func isOtherEnv(name string) bool {
	for _, o := range otherEnv {
		if strings.HasPrefix(name, o) {
			return true
		}
	}
	return false
}

// BindFlags adds one flag per setting (plus -c/--config) to fs. The flags
// parse nothing themselves: Load parses the ones set, with the same strict
// rules as the file and the environment.
func BindFlags(fs *pflag.FlagSet) {
	fs.StringP("config", "c", "", "config file (YAML)")
	def := Default()
	for _, s := range settings {
		if fs.Lookup(s.key) != nil || s.key == "log-level" {
			// log-level is every command's (the root's persistent flag);
			// Load reads it from the parsed command's flags all the same.
			continue
		}
		fs.Var(&textFlag{kind: s.kind, text: defaultText(s, &def)}, s.key, s.usage)
		if s.kind == kindBool {
			fs.Lookup(s.key).NoOptDefVal = "true"
		}
	}
}

func defaultText(s setting, cfg *Config) string {
	switch p := s.ptr(cfg).(type) {
	case *string:
		return *p
	case *uint64:
		return strconv.FormatUint(*p, 10)
	case *int:
		return strconv.Itoa(*p)
	case *float64:
		return strconv.FormatFloat(*p, 'g', -1, 64)
	case *bool:
		return strconv.FormatBool(*p)
	case *time.Duration:
		return p.String()
	}
	return ""
}

// textFlag keeps a flag's text for Load to parse.
type textFlag struct {
	kind kind
	text string
}

func (f *textFlag) String() string     { return f.text }
func (f *textFlag) Set(v string) error { f.text = v; return nil }
func (f *textFlag) Type() string {
	if f.kind == kindPath {
		return "file"
	}
	return f.kind.String()
}

func applyFlags(cfg *Config, fs *pflag.FlagSet) []string {
	var errs []string
	for _, s := range settings {
		f := fs.Lookup(s.key)
		if f == nil || !f.Changed {
			continue
		}
		if err := parseInto(s, f.Value.String(), cfg); err != nil {
			errs = append(errs, fmt.Sprintf("flag --%s: %v", s.key, err))
		}
	}
	return errs
}

// Validate checks values that each parse but are not usable: ranges,
// minimum intervals, addresses, a missing file setting. Every problem is
// listed.
func (c *Config) Validate() []string {
	var errs []string
	bad := func(key, format string, args ...any) {
		errs = append(errs, key+": "+fmt.Sprintf(format, args...))
	}
	for key, v := range map[string]string{"policy": c.Policy, "p4info": c.P4Info, "topology": c.Topology} {
		if v == "" {
			bad(key, "not set: give it in the config file or as --%s", key)
		}
	}
	if c.BatchSize <= 0 || c.BatchSize > MaxBatchSize {
		bad("batch-size", "must be from 1 to %d, got %d", MaxBatchSize, c.BatchSize)
	}
	if c.Hysteresis < 0 || c.Hysteresis >= 1 {
		bad("hysteresis", "must be in [0, 1), got %g", c.Hysteresis)
	}
	if c.ReconcileInterval < MinReconcileInterval {
		bad("reconcile-interval", "must be at least %v, got %v", MinReconcileInterval, c.ReconcileInterval)
	}
	for _, d := range []struct {
		key string
		v   time.Duration
		min time.Duration
	}{{"loop-interval", c.LoopInterval, MinLoopInterval}, {"policy-poll", c.PolicyPoll, MinPolicyPoll}, {"keepalive", c.Keepalive, MinKeepalive}, {"probe-interval", c.ProbeInterval, MinProbeInterval}} {
		if d.v != 0 && d.v < d.min {
			bad(d.key, "must be 0 (off) or at least %v, got %v", d.min, d.v)
		}
	}
	if c.ProbeMisses < 1 || c.ProbeRecover < 1 {
		bad("probe-misses", "probe-misses and probe-recover must be at least 1, got %d and %d", c.ProbeMisses, c.ProbeRecover)
	}
	if c.Timeout <= 0 {
		bad("timeout", "must be positive, got %v", c.Timeout)
	}
	if c.ElectionID == 0 && c.ElectionIDHigh == 0 {
		bad("election-id", "must be non-zero (election-id or election-id-high)")
	}
	switch strings.ToLower(c.LogLevel) {
	case "debug", "info", "warn", "error":
	default:
		bad("log-level", "must be debug, info, warn or error, got %s%s", yamlerr.Quote(c.LogLevel), yamlerr.Suggest(c.LogLevel, []string{"debug", "info", "warn", "error"}))
	}
	if c.MetricsAddr != "" && c.MetricsAddr != "off" {
		if err := checkHostPort(c.MetricsAddr); err != nil {
			bad("metrics-addr", "%v", err)
		}
	}
	if !validFormat(c.TofinoDeviceConfig) {
		bad("tofino-device-config", "must be pi, pi-bfrt or stratum-bfrt, got %s", yamlerr.Quote(c.TofinoDeviceConfig))
	}
	if _, err := tofino.CommittedFiles(tofino.Chip(c.TofinoChip)); err != nil {
		bad("tofino-chip", "must be tofino or tofino2, got %s", yamlerr.Quote(c.TofinoChip))
	}
	if (c.TofinoBin == "") != (c.TofinoContext == "") {
		bad("tofino-bin", "tofino-bin and tofino-context go together (give neither for the committed pipeline of tofino-chip)")
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		bad("tls-cert", "tls-cert and tls-key go together")
	}
	errs = append(errs, c.validateSwitches()...)
	errs = append(errs, c.validateCluster()...)
	return errs
}

func (c *Config) validateCluster() []string {
	var errs []string
	if c.Cluster == "" {
		return nil
	}
	if _, _, err := cluster.ParseURL(c.Cluster); err != nil {
		errs = append(errs, "cluster: "+err.Error())
	}
	if c.ClusterLease < time.Second {
		errs = append(errs, fmt.Sprintf("cluster-lease: must be at least 1s, got %v", c.ClusterLease))
	}
	if (c.ClusterTLSCert == "") != (c.ClusterTLSKey == "") {
		errs = append(errs, "cluster-tls-cert: cluster-tls-cert and cluster-tls-key go together")
	}
	if c.Once {
		errs = append(errs, "once: not available in cluster mode (every instance masters only its share)")
	}
	return errs
}

func (c *Config) validateSwitches() []string {
	var errs []string
	seen := map[string]bool{}
	for i, s := range c.Switches {
		where := fmt.Sprintf("switches[%d]", i)
		if s.Name == "" {
			errs = append(errs, where+": name is missing")
		} else if seen[s.Name] {
			errs = append(errs, fmt.Sprintf("%s: switch %s is listed twice", where, yamlerr.Quote(s.Name)))
		}
		seen[s.Name] = true
		if s.Address != "" {
			if err := checkHostPort(s.Address); err != nil {
				errs = append(errs, fmt.Sprintf("%s (%s): address: %v", where, s.Name, err))
			}
		}
		if s.ThriftAddress != "" {
			if err := checkHostPort(s.ThriftAddress); err != nil {
				errs = append(errs, fmt.Sprintf("%s (%s): thrift-address: %v", where, s.Name, err))
			}
		}
		if s.DeviceConfigFormat != "" && !validFormat(s.DeviceConfigFormat) {
			errs = append(errs, fmt.Sprintf("%s (%s): device-config-format must be pi, pi-bfrt or stratum-bfrt, got %s", where, s.Name, yamlerr.Quote(s.DeviceConfigFormat)))
		}
		switch topo.Target(s.Target) {
		case "", topo.TargetBMv2, topo.TargetTofino, topo.TargetSim:
		default:
			errs = append(errs, fmt.Sprintf("%s (%s): target must be bmv2, tofino or sim, got %s", where, s.Name, yamlerr.Quote(s.Target)))
		}
	}
	return errs
}

// checkHostPort accepts host:port with a port from 0 to 65535 (0 only where
// a listener picks one).
func checkHostPort(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("expected host:port, got %s", yamlerr.Quote(addr))
	}
	if host == "" {
		return fmt.Errorf("no host in %s (use 127.0.0.1:PORT for this machine)", yamlerr.Quote(addr))
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return fmt.Errorf("port %s of %s is not a number from 0 to 65535", yamlerr.Quote(port), yamlerr.Quote(addr))
	}
	return nil
}

func allKeys() []string {
	keys := []string{"switches"}
	for _, s := range settings {
		keys = append(keys, s.key)
	}
	return keys
}

// MarshalYAML writes the settings that differ from Default(), in the
// schema's order, with durations as strings: what Load reads back.
func (c Config) MarshalYAML() (any, error) {
	def := Default()
	root := &yaml.Node{Kind: yaml.MappingNode}
	for _, s := range settings {
		text, dtext := defaultText(s, &c), defaultText(s, &def)
		if text == dtext {
			continue
		}
		v := &yaml.Node{Kind: yaml.ScalarNode, Value: text}
		if s.kind == kindString || s.kind == kindPath || s.kind == kindDuration {
			v.Tag = "!!str"
		}
		root.Content = append(root.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: s.key}, v)
	}
	if len(c.Switches) > 0 {
		var sw yaml.Node
		if err := sw.Encode(c.Switches); err != nil {
			return nil, err
		}
		root.Content = append(root.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: "switches"}, &sw)
	}
	return root, nil
}

func validFormat(f string) bool { return f == "pi" || f == "pi-bfrt" || f == "stratum-bfrt" }

package inspect

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/p4qos/p4qos/controller"
	"github.com/p4qos/p4qos/controlplane"
	"github.com/p4qos/p4qos/internal/assets"
	"github.com/p4qos/p4qos/internal/yamlerr"
	"github.com/p4qos/p4qos/tables"
)

// Default files: the target's committed pipeline (embedded in the binary).
const (
	DefaultP4Info   = "p4src/build/qos.p4info.txtpb"
	defaultBMv2JSON = "p4src/build/qos.json"
	DefaultTimeout  = 5 * time.Second
	defaultDeviceID = 1
	flagSwitch      = "switch"
	flagDeviceID    = "device-id"
	flagTopology    = "topology"
	flagConfig      = "config"
	flagPolicy      = "policy"
	flagP4Info      = "p4info"
	flagOutput      = "output"
	flagTimeout     = "timeout"
	flagRole        = "role"
	flagThrift      = "thrift-address"
	flagTLSCA       = "tls-ca"
	flagTLSCert     = "tls-cert"
	flagTLSKey      = "tls-key"
	flagTable       = "table"
	flagInterval    = "interval"
	flagOnce        = "once"
	flagAPI         = "api"
	usageExitStatus = 2
)

// Options say which switches to look at and how.
type Options struct {
	// Switch is a P4Runtime address (host:port) or, with Topology or
	// Config, a switch name; empty with Topology or Config means every
	// switch.
	Switch string
	// DeviceID is the device id for an address (default 1); it overrides
	// the topology's for a name.
	DeviceID    uint64
	DeviceIDSet bool
	// Topology and Config resolve switch names (address, device id,
	// target, queue interface) as `p4qos compile -t` and `p4qos run -c` do.
	Topology, Config string
	// Policy is the policy to compile for diff (default: the config's).
	Policy string
	// P4Info decodes what is read (default: the target's committed P4Info:
	// the config's, or p4src/build/qos.p4info.txtpb).
	P4Info string
	// Thrift is the queue interface of a switch given by address.
	Thrift string
	Role   string
	// Output is table or json.
	Output  string
	Timeout time.Duration
	// TLS files (default: the config's; plaintext when none).
	TLSCA, TLSCert, TLSKey string
}

// bindFlags adds the flags every inspect command shares, with -p (diff,
// top) and --thrift-address (top) where they serve.
func bindFlags(fs *pflag.FlagSet, policy, thrift bool) {
	fs.StringP(flagSwitch, "s", "", "switch: a P4Runtime address host:port, or a switch name of -t/-c (default: every switch of -t/-c)")
	fs.Uint64(flagDeviceID, defaultDeviceID, "P4Runtime device id (with an address; overrides the topology's for a name)")
	fs.StringP(flagTopology, "t", "", "topology file: resolves switch names")
	fs.StringP(flagConfig, "c", "", "daemon config file (p4qos run -c): resolves switch names, P4Info, policy and TLS")
	if policy {
		fs.StringP(flagPolicy, "p", "", "policy file (default: the config's policy)")
	}
	fs.String(flagP4Info, "", "P4Info to decode with (default: the target's committed P4Info, "+DefaultP4Info+")")
	fs.StringP(flagOutput, "o", "table", "output: table or json")
	fs.Duration(flagTimeout, DefaultTimeout, "give up on a switch that does not answer within this time")
	fs.String(flagRole, "", "P4Runtime role to read as (default: the config's role, else the default role)")
	if thrift {
		fs.String(flagThrift, "", "queue interface (thrift) of the --switch, e.g. p4qos sim --thrift-listen (default: the config's thrift-address)")
	}
	fs.String(flagTLSCA, "", "TLS: CA to verify the switch")
	fs.String(flagTLSCert, "", "TLS: client certificate (mutual TLS)")
	fs.String(flagTLSKey, "", "TLS: client key")
}

// optionsFrom reads the shared flags.
func optionsFrom(fs *pflag.FlagSet) (Options, error) {
	var o Options
	str := func(name string) string { v, _ := fs.GetString(name); return v }
	o.Switch, o.Topology, o.Config, o.Policy, o.P4Info = str(flagSwitch), str(flagTopology), str(flagConfig), str(flagPolicy), str(flagP4Info)
	o.Output, o.Role, o.Thrift = str(flagOutput), str(flagRole), str(flagThrift)
	o.TLSCA, o.TLSCert, o.TLSKey = str(flagTLSCA), str(flagTLSCert), str(flagTLSKey)
	o.DeviceID, _ = fs.GetUint64(flagDeviceID)
	o.DeviceIDSet = fs.Changed(flagDeviceID)
	o.Timeout, _ = fs.GetDuration(flagTimeout)
	switch {
	case o.Output != "table" && o.Output != "json":
		return o, usagef("--output: expected table or json, got %s", yamlerr.Quote(o.Output))
	case o.Timeout <= 0:
		return o, usagef("--timeout must be positive, got %v", o.Timeout)
	case o.Topology != "" && o.Config != "":
		return o, usagef("give -t or -c, not both (the config names its topology)")
	case o.Switch == "" && o.Topology == "" && o.Config == "":
		return o, usagef("no switch: give --switch HOST:PORT [--device-id N], or -t topo.yaml / -c p4qos.yaml")
	}
	return o, nil
}

// Target is one switch to read, with what decodes it.
type Target struct {
	Name     string
	Address  string
	DeviceID uint64
	// Kind is the target (sim, bmv2, tofino) when known.
	Kind string
	// Thrift is the queue interface's address, "" when unknown.
	Thrift string
	Schema *tables.Schema
}

// Switch names a switch in the output; Error is why it could not be read
// (or compared), when it could not.
type Switch struct {
	Name     string `json:"name"`
	Address  string `json:"address"`
	DeviceID uint64 `json:"device_id"`
	Error    string `json:"error,omitempty"`
}

func (t Target) id() Switch { return Switch{Name: t.Name, Address: t.Address, DeviceID: t.DeviceID} }

// resolved is what Options resolve to.
type resolved struct {
	targets []Target
	// fabric and cfg are set when the switches come from -t or -c.
	fabric *controller.Fabric
	cfg    controller.Config
	opts   []controlplane.SessionOption
}

// resolve turns options into targets: an address, or the switches of a
// topology or daemon config, loaded as `p4qos run` loads them.
func resolve(o Options) (*resolved, error) {
	if o.Topology == "" && o.Config == "" {
		return resolveAddress(o)
	}
	cfg := controller.Default()
	if o.Config != "" {
		var err error
		if cfg, err = controller.Load(controller.Sources{File: o.Config}); err != nil {
			return nil, usage(fmt.Errorf("-c %s: %w", o.Config, err))
		}
	} else {
		cfg.Topology, cfg.P4Info, cfg.BMv2JSON = o.Topology, DefaultP4Info, defaultBMv2JSON
		if err := assets.Resolve(&cfg.Topology, &cfg.P4Info, &cfg.BMv2JSON); err != nil {
			return nil, err
		}
	}
	if o.P4Info != "" {
		cfg.P4Info, cfg.TofinoP4Info = o.P4Info, ""
	}
	if o.Policy != "" {
		cfg.Policy = o.Policy
	}
	if o.Role == "" {
		o.Role = cfg.Role // the daemon's role: what it may read is what it wrote
	}
	if o.TLSCA != "" || o.TLSCert != "" {
		cfg.TLSCA, cfg.TLSCert, cfg.TLSKey = o.TLSCA, o.TLSCert, o.TLSKey
	}
	fab, err := controller.LoadFabric(&cfg)
	if err != nil {
		return nil, usage(err)
	}
	r := &resolved{fabric: fab, cfg: cfg}
	thrift := map[string]string{}
	for _, se := range cfg.Switches {
		thrift[se.Name] = se.ThriftAddress
	}
	for _, sw := range fab.Switches() {
		if o.Switch != "" && sw.Name != o.Switch {
			continue
		}
		t := Target{Name: sw.Name, Address: sw.Address, DeviceID: sw.DeviceID, Thrift: thrift[sw.Name], Schema: fab.Driver(sw.Name).Schema(), Kind: fab.Driver(sw.Name).Name()}
		if o.DeviceIDSet {
			t.DeviceID = o.DeviceID
		}
		if o.Thrift != "" && o.Switch != "" {
			t.Thrift = o.Thrift
		}
		r.targets = append(r.targets, t)
	}
	if len(r.targets) == 0 {
		names := make([]string, 0, len(fab.Switches()))
		for _, sw := range fab.Switches() {
			names = append(names, sw.Name)
		}
		return nil, usagef("--switch: no switch %s in %s (switches: %s)", yamlerr.Quote(o.Switch), yamlerr.Path(cfg.Topology), strings.Join(names, ", "))
	}
	r.opts, err = sessionOptions(o, cfg.TLSCA, cfg.TLSCert, cfg.TLSKey)
	return r, err
}

func resolveAddress(o Options) (*resolved, error) {
	if _, port, err := net.SplitHostPort(o.Switch); err != nil || port == "" {
		return nil, usagef("--switch %s: want a P4Runtime address HOST:PORT (a switch name needs -t or -c)", yamlerr.Quote(o.Switch))
	}
	path := o.P4Info
	if path == "" {
		path = DefaultP4Info
		if err := assets.Resolve(&path); err != nil {
			return nil, err
		}
	}
	schema, err := tables.Load(path)
	if err != nil {
		return nil, usagef("--p4info: %v", err)
	}
	t := Target{Name: o.Switch, Address: o.Switch, DeviceID: o.DeviceID, Thrift: o.Thrift, Schema: schema}
	opts, err := sessionOptions(o, o.TLSCA, o.TLSCert, o.TLSKey)
	return &resolved{targets: []Target{t}, opts: opts}, err
}

// sessionOptions: read-only (no StreamChannel, so never primary and never
// a write), the role, TLS, and each RPC bounded by the timeout.
func sessionOptions(o Options, ca, cert, key string) ([]controlplane.SessionOption, error) {
	opts := []controlplane.SessionOption{controlplane.WithReadOnly(), controlplane.WithRPCTimeout(o.Timeout)}
	if o.Role != "" {
		opts = append(opts, controlplane.WithRole(o.Role, nil))
	}
	if ca != "" || cert != "" {
		tc, err := controlplane.TLSFiles(ca, cert, key)
		if err != nil {
			return nil, usage(err)
		}
		opts = append(opts, controlplane.WithTransportCredentials(tc))
	}
	return opts, nil
}

// UsageError is the user's input: the command exits 2.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// ExitCode is 2.
func (e *UsageError) ExitCode() int { return usageExitStatus }

func usage(err error) error {
	var u *UsageError
	if err == nil || errors.As(err, &u) {
		return err
	}
	return &UsageError{Err: err}
}

func usagef(format string, args ...any) error { return usage(fmt.Errorf(format, args...)) }

// StatusError ends the command with a given exit status (diff: 1 for
// differences, 3 for a switch it could not compare).
type StatusError struct {
	Code int
	Err  error
}

func (e *StatusError) Error() string { return e.Err.Error() }
func (e *StatusError) Unwrap() error { return e.Err }

// ExitCode is the status.
func (e *StatusError) ExitCode() int { return e.Code }

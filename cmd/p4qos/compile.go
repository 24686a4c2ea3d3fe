package main

import (
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/p4qos/p4qos/compiler"
	"github.com/p4qos/p4qos/compiler/contract"
	"github.com/p4qos/p4qos/internal/assets"
	"github.com/p4qos/p4qos/internal/completion"
	"github.com/p4qos/p4qos/internal/inputfile"
	"github.com/p4qos/p4qos/internal/yamlerr"
	"github.com/p4qos/p4qos/tables"
	"github.com/p4qos/p4qos/target/targets"
)

func init() { subcommands = append(subcommands, newCompileCmd) }

func newCompileCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "compile -p policy.yaml -t topo.yaml",
		Short: "Compile a QoS policy into P4Runtime entities per switch",
		Long: `compile turns a policy (docs/policy.md) for a topology (docs/topology.md) into
the P4Runtime entities of every switch, in dependency order, addressing the
qos pipeline by name through its P4Info. Nothing is sent to a switch.
--target (bmv2, sim, tofino, tofino2) picks the target's names and, unless
--p4info is given, its committed P4Info (docs/targets.md).

Output (-o): table (default, for people), text (one p4.v1.WriteRequest per
switch), json (classes, allocation and entities) or runtime-json (p4lang/tutorials'
sX-runtime.json, one switch). --out DIR writes one file per switch (NAME.txt,
NAME.txtpb, NAME.json or NAME-runtime.json)
instead of printing. Settings also come from a config file (--config, keys
policy, topology, p4info, output, out, switch) and P4QOS_* environment
variables (P4QOS_POLICY, P4QOS_TOPOLOGY, ...); keys also target.

Exit status 2 lists every problem in the input as file:line:col: path: message.`,
		Args: cobra.NoArgs,
	}
	f := cmd.Flags()
	f.StringP("policy", "p", "", `policy file (YAML; "-" reads stdin)`)
	f.StringP("topology", "t", "", `topology file (YAML; "-" reads stdin, but not for both -p and -t)`)
	f.String("p4info", "", "P4Info of the qos pipeline (text, binary or JSON; default: the target's committed one)")
	f.String("target", "bmv2", "target to compile for: bmv2, sim, tofino or tofino2")
	f.StringP("output", "o", "table", "output format: table, text, json or runtime-json")
	f.String("out", "", "write one file per switch into this directory instead of stdout")
	f.String("switch", "", "only this switch")
	f.String("config", "", "config file (YAML, JSON or TOML) with the same keys as the flags")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		defer inputfile.LimitMemory()()
		v := newViper(cmd)
		// -p - -t - is LoadInputs' to report; stdin can be read once.
		if n := countStdin(v.GetString("config"), v.GetString("p4info"), v.GetString("policy"), v.GetString("topology")); n > 1 && countStdin(v.GetString("config"), v.GetString("p4info")) > 0 {
			return invalidInputf("%d of --config, --p4info, -p and -t are - (standard input), which can be read once: give all but one as files", n)
		}
		if cfg := v.GetString("config"); cfg != "" {
			if err := inputfile.ReadViperConfig(v, cfg, cmd.InOrStdin(), configKeys(cmd)); err != nil {
				return invalidInputf("--config: %w", err)
			}
		}
		opts := compileOptions{policy: v.GetString("policy"), topology: v.GetString("topology"), p4info: v.GetString("p4info"),
			output: v.GetString("output"), outDir: v.GetString("out"), only: v.GetString("switch")}
		opts.config = v.GetString("config")
		configRelative(cmd, opts.config, map[string]*string{"policy": &opts.policy, "topology": &opts.topology, "p4info": &opts.p4info, "out": &opts.outDir})
		pl, err := targets.Committed(v.GetString("target"))
		if err != nil {
			return invalidInputf("--target: %v", err)
		}
		opts.names, opts.ecnDepth = pl.Names, pl.ECNDepth
		if opts.p4info == "" {
			opts.p4info = pl.P4Info
		}
		if opts.output == "runtime-json" {
			if opts.names != nil {
				return invalidInputf("-o runtime-json is p4lang/tutorials' BMv2 format; --target %s is not BMv2", v.GetString("target"))
			}
			opts.bmv2JSON = targets.BMv2JSON
		}
		if err := assets.Resolve(&opts.policy, &opts.topology, &opts.p4info, &opts.bmv2JSON); err != nil { // the binary's own copies
			return err
		}
		// --log-level, P4QOS_LOG_LEVEL, then the config's log-level key.
		if err := completion.Check(cmd, "log-level", strings.ToLower(v.GetString("log-level"))); err != nil {
			return invalidInput(err)
		}
		return runCompile(cmd, e.stdout, opts, newLogger(e.stderr, v.GetString("log-level")))
	}
	return cmd
}

type compileOptions struct {
	policy, topology, p4info, output, outDir, only string
	bmv2JSON, config                               string
	names                                          contract.Names
	ecnDepth                                       func(uint32) uint64
}

func runCompile(cmd *cobra.Command, stdout io.Writer, o compileOptions, log *slog.Logger) error {
	var missing []string
	if o.policy == "" {
		missing = append(missing, "--policy/-p")
	}
	if o.topology == "" {
		missing = append(missing, "--topology/-t")
	}
	if len(missing) > 0 {
		return invalidInputf("missing %s", strings.Join(missing, " and "))
	}
	if err := completion.Check(cmd, "output", o.output); err != nil {
		return invalidInput(err)
	}
	// Both files are read before reporting: one run lists the problems of both.
	pol, tp, err := compiler.LoadInputs(o.policy, o.topology, cmd.InOrStdin())
	if err != nil {
		if !isPositionedList(err) {
			return invalidInput(err)
		}
		return invalidInput(yamlerr.Counted(err))
	}
	schema, err := tables.LoadArg(o.p4info, cmd.InOrStdin())
	if err != nil {
		return invalidInputf("--p4info: %v", err)
	}
	if o.only != "" {
		if _, ok := tp.Switch(o.only); !ok {
			return invalidInputf("--switch: no switch %s in %s", yamlerr.Quote(o.only), yamlerr.Path(o.topology))
		}
	}
	res, err := compiler.Compile(cmd.Context(), pol, tp, schema, compiler.WithLogger(log), compiler.WithNames(o.names), compiler.WithECNDepth(o.ecnDepth))
	if err != nil {
		switch {
		case isPositionedList(err):
			return invalidInput(yamlerr.Counted(err))
		case errors.Is(err, compiler.ErrSchema):
			return invalidInputf("--p4info %s: %v", yamlerr.Path(o.p4info), err)
		}
		return err
	}
	log.Debug("compiled", "switches", len(res.SwitchOrder), "classes", len(res.Classes))
	names := res.SwitchOrder
	if o.only != "" {
		names = []string{o.only}
	}
	ro := compiler.RenderOptions{P4Info: o.p4info, BMv2JSON: o.bmv2JSON, Warn: cmd.ErrOrStderr()}
	if o.outDir != "" {
		return compiler.WriteFiles(stdout, o.outDir, schema, o.output, res, names, ro)
	}
	if err := compiler.Render(stdout, schema, o.output, res, names, ro); o.output == "runtime-json" && err != nil {
		return invalidInput(err)
	} else if err != nil {
		return err
	}
	return nil
}

func isPositionedList(err error) bool {
	var list yamlerr.List
	return errors.As(err, &list)
}

// configKeys are the keys compile --config takes: the command's flags
// (but --config and --help) and log-level.
func configKeys(cmd *cobra.Command) []string {
	keys := []string{"log-level"}
	cmd.LocalFlags().VisitAll(func(f *pflag.Flag) {
		if f.Name != "config" && f.Name != "help" {
			keys = append(keys, f.Name)
		}
	})
	return keys
}

// configRelative makes the relative paths that came from the config file
// relative to its directory, as run -c does (flags and P4QOS_* variables
// stay relative to the working directory).
func configRelative(cmd *cobra.Command, cfg string, paths map[string]*string) {
	if cfg == "" || cfg == inputfile.Stdin {
		return
	}
	for key, p := range paths {
		if *p != "" && *p != inputfile.Stdin && !filepath.IsAbs(*p) && completion.Source(cmd, key) == "config key "+key {
			*p = filepath.Join(filepath.Dir(cfg), *p)
		}
	}
}

func countStdin(paths ...string) (n int) {
	for _, p := range paths {
		if p == inputfile.Stdin {
			n++
		}
	}
	return n
}

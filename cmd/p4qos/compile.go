package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/viper"

	"github.com/p4qos/p4qos/compiler"
	"github.com/p4qos/p4qos/internal/assets"
	"github.com/p4qos/p4qos/internal/completion"
	"github.com/p4qos/p4qos/internal/inputfile"
	"github.com/p4qos/p4qos/internal/yamlerr"
	"github.com/p4qos/p4qos/tables"
)

func init() { subcommands = append(subcommands, newCompileCmd) }

const defaultP4Info = "p4src/build/qos.p4info.txtpb"

func newCompileCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "compile -p policy.yaml -t topo.yaml",
		Short: "Compile a QoS policy into P4Runtime entities per switch",
		Long: `compile turns a policy (docs/policy.md) for a topology (docs/topology.md) into
the P4Runtime entities of every switch, in dependency order, addressing the
qos pipeline by name through its P4Info. Nothing is sent to a switch.

Output (-o): table (default, for people), text (P4Runtime text protos) or json.
--out DIR writes one file per switch (NAME.txt, NAME.txtpb or NAME.json)
instead of printing. Settings also come from a config file (--config, keys
policy, topology, p4info, output, out, switch) and P4QOS_* environment
variables (P4QOS_POLICY, P4QOS_TOPOLOGY, ...).

Exit status 2 lists every problem in the input as file:line:col: path: message.`,
		Args: cobra.NoArgs,
	}
	f := cmd.Flags()
	f.StringP("policy", "p", "", `policy file (YAML; "-" reads stdin)`)
	f.StringP("topology", "t", "", `topology file (YAML; "-" reads stdin, but not for both -p and -t)`)
	f.String("p4info", defaultP4Info, "P4Info of the qos pipeline (text, binary or JSON)")
	f.StringP("output", "o", "table", "output format: table, text or json")
	f.String("out", "", "write one file per switch into this directory instead of stdout")
	f.String("switch", "", "only this switch")
	f.String("config", "", "config file (YAML, JSON or TOML) with the same keys as the flags")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		defer inputfile.LimitMemory()()
		v := newViper(cmd)
		if cfg := v.GetString("config"); cfg != "" {
			if err := readConfigFile(v, cfg); err != nil {
				return invalidInputf("--config: %w", err)
			}
		}
		opts := compileOptions{policy: v.GetString("policy"), topology: v.GetString("topology"), p4info: v.GetString("p4info"),
			output: v.GetString("output"), outDir: v.GetString("out"), only: v.GetString("switch")}
		if err := assets.Resolve(&opts.policy, &opts.topology, &opts.p4info); err != nil { // the binary's own copies
			return err
		}
		return runCompile(cmd, e.stdout, opts, e.logger(cmd))
	}
	return cmd
}

// readConfigFile loads a config file into v through the bounded reader
// (viper's ReadInConfig reads any path in full: /dev/zero until the
// runtime runs out of memory, a FIFO until a writer comes). The extension
// says the format (.yaml, .json, .toml; none means YAML).
func readConfigFile(v *viper.Viper, path string) error {
	data, err := inputfile.Read(path, inputfile.Config)
	if err != nil {
		return err
	}
	if err := inputfile.CheckNesting(yamlerr.Path(path), data); err != nil {
		return err // go-toml has no depth limit of its own
	}
	format := strings.ToLower(strings.TrimPrefix(filepath.Ext(path), "."))
	if format == "" {
		format = "yaml"
	}
	v.SetConfigType(format)
	if err := v.ReadConfig(bytes.NewReader(data)); err != nil {
		// Parser messages may quote the input (go-toml prints the line).
		return fmt.Errorf("%s: %s", yamlerr.Path(path), yamlerr.Brief(err.Error()))
	}
	return nil
}

type compileOptions struct {
	policy, topology, p4info, output, outDir, only string
}

// compileProblems wraps a list of input errors so that the message starts on its
// own line.
func compileProblems(err error) error {
	var list yamlerr.List
	if errors.As(err, &list) {
		n := "1 problem"
		if len(list) != 1 {
			n = fmt.Sprintf("%d problems", len(list))
		}
		return invalidInput(fmt.Errorf("%s:\n%w", n, list))
	}
	return invalidInput(err)
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
	ext := map[string]string{"table": ".txt", "text": ".txtpb", "json": ".json"}[o.output]
	// Both files are read before reporting: one run lists the problems of both.
	pol, tp, err := compiler.LoadInputs(o.policy, o.topology, cmd.InOrStdin())
	if err != nil {
		return compileProblems(err)
	}
	schema, err := tables.Load(o.p4info)
	if err != nil {
		return invalidInputf("--p4info: %v", err)
	}
	if o.only != "" {
		if _, ok := tp.Switch(o.only); !ok {
			return invalidInputf("--switch: no switch %s in %s", yamlerr.Quote(o.only), yamlerr.Path(o.topology))
		}
	}
	res, err := compiler.Compile(cmd.Context(), pol, tp, schema, compiler.WithLogger(log))
	if err != nil {
		switch {
		case isPositionedList(err):
			return compileProblems(err)
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
	if o.outDir != "" {
		if err := os.MkdirAll(o.outDir, 0o755); err != nil {
			return fmt.Errorf("--out: %w", err)
		}
		for _, n := range names {
			var buf bytes.Buffer
			if err := compiler.Render(&buf, schema, o.output, res, []string{n}); err != nil {
				return err
			}
			path := filepath.Join(o.outDir, n+ext)
			if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
				return fmt.Errorf("--out: %w", err)
			}
			fmt.Fprintf(stdout, "%s: %d entities\n", path, len(res.Switches[n]))
		}
		return nil
	}
	return compiler.Render(stdout, schema, o.output, res, names)
}

func isPositionedList(err error) bool {
	var list yamlerr.List
	return errors.As(err, &list)
}

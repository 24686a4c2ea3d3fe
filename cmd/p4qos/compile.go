package main

import (
	"bytes"
	"encoding/json"
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
	"github.com/p4qos/p4qos/internal/inputfile"
	"github.com/p4qos/p4qos/internal/units"
	"github.com/p4qos/p4qos/internal/yamlerr"
	"github.com/p4qos/p4qos/tables"
	"github.com/p4qos/p4qos/topo"
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
	f.StringP("policy", "p", "", "policy file (YAML)")
	f.StringP("topology", "t", "", "topology file (YAML)")
	f.String("p4info", defaultP4Info, "P4Info of the qos pipeline (text, binary or JSON)")
	f.StringP("output", "o", "table", "output format: table, text or json")
	f.String("out", "", "write one file per switch into this directory instead of stdout")
	f.String("switch", "", "only this switch")
	f.String("config", "", "config file (YAML, JSON or TOML) with the same keys as the flags")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		defer limitMemory()()
		v := newViper(cmd)
		if cfg := v.GetString("config"); cfg != "" {
			if err := readConfigFile(v, cfg); err != nil {
				return invalidInputf("--config: %w", err)
			}
		}
		opts := compileOptions{
			policy:   v.GetString("policy"),
			topology: v.GetString("topology"),
			p4info:   v.GetString("p4info"),
			output:   v.GetString("output"),
			outDir:   v.GetString("out"),
			only:     v.GetString("switch"),
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
	ext := map[string]string{"table": ".txt", "text": ".txtpb", "json": ".json"}[o.output]
	if ext == "" {
		return invalidInputf("--output: expected table, text or json, got %s", yamlerr.Quote(o.output))
	}
	// Read both files before reporting, so that one run lists the
	// problems of both.
	var all yamlerr.List
	tp, err := topo.Load(o.topology)
	if err != nil {
		if !isPositionedList(err) {
			return invalidInput(err)
		}
		all.Append(err)
	}
	pol, err := compiler.LoadPolicy(o.policy)
	if err != nil {
		if !isPositionedList(err) {
			return invalidInput(err)
		}
		all.Append(err)
	}
	if err := all.Err(); err != nil {
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
			if err := renderCompiled(&buf, schema, o.output, res, []string{n}); err != nil {
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
	return renderCompiled(stdout, schema, o.output, res, names)
}

func isPositionedList(err error) bool {
	var list yamlerr.List
	return errors.As(err, &list)
}

func renderCompiled(w io.Writer, s *tables.Schema, format string, res *compiler.Result, names []string) error {
	switch format {
	case "json":
		type sw struct {
			Name     string          `json:"name"`
			Entities json.RawMessage `json:"entities"`
		}
		out := struct {
			Switches []sw `json:"switches"`
		}{}
		for _, n := range names {
			var buf bytes.Buffer
			if err := s.FormatJSON(&buf, res.Switches[n]); err != nil {
				return err
			}
			out.Switches = append(out.Switches, sw{Name: n, Entities: bytes.TrimSpace(buf.Bytes())})
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	case "text":
		for _, n := range names {
			fmt.Fprintf(w, "# switch %s: %d entities\n", n, len(res.Switches[n]))
			if err := s.FormatText(w, res.Switches[n]); err != nil {
				return err
			}
		}
		return nil
	}
	if len(names) > 1 || len(res.Classes) > 0 {
		writeCompileSummary(w, res)
	}
	for _, n := range names {
		fmt.Fprintf(w, "\n# switch %s: %d entities\n", n, len(res.Switches[n]))
		if err := s.FormatTable(w, res.Switches[n]); err != nil {
			return err
		}
	}
	return nil
}

// writeCompileSummary prints the classes and the allocation, for people.
func writeCompileSummary(w io.Writer, res *compiler.Result) {
	fmt.Fprintln(w, "# classes")
	tw := newCompileColumns(w)
	tw.row("ID", "CLASS", "PHB", "DSCP", "QUEUE", "PRECEDENCE", "METER (CIR/PIR)", "SWITCHES")
	for _, c := range res.Classes {
		meter := "-"
		if c.Meter != nil {
			meter = units.FormatBitrate(float64(c.Meter.CIR)*8) + "/" + units.FormatBitrate(float64(c.Meter.PIR)*8)
		}
		phb := c.PHB
		if c.TrustDSCP {
			phb += " (trust)"
		}
		tw.row(fmt.Sprint(c.ID), c.Name, phb, fmt.Sprint(uint8(c.DSCP)), fmt.Sprint(c.Queue), fmt.Sprint(c.Precedence), meter, strings.Join(c.Switches, ","))
	}
	tw.flush()
	if res.Allocation != nil {
		fmt.Fprintln(w, "\n# allocation")
		tw := newCompileColumns(w)
		tw.row("FLOW GROUP", "RATE", "PATHS")
		for _, fg := range res.Allocation.FlowGroups {
			var ps []string
			for _, p := range fg.Paths {
				if p.Rate > 0 {
					ps = append(ps, units.FormatBitrate(p.Rate)+" via "+strings.Join(p.Links, " "))
				}
			}
			tw.row(fg.Name, units.FormatBitrate(fg.Rate), strings.Join(ps, "; "))
		}
		tw.flush()
	}
	if len(res.QueueSettings) > 0 {
		fmt.Fprintln(w, "\n# queue settings (not P4Runtime; applied by the lab)")
		tw := newCompileColumns(w)
		tw.row("SWITCH", "PORT", "QUEUE", "RATE", "DEPTH")
		for _, q := range res.QueueSettings {
			rate, depth := "-", "-"
			if q.Rate > 0 {
				rate = units.FormatBitrate(q.Rate)
			}
			if q.Depth > 0 {
				depth = fmt.Sprint(q.Depth)
			}
			tw.row(q.Switch, fmt.Sprint(q.Port), fmt.Sprint(q.Queue), rate, depth)
		}
		tw.flush()
	}
}

// compileColumns aligns rows of cells with two spaces between columns.
type compileColumns struct {
	w    io.Writer
	rows [][]string
}

func newCompileColumns(w io.Writer) *compileColumns { return &compileColumns{w: w} }

func (c *compileColumns) row(cells ...string) { c.rows = append(c.rows, cells) }

func (c *compileColumns) flush() {
	var widths []int
	for _, r := range c.rows {
		for i, cell := range r {
			if i >= len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], len([]rune(cell)))
		}
	}
	for _, r := range c.rows {
		var b strings.Builder
		for i, cell := range r {
			b.WriteString(cell)
			if i < len(r)-1 {
				b.WriteString(strings.Repeat(" ", widths[i]-len([]rune(cell))+2))
			}
		}
		fmt.Fprintln(c.w, b.String())
	}
	c.rows = nil
}

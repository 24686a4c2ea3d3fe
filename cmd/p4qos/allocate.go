package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/p4qos/p4qos/allocator"
	"github.com/p4qos/p4qos/allocator/plot"
	"github.com/p4qos/p4qos/internal/inputfile"
	"github.com/p4qos/p4qos/internal/yamlerr"
)

func init() { subcommands = append(subcommands, newAllocateCmd) }

func newAllocateCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "allocate -f problem.yaml [-o table|json] [--plot out.svg|out.png]",
		Short: "Allocate link bandwidth to flow groups (BwE-style hierarchical max-min fairness)",
		Long: `allocate reads a problem (links with capacities; flow groups with bandwidth
functions, demands, paths and children) in YAML or JSON and prints the
allocation: each flow group's rate, its rate on each path, its children's
rates, and each link's load. See docs/allocator.md for the format.

Rates in the problem are numbers (bits/s) or strings with units (10Gbps).
-o json prints rates as numbers in bits/s.`,
		Example: `  p4qos allocate -f allocator/testdata/example.yaml
  p4qos allocate -f problem.json -o json --plot alloc.svg
  cat problem.yaml | p4qos allocate -f -`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) > 0 {
				return invalidInputf("allocate: unexpected argument %s (the problem file goes after -f)", yamlerr.Quote(args[0]))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			defer inputfile.LimitMemory()()
			v := newViper(cmd)
			return runAllocate(cmd, e, v.GetString("file"), v.GetString("output"), v.GetString("plot"))
		},
	}
	cmd.Flags().StringP("file", "f", "", `problem file, YAML or JSON ("-" reads stdin)`)
	cmd.Flags().StringP("output", "o", "table", "output format: table or json")
	cmd.Flags().String("plot", "", "also draw link loads and bandwidth functions to this .svg or .png file")
	return cmd
}

func runAllocate(cmd *cobra.Command, e *env, file, output, plotPath string) error {
	log := e.logger(cmd)
	if file == "" {
		return invalidInputf("allocate: missing -f problem file (use -f - for stdin)")
	}
	if output != "table" && output != "json" {
		return invalidInputf("allocate: unknown output format %s (want table or json)", yamlerr.Quote(output))
	}
	plotFormat := ""
	if plotPath != "" {
		f, err := plot.FormatOf(plotPath)
		if err != nil {
			return invalidInputf("allocate: --plot %s: %w", plotPath, err)
		}
		plotFormat = f
	}

	// Read through the bounded reader: a directory, FIFO or device, or a
	// file above the limit, is invalid input (exit 2) with a message, not a
	// read error, a hang or an out-of-memory death.
	data, err := inputfile.ReadArg(file, e.stdin, inputfile.Problem)
	if err != nil {
		return invalidInputf("allocate: %w", err)
	}
	name := file
	if file == inputfile.Stdin {
		name = "<stdin>"
	}
	p, err := allocator.ParseProblem(bytes.NewReader(data), yamlerr.Path(name))
	if err != nil {
		var ve *allocator.ValidationError
		if errors.As(err, &ve) {
			return invalidInput(err)
		}
		return fmt.Errorf("allocate: %w", err)
	}
	r, err := allocator.Allocate(cmd.Context(), p, allocator.WithLogger(log))
	if err != nil {
		var ve *allocator.ValidationError
		if errors.As(err, &ve) {
			return invalidInput(err)
		}
		return fmt.Errorf("allocate: %w", err)
	}
	log.Debug("allocated", "flow_groups", len(r.FlowGroups), "links", len(r.Links), "events", r.Events)

	if plotFormat != "" {
		// Render fully before creating the file so that a failure leaves
		// no half-written plot behind.
		var buf bytes.Buffer
		if err := plot.Write(&buf, plotFormat, p, r); err != nil {
			return fmt.Errorf("allocate: plot: %w", err)
		}
		if err := os.WriteFile(plotPath, buf.Bytes(), 0o644); err != nil {
			return fmt.Errorf("allocate: write plot: %w", err)
		}
		log.Info("wrote plot", "file", plotPath)
	}

	if output == "json" {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(r); err != nil {
			return fmt.Errorf("allocate: encode json: %w", err)
		}
		return nil
	}
	return r.WriteTable(e.stdout)
}

// writeAllocationTable prints the allocation for people: flow groups with
// their paths and children indented beneath, then links.

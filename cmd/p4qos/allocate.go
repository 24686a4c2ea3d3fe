package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/p4qos/p4qos/allocator"
	"github.com/p4qos/p4qos/internal/completion"
	"github.com/p4qos/p4qos/internal/inputfile"
	"github.com/p4qos/p4qos/internal/plot"
	"github.com/p4qos/p4qos/internal/yamlerr"
)

func init() { subcommands = append(subcommands, newAllocateCmd) }

func newAllocateCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "allocate -f problem.yaml [-o table|json] [--objective maxmin|alpha-fair --alpha A] [--plot out.svg|png|pdf]",
		Short: "Allocate link bandwidth to flow groups (BwE-style hierarchical max-min fairness)",
		Long: `allocate reads a problem (links with capacities; flow groups with bandwidth
functions, demands, paths and children) in YAML or JSON and prints the
allocation: each flow group's rate, its rate on each path, its children's
rates, and each link's load. See docs/allocator.md for the format.

Rates in the problem are numbers (bits/s) or strings with units (10Gbps).
-o json prints rates as numbers in bits/s.

--objective alpha-fair --alpha A (or objective: and alpha: in the problem;
the flags win) computes the weighted α-fair allocation instead of max-min:
0 maximises throughput, 1 is proportional fairness, 2 minimum potential
delay, large α approaches max-min. The output then also gives each link's
congestion price, each flow group's marginal utility and the duality gap.
--alpha alone implies --objective alpha-fair. --plot with --alpha 0,1,2,inf
draws each flow group's rate for every α side by side (inf = max-min).`,
		Example: `  p4qos allocate -f allocator/testdata/example.yaml
  p4qos allocate -f allocator/testdata/example.yaml --alpha 0,1,2,inf --plot fairness.svg
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
			return runAllocate(cmd, e, v.GetString("file"), v.GetString("output"), v.GetString("plot"), v.GetString("objective"), v.GetString("alpha"))
		},
	}
	cmd.Flags().StringP("file", "f", "", `problem file, YAML or JSON ("-" reads stdin)`)
	cmd.Flags().StringP("output", "o", "table", "output format: table or json")
	cmd.Flags().String("objective", "", "maxmin or alpha-fair (overrides the problem's objective:)")
	cmd.Flags().String("alpha", "", "α of the alpha-fair objective, 0 to 100 (overrides the problem's alpha:; implies --objective alpha-fair); with --plot a list such as 0,1,2,inf (inf = max-min) is drawn side by side, the first printed")
	cmd.Flags().String("plot", "", "also draw link loads and bandwidth functions (or, for several --alpha, each flow group's rate per α) to this .svg, .png or .pdf file")
	return cmd
}

func runAllocate(cmd *cobra.Command, e *env, file, output, plotPath, objective, alphaFlag string) error {
	log := e.logger(cmd)
	if file == "" {
		return invalidInputf("allocate: missing -f problem file (use -f - for stdin)")
	}
	if err := completion.Check(cmd, "output", output); err != nil {
		return invalidInputf("allocate: %w", err)
	}
	if _, err := plot.FormatOf(plotPath); plotPath != "" && err != nil {
		return invalidInputf("allocate: --plot %s: %w", plotPath, err)
	}
	override := allocator.ObjectiveOverride{Objective: objective, Alpha: alphaFlag, Plot: plotPath != ""}
	if err := override.Check(); err != nil {
		return invalidInputf("allocate: %w", err)
	}

	p, err := allocator.LoadProblem(file, e.stdin)
	if err != nil {
		var ve *allocator.ValidationError
		if errors.As(err, &ve) {
			return invalidInput(err)
		}
		return fmt.Errorf("allocate: %w", err)
	}
	if err := override.Apply(p); err != nil {
		return invalidInputf("allocate: %w", err)
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

	if plotPath != "" {
		if err := plot.AllocationsFile(cmd.Context(), plotPath, p, r, override.Alphas()); err != nil {
			return fmt.Errorf("allocate: plot: %w", err)
		}
		log.Info("wrote plot", "file", plotPath)
	}

	if output == "json" {
		if err := r.WriteJSON(e.stdout); err != nil {
			return fmt.Errorf("allocate: encode json: %w", err)
		}
		return nil
	}
	return r.WriteTable(e.stdout)
}

package main

import (
	"context"
	"errors"
	"time"

	"github.com/spf13/cobra"

	"github.com/p4qos/p4qos/internal/demo"
)

func init() { subcommands = append(subcommands, newDemoCmd) }

func newDemoCmd(e *env) *cobra.Command {
	var opt demo.Options
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the whole system on embedded sim switches and tell what happens",
		Long: `demo starts one embedded P4Runtime switch (p4qos sim) per switch of the example
fabric, compiles the example policy, installs it over P4Runtime with the controller, then
runs closed-loop allocation rounds on simulated time while synthetic traffic flows and one
tenant's demand drops. Everything runs on 127.0.0.1 and ends on its own.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, cancel := context.WithTimeout(cmd.Context(), 2*time.Minute)
			defer cancel()
			err := demo.Run(ctx, e.stdout, opt)
			if errors.Is(err, demo.ErrInput) {
				return invalidInput(err)
			}
			return err
		},
	}
	f := cmd.Flags()
	f.StringVarP(&opt.Topology, "topology", "t", "topo/examples/fabric.yaml", "topology file")
	f.StringVarP(&opt.Policy, "policy", "p", "topo/examples/fabric-policy.yaml", "policy file")
	f.StringVar(&opt.P4Info, "p4info", "p4src/build/qos.p4info.txtpb", "P4Info of the qos pipeline")
	f.IntVar(&opt.Rounds, "rounds", 8, "closed-loop rounds (tenant b's demand drops after the third)")
	f.DurationVar(&opt.Interval, "interval", time.Second, "simulated time per round")
	return cmd
}

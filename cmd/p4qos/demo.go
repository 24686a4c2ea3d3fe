package main

import (
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
tenant's demand drops. Everything runs on 127.0.0.1 and ends on its own; with --ui the
live dashboard is served (--ui=ADDR for another address than 127.0.0.1:9464), rounds take
real time, and it stays up after the last one until interrupted.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			err := demo.Run(cmd.Context(), e.stdout, opt)
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
	f.StringVar(&opt.UI, "ui", "", "serve the live dashboard on this address (bare --ui: 127.0.0.1:9464) and keep it up")
	f.Lookup("ui").NoOptDefVal = "127.0.0.1:9464"
	return cmd
}

package main

import (
	"os"

	"github.com/spf13/cobra"

	"github.com/p4qos/p4qos/controller"
)

func init() { subcommands = append(subcommands, newIntentCmd) }

func newIntentCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "intent put -p policy.yaml -t topo.yaml | get | history | rollback REV",
		Short: "The cluster's shared intent in etcd: policy and topology with revisions",
		Long: `intent reads and changes the intent every p4qos run --cluster follows: a put is compiled
first and stored by compare-and-swap on the revision. See docs/controller.md, "Cluster".`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			src := controller.Sources{File: cmd.Flag("config").Value.String(), Env: os.Environ(), Flags: cmd.Flags()}
			return controllerErr(controller.IntentCommand(cmd.Context(), src, e.stdout, args))
		},
	}
	controller.BindIntentFlags(cmd.Flags())
	return cmd
}

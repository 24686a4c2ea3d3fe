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
		Long: `intent reads and changes the intent that every p4qos run --cluster instance
follows. put compiles the policy against the topology and the P4Info first and
stores it only if the store is still at the revision read (or --expect):
a bad or concurrent update never enters the store. rollback REV stores an
older revision's content again as a new revision. See docs/controller.md, "Cluster".`,
		Example: `  p4qos intent put --cluster etcd://127.0.0.1:2379 -p policy.yaml -t topo.yaml
  p4qos intent history -c p4qos.yaml`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ic, err := controller.OpenIntent(controller.Sources{File: cmd.Flag("config").Value.String(), Env: os.Environ(), Flags: cmd.Flags()})
			if err != nil {
				return invalidInput(err)
			}
			defer ic.Close()
			expect, _ := cmd.Flags().GetInt64("expect")
			return controllerErr(ic.Command(cmd.Context(), e.stdout, args, expect))
		},
	}
	controller.BindIntentFlags(cmd.Flags())
	return cmd
}

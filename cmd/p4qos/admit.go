package main

import (
	"github.com/spf13/cobra"

	"github.com/p4qos/p4qos/admission"
	"github.com/p4qos/p4qos/compiler"
	"github.com/p4qos/p4qos/internal/yamlerr"
)

func init() { subcommands = append(subcommands, newAdmitCmd) }

func newAdmitCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "admit request --dry-run -p policy.yaml -t topo.yaml --src H --dst H --rate R --burst B [--service guaranteed|controlled-load] [--max-delay D]",
		Short: "Admission control: would a reservation be admitted, with its delay bound (offline)",
		Long: `admit request decides a guaranteed or controlled-load reservation against the topology:
admitted (exit 0) with the end-to-end delay bound and the per-hop terms, or rejected
(exit 1) with the hop, the resource and the numbers. --reservations admits a static set
first. See docs/admission.md.`,
		Example: `  p4qos admit request --dry-run -p topo/examples/fabric-policy.yaml -t topo/examples/fabric.yaml \
    --src h1 --dst h3 --rate 2Mbps --burst 10KB --max-delay 20ms`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, tp, err := compiler.LoadInputs(cmd.Flag("policy").Value.String(), cmd.Flag("topology").Value.String(), e.stdin)
			if err != nil {
				return invalidInput(yamlerr.Counted(err))
			}
			return admission.Command(tp, cmd.Flags(), args, e.stdout)
		},
	}
	cmd.Flags().StringP("policy", "p", "", "policy file")
	cmd.Flags().StringP("topology", "t", "", "topology file")
	admission.BindFlags(cmd.Flags())
	return cmd
}

package main

import (
	"github.com/spf13/cobra"

	"github.com/p4qos/p4qos/controller"
)

func init() { subcommands = append(subcommands, newAdmitCmd) }

func newAdmitCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "admit request|release ID|list [--api URL | --dry-run -p policy.yaml -t topo.yaml] [--src H --dst H --rate R --burst B ...]",
		Short: "Admission control: request, release and list reservations (running daemon, or offline with --dry-run)",
		Long: `admit request decides a guaranteed or controlled-load reservation: admitted (exit 0) with the
end-to-end delay bound and the per-hop terms, or rejected (exit 1) with the hop, the resource
and the numbers. Against the running daemon (--api) an admitted reservation is persisted and
installed; release ID removes it, list shows them. --dry-run decides offline against the
policy and topology files. See docs/admission.md.`,
		Example: `  p4qos admit request --src h1 --dst h3 --proto udp --dst-port 5004 --rate 2Mbps --burst 10KB --max-delay 20ms
  p4qos admit request --dry-run -p topo/examples/fabric-policy.yaml -t topo/examples/fabric.yaml \
    --src h1 --dst h3 --rate 2Mbps --burst 10KB --max-delay 20ms`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return controller.AdmitCommand(cmd.Context(), cmd.Flags(), args, e.stdin, e.stdout)
		},
	}
	controller.BindAdmitFlags(cmd.Flags())
	return cmd
}

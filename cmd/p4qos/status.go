package main

import (
	"github.com/spf13/cobra"

	"github.com/p4qos/p4qos/controller/statusapi"
)

func init() { subcommands = append(subcommands, newStatusCmd) }

func newStatusCmd(e *env) *cobra.Command {
	var api, output string
	cmd := &cobra.Command{
		Use:   "status [--api URL] [-o table|json]",
		Short: "Show a running controller's switches, sync state and allocation (its status API)",
		Long: `status reads the daemon's status API (/api/v1/status on its metrics-addr) and prints
per switch the stream state (primary, backup, down), whether it is in sync, the last
reconcile, drift repaired and errors, then per flow group the demand, allocation,
enforced meter rate and bottleneck. Exit status 1 when the API cannot be reached.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output != "table" && output != "json" {
				return invalidInputf("-o: want table or json, got %q", output)
			}
			st, err := statusapi.Fetch(cmd.Context(), api)
			if err != nil {
				return err
			}
			if output == "table" {
				return statusapi.WriteTable(e.stdout, st)
			}
			return statusapi.WriteJSON(e.stdout, st)
		},
	}
	cmd.Flags().StringVar(&api, "api", statusapi.DefaultURL, "the daemon's status API (its metrics-addr)")
	cmd.Flags().StringVarP(&output, "output", "o", "table", "output: table or json")
	return cmd
}

package main

import (
	"github.com/spf13/cobra"

	"github.com/p4qos/p4qos/inspect"
)

func init() {
	subcommands = append(subcommands,
		func(e *env) *cobra.Command { return inspectCmd(e, inspect.Show) },
		func(e *env) *cobra.Command { return inspectCmd(e, inspect.Diff) },
		func(e *env) *cobra.Command { return inspectCmd(e, inspect.Top) })
}

// inspectCmd is a read-only look at switches (show, diff, top): the
// package inspect does the work; its errors carry their exit status.
func inspectCmd(e *env, c inspect.Command) *cobra.Command {
	cmd := &cobra.Command{Use: c.Use, Short: c.Short, Long: c.Long, Args: cobra.ExactArgs(c.Args)}
	c.Bind(cmd.Flags())
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		return c.Run(cmd.Context(), inspect.IO{Flags: cmd.Flags(), Args: args, Stdout: e.stdout})
	}
	return cmd
}

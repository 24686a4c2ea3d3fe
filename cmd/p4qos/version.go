package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/p4qos/p4qos/internal/buildinfo"
)

func init() { subcommands = append(subcommands, newVersionCmd) }

// newVersionCmd prints what --version prints (root's Version field).
func newVersionCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use: "version", Short: "Print the p4qos version, VCS revision, commit time and Go version", Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error { _, err := fmt.Fprint(e.stdout, buildinfo.Read()); return err },
	}
}

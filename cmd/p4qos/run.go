package main

import (
	"errors"
	"os"

	"github.com/spf13/cobra"

	"github.com/p4qos/p4qos/controller"
)

func init() { subcommands = append(subcommands, newRunCmd) }

func newRunCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "run -c p4qos.yaml",
		Short: "Run the controller daemon: keep the switches converged with the policy",
		Long: `run connects to every switch (P4Runtime, as primary for its election id), pushes
the pipeline when needed, installs the compiled policy and its queue settings, and
keeps them there: it repairs drift, re-programs restarted switches, reloads the policy
and topology files when they change (a bad one is rejected and the running state
kept), and runs the closed bandwidth loop (counters -> demand -> allocation -> meters).

A second controller with a lower election id runs as a backup and writes nothing;
one with the same election id as a live primary exits with status 2.

Settings come from the config file (-c), P4QOS_* environment variables and
flags, flags winning. See docs/controller.md.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runDaemon(cmd, e) },
	}
	controller.BindFlags(cmd.Flags())
	return cmd
}

func runDaemon(cmd *cobra.Command, e *env) error {
	ctx := cmd.Context()
	cfg, err := controller.Load(controller.Sources{
		File: cmd.Flag("config").Value.String(), Stdin: cmd.InOrStdin(), Env: os.Environ(), Flags: cmd.Flags(),
	})
	if err != nil {
		return invalidInput(err)
	}
	log := newLogger(e.stderr, cfg.LogLevel)
	c, err := controller.New(ctx, cfg, controller.WithLogger(log))
	if err != nil {
		return controllerErr(err)
	}
	if cfg.Once {
		return c.OnceReport(ctx, e.stdout)
	}
	return controllerErr(c.Run(ctx))
}

// controllerErr maps the controller's input errors to exit status 2.
func controllerErr(err error) error {
	var ie *controller.InputError
	if errors.As(err, &ie) {
		return invalidInput(err)
	}
	return err
}

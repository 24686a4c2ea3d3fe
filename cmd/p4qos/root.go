package main

import (
	"io"
	"log/slog"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/viper"

	"github.com/p4qos/p4qos/internal/buildinfo"
	"github.com/p4qos/p4qos/internal/completion"
)

// newRootCmd builds the command tree. Every subcommand gets its streams from
// here so that tests can run the CLI in-process.
func newRootCmd(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:           "p4qos",
		Short:         "Turn bandwidth and QoS policy into P4 switch state",
		Long:          "p4qos compiles QoS policy into P4Runtime entities, allocates bandwidth BwE-style,\nand keeps P4 switches (BMv2, Tofino, or the embedded sim) converged with the intent.",
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       buildinfo.Read().String(),
	}
	root.SetVersionTemplate("{{.Version}}")
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.PersistentFlags().String("log-level", "info", "log level: debug, info, warn, error")
	// Flag errors (unknown flag, bad value) are the user's: exit 2.
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return invalidInput(err) })
	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error { // --log-level or P4QOS_LOG_LEVEL
		return invalidInput(completion.Check(cmd, "log-level", strings.ToLower(newViper(cmd).GetString("log-level"))))
	}

	for _, add := range subcommands {
		root.AddCommand(add(&env{stdin: stdin, stdout: stdout, stderr: stderr}))
	}
	completion.Register(root) // completion command, values, file types, names; hidden gen-man
	usageErrorsAreInvalidInput(root)
	return root
}

// usageErrorsAreInvalidInput makes argument errors (an unexpected argument,
// an unknown subcommand) exit 2 like flag errors: the user's input, not a
// failure of p4qos.
func usageErrorsAreInvalidInput(c *cobra.Command) {
	switch {
	case c.HasSubCommands() && !c.Runnable():
		// A group (p4qos, p4qos lab): an argument that names no
		// subcommand is an error; none shows the help.
		c.Args = cobra.ArbitraryArgs
		c.RunE = func(cmd *cobra.Command, a []string) error {
			if len(a) > 0 {
				return invalidInputf("unknown command %q for %q (see %s --help)", a[0], cmd.CommandPath(), cmd.CommandPath())
			}
			return cmd.Help()
		}
	case c.Args != nil:
		args := c.Args
		c.Args = func(cmd *cobra.Command, a []string) error { return invalidInput(args(cmd, a)) }
	}
	for _, sub := range c.Commands() {
		usageErrorsAreInvalidInput(sub)
	}
}

// env carries the streams into subcommands; there is no global state.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
}

// logger returns a slog logger writing text to stderr at the level of the
// --log-level flag.
func (e *env) logger(cmd *cobra.Command) *slog.Logger {
	return newLogger(e.stderr, newViper(cmd).GetString("log-level")) // flag, then P4QOS_LOG_LEVEL
}

// newLogger writes text records at level (debug, info, warn or error; the
// config and flag checks reject anything else).
func newLogger(w io.Writer, level string) *slog.Logger {
	lvl := slog.LevelInfo
	_ = lvl.UnmarshalText([]byte(strings.ToUpper(level)))
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: lvl}))
}

// newViper returns a viper instance bound to cmd's flags and P4QOS_* env
// variables (P4QOS_OUTPUT for --output, and so on).
func newViper(cmd *cobra.Command) *viper.Viper {
	v := viper.New()
	v.SetEnvPrefix("P4QOS")
	v.SetEnvKeyReplacer(strings.NewReplacer("-", "_", ".", "_"))
	v.AutomaticEnv()
	_ = v.BindPFlags(cmd.Flags())
	return v
}

// subcommands is filled by the init functions of each subcommand's file, so
// that each command lives in its own file without editing this one.
var subcommands []func(*env) *cobra.Command

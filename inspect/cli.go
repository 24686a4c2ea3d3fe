package inspect

import (
	"context"
	"io"
	"os"
	"time"

	"github.com/spf13/pflag"
)

// Command is one inspect command as the CLI offers it: cmd/p4qos builds
// its cobra command from Use, Short, Long and Args, lets Bind add the
// flags, and calls Run. Errors carry their exit status (ExitCode).
type Command struct {
	Use, Short, Long string
	// Args is the number of positional arguments.
	Args int
	Bind func(*pflag.FlagSet)
	Run  func(context.Context, IO) error
}

// IO is what a command gets from the CLI.
type IO struct {
	Flags  *pflag.FlagSet
	Args   []string
	Stdout io.Writer
}

// Show is `p4qos show`.
var Show = Command{
	Use:   "show entries|counters|meters|groups|pipeline [--switch ADDR|NAME] [-t topo.yaml | -c p4qos.yaml]",
	Short: "Show what a P4Runtime switch holds, decoded by name (read-only)",
	Long: `show reads a switch over P4Runtime and prints what it holds, decoded with the
P4Info: entries [--table NAME] (match fields as addresses, prefixes, DSCP names,
protocols, colors; actions with their parameters), counters (cells that counted),
meters (configured cells with rates in units; per-color counts where the target
reports them), groups (action profile members and groups), pipeline (cookie,
objects and how full they are).

The switch is --switch HOST:PORT [--device-id N], or a switch name (all of them
when --switch is not given) of a topology (-t) or daemon config (-c). The P4Info
is the target's committed one (the config's, else p4src/build/qos.p4info.txtpb;
--p4info overrides). show opens no StreamChannel: it takes no part in arbitration,
never becomes primary and never writes, so it runs beside the controller.

Output: -o table (default) or json (docs/inspect.md). Exit status 0; 1 when a
switch cannot be read (unreachable, wrong device id or role; within --timeout);
2 for usage errors.`,
	Args: 1,
	Bind: func(fs *pflag.FlagSet) {
		bindFlags(fs, false, false)
		fs.String(flagTable, "", "with entries: only this table (full name or unique suffix)")
	},
	Run: runShow,
}

// Diff is `p4qos diff`.
var Diff = Command{
	Use:   "diff [-c p4qos.yaml | -t topo.yaml -p policy.yaml] [--switch NAME]",
	Short: "Compare the compiled intent with what the switches hold (read-only)",
	Long: `diff compiles the policy for the topology (as compile and run do) and compares
each switch's intent with what the switch holds, read the way the controller's
reconciler reads it (controlplane.Session.Compare: the same read-back and the same
tables.Diff), without writing. It lists missing, extra and differing entities by
name, and whether the switch runs the intended pipeline.

Exit status: 0 every switch in sync, 1 a switch differs, 2 usage (bad flags or
files), 3 a switch could not be compared (unreachable, wrong device id or role,
no pipeline). Output: -o table (default) or json (docs/inspect.md).`,
	Bind: func(fs *pflag.FlagSet) { bindFlags(fs, true, false) },
	Run:  runDiff,
}

// Top is `p4qos top`.
var Top = Command{
	Use:   "top [--switch ADDR|NAME] [-t topo.yaml | -c p4qos.yaml] [--interval 1s] [--once -o json]",
	Short: "Live per-class and per-queue rates, colors and drops of the switches (read-only)",
	Long: `top reads the counters of the qos pipeline every --interval and shows, per switch
and class, the rate and packets (class_counter), the green/yellow/red share of the
class meter and the packets its color actions drop (where the target reports
per-color meter counts), and per egress queue the rate (queue_counter) and, where
the target's queue interface reports them (p4qos sim --thrift-listen), the queue's
configured rate and depth, backlog and tail drops. Class names come from the
policy (-c, or -p with -t); otherwise classes are shown by id.

On a terminal the screen is cleared and redrawn each interval until interrupted;
otherwise frames follow each other. --once prints one frame (two reads an
interval apart) and exits; -o json with --once is for scripts (docs/inspect.md).
Like show, top never writes and never takes part in arbitration.`,
	Bind: func(fs *pflag.FlagSet) {
		bindFlags(fs, true, true)
		fs.Duration(flagInterval, time.Second, "time between reads")
		fs.Bool(flagOnce, false, "print one frame and exit")
		fs.String(flagAPI, "", "a running daemon's status API (http://127.0.0.1:9464) for the flow-group rows (default with -c: the config's metrics-addr)")
	},
	Run: runTop,
}

// isTerminal reports whether w is a terminal (a character device).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

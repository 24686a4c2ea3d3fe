package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"time"

	"github.com/spf13/cobra"

	"github.com/p4qos/p4qos/internal/plot"
	"github.com/p4qos/p4qos/topo"
	"github.com/p4qos/p4qos/topo/mininet"
)

func init() { subcommands = append(subcommands, newLabCmd) }

// labErr makes the lab's precondition failures (not root, tools missing,
// lab already up) exit 2.
func labErr(err error) error {
	if errors.Is(err, mininet.ErrPrecondition) {
		return invalidInput(err)
	}
	return err
}

// labCmd carries the flags every lab subcommand shares.
type labCmd struct {
	e                   *env
	topoFile, stateRoot string
}

func (lc *labCmd) load(cmd *cobra.Command) (*mininet.Lab, error) {
	t, err := topo.Load(lc.topoFile)
	if err != nil {
		return nil, invalidInput(err)
	}
	return lc.lab(cmd, t), nil
}

func (lc *labCmd) lab(cmd *cobra.Command, t *topo.Topology, opts ...mininet.Option) *mininet.Lab {
	opts = append([]mininet.Option{mininet.WithStateRoot(lc.stateRoot), mininet.WithLogger(lc.e.logger(cmd)), mininet.WithProgress(lc.e.stderr)}, opts...)
	return mininet.New(t, opts...)
}

func newLabCmd(e *env) *cobra.Command {
	lc := &labCmd{e: e}
	lab := &cobra.Command{
		Use:   "lab",
		Short: "Run a topology as a Mininet lab of BMv2 switches (needs root, Mininet, BMv2)",
		Long: `lab up starts Mininet with BMv2 simple_switch_grpc switches (--priority-queues 8) in a
network namespace of its own, with hosts, static ARP and routes, and links shaped to their
capacities and delays. lab down removes every process, namespace, veth and temp file it made,
also after a crash. lab status shows what runs; lab exec runs a command on a host;
lab link down|up fails or restores a link.`,
	}
	lab.PersistentFlags().StringVarP(&lc.topoFile, "topology", "t", "topo/examples/fabric.yaml", "topology file")
	lab.PersistentFlags().StringVar(&lc.stateRoot, "state-dir", "/run/p4qos", "where lab state lives")
	lab.AddCommand(lc.upCmd(), lc.downCmd(), lc.statusCmd(), lc.execCmd(), lc.cliCmd(), lc.linkCmd(), lc.recordCmd(), newLabPlotCmd())
	return lab
}

func (lc *labCmd) upCmd() *cobra.Command {
	var (
		bmv2, bmv2LogLevel, policy, pcap string
		noController                     bool
		ctl                              mininet.Controller
		readyTimeout                     time.Duration
		rtPriority                       int
	)
	up := &cobra.Command{
		Use:   "up",
		Short: "Start the lab and the controller",
		Long: `up starts the lab, then programs the switches with p4qos run --once and leaves
p4qos run running inside the lab namespace (config, log and pid in the state
directory). The policy defaults to <topology dir>/<topology name>-policy.yaml
when that file exists (topo/examples/fabric-policy.yaml for the fabric), else
to a policy with one best-effort class. The controller also sets the queue
rates and depths the policy asks for, over each switch's BMv2 thrift port.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			t, err := topo.Load(lc.topoFile)
			if err != nil {
				return invalidInput(err)
			}
			// WithBMv2("") keeps the default (PATH, then /opt/p4/bin).
			opts := []mininet.Option{mininet.WithBMv2(bmv2), mininet.WithReadyTimeout(readyTimeout), mininet.WithBMv2LogLevel(bmv2LogLevel), mininet.WithPcap(pcap), mininet.WithSwitchRTPriority(rtPriority)}
			if !noController {
				// P4QOS_P4INFO and P4QOS_BMV2_JSON stand in for the flags.
				v := newViper(cmd)
				ctl.P4Info, ctl.BMv2JSON, ctl.Policy = v.GetString("p4info"), v.GetString("bmv2-json"), policy
				if ctl.Binary, err = os.Executable(); err != nil {
					return fmt.Errorf("find the p4qos binary: %w", err)
				}
				if policy == "" {
					ctl.Policy = mininet.DefaultPolicyFile(lc.topoFile, t)
				}
				opts = append(opts, mininet.WithController(ctl))
			}
			l := lc.lab(cmd, t, opts...)
			if err := l.Up(cmd.Context()); err != nil {
				return labErr(err)
			}
			fmt.Fprintf(lc.e.stdout, "lab %s is up: p4qos lab cli -t %s HOST; p4qos lab down -t %s\n", l.Namespace(), lc.topoFile, lc.topoFile)
			if pcap != "" {
				fmt.Fprintf(lc.e.stdout, "per-port captures in %s: SWITCH-ethPORT_in.pcap and _out.pcap (wireshark, tcpdump -r)\n", pcap)
			}
			return nil
		},
	}
	f := up.Flags()
	f.StringVar(&bmv2, "bmv2", "", "simple_switch_grpc binary (default: PATH, then /opt/p4/bin)")
	f.StringVar(&bmv2LogLevel, "bmv2-log-level", "warn", "BMv2 --log-level: trace and debug log every packet (slow) to <switch>.log.txt in the state dir")
	f.StringVar(&policy, "policy", "", "policy file for the controller (default: <topology dir>/<name>-policy.yaml if present)")
	f.String("p4info", "p4src/build/qos.p4info.txtpb", "P4Info of the qos pipeline (env P4QOS_P4INFO)")
	f.String("bmv2-json", "p4src/build/qos.json", "BMv2 JSON of the qos pipeline (env P4QOS_BMV2_JSON)")
	f.BoolVar(&noController, "no-controller", false, "start the switches only, with no pipeline and no controller")
	f.StringArrayVar(&ctl.Args, "controller-arg", nil, "extra flag for p4qos run, e.g. --controller-arg=--loop-interval=2s (repeatable)")
	f.DurationVar(&readyTimeout, "ready-timeout", 90*time.Second, "how long to wait for the switches to listen")
	f.StringVar(&pcap, "pcap", "", "write per-port captures of every switch into this directory (BMv2 --pcap)")
	f.IntVar(&rtPriority, "rt-priority", 0, "run the switches at this real-time priority (SCHED_RR 1-99; 0: normal scheduling), for delay measurements on a busy machine")
	return up
}

func (lc *labCmd) downCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "down",
		Short: "Stop the lab and remove everything it made",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := mininet.RequireRoot("lab down"); err != nil {
				return labErr(err)
			}
			l, err := lc.load(cmd)
			if err != nil {
				return err
			}
			if err := l.Down(cmd.Context()); err != nil {
				return err
			}
			fmt.Fprintf(lc.e.stdout, "lab %s is down\n", l.Namespace())
			return nil
		},
	}
}

func (lc *labCmd) statusCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Show what of the lab is running",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			l, err := lc.load(cmd)
			if err != nil {
				return err
			}
			return l.Status(cmd.Context()).WriteText(lc.e.stdout, l.Namespace())
		},
	}
}

func (lc *labCmd) execCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "exec HOST -- COMMAND [ARGS...]",
		Short: "Run a command in a lab host's network namespace",
		Args:  cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			l, err := lc.load(cmd)
			if err != nil {
				return err
			}
			ns, err := l.HostNamespace(args[0])
			if err != nil {
				return invalidInput(err)
			}
			c := exec.CommandContext(cmd.Context(), "ip", append([]string{"netns", "exec", ns}, args[1:]...)...)
			c.Stdin, c.Stdout, c.Stderr = lc.e.stdin, lc.e.stdout, lc.e.stderr
			return c.Run()
		},
	}
}

func (lc *labCmd) cliCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "cli [HOST]",
		Short: "An interactive shell on a lab host (ping, iperf3, tcpdump there), or in the lab's namespace without HOST",
		Long: `cli opens bash in a host's network namespace, as Mininet's "h1 bash" would: the
host's interfaces, addresses and routes. Without HOST the shell runs in the lab's
namespace, where the switches' P4Runtime and thrift ports listen (simple_switch_CLI
--thrift-port 9090, p4runtime-shell). Mininet itself runs detached (lab up
returns), so its own CLI is not attached; exit the shell to leave.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			l, err := lc.load(cmd)
			if err != nil {
				return err
			}
			c, err := l.Shell(append(args, "")[0])
			if err != nil {
				return labErr(invalidIfNoHost(err))
			}
			c.Stdin, c.Stdout, c.Stderr = lc.e.stdin, lc.e.stdout, lc.e.stderr
			return c.Run()
		},
	}
}

// invalidIfNoHost makes an unknown host name a usage error.
func invalidIfNoHost(err error) error {
	if errors.Is(err, mininet.ErrNoHost) {
		return invalidInput(err)
	}
	return err
}

func (lc *labCmd) linkCmd() *cobra.Command {
	var edit bool
	c := &cobra.Command{
		Use:   "link down|up SWITCH:PORT [--edit-topology]",
		Short: "Fail or restore the switch-to-switch link at a port (in the data plane; the controller detects it)",
		Long: `link down makes both ends of the link at SWITCH:PORT drop everything sent into it, as
a cut cable would, and leaves the controller's topology (the intent) alone: p4qos run finds
the failure by its link-liveness probes and moves routes, ECMP groups and the allocation
onto the remaining links. --edit-topology also marks the link down in the controller's
topology copy (topology.yaml in the state directory), which it polls: the reaction without
probes, for comparison. link up restores the link, whichever way it went down.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ch, err := mininet.ParseLinkChange(args[0], args[1])
			if err != nil {
				return invalidInputf("link: %v", err)
			}
			if err := mininet.RequireRoot("lab link"); err != nil {
				return labErr(err)
			}
			l, err := lc.load(cmd)
			if err != nil {
				return err
			}
			ch.EditTopology = edit
			lk, err := l.SetLink(cmd.Context(), ch)
			if errors.Is(err, mininet.ErrNoLink) {
				return invalidInput(err)
			}
			if err != nil {
				return labErr(err)
			}
			fmt.Fprintf(lc.e.stdout, "link %s is %s\n", lk.Name(), args[0])
			return nil
		},
	}
	c.Flags().BoolVar(&edit, "edit-topology", false, "also mark the link down in the controller's topology copy (no probes needed)")
	return c
}

func (lc *labCmd) recordCmd() *cobra.Command {
	var (
		out                string
		interval, duration time.Duration
		switches           []string
	)
	cmd := &cobra.Command{
		Use:   "record -o rates.csv [-d 20s] [-i 0.5s] [--switch NAME]",
		Short: "Record the rate of every traffic class over time from the switches' class counters",
		Long: `record reads the pipeline's class counters (class_counter, counted in egress:
what survived metering) from the lab's switches over P4Runtime every interval
and writes one CSV row per sample: time_s, then each class's rate in bit/s,
summed over the switches (--switch limits which). Class names come from the
policy the lab's controller runs. It runs itself inside the lab namespace,
where the switches' P4Runtime ports are. Plot the file with p4qos lab plot.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return invalidInputf("record: -o FILE is required")
			}
			if interval <= 0 || duration <= 0 {
				return invalidInputf("record: -i and -d must be positive")
			}
			l, err := lc.load(cmd)
			if err != nil {
				return err
			}
			if !l.InNamespace() {
				// The switches' addresses are loopback ports of the lab's
				// namespace: run this command again in there.
				return labErr(l.RecordInNamespace(cmd.Context(), lc.e.stdin, lc.e.stdout, lc.e.stderr,
					[]string{"-t", lc.topoFile, "--state-dir", lc.stateRoot}, out, interval, duration, switches))
			}
			f, err := os.Create(out)
			if err != nil {
				return invalidInput(err)
			}
			defer f.Close()
			fmt.Fprintf(lc.e.stderr, "recording class rates every %s for %s into %s\n", interval, duration, out)
			if err := l.Record(cmd.Context(), f, switches, interval, duration); err != nil {
				return labErr(err)
			}
			return f.Close()
		},
	}
	f := cmd.Flags()
	f.StringVarP(&out, "output", "o", "", "CSV file to write")
	f.DurationVarP(&interval, "interval", "i", 500*time.Millisecond, "sampling interval")
	f.DurationVarP(&duration, "duration", "d", 20*time.Second, "how long to record")
	f.StringArrayVar(&switches, "switch", nil, "only these switches (repeatable; default all)")
	return cmd
}

func newLabPlotCmd() *cobra.Command {
	var in, out, title string
	var delay bool
	cmd := &cobra.Command{
		Use:   "plot -i rates.csv -o rates.svg|png|pdf [--title T] [--delay]",
		Short: "Draw the rates recorded by lab record over time (SVG, PNG or PDF by -o's extension)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if in == "" || out == "" {
				return invalidInputf("plot: -i CSV and -o FILE are required")
			}
			err := plot.CSVFile(in, out, title, delay)
			if ie := (*plot.InputError)(nil); errors.As(err, &ie) {
				return invalidInput(err)
			}
			return err
		},
	}
	cmd.Flags().StringVarP(&in, "input", "i", "", "CSV written by p4qos lab record, or an objective,flow,computed_bps,measured_bps table (drawn as bars)")
	cmd.Flags().StringVarP(&out, "output", "o", "", "figure to write: .svg, .png or .pdf")
	cmd.Flags().StringVar(&title, "title", "", "chart title")
	cmd.Flags().BoolVar(&delay, "delay", false, "the CSV holds one-way delays in ms (docs/labs/owd.py bins), not rates")
	return cmd
}

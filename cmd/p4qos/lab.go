package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"

	"github.com/p4qos/p4qos/internal/plot"
	"github.com/p4qos/p4qos/tables"
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

func newLabCmd(e *env) *cobra.Command {
	var topoFile, stateRoot string
	lab := &cobra.Command{
		Use:   "lab",
		Short: "Run a topology as a Mininet lab of BMv2 switches (needs root, Mininet, BMv2)",
		Long: `lab up starts Mininet with BMv2 simple_switch_grpc switches (--priority-queues 8) in a
network namespace of its own, with hosts, static ARP and routes, and links shaped to their
capacities and delays. lab down removes every process, namespace, veth and temp file it made,
also after a crash. lab status shows what runs; lab exec runs a command on a host;
lab link down|up fails or restores a link.`,
	}
	lab.PersistentFlags().StringVarP(&topoFile, "topology", "t", "topo/examples/fabric.yaml", "topology file")
	lab.PersistentFlags().StringVar(&stateRoot, "state-dir", "/run/p4qos", "where lab state lives")

	load := func(cmd *cobra.Command) (*mininet.Lab, error) {
		t, err := topo.Load(topoFile)
		if err != nil {
			return nil, invalidInput(err)
		}
		return mininet.New(t, mininet.WithStateRoot(stateRoot), mininet.WithLogger(e.logger(cmd)), mininet.WithProgress(e.stderr)), nil
	}

	var (
		bmv2, policy, p4info, bmv2JSON string
		bmv2LogLevel                   string
		noController                   bool
		ctlArgs                        []string
		readyTimeout                   time.Duration
	)
	up := &cobra.Command{
		Use:   "up",
		Short: "Start the lab and the controller",
		Long: `up starts the lab, then programs the switches with p4qos run --once and leaves
p4qos run running inside the lab namespace (config, log and pid in the state
directory). The policy defaults to <topology dir>/<topology name>-policy.yaml
when that file exists (topo/examples/fabric-policy.yaml for the fabric), else
to a policy with one best-effort class. Queue rates and depths the policy asks
for are set over BMv2 thrift (P4Runtime cannot).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			t, err := topo.Load(topoFile)
			if err != nil {
				return invalidInput(err)
			}
			// P4QOS_P4INFO and P4QOS_BMV2_JSON stand in for the flags.
			v := newViper(cmd)
			p4info, bmv2JSON = v.GetString("p4info"), v.GetString("bmv2-json")
			opts := []mininet.Option{mininet.WithStateRoot(stateRoot), mininet.WithLogger(e.logger(cmd)),
				mininet.WithProgress(e.stderr), mininet.WithReadyTimeout(readyTimeout)}
			if bmv2 != "" {
				opts = append(opts, mininet.WithBMv2(bmv2))
			}
			if bmv2LogLevel != "" {
				opts = append(opts, mininet.WithBMv2LogLevel(bmv2LogLevel))
			}
			if !noController {
				self, err := os.Executable()
				if err != nil {
					return fmt.Errorf("find the p4qos binary: %w", err)
				}
				if policy == "" {
					guess := filepath.Join(filepath.Dir(topoFile), t.Name+"-policy.yaml")
					if _, err := os.Stat(guess); err == nil {
						policy = guess
					}
				}
				opts = append(opts, mininet.WithController(mininet.Controller{
					Binary: self, Policy: policy, P4Info: p4info, BMv2JSON: bmv2JSON, Args: ctlArgs,
				}))
			}
			l := mininet.New(t, opts...)
			if err := l.Up(cmd.Context()); err != nil {
				return labErr(err)
			}
			fmt.Fprintf(e.stdout, "lab %s is up: p4qos lab exec -t %s HOST -- COMMAND; p4qos lab down -t %s\n", l.Namespace(), topoFile, topoFile)
			return nil
		},
	}
	uf := up.Flags()
	uf.StringVar(&bmv2, "bmv2", "", "simple_switch_grpc binary (default: PATH, then /opt/p4/bin)")
	uf.StringVar(&bmv2LogLevel, "bmv2-log-level", "warn", "BMv2 --log-level: trace and debug log every packet (slow) to <switch>.log.txt in the state dir")
	uf.StringVar(&policy, "policy", "", "policy file for the controller (default: <topology dir>/<name>-policy.yaml if present)")
	uf.StringVar(&p4info, "p4info", "p4src/build/qos.p4info.txtpb", "P4Info of the qos pipeline (env P4QOS_P4INFO)")
	uf.StringVar(&bmv2JSON, "bmv2-json", "p4src/build/qos.json", "BMv2 JSON of the qos pipeline (env P4QOS_BMV2_JSON)")
	uf.BoolVar(&noController, "no-controller", false, "start the switches only, with no pipeline and no controller")
	uf.StringArrayVar(&ctlArgs, "controller-arg", nil, "extra flag for p4qos run, e.g. --controller-arg=--loop-interval=2s (repeatable)")
	uf.DurationVar(&readyTimeout, "ready-timeout", 90*time.Second, "how long to wait for the switches to listen")

	lab.AddCommand(up, &cobra.Command{
		Use:   "down",
		Short: "Stop the lab and remove everything it made",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if os.Geteuid() != 0 {
				return invalidInputf("lab down needs root: run it with sudo")
			}
			l, err := load(cmd)
			if err != nil {
				return err
			}
			if err := l.Down(cmd.Context()); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "lab %s is down\n", l.Namespace())
			return nil
		},
	}, &cobra.Command{
		Use:   "status",
		Short: "Show what of the lab is running",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			l, err := load(cmd)
			if err != nil {
				return err
			}
			st := l.Status(cmd.Context())
			state := "down"
			if st.Up {
				state = "up"
			} else if st.Namespace || st.Mininet {
				state = "partly up (run `p4qos lab down`)"
			}
			fmt.Fprintf(e.stdout, "lab %s: %s (namespace %v, mininet %v, state %s)\n", l.Namespace(), state, st.Namespace, st.Mininet, st.StateDir)
			if st.Controller > 0 {
				fmt.Fprintf(e.stdout, "controller: running (pid %d, log %s)\n", st.Controller, filepath.Join(st.StateDir, "controller.log"))
			} else {
				fmt.Fprintln(e.stdout, "controller: not running")
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "SWITCH\tP4RUNTIME\tPROCESS\tLISTENING")
			for _, s := range st.Switches {
				fmt.Fprintf(tw, "%s\t%s\t%v\t%v\n", s.Name, s.Address, s.Process, s.P4Runtime)
			}
			return tw.Flush()
		},
	}, &cobra.Command{
		Use:   "exec HOST -- COMMAND [ARGS...]",
		Short: "Run a command in a lab host's network namespace",
		Args:  cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			l, err := load(cmd)
			if err != nil {
				return err
			}
			ns, err := l.HostNamespace(args[0])
			if err != nil {
				return invalidInput(err)
			}
			c := exec.CommandContext(cmd.Context(), "ip", append([]string{"netns", "exec", ns}, args[1:]...)...)
			c.Stdin, c.Stdout, c.Stderr = e.stdin, e.stdout, e.stderr
			return c.Run()
		},
	})
	lab.AddCommand(&cobra.Command{
		Use:   "link down|up SWITCH:PORT",
		Short: "Fail or restore the switch-to-switch link at a port (both veths, and the controller's topology)",
		Long: `link down sets both ends of the link at SWITCH:PORT down inside the lab namespace and
rewrites the controller's topology copy (topology.yaml in the state directory)
without that link; p4qos run sees the change at its next polls and moves routes,
ECMP groups and the allocation onto the remaining links. link up restores both.
Until the controller has reacted, traffic hashed onto the failed link is lost
(the bound is in docs/controller.md).`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if args[0] != "down" && args[0] != "up" {
				return invalidInputf("link: expected down or up, got %q", args[0])
			}
			var ep topo.Endpoint
			if err := ep.UnmarshalYAMLNode(&yaml.Node{Kind: yaml.ScalarNode, Value: args[1]}); err != nil {
				return invalidInputf("link: %v", err)
			}
			if os.Geteuid() != 0 {
				return invalidInputf("lab link needs root: run it with sudo")
			}
			l, err := load(cmd)
			if err != nil {
				return err
			}
			lk, err := l.SetLink(cmd.Context(), ep, args[0] == "up")
			if errors.Is(err, mininet.ErrNoLink) {
				return invalidInput(err)
			}
			if err != nil {
				return labErr(err)
			}
			fmt.Fprintf(e.stdout, "link %s is %s\n", lk.Name(), args[0])
			return nil
		},
	})
	lab.AddCommand(newLabRecordCmd(e, &topoFile, &stateRoot), newLabPlotCmd(e))
	return lab
}

func newLabRecordCmd(e *env, topoFile, stateRoot *string) *cobra.Command {
	var (
		out                string
		interval, duration time.Duration
		switches           []string
	)
	cmd := &cobra.Command{
		Use:   "record -o rates.csv [-d 20s] [-i 0.5s] [--switch NAME]",
		Short: "Record the rate of every traffic class over time from the switches' class counters",
		Long: `record reads the pipeline's class counters (QosEgress.class_counter, counted in
egress: what survived metering) from the lab's switches over P4Runtime every
interval and writes one CSV row per sample: time_s, then each class's rate in
bit/s, summed over the switches (--switch limits which). Class names come from
the policy the lab's controller runs. It runs itself inside the lab namespace,
where the switches' P4Runtime ports are. Plot the file with p4qos lab plot.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return invalidInputf("record: -o FILE is required")
			}
			if interval <= 0 || duration <= 0 {
				return invalidInputf("record: -i and -d must be positive")
			}
			t, err := topo.Load(*topoFile)
			if err != nil {
				return invalidInput(err)
			}
			l := mininet.New(t, mininet.WithStateRoot(*stateRoot))
			rc, err := l.Running()
			if err != nil {
				return labErr(err)
			}
			sws, err := mininet.SelectSwitches(rc.Switches, switches)
			if err != nil {
				return invalidInput(err)
			}
			if !l.InNamespace() {
				// The switches' addresses are loopback ports of the lab's
				// namespace: run this command again in there.
				self, err := os.Executable()
				if err != nil {
					return err
				}
				abs, err := filepath.Abs(out)
				if err != nil {
					return err
				}
				args := []string{"netns", "exec", l.Namespace(), self, "lab", "record", "-t", *topoFile, "--state-dir", *stateRoot,
					"-o", abs, "-i", interval.String(), "-d", duration.String()}
				for _, s := range switches {
					args = append(args, "--switch", s)
				}
				c := exec.CommandContext(cmd.Context(), "ip", args...)
				c.Stdin, c.Stdout, c.Stderr = e.stdin, e.stdout, e.stderr
				if err := c.Run(); err != nil {
					var ee *exec.ExitError
					if errors.As(err, &ee) && ee.ExitCode() == 2 {
						return invalidInput(err)
					}
					return err
				}
				return nil
			}
			schema, err := tables.Load(rc.P4Info)
			if err != nil {
				return err
			}
			names, err := mininet.ClassNames(rc.Policy)
			if err != nil {
				return err
			}
			f, err := os.Create(out)
			if err != nil {
				return invalidInput(err)
			}
			defer f.Close()
			fmt.Fprintf(e.stderr, "recording class rates on %d switches every %s for %s into %s\n", len(sws), interval, duration, out)
			if err := mininet.RecordClassRates(cmd.Context(), f, mininet.Recording{
				Switches: sws, Schema: schema, Classes: names, Interval: interval, Duration: duration,
			}); err != nil {
				return err
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

func newLabPlotCmd(e *env) *cobra.Command {
	var in, out, title string
	cmd := &cobra.Command{
		Use:   "plot -i rates.csv -o rates.svg [--title T]",
		Short: "Draw the rates recorded by lab record as an SVG line chart (Mbit/s over time)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if in == "" || out == "" {
				return invalidInputf("plot: -i CSV and -o SVG are required")
			}
			if strings.ToLower(filepath.Ext(out)) != ".svg" {
				return invalidInputf("plot: %s: only .svg output is supported", out)
			}
			r, err := os.Open(in)
			if err != nil {
				return invalidInput(err)
			}
			defer r.Close()
			series, err := plot.ReadCSV(r, 1e-6)
			if err != nil {
				return invalidInputf("%s: %v", in, err)
			}
			if title == "" {
				title = "Rate per class (" + filepath.Base(in) + ")"
			}
			var b bytes.Buffer
			c := &plot.LineChart{Title: title, XLabel: "time (s)", YLabel: "Mbit/s", Series: series}
			if err := c.SVG(&b); err != nil {
				return invalidInputf("%s: %v", in, err)
			}
			return os.WriteFile(out, b.Bytes(), 0o644)
		},
	}
	cmd.Flags().StringVarP(&in, "input", "i", "", "CSV written by p4qos lab record")
	cmd.Flags().StringVarP(&out, "output", "o", "", "SVG file to write")
	cmd.Flags().StringVar(&title, "title", "", "chart title")
	return cmd
}

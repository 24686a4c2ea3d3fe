package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/p4qos/p4qos/topo"
	"github.com/p4qos/p4qos/topo/mininet"
)

func init() { subcommands = append(subcommands, newLabCmd) }

func newLabCmd(e *env) *cobra.Command {
	var topoFile, stateRoot string
	lab := &cobra.Command{
		Use:   "lab",
		Short: "Run a topology as a Mininet lab of BMv2 switches (needs root, Mininet, BMv2)",
		Long: `lab up starts Mininet with BMv2 simple_switch_grpc switches (--priority-queues 8) in a
network namespace of its own, with hosts, static ARP and routes, and links shaped to their
capacities and delays. lab down removes every process, namespace, veth and temp file it made,
also after a crash. lab status shows what runs; lab exec runs a command on a host.`,
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
	labErr := func(err error) error {
		if errors.Is(err, mininet.ErrPrecondition) {
			return invalidInput(err)
		}
		return err
	}

	lab.AddCommand(&cobra.Command{
		Use:   "up",
		Short: "Start the lab",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			l, err := load(cmd)
			if err != nil {
				return err
			}
			return labErr(l.Up(cmd.Context()))
		},
	}, &cobra.Command{
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
			pid, err := l.HostPid(args[0])
			if err != nil {
				return invalidInput(err)
			}
			c := exec.CommandContext(cmd.Context(), "nsenter", append([]string{"-t", strconv.Itoa(pid), "-n", "--"}, args[1:]...)...)
			c.Stdin, c.Stdout, c.Stderr = e.stdin, e.stdout, e.stderr
			return c.Run()
		},
	})
	return lab
}

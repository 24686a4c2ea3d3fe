package main

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/p4qos/p4qos/internal/assets"
	"github.com/p4qos/p4qos/target/sim"
)

func init() { subcommands = append(subcommands, newSimCmd) }

func newSimCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sim [--listen 127.0.0.1:50051] [--device-id 1] [-t topo.yaml] [--flows flows.yaml]",
		Short: "Run the embedded P4Runtime switch target",
		Long: `sim runs a P4Runtime v1.5 server that behaves like a conforming switch for any
P4Info (arbitration, pipeline config, Write/Read with the spec's error codes,
counters, meters, action profiles and selectors). With the qos pipeline it also
runs a traffic model: flows from --flows are pushed through the installed
entries every --tick, so counters move and meters limit.

With -t, one sim is started per switch of the topology whose target is "sim",
each on its own address and device id. With --thrift-listen it also serves
simple_switch's queue calls, so the controller sets its queues as it sets
BMv2's. It runs until SIGINT or SIGTERM. See docs/sim.md.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runSim(cmd, e) },
	}
	f := cmd.Flags()
	f.String("listen", "127.0.0.1:50051", "address to serve P4Runtime on (port 0 picks a free one)")
	f.Uint64("device-id", 1, "P4Runtime device id")
	f.StringP("topology", "t", "", "topology file: start one sim per switch with target sim")
	f.String("flows", "", "YAML file of synthetic flows for the traffic model (docs/sim.md)")
	f.Duration("tick", 100*time.Millisecond, "traffic model step: every tick of wall time the model advances by one tick")
	f.StringArray("table-size", nil, "override a table's size, name=N (repeatable)")
	f.StringArray("port-rate", nil, "limit an egress port of every sim, PORT=RATE such as 2=10Mbps (repeatable; overrides the topology)")
	f.Bool("no-port-rates", false, "with -t: do not limit egress ports to the topology's link capacities")
	f.Bool("promote-on-disconnect", false, "PI/BMv2 arbitration: promote the highest backup when the primary's stream breaks")
	f.String("thrift-listen", "", "also serve simple_switch's queue calls here (with -t: the first sim's port, the next sims the following ports; port 0 picks free ones)")
	f.String("tls-cert", "", "serve P4Runtime over TLS with this certificate (PEM)")
	f.String("tls-key", "", "the certificate's key (PEM)")
	f.String("tls-client-ca", "", "require client certificates signed by this CA (mutual TLS)")
	return cmd
}

func runSim(cmd *cobra.Command, e *env) error {
	log := e.logger(cmd)
	opts, err := simOptions(cmd.Flags())
	if err != nil {
		return err
	}
	tick, _ := cmd.Flags().GetDuration("tick")
	if tick <= 0 {
		return invalidInputf("--tick must be positive, got %v", tick)
	}
	instances, err := simInstances(cmd.Flags(), cmd.InOrStdin())
	if err != nil {
		return err
	}
	opts = append(opts, sim.WithLogger(log))
	err = sim.RunFleet(cmd.Context(), instances, tick, opts, func(in *sim.Instance, what, addr string) {
		fmt.Fprintf(e.stdout, "sim %s: %s %s\n", in.Name, what, addr)
	})
	if errors.Is(err, sim.ErrFlows) {
		return invalidInput(err)
	}
	if err == nil {
		log.Info("sim stopped")
	}
	return err
}

// simOptions are the options every instance shares.
func simOptions(f *pflag.FlagSet) ([]sim.Option, error) {
	var opts []sim.Option
	sizes, _ := f.GetStringArray("table-size")
	for _, kv := range sizes {
		o, err := sim.ParseTableSize(kv)
		if err != nil {
			return nil, invalidInputf("--table-size %q: %w", kv, err)
		}
		opts = append(opts, o)
	}
	if p, _ := f.GetBool("promote-on-disconnect"); p {
		opts = append(opts, sim.WithPromoteOnDisconnect())
	}
	cert, _ := f.GetString("tls-cert")
	key, _ := f.GetString("tls-key")
	ca, _ := f.GetString("tls-client-ca")
	if (cert == "") != (key == "") || (ca != "" && cert == "") {
		return nil, invalidInputf("--tls-cert and --tls-key go together, and --tls-client-ca needs them")
	}
	if cert != "" {
		opts = append(opts, sim.WithTLS(cert, key, ca))
	}
	return opts, nil
}

// simInstances lists the switches to serve, with their port rates, thrift
// addresses and flows.
func simInstances(f *pflag.FlagSet, stdin io.Reader) ([]*sim.Instance, error) {
	spec := sim.FleetSpec{Stdin: stdin}
	spec.Topology, _ = f.GetString("topology")
	if err := assets.Resolve(&spec.Topology); err != nil {
		return nil, err
	}
	spec.Listen, _ = f.GetString("listen")
	spec.DeviceID, _ = f.GetUint64("device-id")
	spec.ListenSet = f.Changed("listen") || f.Changed("device-id")
	spec.NoPortRates, _ = f.GetBool("no-port-rates")
	spec.ThriftListen, _ = f.GetString("thrift-listen")
	spec.PortRates, _ = f.GetStringArray("port-rate")
	spec.Flows, _ = f.GetString("flows")
	instances, err := spec.Instances()
	return instances, invalidInput(err)
}

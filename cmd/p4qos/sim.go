package main

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/p4qos/p4qos/internal/assets"
	"github.com/p4qos/p4qos/internal/inputfile"
	"github.com/p4qos/p4qos/internal/units"
	"github.com/p4qos/p4qos/target/sim"
	"github.com/p4qos/p4qos/topo"
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
	instances, err := simInstances(cmd.Flags())
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
func simInstances(f *pflag.FlagSet) ([]*sim.Instance, error) {
	path, _ := f.GetString("topology")
	if err := assets.Resolve(&path); err != nil {
		return nil, err
	}
	var instances []*sim.Instance
	if path == "" {
		listen, _ := f.GetString("listen")
		id, _ := f.GetUint64("device-id")
		instances = []*sim.Instance{{Name: "sim", Addr: listen, DeviceID: id, PortRates: map[uint32]float64{}}}
	} else {
		if f.Changed("listen") || f.Changed("device-id") {
			return nil, invalidInputf("--listen and --device-id come from the topology when -t is given")
		}
		t, err := topo.Load(path)
		if err != nil {
			return nil, invalidInput(err)
		}
		noRates, _ := f.GetBool("no-port-rates")
		for _, s := range t.Switches {
			if s.Target != topo.TargetSim {
				continue
			}
			in := &sim.Instance{Name: s.Name, Addr: s.Address, DeviceID: s.DeviceID, PortRates: map[uint32]float64{}}
			for _, e := range t.Edges(s.Name) {
				if !noRates {
					in.PortRates[e.FromPort] = e.Capacity
				}
			}
			instances = append(instances, in)
		}
		if len(instances) == 0 {
			return nil, invalidInputf("topology %s has no switch with target %q", path, topo.TargetSim)
		}
	}
	if err := simThriftAddrs(f, instances); err != nil {
		return nil, err
	}
	if err := simPortRates(f, instances); err != nil {
		return nil, err
	}
	return instances, simFlows(f, instances)
}

func simThriftAddrs(f *pflag.FlagSet, instances []*sim.Instance) error {
	addr, _ := f.GetString("thrift-listen")
	if addr == "" {
		return nil
	}
	host, port, err := net.SplitHostPort(addr)
	base, perr := strconv.ParseUint(port, 10, 16)
	if err != nil || perr != nil || base+uint64(len(instances)) > 65536 {
		return invalidInputf("--thrift-listen %q: want HOST:PORT with room for %d ports", addr, len(instances))
	}
	for i, in := range instances {
		p := base
		if base != 0 {
			p += uint64(i)
		}
		in.ThriftAddr = net.JoinHostPort(host, strconv.FormatUint(p, 10))
	}
	return nil
}

func simPortRates(f *pflag.FlagSet, instances []*sim.Instance) error {
	rates, _ := f.GetStringArray("port-rate")
	for _, kv := range rates {
		p, r, ok := strings.Cut(kv, "=")
		port, perr := strconv.ParseUint(p, 10, 9)
		bps, rerr := units.ParseBitrate(r)
		if ok && rerr != nil { // the units error carries a hint (10mbps, 10MB, ...)
			return invalidInputf("--port-rate %q: %w", kv, rerr)
		}
		if !ok || perr != nil || bps <= 0 {
			return invalidInputf("--port-rate %q: want PORT=RATE with a port 0..511 and a positive rate such as 10Mbps", kv)
		}
		for _, in := range instances {
			in.PortRates[uint32(port)] = bps
		}
	}
	return nil
}

// simFlows reads --flows and gives each flow to the sim it enters.
func simFlows(f *pflag.FlagSet, instances []*sim.Instance) error {
	path, _ := f.GetString("flows")
	if path == "" {
		return nil
	}
	data, err := inputfile.Read(path, inputfile.Flows)
	if err != nil {
		return invalidInput(err)
	}
	flows, err := sim.ParseFlowFile(path, data)
	if err == nil {
		err = sim.AssignFlows(path, flows, instances)
	}
	return invalidInput(err)
}

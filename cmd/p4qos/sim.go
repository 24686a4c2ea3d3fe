package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

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

// simInstance is one switch to serve.
type simInstance struct {
	name, addr, thrift string
	deviceID           uint64
	// portRate is the egress capacity per port, bits/s.
	portRate map[uint32]float64
	flows    []sim.Flow
}

func runSim(cmd *cobra.Command, e *env) error {
	v := newViper(cmd)
	log := e.logger(cmd)
	opts, err := simOptions(cmd.Flags())
	if err != nil {
		return err
	}
	tick := v.GetDuration("tick")
	if tick <= 0 {
		return invalidInputf("--tick must be positive, got %v", tick)
	}
	instances, err := simInstances(cmd.Flags())
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(cmd.Context())
	defer cancel()
	var wg sync.WaitGroup
	serveErr := make(chan error, 2*len(instances))
	serve := func(f func() error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f(); err != nil {
				serveErr <- err
				cancel()
			}
		}()
	}
	var switches []*sim.Switch
	for _, in := range instances {
		sw, err := startSim(ctx, e, in, append(opts, sim.WithLogger(log.With("switch", in.name))), serve)
		if err != nil {
			cancel()
			wg.Wait()
			return err
		}
		switches = append(switches, sw)
	}
	serve(func() error { advance(ctx, tick, switches); return nil })
	<-ctx.Done()
	wg.Wait()
	close(serveErr)
	var errs []error
	for err := range serveErr {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	log.Info("sim stopped")
	return nil
}

// simOptions are the options every instance shares.
func simOptions(f *pflag.FlagSet) ([]sim.Option, error) {
	var opts []sim.Option
	sizes, _ := f.GetStringArray("table-size")
	for _, kv := range sizes {
		name, n, ok := strings.Cut(kv, "=")
		size, err := strconv.Atoi(n)
		if !ok || name == "" || err != nil || size < 0 {
			return nil, invalidInputf("--table-size %q: want name=N with N >= 0", kv)
		}
		opts = append(opts, sim.WithTableSizeOverride(name, size))
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
func simInstances(f *pflag.FlagSet) ([]*simInstance, error) {
	path, _ := f.GetString("topology")
	var instances []*simInstance
	if path == "" {
		listen, _ := f.GetString("listen")
		id, _ := f.GetUint64("device-id")
		instances = []*simInstance{{name: "sim", addr: listen, deviceID: id, portRate: map[uint32]float64{}}}
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
			in := &simInstance{name: s.Name, addr: s.Address, deviceID: s.DeviceID, portRate: map[uint32]float64{}}
			for _, e := range t.Edges(s.Name) {
				if !noRates {
					in.portRate[e.FromPort] = e.Capacity
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

func simThriftAddrs(f *pflag.FlagSet, instances []*simInstance) error {
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
		in.thrift = net.JoinHostPort(host, strconv.FormatUint(p, 10))
	}
	return nil
}

func simPortRates(f *pflag.FlagSet, instances []*simInstance) error {
	rates, _ := f.GetStringArray("port-rate")
	for _, kv := range rates {
		p, r, ok := strings.Cut(kv, "=")
		port, perr := strconv.ParseUint(p, 10, 9)
		bps, rerr := units.ParseBitrate(r)
		if !ok || perr != nil || rerr != nil || bps <= 0 {
			return invalidInputf("--port-rate %q: want PORT=RATE with a port 0..511 and a positive rate such as 10Mbps", kv)
		}
		for _, in := range instances {
			in.portRate[uint32(port)] = bps
		}
	}
	return nil
}

// simFlows reads --flows and gives each flow to the sim it enters.
func simFlows(f *pflag.FlagSet, instances []*simInstance) error {
	path, _ := f.GetString("flows")
	if path == "" {
		return nil
	}
	data, err := inputfile.Read(path, inputfile.Flows)
	if err != nil {
		return invalidInput(err)
	}
	flows, err := sim.ParseFlowFile(path, data)
	if err != nil {
		return invalidInput(err)
	}
	byName := map[string]*simInstance{}
	for _, in := range instances {
		byName[in.name] = in
	}
	for i, ff := range flows {
		in := byName[ff.Switch]
		switch {
		case len(instances) == 1 && (ff.Switch == "" || instances[0].name == "sim"):
			in = instances[0] // one sim: the switch name is informational
		case ff.Switch == "":
			return invalidInputf("flows %s: flow %d (%s): switch is required when several sims run", path, i+1, ff.Flow.Name)
		case in == nil:
			return invalidInputf("flows %s: flow %d (%s): no sim switch %q", path, i+1, ff.Flow.Name, ff.Switch)
		}
		in.flows = append(in.flows, ff.Flow)
	}
	return nil
}

// startSim listens, prints the addresses, and serves one instance.
func startSim(ctx context.Context, e *env, in *simInstance, opts []sim.Option, serve func(func() error)) (*sim.Switch, error) {
	lis, err := net.Listen("tcp", in.addr)
	if err != nil {
		return nil, fmt.Errorf("sim %s: listen on %s: %w", in.name, in.addr, err)
	}
	opts = append(opts, sim.WithDeviceID(in.deviceID))
	for port, bps := range in.portRate {
		opts = append(opts, sim.WithPortRate(port, bps))
	}
	sw := sim.New(opts...)
	if err := sw.SetFlows(in.flows); err != nil {
		lis.Close()
		return nil, invalidInput(fmt.Errorf("sim %s: %w", in.name, err))
	}
	var tl net.Listener
	if in.thrift != "" {
		if tl, err = net.Listen("tcp", in.thrift); err != nil {
			lis.Close()
			return nil, fmt.Errorf("sim %s: thrift listen on %s: %w", in.name, in.thrift, err)
		}
		fmt.Fprintf(e.stdout, "sim %s: queue interface (thrift) on %s\n", in.name, tl.Addr())
		serve(func() error { return sw.ServeThrift(ctx, tl) })
	}
	fmt.Fprintf(e.stdout, "sim %s: device %d listening on %s\n", in.name, in.deviceID, lis.Addr())
	serve(func() error { return sw.Serve(ctx, lis) })
	return sw, nil
}

// advance steps every sim's traffic model by tick, every tick.
func advance(ctx context.Context, tick time.Duration, switches []*sim.Switch) {
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			for _, sw := range switches {
				sw.Advance(tick)
			}
		}
	}
}

package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"

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
each on its own address and device id. It runs until SIGINT or SIGTERM.
See docs/sim.md.`,
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
	return cmd
}

// simInstance is one switch to serve.
type simInstance struct {
	name     string
	addr     string
	deviceID uint64
	// portRate is the egress capacity per port, bits/s.
	portRate map[uint32]float64
}

func runSim(cmd *cobra.Command, e *env) error {
	v := newViper(cmd)
	log := e.logger(cmd)

	var opts []sim.Option
	for _, kv := range v.GetStringSlice("table-size") {
		name, n, ok := strings.Cut(kv, "=")
		size, err := strconv.Atoi(n)
		if !ok || name == "" || err != nil || size < 0 {
			return invalidInputf("--table-size %q: want name=N with N >= 0", kv)
		}
		opts = append(opts, sim.WithTableSizeOverride(name, size))
	}
	if v.GetBool("promote-on-disconnect") {
		opts = append(opts, sim.WithPromoteOnDisconnect())
	}
	tick := v.GetDuration("tick")
	if tick <= 0 {
		return invalidInputf("--tick must be positive, got %v", tick)
	}

	var instances []simInstance
	if path := v.GetString("topology"); path != "" {
		if cmd.Flags().Changed("listen") || cmd.Flags().Changed("device-id") {
			return invalidInputf("--listen and --device-id come from the topology when -t is given")
		}
		t, err := topo.Load(path)
		if err != nil {
			return invalidInput(err)
		}
		for _, s := range t.Switches {
			if s.Target != topo.TargetSim {
				continue
			}
			in := simInstance{name: s.Name, addr: s.Address, deviceID: s.DeviceID, portRate: map[uint32]float64{}}
			if !v.GetBool("no-port-rates") {
				for _, e := range t.Edges(s.Name) {
					in.portRate[e.FromPort] = e.Capacity
				}
			}
			instances = append(instances, in)
		}
		if len(instances) == 0 {
			return invalidInputf("topology %s has no switch with target %q", path, topo.TargetSim)
		}
	} else {
		instances = []simInstance{{name: "sim", addr: v.GetString("listen"), deviceID: v.GetUint64("device-id"), portRate: map[uint32]float64{}}}
	}
	for _, kv := range v.GetStringSlice("port-rate") {
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

	var flows map[string][]sim.Flow
	if path := v.GetString("flows"); path != "" {
		var err error
		if flows, err = loadSimFlows(path, instances); err != nil {
			return invalidInput(err)
		}
	}

	ctx, cancel := context.WithCancel(cmd.Context())
	defer cancel()
	var wg sync.WaitGroup
	serveErr := make(chan error, len(instances))
	var switches []*sim.Switch
	for _, in := range instances {
		lis, err := net.Listen("tcp", in.addr)
		if err != nil {
			cancel()
			wg.Wait()
			return fmt.Errorf("sim %s: listen on %s: %w", in.name, in.addr, err)
		}
		swOpts := append([]sim.Option{sim.WithDeviceID(in.deviceID), sim.WithLogger(log.With("switch", in.name))}, opts...)
		for port, bps := range in.portRate {
			swOpts = append(swOpts, sim.WithPortRate(port, bps))
		}
		sw := sim.New(swOpts...)
		if err := sw.SetFlows(flows[in.name]); err != nil {
			cancel()
			lis.Close()
			wg.Wait()
			return invalidInput(fmt.Errorf("sim %s: %w", in.name, err))
		}
		switches = append(switches, sw)
		fmt.Fprintf(e.stdout, "sim %s: device %d listening on %s\n", in.name, in.deviceID, lis.Addr())
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := sw.Serve(ctx, lis); err != nil {
				serveErr <- err
				cancel()
			}
		}()
	}

	if len(flows) > 0 {
		wg.Add(1)
		go func() {
			defer wg.Done()
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
		}()
	}

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

// simFlowFile is the --flows format.
type simFlowFile struct {
	Flows []simFlowSpec `yaml:"flows"`
}

type simFlowSpec struct {
	Name string `yaml:"name"`
	// Switch names the topology switch the flow enters; optional when a
	// single sim runs.
	Switch      string `yaml:"switch"`
	Src         string `yaml:"src"`
	Dst         string `yaml:"dst"`
	Proto       string `yaml:"proto"` // udp, tcp, icmp or a number
	SrcPort     uint16 `yaml:"sport"`
	DstPort     uint16 `yaml:"dport"`
	DSCP        uint8  `yaml:"dscp"`
	IngressPort uint32 `yaml:"ingress_port"`
	Rate        string `yaml:"rate"`        // e.g. 10Mbps
	PacketSize  string `yaml:"packet_size"` // e.g. 1500 or 1500B; default 1500
}

// loadSimFlows parses a flow file and assigns each flow to an instance.
func loadSimFlows(path string, instances []simInstance) (map[string][]sim.Flow, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("flows: %w", err)
	}
	var file simFlowFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&file); err != nil {
		return nil, fmt.Errorf("flows %s: %w", path, err)
	}
	known := map[string]bool{}
	for _, in := range instances {
		known[in.name] = true
	}
	out := map[string][]sim.Flow{}
	for i, spec := range file.Flows {
		where := fmt.Sprintf("flows %s: flow %d (%s)", path, i+1, spec.Name)
		f, err := spec.flow()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		target := spec.Switch
		switch {
		case target == "" && len(instances) == 1:
			target = instances[0].name
		case target == "":
			return nil, fmt.Errorf("%s: switch is required when several sims run", where)
		case !known[target]:
			if len(instances) == 1 && instances[0].name == "sim" {
				target = "sim" // without -t the switch name is informational
			} else {
				return nil, fmt.Errorf("%s: no sim switch %q", where, target)
			}
		}
		out[target] = append(out[target], f)
	}
	return out, nil
}

func (spec simFlowSpec) flow() (sim.Flow, error) {
	f := sim.Flow{Name: spec.Name, SrcPort: spec.SrcPort, DstPort: spec.DstPort, DSCP: spec.DSCP, IngressPort: spec.IngressPort}
	var err error
	if f.SrcIP, err = netip.ParseAddr(spec.Src); err != nil {
		return f, fmt.Errorf("src: %w", err)
	}
	if f.DstIP, err = netip.ParseAddr(spec.Dst); err != nil {
		return f, fmt.Errorf("dst: %w", err)
	}
	switch p := strings.ToLower(spec.Proto); p {
	case "udp", "":
		f.Proto = 17
	case "tcp":
		f.Proto = 6
	case "icmp":
		f.Proto = 1
	default:
		n, err := strconv.ParseUint(p, 10, 8)
		if err != nil {
			return f, fmt.Errorf("proto %q: want udp, tcp, icmp or 0..255", spec.Proto)
		}
		f.Proto = uint8(n)
	}
	if spec.Rate == "" {
		return f, errors.New("rate is required")
	}
	if f.RateBps, err = units.ParseBitrate(spec.Rate); err != nil {
		return f, fmt.Errorf("rate: %w", err)
	}
	if spec.PacketSize != "" {
		n, err := units.ParseBytes(spec.PacketSize)
		if err != nil {
			return f, fmt.Errorf("packet_size: %w", err)
		}
		if n == 0 || n > 65535 {
			return f, fmt.Errorf("packet_size %d: want 1..65535 bytes", n)
		}
		f.PacketSize = int(n)
	}
	return f, nil
}

package sim

import (
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"

	"github.com/p4qos/p4qos/internal/inputfile"
	"github.com/p4qos/p4qos/internal/units"
	"github.com/p4qos/p4qos/topo"
)

// FleetSpec is what `p4qos sim` is asked to serve, as given on its command
// line: one switch on Listen, or one per sim switch of a topology, with
// port rates, queue-interface addresses and flows. Instances turns it into
// the instances RunFleet serves.
type FleetSpec struct {
	// Listen and DeviceID are the single switch's (no Topology).
	Listen   string
	DeviceID uint64
	// ListenSet says Listen or DeviceID was given explicitly: an error
	// with a Topology, whose switches carry their own.
	ListenSet bool
	// Topology, when set, is a topology file: one instance per switch
	// whose target is sim, port rates from its link capacities unless
	// NoPortRates.
	Topology    string
	NoPortRates bool
	// ThriftListen serves the queue interface: the first instance on its
	// port, the next ones on the following ports (port 0: free ones).
	ThriftListen string
	// PortRates are PORT=RATE overrides for every instance (2=10Mbps).
	PortRates []string
	// Flows is a flow file (docs/sim.md) whose flows go to the instance
	// they enter.
	Flows string
	// Stdin is what a Topology or Flows of "-" reads (one of them only).
	Stdin io.Reader
}

// SpecError is every problem of a FleetSpec: the user's input.
type SpecError struct{ Err error }

func (e *SpecError) Error() string { return e.Err.Error() }
func (e *SpecError) Unwrap() error { return e.Err }

func specErrorf(format string, args ...any) error {
	return &SpecError{Err: fmt.Errorf(format, args...)}
}

// Instances lists the switches the spec asks for, with their port rates,
// queue-interface addresses and flows. Every error is a *SpecError.
func (s FleetSpec) Instances() ([]*Instance, error) {
	var instances []*Instance
	var t *topo.Topology
	if s.Topology == "" {
		instances = []*Instance{{Name: "sim", Addr: s.Listen, DeviceID: s.DeviceID, PortRates: map[uint32]float64{}}}
	} else {
		if s.ListenSet {
			return nil, specErrorf("--listen and --device-id come from the topology when -t is given")
		}
		if s.Topology == inputfile.Stdin && s.Flows == inputfile.Stdin {
			return nil, specErrorf("-t and --flows cannot both be - (standard input): give one of them as a file")
		}
		var err error
		if t, err = s.loadTopology(); err != nil {
			return nil, &SpecError{Err: err}
		}
		for _, sw := range t.Switches {
			if sw.Target != topo.TargetSim {
				continue
			}
			in := &Instance{Name: sw.Name, Addr: sw.Address, DeviceID: sw.DeviceID, PortRates: map[uint32]float64{}}
			for _, e := range t.Edges(sw.Name) {
				if !s.NoPortRates {
					in.PortRates[e.FromPort] = e.Capacity
				}
			}
			instances = append(instances, in)
		}
		cableLinks(t, instances)
		if len(instances) == 0 {
			return nil, specErrorf("topology %s has no switch with target %q", s.Topology, topo.TargetSim)
		}
	}
	if err := s.thriftAddrs(instances); err != nil {
		return nil, err
	}
	if err := s.portRates(instances); err != nil {
		return nil, err
	}
	return instances, s.flows(instances, t)
}

func (s FleetSpec) thriftAddrs(instances []*Instance) error {
	if s.ThriftListen == "" {
		return nil
	}
	host, port, err := net.SplitHostPort(s.ThriftListen)
	base, perr := strconv.ParseUint(port, 10, 16)
	if err != nil || perr != nil || base+uint64(len(instances)) > 65536 {
		return specErrorf("--thrift-listen %q: want HOST:PORT with room for %d ports", s.ThriftListen, len(instances))
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

func (s FleetSpec) portRates(instances []*Instance) error {
	for _, kv := range s.PortRates {
		p, r, ok := strings.Cut(kv, "=")
		port, perr := strconv.ParseUint(p, 10, 9)
		bps, rerr := units.ParseBitrate(r)
		if ok && rerr != nil { // the units error carries a hint (10mbps, 10MB, ...)
			return specErrorf("--port-rate %q: %w", kv, rerr)
		}
		if !ok || perr != nil || bps <= 0 {
			return specErrorf("--port-rate %q: want PORT=RATE with a port 0..511 and a positive rate such as 10Mbps", kv)
		}
		for _, in := range instances {
			in.PortRates[uint32(port)] = bps
		}
	}
	return nil
}

// flows reads the flow file and gives each flow to the sim it enters; t
// (nil without -t) resolves host names.
func (s FleetSpec) flows(instances []*Instance, t *topo.Topology) error {
	if s.Flows == "" {
		return nil
	}
	data, err := inputfile.ReadArg(s.Flows, s.Stdin, inputfile.Flows)
	if err == nil {
		name := s.Flows
		if name == inputfile.Stdin {
			name = "<stdin>"
		}
		var flows []FileFlow
		if flows, err = ParseFlowFile(name, data, t); err == nil {
			err = AssignFlows(name, flows, instances)
		}
	}
	if err != nil {
		return &SpecError{Err: err}
	}
	return nil
}

// loadTopology reads the topology file, or stdin for "-".
func (s FleetSpec) loadTopology() (*topo.Topology, error) {
	if s.Topology != inputfile.Stdin {
		return topo.Load(s.Topology)
	}
	data, err := inputfile.ReadArg(s.Topology, s.Stdin, inputfile.Topology)
	if err != nil {
		return nil, fmt.Errorf("read topology: %w", err)
	}
	return topo.Parse("<stdin>", data)
}

// cableLinks gives each instance the links of the topology whose both ends
// are served sim switches (RunFleet cables them), on the A end; a link the
// file marks down starts down.
func cableLinks(t *topo.Topology, instances []*Instance) {
	byName := map[string]*Instance{}
	for _, in := range instances {
		byName[in.Name] = in
	}
	for _, l := range t.Links {
		a, b := byName[l.A.Switch], byName[l.B.Switch]
		if a == nil || b == nil {
			continue
		}
		a.Cables = append(a.Cables, Cable{Port: l.A.Port, Peer: l.B.Switch, PeerPort: l.B.Port, Down: l.Down})
	}
}

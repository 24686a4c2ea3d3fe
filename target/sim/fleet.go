package sim

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/p4qos/p4qos/internal/yamlerr"
)

// Instance is one switch of a fleet that RunFleet serves.
type Instance struct {
	Name, Addr string
	DeviceID   uint64
	// ThriftAddr, when set, serves the queue interface (ServeThrift).
	ThriftAddr string
	// PortRates limit egress ports, bits/s.
	PortRates map[uint32]float64
	Flows     []Flow
	// Cables link this instance's ports to other instances' (packet-outs
	// cross them; Link.SetUp takes one down).
	Cables []Cable

	sw *Switch
}

// Cable is a link from one of an instance's ports to a port of another
// instance of the same fleet.
type Cable struct {
	Port     uint32
	Peer     string
	PeerPort uint32
	Down     bool // starts down
}

// Switch is the instance's switch once RunFleet started it (nil before).
func (in *Instance) Switch() *Switch { return in.sw }

// ErrFlows wraps a flow the traffic model refuses (invalid input).
var ErrFlows = errors.New("invalid flows")

// AssignFlows gives each flow of a flow file to the instance it enters. A
// single instance started without a topology (named "sim") takes every
// flow: the file's switch names are then informational.
func AssignFlows(path string, flows []FileFlow, instances []*Instance) error {
	byName := map[string]*Instance{}
	for _, in := range instances {
		byName[in.Name] = in
	}
	for i, ff := range flows {
		in := byName[ff.Switch]
		switch {
		case len(instances) == 1 && (ff.Switch == "" || instances[0].Name == "sim"):
			in = instances[0]
		case ff.Switch == "":
			return fmt.Errorf("flows %s: flow %d (%s): switch is required when several sims run", path, i+1, yamlerr.Quote(ff.Flow.Name))
		case in == nil:
			return fmt.Errorf("flows %s: flow %d (%s): no sim switch %s", path, i+1, yamlerr.Quote(ff.Flow.Name), yamlerr.Quote(ff.Switch))
		}
		in.Flows = append(in.Flows, ff.Flow)
	}
	return nil
}

// RunFleet serves every instance (P4Runtime, and the queue interface where
// asked) until ctx ends, advancing every traffic model by tick each tick of
// wall time. announce is told each address once it listens. A listener
// that cannot be opened stops everything and is returned; a flow the model
// refuses is wrapped in ErrFlows.
func RunFleet(ctx context.Context, instances []*Instance, tick time.Duration, opts []Option, announce func(in *Instance, what, addr string)) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	serve := func(f func() error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f(); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
				cancel()
			}
		}()
	}
	var switches []*Switch
	for _, in := range instances {
		sw, err := startInstance(ctx, in, opts, serve, announce)
		if err != nil {
			cancel()
			wg.Wait()
			return err
		}
		switches = append(switches, sw)
	}
	if err := cableFleet(instances); err != nil {
		cancel()
		wg.Wait()
		return err
	}
	serve(func() error { advanceEvery(ctx, tick, switches); return nil })
	<-ctx.Done()
	wg.Wait()
	return errors.Join(errs...)
}

func startInstance(ctx context.Context, in *Instance, opts []Option, serve func(func() error), announce func(*Instance, string, string)) (*Switch, error) {
	lis, err := net.Listen("tcp", in.Addr)
	if err != nil {
		return nil, fmt.Errorf("sim %s: listen on %s: %w", in.Name, in.Addr, err)
	}
	opts = append(append([]Option{}, opts...), WithDeviceID(in.DeviceID))
	for port, bps := range in.PortRates {
		opts = append(opts, WithPortRate(port, bps))
	}
	sw := New(opts...)
	in.sw = sw
	if err := sw.SetFlows(in.Flows); err != nil {
		lis.Close()
		return nil, fmt.Errorf("%w: sim %s: %w", ErrFlows, in.Name, err)
	}
	if in.ThriftAddr != "" {
		tl, err := net.Listen("tcp", in.ThriftAddr)
		if err != nil {
			lis.Close()
			return nil, fmt.Errorf("sim %s: thrift listen on %s: %w", in.Name, in.ThriftAddr, err)
		}
		announce(in, "queue interface (thrift) on", tl.Addr().String())
		serve(func() error { return sw.ServeThrift(ctx, tl) })
	}
	announce(in, fmt.Sprintf("device %d listening on", in.DeviceID), lis.Addr().String())
	serve(func() error { return sw.Serve(ctx, lis) })
	return sw, nil
}

func advanceEvery(ctx context.Context, tick time.Duration, switches []*Switch) {
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

// cableFleet connects the instances' cables.
func cableFleet(instances []*Instance) error {
	byName := map[string]*Instance{}
	for _, in := range instances {
		byName[in.Name] = in
	}
	for _, in := range instances {
		for _, c := range in.Cables {
			peer := byName[c.Peer]
			if peer == nil {
				return fmt.Errorf("sim %s: port %d is cabled to %s, which is not in the fleet", in.Name, c.Port, yamlerr.Quote(c.Peer))
			}
			Connect(in.sw, c.Port, peer.sw, c.PeerPort).SetUp(!c.Down)
		}
	}
	return nil
}

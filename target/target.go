// Package target defines what the controller needs to know about a kind of
// switch: how its pipeline is packed, which P4Info it runs, how it reads
// state back differently from how it was written, and how its queues are
// configured outside P4Runtime. One package per target implements it:
// target/bmv2 (simple_switch_grpc), target/tofino and target/sim (the
// embedded switch).
//
// The generic P4Runtime code (controlplane) knows none of this; the
// controller hands each switch's driver to it.
package target

import (
	"context"
	"net"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"

	"github.com/p4qos/p4qos/compiler/contract"
	"github.com/p4qos/p4qos/tables"
)

// Driver is one target's behaviour.
type Driver interface {
	// Name is "bmv2", "tofino" or "sim".
	Name() string
	// Schema is the P4Info the target runs.
	Schema() *tables.Schema
	// Names maps the pipeline contract's names (compiler/contract) to
	// this target's P4Info names where they differ; nil when none do.
	Names() contract.Names
	// ECNDepth is the ecn_threshold value (the unit of the queue depth
	// the pipeline compares) for a depth of the given number of packets.
	ECNDepth(packets uint32) uint64
	// DeviceConfig is the p4_device_config of ForwardingPipelineConfig.
	DeviceConfig() ([]byte, error)
	// SameMeter reports whether a meter config read back from the switch
	// is the one written, up to the target's rounding: a target that
	// rounds must not see its own rounding as drift.
	SameMeter(read, written *p4v1.MeterConfig) bool
	// Queues returns the queue configurator of one switch, or nil when the
	// target (or this switch's config) offers none.
	Queues(sw Switch) QueueConfigurator
}

// Switch is what a driver needs to know of one switch.
type Switch struct {
	Name     string
	Address  string // P4Runtime host:port
	DeviceID uint64
	// QueueAddress is where the target's queue interface listens (BMv2's
	// thrift server); empty means the target's default for Address.
	QueueAddress string
	// Dial, when set, opens the connections to the switch's side
	// interfaces (tests reach switches inside a network namespace this
	// way); nil dials TCP.
	Dial func(ctx context.Context, addr string) (net.Conn, error)
}

// QueueSetting is the intended rate and depth of one egress queue.
type QueueSetting struct {
	Port  uint32
	Queue uint8
	Rate  float64 // bits/s; 0 = not limited
	Depth uint32  // packets; 0 = the target's default
}

// QueueStats reports one application of queue settings.
type QueueStats struct {
	// Written counts queue parameters set on the switch.
	Written int
	// Drift counts parameters that the switch reported differently from
	// what was last applied (only targets that can read queues back).
	Drift int
}

// QueueConfigurator sets a switch's queues.
type QueueConfigurator interface {
	// Apply makes the switch's queues hold qs. A queue that an earlier
	// Apply set and qs no longer lists goes back to the target's default.
	// Targets that cannot read queues back write every setting each time
	// (the switch may have restarted and lost them).
	Apply(ctx context.Context, qs []QueueSetting) (QueueStats, error)
}

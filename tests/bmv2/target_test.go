package bmv2

import (
	"context"
	"net"
	"testing"

	"google.golang.org/grpc"

	"github.com/p4qos/p4qos/compiler/contract"
	"github.com/p4qos/p4qos/tables"
	"github.com/p4qos/p4qos/target/tofino"
	"github.com/p4qos/p4qos/tests/internal/bmv2env"
	"github.com/p4qos/p4qos/tests/internal/tofinomodel"
)

// dut is the switch of a bed, whichever target runs it: the packet tests
// only send and capture on its ports and talk P4Runtime to it.
type dut interface {
	Port(p int) *bmv2env.PacketSocket
	Alive() bool
	Log() string
	Conn(t testing.TB) *grpc.ClientConn
	// Addr is the P4Runtime address, reachable through Dial.
	Addr() string
	Dial(ctx context.Context, addr string) (net.Conn, error)
}

// target is a switch the packet tests run on: BMv2 (simple_switch_grpc, the
// v1model program) or the Tofino model (tofino-model and bf_switchd, the TNA
// program compiled for Tofino 1). Both programs use the contract's names
// and the same port numbers (tofinomodel maps device port p to veth pair
// p), so one test body drives either.
type target struct {
	name     string
	deviceID uint64
	p4info   string
	names    contract.Names
	// start skips the test when the target is not installed, starts it
	// with ports 1..nPorts, and loads the program if that must happen
	// before the bed arbitrates (load is then nil).
	start func(t *testing.T, nPorts int, schema *tables.Schema) (dut, *bmv2env.Switch)
	// load loads the program once the bed is primary.
	load func(b *bed)
	// meterSlack is how many frames per color the trTCM test allows
	// beyond its timing tolerance, and meterWhy says why (TestMeterColorShares).
	meterSlack int
	meterWhy   string
}

var targets = []target{
	{
		name: "bmv2", deviceID: deviceID, p4info: bmv2env.QosP4Info,
		start: func(t *testing.T, nPorts int, _ *tables.Schema) (dut, *bmv2env.Switch) {
			bmv2env.RequireNetnsSwitch(t)
			bmv2env.RequireQosPipeline(t)
			sw := bmv2env.Start(t, bmv2env.WithPorts(nPorts), bmv2env.WithPriorityQueues(8), bmv2env.WithDeviceID(deviceID),
				bmv2env.WithCPUPort(contract.CPUPortBMv2))
			return sw, sw
		},
		load:     (*bed).loadPipeline,
		meterWhy: "BMv2 meters the whole frame in bytes with exact rates",
	},
	{
		name: "tofino-model", deviceID: tofinomodel.DeviceID, p4info: tofinomodel.P4Info, names: tofino.Names(),
		start: func(t *testing.T, nPorts int, schema *tables.Schema) (dut, *bmv2env.Switch) {
			tofinomodel.Require(t)
			tofinomodel.RequirePipeline(t)
			sw := tofinomodel.Start(t, tofinomodel.WithPorts(nPorts))
			sw.Push(t, schema)
			return sw, nil
		},
		// PI hands the driver kbit/s and kbit, truncating (bf-drivers
		// src/pi/pi_resource_specs.c); the test's rates and bursts are
		// multiples of 125 B, so that loses nothing. Then Tofino's meter
		// arithmetic (bf-drivers pipe_mgr_meter_drv_workflows.c)
		// truncates each rate to a 9-bit mantissa times a power of two: at
		// most 1/256 below the configured rate, which over the 4 s stream
		// is 125 000·4/256/500 ≈ 4 green and 187 500·4/256/500 ≈ 6
		// green+yellow frames. Bursts get an 8-bit mantissa: 5 000 B
		// becomes 4 992 and 10 000 B 9 984, under one frame. And the byte
		// count a Tofino meter sees may include the 4-byte Ethernet FCS,
		// which a veth frame lacks: metering 504 B per frame instead of 500
		// lowers green by 504 750·(1/500−1/504) ≈ 8 and green+yellow by
		// 759 625·(1/500−1/504) ≈ 12 frames. Together green may lose 12,
		// green+yellow 18, so yellow moves by at most 18 and red gains at
		// most 18 frames: 18 frames of slack per color.
		meterSlack: 18,
		meterWhy:   "Tofino truncates meter rates to 9-bit and bursts to 8-bit mantissas and may count the 4-byte FCS",
	},
}

// forTargets runs f as a subtest on each target; a target that is not
// installed skips its subtest, saying why.
func forTargets(t *testing.T, f func(t *testing.T, tg target)) {
	for _, tg := range targets {
		t.Run(tg.name, func(t *testing.T) { f(t, tg) })
	}
}

// skipOn skips the test on the named target, saying why it cannot run
// there.
func skipOn(t *testing.T, tg target, name, why string) {
	t.Helper()
	if tg.name == name {
		t.Skipf("not on %s: %s", name, why)
	}
}

// The Tofino driver has no queue configurator (target/tofino, Queues is
// nil): rates, priorities and depths of the traffic manager's queues are
// set through BF-RT (tf1.tm.queue.*), which p4qos does not drive. The
// tests that need a backlog therefore run on BMv2 only.
const noTofinoQueues = "needs per-queue shaping and strict priority set on the traffic manager, which p4qos cannot configure on Tofino (no BF-RT tm.queue driver, docs/targets.md)"

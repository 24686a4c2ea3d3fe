// Package bmv2 is the driver of BMv2's simple_switch_grpc: its device
// config is the BMv2 JSON, it reads meter rates back one unit low at times,
// and its queues are set through its thrift runtime interface.
package bmv2

import (
	"errors"
	"net"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"

	"github.com/p4qos/p4qos/compiler/contract"
	"github.com/p4qos/p4qos/tables"
	"github.com/p4qos/p4qos/target"
)

// DefaultThriftPort is where simple_switch serves its runtime interface
// unless started with --thrift-port.
const DefaultThriftPort = "9090"

// Driver is the BMv2 target.
type Driver struct {
	schema *tables.Schema
	json   []byte
}

// New returns the driver for a pipeline: the P4Info it runs and the BMv2
// JSON p4c-bm2-ss produced from the same program.
func New(schema *tables.Schema, json []byte) (*Driver, error) {
	if schema == nil {
		return nil, errors.New("bmv2: no P4Info")
	}
	if len(json) == 0 {
		return nil, errors.New("bmv2: empty BMv2 JSON")
	}
	return &Driver{schema: schema, json: json}, nil
}

// Name implements target.Driver.
func (*Driver) Name() string { return "bmv2" }

// Schema implements target.Driver.
func (d *Driver) Schema() *tables.Schema { return d.schema }

// Names is nil: p4c-bm2-ss's P4Info uses the contract's names
// (tests/p4compile).
func (*Driver) Names() contract.Names { return nil }

// ECNDepth is the packet count: simple_switch's enq_qdepth counts packets.
func (*Driver) ECNDepth(packets uint32) uint64 { return uint64(packets) }

// DeviceConfig is the BMv2 JSON, byte for byte.
func (d *Driver) DeviceConfig() ([]byte, error) { return d.json, nil }

// SameMeter allows rates one unit apart. BMv2 keeps rates as units per
// microsecond in a double; PI converts with r/1e6 on write and truncates
// uint64(x*1e6) on read (PI targets/bmv2 convert_from_meter_spec and
// convert_to_meter_spec), so a rate can come back one unit low: 29 of 640
// rates did on BMv2 1.15.5 (tests/bmv2ctl pins two of them). Bursts are
// stored exactly and must match.
func (*Driver) SameMeter(read, written *p4v1.MeterConfig) bool {
	near := func(a, b int64) bool { return a == b || a == b-1 || a == b+1 }
	return near(read.GetCir(), written.GetCir()) && near(read.GetPir(), written.GetPir()) &&
		read.GetCburst() == written.GetCburst() && read.GetPburst() == written.GetPburst() &&
		read.GetEburst() == written.GetEburst()
}

// Queues sets queues over thrift at sw.QueueAddress, by default port 9090
// of the P4Runtime address's host. BMv2 cannot read queue settings back, so
// every reconcile writes them all.
func (*Driver) Queues(sw target.Switch) target.QueueConfigurator {
	addr := sw.QueueAddress
	if addr == "" {
		host, _, err := net.SplitHostPort(sw.Address)
		if err != nil {
			return nil
		}
		addr = net.JoinHostPort(host, DefaultThriftPort)
	}
	return &target.ThriftQueues{Addr: addr, Dial: sw.Dial}
}

var _ target.Driver = (*Driver)(nil)

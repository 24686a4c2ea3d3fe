package sim

import (
	"errors"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/protobuf/proto"

	"github.com/p4qos/p4qos/compiler/contract"
	"github.com/p4qos/p4qos/tables"
	"github.com/p4qos/p4qos/target"
)

// Driver is the controller's view of the embedded switch as a target: it
// needs the P4Info only, stores meter configs exactly, and serves the
// simple_switch queue calls (plus read-back) on its thrift address when
// started with one, so queue drift is detected rather than assumed.
type Driver struct{ schema *tables.Schema }

// NewDriver returns the sim driver for a P4Info.
func NewDriver(schema *tables.Schema) (*Driver, error) {
	if schema == nil {
		return nil, errors.New("sim: no P4Info")
	}
	return &Driver{schema: schema}, nil
}

// Name implements target.Driver.
func (*Driver) Name() string { return "sim" }

// Schema implements target.Driver.
func (d *Driver) Schema() *tables.Schema { return d.schema }

// Names is nil: the sim runs the BMv2 P4Info, whose names are the
// contract's.
func (*Driver) Names() contract.Names { return nil }

// ECNDepth is the packet count, as on BMv2 (the sim's queues count packets).
func (*Driver) ECNDepth(packets uint32) uint64 { return uint64(packets) }

// DeviceConfig is empty: the sim builds its pipeline from the P4Info.
func (*Driver) DeviceConfig() ([]byte, error) { return nil, nil }

// SameMeter compares exactly: the sim keeps what it is given.
func (*Driver) SameMeter(read, written *p4v1.MeterConfig) bool { return proto.Equal(read, written) }

// Queues talks to the sim's thrift address when the switch has one (there
// is no default port: `p4qos sim --thrift-listen` opens it).
func (*Driver) Queues(sw target.Switch) target.QueueConfigurator {
	if sw.QueueAddress == "" {
		return nil
	}
	return &target.ThriftQueues{Addr: sw.QueueAddress, ReadBack: true, Dial: sw.Dial}
}

var _ target.Driver = (*Driver)(nil)

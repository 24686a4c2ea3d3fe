// Package tofino is the driver of Intel Tofino switches (Tofino 1 and 2)
// running the TNA program: the device config packs tofino.bin and
// context.json, and queues belong to the traffic manager, which P4Runtime
// does not reach (docs/targets.md).
package tofino

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/protobuf/proto"

	"github.com/p4qos/p4qos/tables"
	"github.com/p4qos/p4qos/target"
)

// Driver is the Tofino target.
type Driver struct {
	schema          *tables.Schema
	program         string
	binary, context []byte
}

// New returns the driver for the TNA pipeline: its P4Info, the P4 program
// name, and bf-p4c's tofino.bin and context.json.
func New(schema *tables.Schema, program string, bin, context []byte) (*Driver, error) {
	if schema == nil {
		return nil, errors.New("tofino: no P4Info")
	}
	if program == "" || len(bin) == 0 || len(context) == 0 {
		return nil, errors.New("tofino: program name, tofino.bin and context.json are all required")
	}
	return &Driver{schema: schema, program: program, binary: bin, context: context}, nil
}

// Name implements target.Driver.
func (*Driver) Name() string { return "tofino" }

// Schema implements target.Driver.
func (d *Driver) Schema() *tables.Schema { return d.schema }

// DeviceConfig packs the device config as Pack does.
func (d *Driver) DeviceConfig() ([]byte, error) { return Pack(d.program, d.binary, d.context) }

// SameMeter compares exactly. Tofino rounds meter rates and bursts to its
// mantissa/exponent encoding, but how it reports them back has not been
// measured on a Tofino (model or chip) here; until it is, a rounded read
// counts as drift and is rewritten, which is safe but noisy.
func (*Driver) SameMeter(read, written *p4v1.MeterConfig) bool { return proto.Equal(read, written) }

// Queues is nil: the traffic manager's queues are configured through BF-RT
// (tf1.tm.queue.*) or Stratum's chassis config, not by this controller yet.
func (*Driver) Queues(target.Switch) target.QueueConfigurator { return nil }

var _ target.Driver = (*Driver)(nil)

// Pack builds the PI / stratum_bf Tofino device config: three fields, each
// a 4-byte little-endian length followed by that many bytes — the program
// name, then tofino.bin, then context.json. Reference: p4lang/p4runtime-shell
// config_builders/tofino.py (struct.pack("<i", len) before each field, in
// that order), and stratum's hal/bin/barefoot/README.pipeline.md, which
// documents this "older binary packing used by PI". stratum_bfrt instead
// wants its BfPipelineConfig protobuf; that packing is not implemented here.
func Pack(programName string, bin, context []byte) ([]byte, error) {
	fields := [][]byte{[]byte(programName), bin, context}
	n := 0
	for _, f := range fields {
		if len(f) > math.MaxInt32 {
			return nil, fmt.Errorf("tofino: field of %d bytes exceeds the 32-bit length prefix", len(f))
		}
		n += 4 + len(f)
	}
	out := make([]byte, 0, n)
	for _, f := range fields {
		out = binary.LittleEndian.AppendUint32(out, uint32(len(f)))
		out = append(out, f...)
	}
	return out, nil
}

// Unpack is the inverse of Pack; it rejects truncated input and
// trailing bytes.
func Unpack(b []byte) (programName string, bin, context []byte, err error) {
	var fields [3][]byte
	for i := range fields {
		if len(b) < 4 {
			return "", nil, nil, fmt.Errorf("tofino device config: truncated length of field %d", i)
		}
		n := binary.LittleEndian.Uint32(b)
		b = b[4:]
		if uint64(n) > uint64(len(b)) {
			return "", nil, nil, fmt.Errorf("tofino device config: field %d claims %d bytes, %d left", i, n, len(b))
		}
		fields[i], b = b[:n], b[n:]
	}
	if len(b) != 0 {
		return "", nil, nil, fmt.Errorf("tofino device config: %d trailing bytes", len(b))
	}
	return string(fields[0]), fields[1], fields[2], nil
}

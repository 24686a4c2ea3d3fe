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

	"github.com/p4qos/p4qos/compiler/contract"
	"github.com/p4qos/p4qos/tables"
	"github.com/p4qos/p4qos/target"
)

// Format is how the device config is packed.
type Format string

// Device config formats.
const (
	// FormatPI is the PI / stratum_bf packing (Pack).
	FormatPI Format = "pi"
	// FormatStratumBfrt is stratum_bfrt's BfPipelineConfig protobuf
	// (StratumConfig), which also carries bf-rt.json.
	FormatStratumBfrt Format = "stratum-bfrt"
	// FormatPIBfrt is the PI packing followed by the pipeline name and
	// bf-rt.json (PackPipeline), what open-p4studio's bf_switchd
	// --p4rt-server reads.
	FormatPIBfrt Format = "pi-bfrt"
)

// PipelineName is the name bf-p4c gives the one pipeline of a program
// without explicit pipes (the "pipe" directory of its output).
const PipelineName = "pipe"

// AllPipes is the pipe scope of a profile that runs on every pipe of a
// four-pipe Tofino (bf-p4c's default, in its .conf file).
var AllPipes = []uint32{0, 1, 2, 3}

// Driver is the Tofino target.
type Driver struct {
	schema          *tables.Schema
	program         string
	binary, context []byte
	format          Format
	bfrt            []byte
	ctx             *Context
}

// Option configures a Driver.
type Option func(*Driver)

// WithStratumBfrt packs the device config for stratum_bfrt, with bf-p4c's
// bf-rt.json.
func WithStratumBfrt(bfrt []byte) Option {
	return func(d *Driver) { d.format, d.bfrt = FormatStratumBfrt, bfrt }
}

// WithPIBfrt packs the device config for open-p4studio's bf_switchd
// P4Runtime server (PackPipeline), with bf-p4c's bf-rt.json.
func WithPIBfrt(bfrt []byte) Option {
	return func(d *Driver) { d.format, d.bfrt = FormatPIBfrt, bfrt }
}

// New returns the driver for the TNA pipeline: its P4Info, the P4 program
// name, and bf-p4c's tofino.bin and context.json. The device config is
// packed for PI / stratum_bf unless an option says otherwise. context.json
// must agree with the P4Info on the selectors' maximum group size and the
// meters' units (Context).
func New(schema *tables.Schema, program string, bin, context []byte, opts ...Option) (*Driver, error) {
	if schema == nil {
		return nil, errors.New("tofino: no P4Info")
	}
	if program == "" || len(bin) == 0 || len(context) == 0 {
		return nil, errors.New("tofino: program name, tofino.bin and context.json are all required")
	}
	ctx, err := ParseContext(context)
	if err != nil {
		return nil, err
	}
	if err := ctx.check(schema); err != nil {
		return nil, err
	}
	d := &Driver{schema: schema, program: program, binary: bin, context: context, format: FormatPI, ctx: ctx}
	for _, o := range opts {
		o(d)
	}
	if (d.format == FormatStratumBfrt || d.format == FormatPIBfrt) && len(d.bfrt) == 0 {
		return nil, fmt.Errorf("tofino: the %s packing needs bf-rt.json", d.format)
	}
	return d, nil
}

// names are the contract names bf-p4c's P4Info spells differently. With
// --p4runtime-force-std-externs the P4Info has one action profile, with
// with_selector set, named after the TNA ActionProfile instance that the
// ActionSelector wraps (p4src/tna/qos.p4: `ActionProfile(ECMP_MEMBERS)
// ecmp_profile` and `ActionSelector(ecmp_profile, ...) ecmp_selector`); the selector
// itself has no P4Info object. tests/p4compile resolves every contract name
// through these in the committed Tofino 1 and 2 P4Infos.
var names = contract.Names{contract.ECMPSelector: "ecmp_profile"}

// Names returns the Tofino P4Info names that differ from the contract's
// (a copy: callers may not change the driver's).
func Names() contract.Names {
	out := make(contract.Names, len(names))
	for k, v := range names {
		out[k] = v
	}
	return out
}

// Names implements target.Driver.
func (*Driver) Names() contract.Names { return Names() }

// ECNDepth converts packets to buffer cells of the P4Info's chip (ECNDepth
// of the package): eg_intr_md.enq_qdepth, which the pipeline compares with
// the threshold, counts cells.
func (d *Driver) ECNDepth(packets uint32) uint64 { return ECNDepth(ChipOf(d.schema), packets) }

// Context is what the driver read from context.json.
func (d *Driver) Context() *Context { return d.ctx }

// Format says how DeviceConfig packs.
func (d *Driver) Format() Format { return d.format }

// Name implements target.Driver.
func (*Driver) Name() string { return "tofino" }

// Schema implements target.Driver.
func (d *Driver) Schema() *tables.Schema { return d.schema }

// DeviceConfig packs the device config in the driver's format.
func (d *Driver) DeviceConfig() ([]byte, error) {
	if d.format == FormatStratumBfrt {
		c := &StratumConfig{P4Name: d.program, BfRuntimeInfo: d.bfrt, Profiles: []Profile{
			{Name: "pipe", Context: d.context, Binary: d.binary, PipeScope: AllPipes},
		}}
		return c.Marshal(), nil
	}
	if d.format == FormatPIBfrt {
		return PackPipeline(d.program, d.binary, d.context, PipelineName, d.bfrt)
	}
	return Pack(d.program, d.binary, d.context)
}

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
	return packFields([]byte(programName), bin, context)
}

// PackPipeline is Pack followed by two more length-prefixed fields, the
// pipeline name and bf-rt.json: the device config of the P4Runtime server
// of open-p4studio's bf_switchd (9.13.4, bf-drivers src/pi/pi_imp.c,
// _pi_update_device_start). That server reads the fourth length
// unconditionally, without looking at the config's size, and a non-zero
// one names the pipeline whose bf-rt.json follows; given Pack's three
// fields it reads four bytes past the end. The names are at most 100
// bytes there (_PI_UPDATE_MAX_NAME_SIZE), so longer ones are refused
// here rather than by the switch.
func PackPipeline(programName string, bin, context []byte, pipeline string, bfrt []byte) ([]byte, error) {
	const maxName = 100
	if len(programName) > maxName || len(pipeline) > maxName {
		return nil, fmt.Errorf("tofino: program and pipeline names must be at most %d bytes", maxName)
	}
	if pipeline == "" {
		return nil, errors.New("tofino: PackPipeline needs a pipeline name")
	}
	return packFields([]byte(programName), bin, context, []byte(pipeline), bfrt)
}

// packFields writes each field as a 4-byte little-endian length and its
// bytes.
func packFields(fields ...[]byte) ([]byte, error) {
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

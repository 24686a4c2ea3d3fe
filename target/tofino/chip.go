package tofino

import (
	"fmt"
	"path"
)

// Chip is a Tofino generation, spelled as bf-p4c's --target.
type Chip string

// The chips the TNA program is compiled for (make p4).
const (
	Tofino1 Chip = "tofino"  // --target tofino --arch tna
	Tofino2 Chip = "tofino2" // --target tofino2 --arch t2na
)

// Chips lists the chips with committed compiler outputs.
var Chips = []Chip{Tofino1, Tofino2}

// Files are the repository paths of one chip's committed bf-p4c outputs
// (p4src/build/CHIP/, written by make p4; the p4qos binary embeds them).
type Files struct {
	P4Info  string // qos.p4info.txtpb, --p4runtime-force-std-externs
	Binary  string // tofino.bin or tofino2.bin
	Context string // context.json
	BfRt    string // bf-rt.json, for the stratum-bfrt packing
}

// Program is the P4 program name the committed outputs were compiled
// from (p4src/tna/qos.p4), which the device config carries.
const Program = "qos"

// CommittedFiles returns the paths of chip's committed outputs.
func CommittedFiles(chip Chip) (Files, error) {
	switch chip {
	case Tofino1, Tofino2:
	default:
		return Files{}, fmt.Errorf("unknown Tofino chip %q (tofino or tofino2)", string(chip))
	}
	dir := path.Join("p4src", "build", string(chip))
	return Files{
		P4Info:  path.Join(dir, "qos.p4info.txtpb"),
		Binary:  path.Join(dir, string(chip)+".bin"),
		Context: path.Join(dir, "context.json"),
		BfRt:    path.Join(dir, "bf-rt.json"),
	}, nil
}

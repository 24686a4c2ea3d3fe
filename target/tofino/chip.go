package tofino

import (
	"fmt"
	"path"

	"github.com/p4qos/p4qos/tables"
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

// Cell sizes of the traffic manager's buffer, in bytes: open-p4studio
// bf-drivers src/traffic_mgr/init/tm_tofino.h (BF_TM_TOFINO_CELL_SIZE 80)
// and tm_tof2.h (BF_TM_TOF2_CELL_SIZE 176). Queue depths (enq_qdepth) count
// these cells.
var cellBytes = map[Chip]uint64{Tofino1: 80, Tofino2: 176}

// ECNPacketBytes is the packet size the ECN threshold conversion assumes:
// a full 1500-byte Ethernet payload, so that a threshold of N packets marks
// at the depth N such packets fill. Smaller packets take fewer cells, so
// marking starts after more of them.
const ECNPacketBytes = 1500

// ECNDepth converts a depth in packets to cells of chip's buffer:
// packets × ⌈ECNPacketBytes / cell size⌉ (19 cells on Tofino 1, 9 on
// Tofino 2).
func ECNDepth(chip Chip, packets uint32) uint64 {
	cell := cellBytes[chip]
	if cell == 0 {
		cell = cellBytes[Tofino1]
	}
	return uint64(packets) * ((ECNPacketBytes + cell - 1) / cell)
}

// ChipOf is the chip a P4Info was compiled for, from its architecture
// (pkg_info.arch: tna for Tofino 1, t2na for Tofino 2; anything else is
// taken as Tofino 1).
func ChipOf(s *tables.Schema) Chip {
	if s.P4Info().GetPkgInfo().GetArch() == "t2na" {
		return Tofino2
	}
	return Tofino1
}

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

// Package targets knows, for each target p4qos compiles for, which
// committed P4Info describes its pipeline and which names its driver
// changes, so that commands can compile for a target without a switch or a
// driver (whose device config needs the compiler's binaries).
package targets

import (
	"fmt"
	"strings"

	"github.com/p4qos/p4qos/compiler/contract"
	"github.com/p4qos/p4qos/target/tofino"
)

// BMv2P4Info is the committed P4Info of the v1model program (BMv2 and the
// embedded sim run it).
const BMv2P4Info = "p4src/build/qos.p4info.txtpb"

// BMv2JSON is the committed BMv2 JSON of the v1model program.
const BMv2JSON = "p4src/build/qos.json"

// Names lists the targets: bmv2, sim, tofino, tofino2.
var Names = []string{"bmv2", "sim", string(tofino.Tofino1), string(tofino.Tofino2)}

// Pipeline is what compiling for a target needs.
type Pipeline struct {
	// P4Info is the repository path of the target's committed P4Info
	// (internal/assets serves the binary's copy outside the repository).
	P4Info string
	// Names are the target's P4Info names that differ from the contract.
	Names contract.Names
	// ECNDepth converts a queue depth in packets to the target's unit.
	ECNDepth func(packets uint32) uint64
}

// Committed returns the committed pipeline of a target.
func Committed(target string) (Pipeline, error) {
	switch target {
	case "bmv2", "sim":
		return Pipeline{P4Info: BMv2P4Info, ECNDepth: func(p uint32) uint64 { return uint64(p) }}, nil
	case string(tofino.Tofino1), string(tofino.Tofino2):
		f, err := tofino.CommittedFiles(tofino.Chip(target))
		if err != nil {
			return Pipeline{}, err
		}
		chip := tofino.Chip(target)
		return Pipeline{P4Info: f.P4Info, Names: tofino.Names(), ECNDepth: func(p uint32) uint64 { return tofino.ECNDepth(chip, p) }}, nil
	}
	return Pipeline{}, fmt.Errorf("unknown target %q (%s)", target, strings.Join(Names, ", "))
}

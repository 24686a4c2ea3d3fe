package sim

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/p4qos/p4qos/internal/units"
	"github.com/p4qos/p4qos/internal/yamlerr"
)

// FileFlow is one flow of a flow file (docs/sim.md, `p4qos sim --flows`)
// with the switch it enters ("" when the file does not say).
type FileFlow struct {
	Switch string
	Flow   Flow
}

type flowFile struct {
	Flows []flowSpec `yaml:"flows"`
}

type flowSpec struct {
	Name        string `yaml:"name"`
	Switch      string `yaml:"switch"`
	Src         string `yaml:"src"`
	Dst         string `yaml:"dst"`
	Proto       string `yaml:"proto"` // udp, tcp, icmp or a number
	SrcPort     uint16 `yaml:"sport"`
	DstPort     uint16 `yaml:"dport"`
	DSCP        uint8  `yaml:"dscp"`
	IngressPort uint32 `yaml:"ingress_port"`
	Rate        string `yaml:"rate"`        // e.g. 10Mbps
	PacketSize  string `yaml:"packet_size"` // e.g. 1500 or 1500B; default 1500
}

// ParseFlowFile parses a flow file. Every problem is reported with its
// position (file:line:col: path: message), as for policies, at most
// yamlerr.MaxErrors of them: a hostile file cannot flood the terminal.
func ParseFlowFile(path string, data []byte) ([]FileFlow, error) {
	doc, err := yamlerr.Parse(path, data)
	if err != nil {
		return nil, err
	}
	var file flowFile
	errs := doc.Decode(&file)
	out := make([]FileFlow, 0, len(file.Flows))
	for i, spec := range file.Flows {
		f, err := spec.flow()
		if err != nil {
			if len(errs) <= yamlerr.MaxErrors {
				errs.Add(doc.Errorf(yamlerr.Index("flows", i), "flow %s: %v", yamlerr.Quote(spec.Name), err))
			}
			continue
		}
		out = append(out, FileFlow{Switch: spec.Switch, Flow: f})
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

func (spec flowSpec) flow() (Flow, error) {
	f := Flow{Name: spec.Name, SrcPort: spec.SrcPort, DstPort: spec.DstPort, DSCP: spec.DSCP, IngressPort: spec.IngressPort}
	var err error
	if f.SrcIP, err = netip.ParseAddr(spec.Src); err != nil {
		return f, fmt.Errorf("src: %w", err)
	}
	if f.DstIP, err = netip.ParseAddr(spec.Dst); err != nil {
		return f, fmt.Errorf("dst: %w", err)
	}
	if f.Proto, err = parseProto(spec.Proto); err != nil {
		return f, err
	}
	if spec.Rate == "" {
		return f, errors.New("rate is required")
	}
	if f.RateBps, err = units.ParseBitrate(spec.Rate); err != nil {
		return f, fmt.Errorf("rate: %w", err)
	}
	if spec.PacketSize != "" {
		n, err := units.ParseBytes(spec.PacketSize)
		if err != nil {
			return f, fmt.Errorf("packet_size: %w", err)
		}
		if n == 0 || n > 65535 {
			return f, fmt.Errorf("packet_size %d: want 1..65535 bytes", n)
		}
		f.PacketSize = int(n)
	}
	return f, nil
}

func parseProto(s string) (uint8, error) {
	switch p := strings.ToLower(s); p {
	case "udp", "":
		return 17, nil
	case "tcp":
		return 6, nil
	case "icmp":
		return 1, nil
	default:
		n, err := strconv.ParseUint(p, 10, 8)
		if err != nil {
			return 0, fmt.Errorf("proto %s: want udp, tcp, icmp or 0..255", yamlerr.Quote(s))
		}
		return uint8(n), nil
	}
}

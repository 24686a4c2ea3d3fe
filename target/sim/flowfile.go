package sim

import (
	"gopkg.in/yaml.v3"

	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/p4qos/p4qos/internal/units"
	"github.com/p4qos/p4qos/internal/yamlerr"
	"github.com/p4qos/p4qos/topo"
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
	Name   string `yaml:"name"`
	Switch string `yaml:"switch"`
	// Src and Dst are addresses or, with a topology, host names (IPv4
	// unless IPv6 is set); a source host also gives Switch and
	// IngressPort where they are not set.
	Src         string `yaml:"src"`
	Dst         string `yaml:"dst"`
	IPv6        bool   `yaml:"ipv6"`
	Proto       string `yaml:"proto"` // udp, tcp, icmp or a number
	SrcPort     uint16 `yaml:"sport"`
	DstPort     uint16 `yaml:"dport"`
	DSCP        uint8  `yaml:"dscp"`
	IngressPort uint32 `yaml:"ingress_port"`
	Rate        string `yaml:"rate"`        // e.g. 10Mbps
	PacketSize  string `yaml:"packet_size"` // e.g. 1500 or 1500B; default 1500
	// Connections splits the flow into that many flows (source ports
	// sport, sport+1, ...; the rate and schedule shared equally).
	Connections int        `yaml:"connections"`
	Schedule    []stepSpec `yaml:"schedule"`
}

// stepSpec is a rate change: at At after the sim starts, the flow's rate
// becomes Rate.
type stepSpec struct {
	At   string `yaml:"at"`
	Rate string `yaml:"rate"`
}

// ParseFlowFile parses a flow file; t (nil without one) resolves host
// names. Every problem is reported with its position (file:line:col: path:
// message), as for policies, at most yamlerr.MaxErrors of them: a hostile
// file cannot flood the terminal.
func ParseFlowFile(path string, data []byte, t *topo.Topology) ([]FileFlow, error) {
	doc, err := yamlerr.Parse(path, data)
	if err != nil {
		return nil, err
	}
	// Count before decoding: each list item decodes into a flowSpec (and
	// each connection into a flow of the model), so a 2 MB file of a
	// million one-character items would take gigabytes.
	if n := doc.Locate("flows"); n != nil && n.Kind == yaml.SequenceNode && len(n.Content) > MaxFlows {
		return nil, yamlerr.List{doc.Errorf("flows", "%d flows; the sim models at most %d", len(n.Content), MaxFlows)}
	}
	var file flowFile
	errs := doc.Decode(&file)
	out := make([]FileFlow, 0, len(file.Flows))
	for i, spec := range file.Flows {
		fs, err := spec.flows(t)
		if err != nil {
			if len(errs) <= yamlerr.MaxErrors {
				errs.Add(doc.Errorf(yamlerr.Index("flows", i), "flow %s: %v", yamlerr.Quote(spec.Name), err))
			}
			continue
		}
		if out = append(out, fs...); len(out) > MaxFlows {
			return nil, yamlerr.List{doc.Errorf(yamlerr.Index("flows", i), "with its connections, more than %d flows; the sim models at most %d", MaxFlows, MaxFlows)}
		}
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// flows is the spec's flow, or its connections.
func (spec flowSpec) flows(t *topo.Topology) ([]FileFlow, error) {
	f, err := spec.flow(t)
	if err != nil {
		return nil, err
	}
	if spec.Connections < 0 || spec.Connections > maxConnections {
		return nil, fmt.Errorf("connections %d: want 1..%d", spec.Connections, maxConnections)
	}
	if spec.Connections <= 1 {
		return []FileFlow{{Switch: spec.Switch, Flow: f}}, nil
	}
	n := spec.Connections
	if int(f.SrcPort)+n-1 > 65535 {
		return nil, fmt.Errorf("connections %d from sport %d: the source ports would pass 65535", n, f.SrcPort)
	}
	out := make([]FileFlow, 0, n)
	for i := range n {
		c := f
		c.Name = fmt.Sprintf("%s#%d", f.Name, i+1)
		c.SrcPort = f.SrcPort + uint16(i)
		c.RateBps = f.RateBps / float64(n)
		c.Schedule = make([]RateStep, len(f.Schedule))
		for j, st := range f.Schedule {
			c.Schedule[j] = RateStep{At: st.At, RateBps: st.RateBps / float64(n)}
		}
		out = append(out, FileFlow{Switch: spec.Switch, Flow: c})
	}
	return out, nil
}

// MaxFlows bounds a flow file's flows, connections included: each is a
// flow the traffic model advances every tick.
const MaxFlows = 10_000

// maxConnections bounds connections: each is a flow of the model.
const maxConnections = 1024

// endpoint is an address, or a host's address when t knows the name.
func (spec flowSpec) endpoint(t *topo.Topology, s string) (netip.Addr, *topo.Host, error) {
	if a, err := netip.ParseAddr(s); err == nil {
		return a, nil, nil
	}
	if t == nil {
		return netip.Addr{}, nil, fmt.Errorf("%s is not an address (host names need the topology: p4qos sim -t)", yamlerr.Quote(s))
	}
	h, ok := t.Host(s)
	if !ok {
		return netip.Addr{}, nil, fmt.Errorf("%s is neither an address nor a host of the topology", yamlerr.Quote(s))
	}
	ifc := h.IPv4
	if spec.IPv6 {
		ifc = h.IPv6
	}
	a := netip.Prefix(ifc).Addr()
	if !a.IsValid() {
		fam := map[bool]string{false: "IPv4", true: "IPv6"}[spec.IPv6]
		return netip.Addr{}, nil, fmt.Errorf("host %s has no %s address", h.Name, fam)
	}
	return a, h, nil
}

func (spec *flowSpec) flow(t *topo.Topology) (Flow, error) {
	f := Flow{Name: spec.Name, SrcPort: spec.SrcPort, DstPort: spec.DstPort, DSCP: spec.DSCP}
	var err error
	var src *topo.Host
	if f.SrcIP, src, err = spec.endpoint(t, spec.Src); err != nil {
		return f, fmt.Errorf("src: %w", err)
	}
	if f.DstIP, _, err = spec.endpoint(t, spec.Dst); err != nil {
		return f, fmt.Errorf("dst: %w", err)
	}
	if src != nil && spec.Switch == "" {
		spec.Switch = src.Switch
	}
	if src != nil && spec.IngressPort == 0 && spec.Switch == src.Switch {
		spec.IngressPort = src.Port
	}
	f.IngressPort = spec.IngressPort
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
	f.Schedule, err = schedule(spec.Schedule)
	return f, err
}

// schedule parses rate changes: at strictly increasing, rates ≥ 0.
func schedule(steps []stepSpec) ([]RateStep, error) {
	out := make([]RateStep, 0, len(steps))
	for i, st := range steps {
		at, err := time.ParseDuration(st.At)
		if err != nil || at < 0 {
			return nil, fmt.Errorf("schedule[%d].at %s: want a duration ≥ 0 such as 5s or 500ms", i, yamlerr.Quote(st.At))
		}
		if i > 0 && at <= out[i-1].At {
			return nil, fmt.Errorf("schedule[%d].at %s: not after %s", i, at, out[i-1].At)
		}
		if st.Rate == "" {
			return nil, fmt.Errorf("schedule[%d]: rate is required", i)
		}
		bps, err := units.ParseBitrate(st.Rate)
		if err != nil {
			return nil, fmt.Errorf("schedule[%d].rate: %w", i, err)
		}
		out = append(out, RateStep{At: at, RateBps: bps})
	}
	return out, nil
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

package topo

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"

	"github.com/p4qos/p4qos/internal/inputfile"
	"github.com/p4qos/p4qos/internal/yamlerr"
)

// Target is the kind of switch behind a P4Runtime address.
type Target string

// The supported targets.
const (
	TargetBMv2   Target = "bmv2"   // simple_switch_grpc, v1model
	TargetTofino Target = "tofino" // Intel Tofino, TNA
	TargetSim    Target = "sim"    // the embedded Go target (p4qos sim)
)

// MaxPort is the largest port number: ports are bit<9> in v1model and TNA.
const MaxPort = 511

// DefaultHostLinkCapacity is a host access link's capacity when the host
// gives none.
const DefaultHostLinkCapacity Bitrate = 1e9

// Topology is a validated network. Build it with Load or Parse; the slices
// keep file order, and lookups go through the methods.
type Topology struct {
	Name     string    `yaml:"name"`
	Switches []*Switch `yaml:"switches"`
	Hosts    []*Host   `yaml:"hosts"`
	Links    []*Link   `yaml:"links"`

	// File is the file name used in errors.
	File string `yaml:"-"`

	nodes map[string]node   // switch or host by name
	out   map[string][]Edge // directed edges leaving each node, sorted by port
	// down holds the ports of links marked down: cabled, so policy settings
	// on them stay valid, but no edge, so no path uses them.
	down map[string][]uint32
	mac  map[string]MAC

	// dense numbers the nodes for NextHops and ShortestPaths, built on
	// first use (denseOnce) once the graph is complete, with every node's
	// cost to each destination computed once.
	denseOnce sync.Once
	dense     *denseIndex
}

type node struct {
	sw   *Switch
	host *Host
}

// Switch is one P4 switch.
type Switch struct {
	Name     string `yaml:"name"`
	DeviceID uint64 `yaml:"device_id"`
	// Address is the P4Runtime gRPC address, host:port.
	Address string `yaml:"address"`
	Target  Target `yaml:"target"`
	// CPUPort is the port packet-in/out uses; 0 means none.
	CPUPort uint32 `yaml:"cpu_port"`
	// MAC is the router MAC used as source MAC of routed packets; when
	// unset it is derived from the device id (RouterMAC).
	MAC MAC `yaml:"mac"`
}

// RouterMAC is the switch's MAC, or the derived 02:00:00:xx:xx:xx (a
// locally administered unicast address carrying the low 24 bits of the
// device id) when none was given.
func (s *Switch) RouterMAC() MAC {
	if !s.MAC.IsZero() {
		return s.MAC
	}
	id := s.DeviceID
	return MAC{0x02, 0, 0, byte(id >> 16), byte(id >> 8), byte(id)}
}

// Host is an end host with one interface attached to a switch port.
type Host struct {
	Name string    `yaml:"name"`
	IPv4 Interface `yaml:"ipv4"`
	IPv6 Interface `yaml:"ipv6"`
	MAC  MAC       `yaml:"mac"`
	// Switch and Port are where the host's interface is cabled.
	Switch string `yaml:"switch"`
	Port   uint32 `yaml:"port"`
	// Gateway is the host's default IPv4 gateway (optional); GatewayV6 for
	// IPv6. The lab points the host's default route at it, with the
	// switch's router MAC as a static neighbour entry.
	Gateway   Addr     `yaml:"gateway"`
	GatewayV6 Addr     `yaml:"gateway_v6"`
	Link      HostLink `yaml:"link"`
}

// HostLink describes a host's access link (optional; see defaults).
type HostLink struct {
	Capacity Bitrate  `yaml:"capacity"` // default 1Gbps
	Delay    Duration `yaml:"delay"`    // default 0
	Loss     float64  `yaml:"loss"`     // percent, default 0
}

// Addrs returns the host's addresses, IPv4 first.
func (h *Host) Addrs() []Interface {
	var out []Interface
	if h.IPv4.IsValid() {
		out = append(out, h.IPv4)
	}
	if h.IPv6.IsValid() {
		out = append(out, h.IPv6)
	}
	return out
}

// Endpoint is one end of a link: a switch and a port, "leaf1:3" in YAML.
type Endpoint struct {
	Switch string
	Port   uint32
}

// UnmarshalYAMLNode implements yamlerr.Unmarshaler.
func (e *Endpoint) UnmarshalYAMLNode(n *yaml.Node) error {
	const want = "expected switch:port such as leaf1:3"
	if n.Kind != yaml.ScalarNode {
		return errors.New(want)
	}
	i := strings.LastIndexByte(n.Value, ':')
	if i <= 0 {
		return fmt.Errorf("%s, got %s", want, yamlerr.Quote(n.Value))
	}
	p, err := strconv.ParseUint(n.Value[i+1:], 10, 32)
	if err != nil || p > MaxPort {
		return fmt.Errorf("%s with port 0..%d, got %s", want, MaxPort, yamlerr.Quote(n.Value))
	}
	*e = Endpoint{Switch: n.Value[:i], Port: uint32(p)}
	return nil
}

// String is "leaf1:3".
func (e Endpoint) String() string { return fmt.Sprintf("%s:%d", e.Switch, e.Port) }

// Link is a full-duplex cable between two switch ports.
type Link struct {
	A        Endpoint `yaml:"a"`
	B        Endpoint `yaml:"b"`
	Capacity Bitrate  `yaml:"capacity"` // per direction; required
	Delay    Duration `yaml:"delay"`    // one-way; default 0
	Loss     float64  `yaml:"loss"`     // percent; default 0
	// Cost is the routing metric; default 1 (hop count).
	Cost uint32 `yaml:"cost"`
	// Down marks a link that is cabled but out of service (failed, or in
	// maintenance): no path uses it, yet its ports stay cabled, so policy
	// settings that name them remain valid. `p4qos lab link down --edit-topology` sets it.
	Down bool `yaml:"down"`
}

// Name is "leaf1:3-spine1:1".
func (l *Link) Name() string { return l.A.String() + "-" + l.B.String() }

// Edge is one direction of a link or host access link.
type Edge struct {
	From, To         string
	FromPort, ToPort uint32 // 0 on the host side of an access link
	Capacity         float64
	Cost             int
	// FromHost/ToHost say which ends are hosts.
	FromHost, ToHost bool
}

// Name identifies the directed edge, e.g. "leaf1:3->spine1:1" or
// "h1->leaf1:1"; allocator problems use it as the link name.
func (e Edge) Name() string {
	from := e.From
	if !e.FromHost {
		from += ":" + strconv.FormatUint(uint64(e.FromPort), 10)
	}
	to := e.To
	if !e.ToHost {
		to += ":" + strconv.FormatUint(uint64(e.ToPort), 10)
	}
	return from + "->" + to
}

// Load reads and validates a topology file. The file must be a regular file
// of at most inputfile.Topology.Limit() bytes.
func Load(path string) (*Topology, error) {
	data, err := inputfile.Read(path, inputfile.Topology)
	if err != nil {
		return nil, fmt.Errorf("read topology: %w", err)
	}
	return Parse(path, data)
}

// Parse decodes and validates a topology. file names it in errors. Invalid
// input yields a yamlerr.List with every problem found.
func Parse(file string, data []byte) (*Topology, error) {
	doc, err := yamlerr.Parse(file, data)
	if err != nil {
		return nil, err
	}
	t := &Topology{File: file}
	decodeErrs := doc.Decode(t)
	if doc.Root() == nil {
		return nil, yamlerr.List{{File: file, Msg: "empty topology: expected a mapping with switches, hosts and links"}}
	}
	// Validate what did decode too, so that one run reports everything; a
	// field that failed to decode has no follow-on errors.
	errs := t.validate(doc, len(decodeErrs) == 0)
	errs = append(decodeErrs, errs.Without(decodeErrs)...)
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return t, nil
}

func (t *Topology) validate(doc *yamlerr.Document, decoded bool) yamlerr.List {
	var errs yamlerr.List
	bad := func(path, format string, args ...any) {
		if len(errs) <= yamlerr.MaxErrors { // a full list takes no more: skip positioning
			errs.Add(doc.Errorf(path, format, args...))
		}
	}
	// missing reports an absent required key; a key that is present but
	// did not decode has its own error already.
	missing := func(path, key, format string, args ...any) {
		if !doc.Has(yamlerr.Key(path, key)) {
			bad(path, format, args...)
		}
	}

	t.nodes = map[string]node{}
	t.out = map[string][]Edge{}
	t.mac = map[string]MAC{}
	if len(t.Switches) == 0 {
		bad("switches", "expected at least one switch")
	}
	ids := map[uint64]string{}
	addrs := map[string]string{}
	macs := map[MAC]string{}
	usedPort := map[Endpoint]string{}
	for i, s := range t.Switches {
		p := yamlerr.Index("switches", i)
		if s == nil {
			bad(p, "expected a switch mapping")
			continue
		}
		switch {
		case s.Name == "":
			missing(p, "name", "missing name")
		case !validName(s.Name):
			bad(p+".name", "expected a name of letters, digits, '-', '_' or '.', got %s", yamlerr.Quote(s.Name))
		case t.nodes[s.Name] != (node{}):
			bad(p+".name", "duplicate node name %s", yamlerr.Quote(s.Name))
		default:
			t.nodes[s.Name] = node{sw: s}
		}
		_, dupID := ids[s.DeviceID]
		if dupID {
			bad(p+".device_id", "device_id %d is already used by switch %s", s.DeviceID, yamlerr.Quote(ids[s.DeviceID]))
		}
		ids[s.DeviceID] = s.Name
		switch s.Target {
		case TargetBMv2, TargetTofino, TargetSim:
		case "":
			missing(p, "target", "missing target (expected bmv2, tofino or sim)")
		default:
			bad(p+".target", "expected bmv2, tofino or sim, got %s%s", yamlerr.Quote(string(s.Target)),
				yamlerr.Suggest(string(s.Target), []string{string(TargetBMv2), string(TargetTofino), string(TargetSim)}))
		}
		if s.Address == "" {
			missing(p, "address", "missing address (the P4Runtime gRPC address, e.g. 127.0.0.1:50051)")
		} else if host, port, err := net.SplitHostPort(s.Address); err != nil || host == "" || !validPort(port) {
			bad(p+".address", "expected host:port such as 127.0.0.1:50051, got %s", yamlerr.Quote(s.Address))
		} else if other, dup := addrs[s.Address]; dup {
			bad(p+".address", "address %s is already used by switch %s", s.Address, yamlerr.Quote(other))
		} else {
			addrs[s.Address] = s.Name
		}
		if s.CPUPort > MaxPort {
			bad(p+".cpu_port", "expected a port 0..%d, got %d", MaxPort, s.CPUPort)
		} else if s.CPUPort != 0 {
			usedPort[Endpoint{s.Name, s.CPUPort}] = p + ".cpu_port"
		}
		m := s.RouterMAC()
		if m.IsMulticast() {
			bad(p+".mac", "expected a unicast MAC (group bit clear), got %s", m)
		}
		if other, dup := macs[m]; dup && !(dupID && s.MAC.IsZero()) {
			// A derived MAC repeats when the device id does; that is
			// already reported.
			bad(p+".mac", "MAC %s is already used by %s", m, yamlerr.Quote(other))
		}
		macs[m] = s.Name
		t.mac[s.Name] = m
	}

	ips := map[string]string{}
	for i, h := range t.Hosts {
		p := yamlerr.Index("hosts", i)
		if h == nil {
			bad(p, "expected a host mapping")
			continue
		}
		switch {
		case h.Name == "":
			missing(p, "name", "missing name")
		case !validName(h.Name):
			bad(p+".name", "expected a name of letters, digits, '-', '_' or '.', got %s", yamlerr.Quote(h.Name))
		case t.nodes[h.Name] != (node{}):
			bad(p+".name", "duplicate node name %s", yamlerr.Quote(h.Name))
		default:
			t.nodes[h.Name] = node{host: h}
		}
		if !h.IPv4.IsValid() && !h.IPv6.IsValid() && !doc.Has(p+".ipv4") && !doc.Has(p+".ipv6") {
			bad(p, "missing ipv4 or ipv6 (at least one address is required)")
		}
		if h.IPv4.IsValid() && !h.IPv4.Addr().Is4() {
			bad(p+".ipv4", "expected an IPv4 address, got %s", h.IPv4)
		}
		if h.IPv6.IsValid() && (!h.IPv6.Addr().Is6() || h.IPv6.Addr().Is4In6()) {
			bad(p+".ipv6", "expected an IPv6 address, got %s", h.IPv6)
		}
		for _, a := range []struct {
			key string
			ifc Interface
		}{{"ipv4", h.IPv4}, {"ipv6", h.IPv6}} {
			if !a.ifc.IsValid() {
				continue
			}
			if a.ifc.Addr() == a.ifc.Subnet().Addr() && a.ifc.Subnet().Bits() < a.ifc.Addr().BitLen()-1 {
				bad(p+"."+a.key, "%s is the subnet's network address, not a host address", a.ifc)
			}
			if other, dup := ips[a.ifc.Addr().String()]; dup {
				bad(p+"."+a.key, "address %s is already used by host %s", a.ifc.Addr(), yamlerr.Quote(other))
			}
			ips[a.ifc.Addr().String()] = h.Name
		}
		if h.MAC.IsZero() {
			missing(p, "mac", "missing mac")
		} else if h.MAC.IsMulticast() {
			bad(p+".mac", "expected a unicast MAC (group bit clear), got %s", h.MAC)
		} else if other, dup := macs[h.MAC]; dup {
			bad(p+".mac", "MAC %s is already used by %s", h.MAC, yamlerr.Quote(other))
		} else {
			macs[h.MAC] = h.Name
		}
		checkGateway := func(key string, gw Addr, ifc Interface, family string) {
			if !gw.IsValid() {
				return
			}
			switch {
			case !ifc.IsValid():
				bad(p+"."+key, "a %s gateway needs an %s address on the host", family, family)
			case !ifc.Subnet().Contains(netip.Addr(gw)):
				bad(p+"."+key, "gateway %s is outside the host's subnet %s", gw, ifc.Subnet())
			case netip.Addr(gw) == ifc.Addr():
				bad(p+"."+key, "gateway %s is the host's own address", gw)
			}
		}
		checkGateway("gateway", h.Gateway, h.IPv4, "IPv4")
		checkGateway("gateway_v6", h.GatewayV6, h.IPv6, "IPv6")
		if h.Link.Capacity < 0 {
			bad(p+".link.capacity", "expected a rate > 0")
		}
		if h.Link.Capacity == 0 {
			h.Link.Capacity = DefaultHostLinkCapacity
		}
		if h.Link.Loss < 0 || h.Link.Loss > 100 {
			bad(p+".link.loss", "expected a loss percentage 0..100, got %g", h.Link.Loss)
		}
		if h.Switch == "" {
			missing(p, "switch", "missing switch (the switch the host is cabled to)")
			continue
		}
		if n := t.nodes[h.Switch]; n.sw == nil {
			bad(p+".switch", "unknown switch %s", yamlerr.Quote(h.Switch))
			continue
		}
		if !doc.Has(p + ".port") {
			bad(p, "missing port (the switch port the host is cabled to)")
			continue
		}
		if h.Port > MaxPort {
			bad(p+".port", "expected a port 0..%d, got %d", MaxPort, h.Port)
			continue
		}
		ep := Endpoint{h.Switch, h.Port}
		if other, used := usedPort[ep]; used {
			bad(p+".port", "port %s is already used by %s", ep, other)
			continue
		}
		usedPort[ep] = p
		if h.Name == "" || t.nodes[h.Name].host != h {
			continue
		}
		capa := float64(h.Link.Capacity)
		t.addEdge(Edge{From: h.Name, To: h.Switch, ToPort: h.Port, Capacity: capa, Cost: 1, FromHost: true})
		t.addEdge(Edge{From: h.Switch, FromPort: h.Port, To: h.Name, Capacity: capa, Cost: 1, ToHost: true})
	}

	for i, l := range t.Links {
		p := yamlerr.Index("links", i)
		if l == nil {
			bad(p, "expected a link mapping")
			continue
		}
		ok := true
		for _, end := range []struct {
			key string
			ep  Endpoint
		}{{"a", l.A}, {"b", l.B}} {
			switch {
			case end.ep.Switch == "":
				missing(p, end.key, "missing %s (an endpoint switch:port)", end.key)
				ok = false
			case t.nodes[end.ep.Switch].sw == nil:
				if t.nodes[end.ep.Switch].host != nil {
					bad(p+"."+end.key, "%s is a host; attach hosts with hosts[].switch and hosts[].port", yamlerr.Quote(end.ep.Switch))
				} else {
					bad(p+"."+end.key, "unknown switch %s", yamlerr.Quote(end.ep.Switch))
				}
				ok = false
			default:
				if other, used := usedPort[end.ep]; used {
					bad(p+"."+end.key, "port %s is already used by %s", end.ep, other)
					ok = false
				} else {
					usedPort[end.ep] = p
				}
			}
		}
		if ok && l.A.Switch == l.B.Switch {
			bad(p, "link connects switch %s to itself", yamlerr.Quote(l.A.Switch))
			ok = false
		}
		if l.Capacity <= 0 {
			bad(p+".capacity", "missing or zero capacity (expected a rate such as 10Gbps)")
			ok = false
		}
		if l.Loss < 0 || l.Loss > 100 {
			bad(p+".loss", "expected a loss percentage 0..100, got %g", l.Loss)
		}
		if l.Cost == 0 {
			l.Cost = 1
		}
		if !ok {
			continue
		}
		if l.Down {
			if t.down == nil {
				t.down = map[string][]uint32{}
			}
			t.down[l.A.Switch] = append(t.down[l.A.Switch], l.A.Port)
			t.down[l.B.Switch] = append(t.down[l.B.Switch], l.B.Port)
			continue
		}
		t.addEdge(Edge{From: l.A.Switch, FromPort: l.A.Port, To: l.B.Switch, ToPort: l.B.Port, Capacity: float64(l.Capacity), Cost: int(l.Cost)})
		t.addEdge(Edge{From: l.B.Switch, FromPort: l.B.Port, To: l.A.Switch, ToPort: l.A.Port, Capacity: float64(l.Capacity), Cost: int(l.Cost)})
	}
	for _, es := range t.out {
		sort.Slice(es, func(i, j int) bool { return es[i].FromPort < es[j].FromPort })
	}
	if len(errs) == 0 && decoded {
		t.checkConnected(doc, &errs)
	}
	return errs
}

// checkConnected reports hosts that cannot reach the first host: a
// topology with an island of hosts is almost always a typo in a link.
func (t *Topology) checkConnected(doc *yamlerr.Document, errs *yamlerr.List) {
	if len(t.Hosts) < 2 {
		return
	}
	seen := map[string]bool{t.Hosts[0].Name: true}
	queue := []string{t.Hosts[0].Name}
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		if t.nodes[n].host != nil && n != t.Hosts[0].Name {
			continue // hosts are leaves
		}
		for _, e := range t.out[n] {
			if !seen[e.To] {
				seen[e.To] = true
				queue = append(queue, e.To)
			}
		}
	}
	for i, h := range t.Hosts {
		if !seen[h.Name] {
			errs.Add(doc.Errorf(yamlerr.Index("hosts", i), "host %s cannot reach host %s: no chain of links connects their switches", yamlerr.Quote(h.Name), yamlerr.Quote(t.Hosts[0].Name)))
		}
	}
}

func (t *Topology) addEdge(e Edge) { t.out[e.From] = append(t.out[e.From], e) }

func validName(s string) bool {
	for _, r := range s {
		if !(r == '_' || r == '-' || r == '.' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return s != ""
}

func validPort(s string) bool {
	p, err := strconv.ParseUint(s, 10, 16)
	return err == nil && p > 0
}

// Switch returns the switch with the given name.
func (t *Topology) Switch(name string) (*Switch, bool) {
	n := t.nodes[name]
	return n.sw, n.sw != nil
}

// Host returns the host with the given name.
func (t *Topology) Host(name string) (*Host, bool) {
	n := t.nodes[name]
	return n.host, n.host != nil
}

// Edges returns the directed edges leaving node, sorted by port.
func (t *Topology) Edges(node string) []Edge { return t.out[node] }

// Ports returns the switch's cabled ports (hosts and links), ascending.
func (t *Topology) Ports(sw string) []uint32 {
	var ps []uint32
	for _, e := range t.out[sw] {
		ps = append(ps, e.FromPort)
	}
	if d := t.down[sw]; len(d) > 0 {
		ps = append(ps, d...)
		slices.Sort(ps)
	}
	return ps
}

// PeerMAC is the destination MAC for a packet sent along e: the host's MAC
// or the next switch's router MAC.
func (t *Topology) PeerMAC(e Edge) MAC {
	if e.ToHost {
		return t.nodes[e.To].host.MAC
	}
	return t.mac[e.To]
}

package mininet

import (
	"fmt"
	"net/netip"
	"strconv"
	"time"

	"github.com/p4qos/p4qos/topo"
)

// Spec is the JSON document lab.py builds the network from.
type Spec struct {
	Name      string `json:"name"`
	BMv2      string `json:"bmv2"`
	StateDir  string `json:"state_dir"`
	ReadyFile string `json:"ready_file"`
	// LogLevel is BMv2's --log-level (trace, debug, info, warn, error, off).
	LogLevel string `json:"log_level"`
	// PcapDir, when set, is BMv2's --pcap: per-port captures go there.
	PcapDir string `json:"pcap_dir,omitempty"`
	// RTPriority, when positive, runs every BMv2 process under SCHED_RR at
	// this priority (chrt -r): see WithSwitchRTPriority.
	RTPriority int          `json:"rt_priority,omitempty"`
	Switches   []SwitchSpec `json:"switches"`
	Hosts      []HostSpec   `json:"hosts"`
	Links      []LinkSpec   `json:"links"`
}

// SwitchSpec is one BMv2 switch.
type SwitchSpec struct {
	Name       string `json:"name"`
	DeviceID   uint64 `json:"device_id"`
	GRPC       string `json:"grpc"`
	ThriftPort int    `json:"thrift_port"`
	CPUPort    uint32 `json:"cpu_port,omitempty"`
	MAC        string `json:"mac"`
}

// HostSpec is one host and its access link.
type HostSpec struct {
	Name       string `json:"name"`
	IPv4       string `json:"ipv4,omitempty"`
	IPv6       string `json:"ipv6,omitempty"`
	MAC        string `json:"mac"`
	Switch     string `json:"switch"`
	Port       uint32 `json:"port"`
	Gateway    string `json:"gateway,omitempty"`
	GatewayV6  string `json:"gateway_v6,omitempty"`
	GatewayMAC string `json:"gateway_mac"`
	// Netns is the name under which lab.py pins the host's namespace
	// (ip netns attach), so that Down finds what runs there even when the
	// host's shell is gone.
	Netns  string  `json:"netns"`
	BwMbps float64 `json:"bw_mbps,omitempty"`
	Delay  string  `json:"delay,omitempty"`
	Loss   float64 `json:"loss,omitempty"`
	// Neighbors are the other hosts on the host's subnets: the switches
	// route and answer no ARP, so the lab installs static entries.
	Neighbors []Neighbor `json:"neighbors,omitempty"`
}

// Neighbor is a static ARP/NDP entry.
type Neighbor struct {
	IP  string `json:"ip"`
	MAC string `json:"mac"`
}

// LinkSpec is one switch-to-switch link.
type LinkSpec struct {
	A      string  `json:"a"`
	APort  uint32  `json:"a_port"`
	B      string  `json:"b"`
	BPort  uint32  `json:"b_port"`
	BwMbps float64 `json:"bw_mbps,omitempty"`
	Delay  string  `json:"delay,omitempty"`
	Loss   float64 `json:"loss,omitempty"`
}

// HostNetns is the named network namespace of a lab host. Topology names
// cannot contain '@', so it never clashes with another lab's namespaces.
func HostNetns(lab, host string) string { return "p4qos-" + lab + "@" + host }

// FirstThriftPort is the first switch's BMv2 thrift port; the others follow.
// They are ports of the lab's namespace, so they never clash with the host.
const FirstThriftPort = 9090

// metricsAddr is the controller's metrics address in the namespace.
const metricsAddr = MetricsAddr

// maxTCRateMbps is what Mininet's TCLink accepts (its htb limit).
const maxTCRateMbps = 1000

// BuildSpec turns a topology into a lab spec. Every switch runs as BMv2
// whatever its target says: the lab is the BMv2 environment. Switch
// P4Runtime addresses must be loopback addresses (they live in the lab's
// namespace).
func BuildSpec(t *topo.Topology, bmv2, stateDir string) (*Spec, error) {
	// Empty lists, not null: lab.py iterates them.
	s := &Spec{Name: t.Name, BMv2: bmv2, StateDir: stateDir, ReadyFile: stateDir + "/ready", LogLevel: "warn",
		Switches: []SwitchSpec{}, Hosts: []HostSpec{}, Links: []LinkSpec{}}
	seen := map[string]string{}
	for i, sw := range t.Switches {
		ap, err := netip.ParseAddrPort(sw.Address)
		if err != nil || !ap.Addr().IsLoopback() {
			return nil, fmt.Errorf("switch %s: lab switches need a loopback P4Runtime address such as 127.0.0.1:50051, got %q", sw.Name, sw.Address)
		}
		if other, dup := seen[sw.Address]; dup {
			return nil, fmt.Errorf("switch %s: address %s is also %s's", sw.Name, sw.Address, other)
		}
		seen[sw.Address] = sw.Name
		if port := int(ap.Port()); port >= FirstThriftPort && port < FirstThriftPort+len(t.Switches) || ap.Addr().String()+":"+strconv.Itoa(port) == metricsAddr {
			return nil, fmt.Errorf("switch %s: port %d is taken in the lab namespace by a BMv2 thrift server (%d..%d) or the controller's metrics (%s)", sw.Name, port, FirstThriftPort, FirstThriftPort+len(t.Switches)-1, metricsAddr)
		}
		s.Switches = append(s.Switches, SwitchSpec{
			Name: sw.Name, DeviceID: sw.DeviceID, GRPC: sw.Address,
			ThriftPort: FirstThriftPort + i, CPUPort: sw.CPUPort, MAC: sw.RouterMAC().String(),
		})
	}
	for _, h := range t.Hosts {
		sw, ok := t.Switch(h.Switch)
		if !ok {
			return nil, fmt.Errorf("host %s: unknown switch %q", h.Name, h.Switch)
		}
		hs := HostSpec{
			Name: h.Name, MAC: h.MAC.String(), Switch: h.Switch, Port: h.Port,
			GatewayMAC: sw.RouterMAC().String(), Netns: HostNetns(t.Name, h.Name),
			BwMbps: mbps(float64(h.Link.Capacity)), Delay: delay(h.Link.Delay), Loss: h.Link.Loss,
		}
		if h.IPv4.IsValid() {
			hs.IPv4 = h.IPv4.String()
		}
		if h.IPv6.IsValid() {
			hs.IPv6 = h.IPv6.String()
		}
		if h.Gateway.IsValid() {
			hs.Gateway = h.Gateway.String()
		}
		if h.GatewayV6.IsValid() {
			hs.GatewayV6 = h.GatewayV6.String()
		}
		for _, o := range t.Hosts {
			if o == h {
				continue
			}
			for _, mine := range h.Addrs() {
				for _, theirs := range o.Addrs() {
					if mine.Subnet().Contains(theirs.Addr()) {
						hs.Neighbors = append(hs.Neighbors, Neighbor{IP: theirs.Addr().String(), MAC: o.MAC.String()})
					}
				}
			}
		}
		s.Hosts = append(s.Hosts, hs)
	}
	for _, l := range t.Links {
		s.Links = append(s.Links, LinkSpec{
			A: l.A.Switch, APort: l.A.Port, B: l.B.Switch, BPort: l.B.Port,
			BwMbps: mbps(float64(l.Capacity)), Delay: delay(l.Delay), Loss: l.Loss,
		})
	}
	return s, nil
}

// mbps converts a capacity to TCLink's Mbit/s; 0 (no shaping) above what
// htb accepts, because shaping a 10Gbps link on veth only adds CPU load.
func mbps(bps float64) float64 {
	m := bps / 1e6
	if m <= 0 || m > maxTCRateMbps {
		return 0
	}
	return m
}

func delay(d topo.Duration) string {
	if d <= 0 {
		return ""
	}
	return fmt.Sprintf("%gms", float64(time.Duration(d))/float64(time.Millisecond))
}

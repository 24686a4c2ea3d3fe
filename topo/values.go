package topo

import (
	"fmt"
	"net"
	"net/netip"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/p4qos/p4qos/internal/units"
	"github.com/p4qos/p4qos/internal/yamlerr"
)

// Bitrate is a rate in bits per second, written with units in YAML
// ("10Gbps", "2.5 Mbps", "10MBps" for bytes/s; a bare number is bits/s),
// read by internal/units (case-sensitive; docs/policy.md lists the spellings).
type Bitrate float64

// UnmarshalYAMLNode implements yamlerr.Unmarshaler.
func (b *Bitrate) UnmarshalYAMLNode(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("expected a rate such as 10Gbps")
	}
	v, err := units.ParseBitrate(n.Value)
	if err != nil {
		return fmt.Errorf("expected a rate such as 10Gbps or 500Mbps: %w", err)
	}
	*b = Bitrate(v)
	return nil
}

// String formats the rate with units.
func (b Bitrate) String() string { return units.FormatBitrate(float64(b)) }

// Duration is a time.Duration written as "2ms", "150us" or "1s" in YAML.
type Duration time.Duration

// UnmarshalYAMLNode implements yamlerr.Unmarshaler.
func (d *Duration) UnmarshalYAMLNode(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if n.Kind != yaml.ScalarNode || err != nil {
		return fmt.Errorf("expected a duration such as 2ms, 150us or 1s")
	}
	if v < 0 {
		return fmt.Errorf("expected a duration ≥ 0, got %s", n.Value)
	}
	*d = Duration(v)
	return nil
}

// String formats like time.Duration.
func (d Duration) String() string { return time.Duration(d).String() }

// MarshalYAML writes the duration as it is read ("2ms"), not in ns.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// MAC is an Ethernet address ("00:00:0a:00:01:01").
type MAC [6]byte

// ParseMAC parses the colon-separated form of a 48-bit MAC address.
func ParseMAC(s string) (MAC, error) {
	hw, err := net.ParseMAC(s)
	if err != nil || len(hw) != 6 {
		return MAC{}, fmt.Errorf("expected a MAC address such as 00:00:0a:00:01:01, got %s", yamlerr.Quote(s))
	}
	var m MAC
	copy(m[:], hw)
	return m, nil
}

// UnmarshalYAMLNode implements yamlerr.Unmarshaler.
func (m *MAC) UnmarshalYAMLNode(n *yaml.Node) error {
	v, err := ParseMAC(n.Value)
	if n.Kind != yaml.ScalarNode || err != nil {
		return fmt.Errorf("expected a MAC address such as 00:00:0a:00:01:01")
	}
	*m = v
	return nil
}

// IsZero reports whether m is 00:00:00:00:00:00 (unset).
func (m MAC) IsZero() bool { return m == MAC{} }

// IsMulticast reports whether the group bit is set (not a valid source MAC).
func (m MAC) IsMulticast() bool { return m[0]&1 == 1 }

// String is the lower-case colon form.
func (m MAC) String() string { return net.HardwareAddr(m[:]).String() }

// Interface is a host address with its subnet, "10.0.1.1/24" or
// "2001:db8:1::1/64". The address keeps its host bits.
type Interface netip.Prefix

// UnmarshalYAMLNode implements yamlerr.Unmarshaler.
func (i *Interface) UnmarshalYAMLNode(n *yaml.Node) error {
	p, err := netip.ParsePrefix(n.Value)
	if n.Kind != yaml.ScalarNode || err != nil {
		return fmt.Errorf("expected an address with prefix length such as 10.0.1.1/24 or 2001:db8:1::1/64")
	}
	if p.Addr().Zone() != "" {
		return fmt.Errorf("expected an address without zone")
	}
	*i = Interface(p)
	return nil
}

// Addr is the interface address.
func (i Interface) Addr() netip.Addr { return netip.Prefix(i).Addr() }

// Subnet is the masked prefix.
func (i Interface) Subnet() netip.Prefix { return netip.Prefix(i).Masked() }

// IsValid reports whether the interface was set.
func (i Interface) IsValid() bool { return netip.Prefix(i).IsValid() }

// String is "10.0.1.1/24".
func (i Interface) String() string { return netip.Prefix(i).String() }

// Addr is an IP address in YAML ("10.0.1.254").
type Addr netip.Addr

// UnmarshalYAMLNode implements yamlerr.Unmarshaler.
func (a *Addr) UnmarshalYAMLNode(n *yaml.Node) error {
	v, err := netip.ParseAddr(n.Value)
	if n.Kind != yaml.ScalarNode || err != nil || v.Zone() != "" {
		return fmt.Errorf("expected an IP address such as 10.0.1.254")
	}
	*a = Addr(v)
	return nil
}

// IsValid reports whether the address was set.
func (a Addr) IsValid() bool { return netip.Addr(a).IsValid() }

// String is the usual text form.
func (a Addr) String() string { return netip.Addr(a).String() }

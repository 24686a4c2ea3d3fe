package compiler

import (
	"errors"
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/p4qos/p4qos/allocator"
	"github.com/p4qos/p4qos/internal/units"
	"github.com/p4qos/p4qos/internal/yamlerr"
)

// Bytes is a size in bytes written with units in YAML ("64KB", "1500";
// KB = 1000 B, KiB = 1024 B, Kb = 1000 bits), read by internal/units.
type Bytes uint64

// UnmarshalYAMLNode implements yamlerr.Unmarshaler.
func (b *Bytes) UnmarshalYAMLNode(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("expected a size such as 64KB or 1500")
	}
	v, err := units.ParseBytes(n.Value)
	if err != nil {
		return fmt.Errorf("expected a size such as 64KB or 1500: %w", err)
	}
	*b = Bytes(v)
	return nil
}

// Protocol is an IP protocol number, written as a number 0..255 or a name
// (tcp, udp, icmp, icmpv6, sctp, gre, esp, ah).
type Protocol uint8

var protocolNames = map[string]uint8{"icmp": 1, "tcp": 6, "udp": 17, "gre": 47, "esp": 50, "ah": 51, "icmpv6": 58, "sctp": 132}

// UnmarshalYAMLNode implements yamlerr.Unmarshaler.
func (p *Protocol) UnmarshalYAMLNode(n *yaml.Node) error {
	const want = "expected a protocol name (tcp, udp, icmp, icmpv6, sctp, gre, esp, ah) or number 0..255"
	if n.Kind != yaml.ScalarNode {
		return errors.New(want)
	}
	if v, ok := protocolNames[strings.ToLower(n.Value)]; ok {
		*p = Protocol(v)
		return nil
	}
	v, err := strconv.ParseUint(n.Value, 0, 8)
	if err != nil {
		return fmt.Errorf("%s, got %s", want, yamlerr.Quote(n.Value))
	}
	*p = Protocol(v)
	return nil
}

// PortRange is an L4 port or inclusive range: 443 or "5000-5100".
type PortRange struct{ Low, High uint16 }

// UnmarshalYAMLNode implements yamlerr.Unmarshaler.
func (r *PortRange) UnmarshalYAMLNode(n *yaml.Node) error {
	const want = "expected a port 0..65535 or a range such as 5000-5100"
	if n.Kind != yaml.ScalarNode {
		return errors.New(want)
	}
	lo, hi, isRange := strings.Cut(n.Value, "-")
	l, err1 := strconv.ParseUint(strings.TrimSpace(lo), 10, 16)
	h, err2 := l, error(nil)
	if isRange {
		h, err2 = strconv.ParseUint(strings.TrimSpace(hi), 10, 16)
	}
	if err1 != nil || err2 != nil {
		return fmt.Errorf("%s, got %s", want, yamlerr.Quote(n.Value))
	}
	if l > h {
		return fmt.Errorf("empty port range %d-%d: the low end is above the high end, so the class can never hit", l, h)
	}
	*r = PortRange{Low: uint16(l), High: uint16(h)}
	return nil
}

func (r PortRange) String() string {
	if r.Low == r.High {
		return strconv.Itoa(int(r.Low))
	}
	return fmt.Sprintf("%d-%d", r.Low, r.High)
}

// Function is a bandwidth function in YAML: a list of [fair share, rate]
// points, [[0, 0], [1, 10Mbps], [2, 15Mbps]], piecewise linear and flat
// after the last point.
type Function []allocator.Point

// UnmarshalYAMLNode implements yamlerr.Unmarshaler.
func (f *Function) UnmarshalYAMLNode(n *yaml.Node) error {
	const want = "expected a list of [fair share, rate] points such as [[0, 0], [1, 10Mbps]]"
	if n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
		return errors.New(want)
	}
	var pts []allocator.Point
	for i, pn := range n.Content {
		if pn.Kind != yaml.SequenceNode || len(pn.Content) != 2 || pn.Content[0].Kind != yaml.ScalarNode || pn.Content[1].Kind != yaml.ScalarNode {
			return fmt.Errorf("point %d: %s", i, want)
		}
		share, err := strconv.ParseFloat(pn.Content[0].Value, 64)
		if err != nil || share < 0 || math.IsInf(share, 0) || math.IsNaN(share) {
			return fmt.Errorf("point %d: expected a fair share ≥ 0, got %s", i, yamlerr.Quote(pn.Content[0].Value))
		}
		rate, err := units.ParseBitrate(pn.Content[1].Value)
		if err != nil {
			return fmt.Errorf("point %d: expected a rate such as 10Mbps: %w", i, err)
		}
		if i > 0 {
			prev := pts[i-1]
			if share <= prev.Share {
				return fmt.Errorf("point %d: fair shares must increase (%g after %g)", i, share, prev.Share)
			}
			if rate < prev.Rate {
				return fmt.Errorf("point %d: a bandwidth function must not decrease (%s after %s)", i, units.FormatBitrate(rate), units.FormatBitrate(prev.Rate))
			}
		}
		pts = append(pts, allocator.Point{Share: share, Rate: rate})
	}
	if pts[0].Share == 0 && pts[0].Rate != 0 {
		return fmt.Errorf("point 0: a bandwidth function starts at (0, 0)")
	}
	*f = pts
	return nil
}

// Address is a match on a source or destination: an IPv4/IPv6 prefix
// ("10.0.1.0/24"), a single address, or the name of a host in the
// topology (all of its addresses).
type Address struct {
	Raw    string
	Prefix netip.Prefix // valid unless Raw names a host
}

// UnmarshalYAMLNode implements yamlerr.Unmarshaler.
func (a *Address) UnmarshalYAMLNode(n *yaml.Node) error {
	const want = "expected a prefix (10.0.1.0/24, 2001:db8::/32), an address, or a host name"
	if n.Kind != yaml.ScalarNode || n.Value == "" {
		return errors.New(want)
	}
	s := n.Value
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil || p.Addr().Zone() != "" {
			return fmt.Errorf("%s, got %s", want, yamlerr.Quote(s))
		}
		p = unmap(p)
		if p.Masked() != p {
			return fmt.Errorf("prefix %s has host bits set; did you mean %s?", s, p.Masked())
		}
		*a = Address{Raw: s, Prefix: p}
		return nil
	}
	if ip, err := netip.ParseAddr(s); err == nil && ip.Zone() == "" {
		ip = ip.Unmap()
		*a = Address{Raw: s, Prefix: netip.PrefixFrom(ip, ip.BitLen())}
		return nil
	}
	for _, r := range s {
		if !(r == '_' || r == '-' || r == '.' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return fmt.Errorf("%s, got %s", want, yamlerr.Quote(s))
		}
	}
	*a = Address{Raw: s}
	return nil
}

// IsHost reports whether the address names a host.
func (a Address) IsHost() bool { return a.Raw != "" && !a.Prefix.IsValid() }

// unmap turns ::ffff:a.b.c.d/n into a.b.c.d/(n-96).
func unmap(p netip.Prefix) netip.Prefix {
	if p.Addr().Is4In6() && p.Bits() >= 96 {
		return netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
	}
	return p
}

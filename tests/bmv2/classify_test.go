package bmv2

import (
	"net/netip"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/p4qos/p4qos/compiler/contract"
	"github.com/p4qos/p4qos/tables"
)

var (
	v4a = netip.MustParseAddr("10.3.0.1") // matches no classifier rule
	v4b = netip.MustParseAddr("10.4.0.1")
	v6a = netip.MustParseAddr("2001:db8:5::1")
)

// TestClassifierMatchKinds installs one classifier rule per key and match
// kind, each marking a distinct DSCP, plus overlapping rules whose priority
// decides, and checks which DSCP each probe packet leaves with.
func TestClassifierMatchKinds(t *testing.T) { forTargets(t, testClassifierMatchKinds) }

func testClassifierMatchKinds(t *testing.T, tg target) {
	b := newBedOn(t, tg, 3)
	b.routeAll(3)

	rule := func(prio int32, m []tables.Match, a tables.ActionCall) proto.Message {
		return get(b.schema.TableEntry(contract.Classifier, m, a, tables.Priority(prio)))(t)
	}
	class := func(id, dscp int) tables.ActionCall {
		return tables.Action(contract.SetClass, tables.Param(contract.ParamClassID, id), tables.Param(contract.ParamDSCP, dscp))
	}
	b.insert(
		rule(10, []tables.Match{tables.Ternary(contract.KeyIngressPort, 2, 0x1ff)}, class(1, 1)),
		rule(20, []tables.Match{tables.Ternary(contract.KeyIPv4Src, "10.1.0.0", "255.255.0.0")}, class(2, 2)),
		rule(20, []tables.Match{tables.Ternary(contract.KeyIPv6Dst, "2001:db8:2::", "ffff:ffff:ffff::")}, class(3, 3)),
		rule(30, []tables.Match{tables.Ternary(contract.KeyIPProto, 6, 0xff)}, class(4, 4)),
		rule(40, []tables.Match{tables.Range(contract.KeyL4DstPort, 5000, 5099)}, class(5, 5)),
		rule(40, []tables.Match{tables.Range(contract.KeyL4SrcPort, 7000, 7000)}, class(6, 6)),
		rule(50, []tables.Match{tables.Ternary(contract.KeyDSCP, 46, 0x3f)}, tables.Action(contract.TrustDSCP, tables.Param(contract.ParamClassID, 7))),
		// Overlaps: priority, not prefix length, decides (P4Runtime §9.1.1).
		rule(60, []tables.Match{tables.Ternary(contract.KeyIPv4Dst, "10.9.0.0", "255.255.0.0")}, class(8, 8)),
		rule(70, []tables.Match{tables.Ternary(contract.KeyIPv4Dst, "10.9.9.0", "255.255.255.0")}, class(9, 9)),
		rule(65, []tables.Match{tables.Ternary(contract.KeyIPv4Dst, "10.9.9.9", "255.255.255.255")}, class(10, 10)),
		rule(5, []tables.Match{tables.Ternary(contract.KeyIPVersion, 6, 0xf)}, class(11, 11)),
		rule(80, []tables.Match{tables.Ternary(contract.KeyIPv4Src, "10.1.0.0", "255.255.0.0"), tables.Ternary(contract.KeyIPProto, 17, 0xff),
			tables.Range(contract.KeyL4DstPort, 6000, 6010)}, class(12, 12)),
	)

	type probe struct {
		name     string
		in       int
		p        pkt
		wantDSCP uint8
	}
	udp := func(src, dst netip.Addr, sport, dport uint16) pkt {
		return pkt{src: src, dst: dst, l4: udpL4, sport: sport, dport: dport, payload: 18}
	}
	with := func(p pkt, f func(*pkt)) pkt { f(&p); return p }
	probes := []probe{
		{"ingress_port ternary", 2, udp(v4a, v4b, 1000, 2000), 1},
		{"ipv4_src ternary", 1, udp(netip.MustParseAddr("10.1.2.3"), v4b, 1000, 2000), 2},
		{"ipv6_dst ternary over ip_version", 1, udp(v6a, netip.MustParseAddr("2001:db8:2::7"), 1000, 2000), 3},
		{"ip_proto ternary", 1, with(udp(v4a, v4b, 1000, 2000), func(p *pkt) { p.l4 = tcpL4 }), 4},
		{"l4_dst_port range low end", 1, udp(v4a, v4b, 1000, 5000), 5},
		{"l4_dst_port range inside", 1, udp(v4a, v4b, 1000, 5050), 5},
		{"l4_dst_port range high end", 1, udp(v4a, v4b, 1000, 5099), 5},
		{"l4_dst_port above range: default class keeps DSCP", 1, with(udp(v4a, v4b, 1000, 5100), func(p *pkt) { p.dscp = 18 }), 18},
		{"l4_dst_port below range: default class", 1, udp(v4a, v4b, 1000, 4999), 0},
		{"l4_src_port range of one", 1, udp(v4a, v4b, 7000, 2000), 6},
		{"dscp ternary with trust_dscp", 1, with(udp(v4a, v4b, 1000, 2000), func(p *pkt) { p.dscp = 46 }), 46},
		{"overlap: priority 70 beats 65 and 60", 1, udp(v4a, netip.MustParseAddr("10.9.9.9"), 1000, 2000), 9},
		{"overlap: only the /16 rule", 1, udp(v4a, netip.MustParseAddr("10.9.1.1"), 1000, 2000), 8},
		{"ip_version ternary", 1, udp(v6a, netip.MustParseAddr("2001:db8:7::1"), 1000, 2000), 11},
		{"three keys at once beat each alone", 1, udp(netip.MustParseAddr("10.1.2.3"), v4b, 1000, 6005), 12},
		{"two of three keys: falls to ipv4_src rule", 1, udp(netip.MustParseAddr("10.1.2.3"), v4b, 1000, 6011), 2},
		{"no rule: default class keeps DSCP", 1, with(udp(v4a, v4b, 1000, 2000), func(p *pkt) { p.dscp = 12 }), 12},
	}

	for i, pr := range probes {
		t.Run(pr.name, func(t *testing.T) {
			p := pr.p
			p.id = uint16(100 + i)
			got := b.exchange(pr.in, []int{3}, 1, p.bytes())[3]
			if len(got) != 1 {
				t.Fatalf("received %d frames on port 3, want 1", len(got))
			}
			if got[0].dscp != pr.wantDSCP {
				t.Errorf("DSCP = %d, want %d", got[0].dscp, pr.wantDSCP)
			}
			if got[0].version == 4 && !got[0].ipv4ChecksumOK {
				t.Errorf("IPv4 checksum wrong after remarking")
			}
		})
	}

	// trust_dscp classifies without remarking: the class shows in the
	// egress class counter. Class 0 saw the three default-class probes
	// (5100, 4999, no rule); class 7 the trusted EF probe.
	if pkts, _ := b.readCounter(contract.ClassCounter, 7); pkts != 1 {
		t.Errorf("class_counter[7] = %d packets, want 1", pkts)
	}
	if pkts, _ := b.readCounter(contract.ClassCounter, 0); pkts != 3 {
		t.Errorf("class_counter[0] = %d packets, want 3", pkts)
	}
}
